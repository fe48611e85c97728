"""LeNet-5 families: R0 (ReLU/max-pool baseline and its cumulative variants) and R1 (TanH/avg-pool
baseline with a third 5x5 conv of 120, and four one-change variants)."""

from __future__ import annotations

from torch import nn

from ..errors import ConfigError
from ._registry import register_model
from .net import Net, activation, check_kernel, dropout_layers, norm, pool, scaled


def _side(kernel: int, convs: int) -> int:
    """The map's side after LeNet's padded first conv and pool, then `convs` unpadded convs of `kernel`
    with a pool after the first: 5 (kernel 5) or 6 (kernel 3) for R0, 1 or 4 for R1's three convs."""
    side = (14 - kernel + 1) // 2 - (kernel - 1) * (convs - 1)
    if side < 1:
        raise ConfigError(f"knob kernel={kernel}: too large for the convs of a 28x28 image; use a smaller one")
    return side


def _conv_block(cin: int, cout: int, kernel: int, padding: int, knobs: dict) -> list[nn.Module]:
    """conv → [BatchNorm] → activation → [Dropout] → pool: one LeNet stage."""
    return [
        nn.Conv2d(cin, cout, kernel, padding=padding),
        *norm(cout, knobs["batchnorm"]),
        activation(knobs["act"], knobs["slope"]),
        *dropout_layers(knobs["conv_dropout"], "conv_dropout"),
        pool(knobs["pooling"]),
    ]


def _lenet5(
    *,
    kernel: int = 5,
    act: str = "relu",
    slope: float = 0.01,
    pooling: str = "max",
    width: float = 1.0,
    conv_dropout: float = 0.0,
    fc_dropout: float = 0.0,
    batchnorm: bool = False,
) -> Net:
    """R0: conv 6 (padded to keep 28x28) → pool → conv 16 → pool → dense 120 → 84 → 10.

    Knobs:
        kernel=5: both convs' size (odd; the first is padded by kernel // 2)
        act='relu': relu | leaky | tanh | gelu | silu
        slope=0.01: leaky's negative slope (PyTorch's default, R0's framework)
        pooling='max': 2x2 max | avg
        width=1.0: multiplies the conv channels 6 and 16
        conv_dropout=0.0: Dropout after each conv's activation
        fc_dropout=0.0: Dropout after dense 120 and after dense 84
        batchnorm=False: BatchNorm after each conv, before its activation
    """
    k = check_kernel(kernel)
    knobs = {"act": act, "slope": slope, "pooling": pooling, "conv_dropout": conv_dropout, "batchnorm": batchnorm}
    c1, c2 = scaled(6, width), scaled(16, width)
    side = _side(k, convs=1)
    body = nn.Sequential(
        *_conv_block(1, c1, k, k // 2, knobs),  # (B, 6w, 14, 14)
        *_conv_block(c1, c2, k, 0, knobs),  # (B, 16w, 5, 5) for 5x5; (B, 16w, 6, 6) for 3x3
        nn.Flatten(),
        nn.Linear(c2 * side * side, 120),
        activation(act, slope),
        *dropout_layers(fc_dropout, "fc_dropout"),
        nn.Linear(120, 84),
        activation(act, slope),
        *dropout_layers(fc_dropout, "fc_dropout"),  # (B, 84)
    )
    return Net(body, nn.Linear(84, 10))


R0 = {"family": "R0", "baseline": "lenet5", "builder": _lenet5}


@register_model(**R0, summary="LeNet-5: 5x5 convs 6→16 (first padded by 2), ReLU, max-pool, dense 120→84→10")
def lenet5(**kw) -> Net:
    return _lenet5(**kw)


@register_model(
    **R0,
    summary="LeNet-5 with 3x3 kernels",
    change="3x3 instead of 5x5 kernels (padding 1): finer local features; the larger 6x6 map "
    "after the second pool grows the first dense layer",
)
def lenet5_3x3(kernel: int = 3, **kw) -> Net:
    return _lenet5(kernel=kernel, **kw)


@register_model(
    **R0,
    summary="3x3 LeNet-5 with LeakyReLU",
    change="LeakyReLU (slope 0.01) instead of ReLU, on top of 3x3 kernels: negative inputs keep a gradient",
)
def lenet5_3x3_leaky(kernel: int = 3, act: str = "leaky", **kw) -> Net:
    return _lenet5(kernel=kernel, act=act, **kw)


@register_model(
    **R0,
    summary="3x3 LeakyReLU LeNet-5 with dropout 0.5 after the first two dense layers",
    change="Dropout 0.5 after dense 120 and dense 84, on top of 3x3 + LeakyReLU: regularises the dense part",
)
def lenet5_3x3_leaky_dropout(kernel: int = 3, act: str = "leaky", fc_dropout: float = 0.5, **kw) -> Net:
    return _lenet5(kernel=kernel, act=act, fc_dropout=fc_dropout, **kw)


@register_model(
    **R0,
    summary="3x3 LeakyReLU dropout LeNet-5 with average pooling",
    change="Average instead of max pooling, on top of 3x3 + LeakyReLU + dropout: smoother downsampling",
)
def lenet5_3x3_leaky_dropout_avgpool(
    kernel: int = 3, act: str = "leaky", fc_dropout: float = 0.5, pooling: str = "avg", **kw
) -> Net:
    return _lenet5(kernel=kernel, act=act, fc_dropout=fc_dropout, pooling=pooling, **kw)


def _r1_lenet(
    *,
    kernel: int = 5,
    act: str = "tanh",
    slope: float = 0.3,
    pooling: str = "avg",
    width: float = 1.0,
    conv_dropout: float = 0.0,
    fc_dropout: float = 0.0,
    batchnorm: bool = False,
) -> Net:
    """R1: conv 6 (padded) → pool → conv 16 → pool → conv 120 (1x1 output at 5x5) → dense 84 → 10.

    Knobs:
        kernel=5: the three convs' size (odd; the first is padded by kernel // 2; 7 leaves no map)
        act='tanh': tanh | relu | leaky | gelu | silu
        slope=0.3: leaky's negative slope (Keras's default, R1's framework)
        pooling='avg': 2x2 avg | max
        width=1.0: multiplies the conv channels 6, 16 and 120
        conv_dropout=0.0: Dropout after each conv's activation
        fc_dropout=0.0: Dropout after dense 84
        batchnorm=False: BatchNorm after each conv, before its activation
    """
    k = check_kernel(kernel)
    c1, c2, c3 = scaled(6, width), scaled(16, width), scaled(120, width)
    side = _side(k, convs=2)
    body = nn.Sequential(
        nn.Conv2d(1, c1, k, padding=k // 2),
        *norm(c1, batchnorm),
        activation(act, slope),
        *dropout_layers(conv_dropout, "conv_dropout"),
        pool(pooling),  # (B, 6w, 14, 14)
        nn.Conv2d(c1, c2, k),
        *norm(c2, batchnorm),
        activation(act, slope),
        *dropout_layers(conv_dropout, "conv_dropout"),
        pool(pooling),  # (B, 16w, 5, 5)
        nn.Conv2d(c2, c3, k),
        *norm(c3, batchnorm),
        activation(act, slope),
        *dropout_layers(conv_dropout, "conv_dropout"),  # (B, 120w, 1, 1)
        nn.Flatten(),
        nn.Linear(c3 * side * side, 84),
        activation(act, slope),
        *dropout_layers(fc_dropout, "fc_dropout"),  # (B, 84)
    )
    return Net(body, nn.Linear(84, 10))


R1 = {"family": "R1", "baseline": "r1_tanh_avgpool", "builder": _r1_lenet}


@register_model(**R1, summary="LeNet-5 with TanH, average pooling and a third 5x5 conv of 120, dense 84→10")
def r1_tanh_avgpool(**kw) -> Net:
    return _r1_lenet(**kw)


@register_model(
    **R1, summary="R1 LeNet-5 with ReLU", change="ReLU instead of TanH: no saturation, cheaper, sparse activations"
)
def r1_relu(act: str = "relu", **kw) -> Net:
    return _r1_lenet(act=act, **kw)


@register_model(
    **R1,
    summary="R1 LeNet-5 with max pooling",
    change="Max instead of average pooling: keeps the strongest response per window",
)
def r1_maxpool(pooling: str = "max", **kw) -> Net:
    return _r1_lenet(pooling=pooling, **kw)


@register_model(
    **R1,
    summary="R1 LeNet-5 with dropout",
    change="Dropout 0.25 after each conv and 0.5 after dense 84: regularisation",
)
def r1_dropout(conv_dropout: float = 0.25, fc_dropout: float = 0.5, **kw) -> Net:
    return _r1_lenet(conv_dropout=conv_dropout, fc_dropout=fc_dropout, **kw)


@register_model(
    **R1,
    summary="R1 LeNet-5 with LeakyReLU",
    change="LeakyReLU (slope 0.3) instead of TanH: ReLU's benefits without dead units",
)
def r1_leaky(act: str = "leaky", **kw) -> Net:
    return _r1_lenet(act=act, **kw)
