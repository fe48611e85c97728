"""R2 family: three 3x3 convs 32-64-64 with max-pools, dense 64 → 10 (Keras layout: valid convs,
ReLU inside each conv, so BatchNorm follows the activation)."""

from __future__ import annotations

from torch import nn

from ._registry import register_model
from .net import Net, dropout_layers


def _r2(*, dropout: float = 0.0, batchnorm: bool = False, l1: float = 0.0, l2: float = 0.0) -> Net:
    body = nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        *([nn.BatchNorm2d(32)] if batchnorm else []),
        nn.MaxPool2d(2),  # (B, 32, 13, 13)
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        *dropout_layers(dropout),
        nn.MaxPool2d(2),  # (B, 64, 5, 5)
        nn.Conv2d(64, 64, 3),
        nn.ReLU(),  # (B, 64, 3, 3)
        nn.Flatten(),
        nn.Linear(576, 64),
        nn.ReLU(),  # (B, 64)
    )
    return Net(body, nn.Linear(64, 10), l1=l1, l2=l2)


R2 = {"family": "R2", "baseline": "r2_base"}


@register_model(**R2, summary="Three 3x3 convs 32→64→64 with two max-pools, dense 64→10, ReLU")
def r2_base(**kw) -> Net:
    return _r2(**kw)


@register_model(
    **R2,
    summary="R2 net with dropout 0.25 after conv 2",
    change="Dropout 0.25 after the second conv (before its pool), where the 64 filters may overfit",
)
def r2_dropout(**kw) -> Net:
    return _r2(**{"dropout": 0.25, **kw})


@register_model(
    **R2,
    summary="R2 net with L1(0.001) on the dense kernels",
    change="L1 penalty 0.001·Σ|w| on both dense kernels: pushes weights to exactly zero",
)
def r2_l1(**kw) -> Net:
    return _r2(**{"l1": 0.001, **kw})


@register_model(
    **R2,
    summary="R2 net with L2(0.001) on the dense kernels",
    change="L2 penalty 0.001·Σw² on both dense kernels: shrinks weights smoothly",
)
def r2_l2(**kw) -> Net:
    return _r2(**{"l2": 0.001, **kw})


@register_model(
    **R2,
    summary="R2 net with BatchNorm after conv 1",
    change="BatchNorm after the first conv: normalises the first feature maps, stabilises training",
)
def r2_batchnorm(**kw) -> Net:
    return _r2(**{"batchnorm": True, **kw})
