"""R2 family: three 3x3 convs 32-64-64 with max-pools, dense 64 → 10 (Keras layout: valid convs,
ReLU inside each conv, so BatchNorm follows the activation)."""

from __future__ import annotations

from torch import nn

from ..errors import ConfigError
from ._registry import register_model
from .net import Net, activation, check_kernel, dropout_layers, norm, pool, scaled


def _r2(
    *,
    dropout: float = 0.0,
    batchnorm: bool = False,
    l1: float = 0.0,
    l2: float = 0.0,
    act: str = "relu",
    slope: float = 0.01,
    pooling: str = "max",
    kernel: int = 3,
    width: float = 1.0,
    fc_dropout: float = 0.0,
) -> Net:
    """R2's net: three valid convs 32-64-64 with pools after the first two, dense 64 → 10.

    Knobs:
        dropout=0.0: Dropout after conv 2's activation, before its pool (R2's variant; the conv dropout)
        batchnorm=False: BatchNorm after conv 1's activation (R2's variant, in Keras's order)
        l1=0.0: L1 penalty on the dense kernels, added to the loss
        l2=0.0: L2 penalty on the dense kernels, added to the loss
        act='relu': relu | leaky | tanh | gelu | silu
        slope=0.01: leaky's negative slope
        pooling='max': 2x2 max | avg
        kernel=3: the convs' size (odd, ≥ 3; padded by (kernel - 3) // 2, so the maps keep R2's sizes)
        width=1.0: multiplies the conv channels 32, 64 and 64
        fc_dropout=0.0: Dropout after dense 64
    """
    k = check_kernel(kernel)
    if k < 3:
        raise ConfigError(f"knob kernel={kernel}: R2's convs take 3 or more (3, 5, 7)")
    pad = (k - 3) // 2  # the maps keep R2's sizes whatever the kernel
    c1, c2, c3 = scaled(32, width), scaled(64, width), scaled(64, width)
    body = nn.Sequential(
        nn.Conv2d(1, c1, k, padding=pad),
        activation(act, slope),
        *norm(c1, batchnorm),
        pool(pooling),  # (B, 32w, 13, 13)
        nn.Conv2d(c1, c2, k, padding=pad),
        activation(act, slope),
        *dropout_layers(dropout),
        pool(pooling),  # (B, 64w, 5, 5)
        nn.Conv2d(c2, c3, k, padding=pad),
        activation(act, slope),  # (B, 64w, 3, 3)
        nn.Flatten(),
        nn.Linear(c3 * 3 * 3, 64),
        activation(act, slope),  # (B, 64)
        *dropout_layers(fc_dropout, "fc_dropout"),
    )
    return Net(body, nn.Linear(64, 10), l1=l1, l2=l2)


R2 = {"family": "R2", "baseline": "r2_base", "builder": _r2}


@register_model(**R2, summary="Three 3x3 convs 32→64→64 with two max-pools, dense 64→10, ReLU")
def r2_base(**kw) -> Net:
    return _r2(**kw)


@register_model(
    **R2,
    summary="R2 net with dropout 0.25 after conv 2",
    change="Dropout 0.25 after the second conv (before its pool), where the 64 filters may overfit",
)
def r2_dropout(dropout: float = 0.25, **kw) -> Net:
    return _r2(dropout=dropout, **kw)


@register_model(
    **R2,
    summary="R2 net with L1(0.001) on the dense kernels",
    change="L1 penalty 0.001·Σ|w| on both dense kernels: pushes weights to exactly zero",
)
def r2_l1(l1: float = 0.001, **kw) -> Net:
    return _r2(l1=l1, **kw)


@register_model(
    **R2,
    summary="R2 net with L2(0.001) on the dense kernels",
    change="L2 penalty 0.001·Σw² on both dense kernels: shrinks weights smoothly",
)
def r2_l2(l2: float = 0.001, **kw) -> Net:
    return _r2(l2=l2, **kw)


@register_model(
    **R2,
    summary="R2 net with BatchNorm after conv 1",
    change="BatchNorm after the first conv: normalises the first feature maps, stabilises training",
)
def r2_batchnorm(batchnorm: bool = True, **kw) -> Net:
    return _r2(batchnorm=batchnorm, **kw)
