"""LeNet-5 families: R0 (ReLU/max-pool baseline and its cumulative variants) and R1 (TanH/avg-pool
baseline with a third 5x5 conv of 120, and four one-change variants)."""

from __future__ import annotations

from torch import nn

from ._registry import register_model
from .net import Net, activation, dropout_layers, flat_size, pool


def _lenet5(
    *, kernel: int = 5, act: str = "relu", pooling: str = "max", fc_dropout: float = 0.0, slope: float = 0.01
) -> Net:
    """R0: conv 6 (padded to keep 28x28) → pool → conv 16 → pool → 120 → 84 → 10."""
    convs = nn.Sequential(
        nn.Conv2d(1, 6, kernel, padding=kernel // 2),
        activation(act, slope),
        pool(pooling),  # (B, 6, 14, 14)
        nn.Conv2d(6, 16, kernel),
        activation(act, slope),
        pool(pooling),  # (B, 16, 5, 5) for 5x5; (B, 16, 6, 6) for 3x3
        nn.Flatten(),
    )
    body = nn.Sequential(
        *convs,
        nn.Linear(flat_size(convs), 120),
        activation(act, slope),
        *dropout_layers(fc_dropout),
        nn.Linear(120, 84),
        activation(act, slope),
        *dropout_layers(fc_dropout),  # (B, 84)
    )
    return Net(body, nn.Linear(84, 10))


R0 = {"family": "R0", "baseline": "lenet5"}


@register_model(**R0, summary="LeNet-5: 5x5 convs 6→16 (first padded by 2), ReLU, max-pool, dense 120→84→10")
def lenet5(**kw) -> Net:
    return _lenet5(**kw)


@register_model(
    **R0,
    summary="LeNet-5 with 3x3 kernels",
    change="3x3 instead of 5x5 kernels (padding 1): finer local features; the larger 6x6 map "
    "after the second pool grows the first dense layer",
)
def lenet5_3x3(**kw) -> Net:
    return _lenet5(**{"kernel": 3, **kw})


@register_model(
    **R0,
    summary="3x3 LeNet-5 with LeakyReLU",
    change="LeakyReLU (slope 0.01) instead of ReLU, on top of 3x3 kernels: negative inputs keep a gradient",
)
def lenet5_3x3_leaky(**kw) -> Net:
    return _lenet5(**{"kernel": 3, "act": "leaky", **kw})


@register_model(
    **R0,
    summary="3x3 LeakyReLU LeNet-5 with dropout 0.5 after the first two dense layers",
    change="Dropout 0.5 after dense 120 and dense 84, on top of 3x3 + LeakyReLU: regularises the dense part",
)
def lenet5_3x3_leaky_dropout(**kw) -> Net:
    return _lenet5(**{"kernel": 3, "act": "leaky", "fc_dropout": 0.5, **kw})


@register_model(
    **R0,
    summary="3x3 LeakyReLU dropout LeNet-5 with average pooling",
    change="Average instead of max pooling, on top of 3x3 + LeakyReLU + dropout: smoother downsampling",
)
def lenet5_3x3_leaky_dropout_avgpool(**kw) -> Net:
    return _lenet5(**{"kernel": 3, "act": "leaky", "fc_dropout": 0.5, "pooling": "avg", **kw})


def _r1_lenet(
    *, act: str = "tanh", pooling: str = "avg", conv_dropout: float = 0.0, fc_dropout: float = 0.0, slope: float = 0.3
) -> Net:
    """R1: conv 6 (pad 2) → pool → conv 16 → pool → conv 120 (1x1 output) → dense 84 → 10.

    LeakyReLU's slope defaults to Keras's 0.3, the framework R1 used.
    """
    body = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),
        activation(act, slope),
        *dropout_layers(conv_dropout),
        pool(pooling),  # (B, 6, 14, 14)
        nn.Conv2d(6, 16, 5),
        activation(act, slope),
        *dropout_layers(conv_dropout),
        pool(pooling),  # (B, 16, 5, 5)
        nn.Conv2d(16, 120, 5),
        activation(act, slope),
        *dropout_layers(conv_dropout),  # (B, 120, 1, 1)
        nn.Flatten(),
        nn.Linear(120, 84),
        activation(act, slope),
        *dropout_layers(fc_dropout),  # (B, 84)
    )
    return Net(body, nn.Linear(84, 10))


R1 = {"family": "R1", "baseline": "r1_tanh_avgpool"}


@register_model(**R1, summary="LeNet-5 with TanH, average pooling and a third 5x5 conv of 120, dense 84→10")
def r1_tanh_avgpool(**kw) -> Net:
    return _r1_lenet(**kw)


@register_model(
    **R1, summary="R1 LeNet-5 with ReLU", change="ReLU instead of TanH: no saturation, cheaper, sparse activations"
)
def r1_relu(**kw) -> Net:
    return _r1_lenet(**{"act": "relu", **kw})


@register_model(
    **R1,
    summary="R1 LeNet-5 with max pooling",
    change="Max instead of average pooling: keeps the strongest response per window",
)
def r1_maxpool(**kw) -> Net:
    return _r1_lenet(**{"pooling": "max", **kw})


@register_model(
    **R1,
    summary="R1 LeNet-5 with dropout",
    change="Dropout 0.25 after each conv and 0.5 after dense 84: regularisation",
)
def r1_dropout(**kw) -> Net:
    return _r1_lenet(**{"conv_dropout": 0.25, "fc_dropout": 0.5, **kw})


@register_model(
    **R1,
    summary="R1 LeNet-5 with LeakyReLU",
    change="LeakyReLU (slope 0.3) instead of TanH: ReLU's benefits without dead units",
)
def r1_leaky(**kw) -> Net:
    return _r1_lenet(**{"act": "leaky", **kw})
