"""R3 family (a lab run on another data set; here on Fashion-MNIST): a width-parameterised LeNet,
an AlexNet-style net adapted to 28x28 input, and an MLP baseline."""

from __future__ import annotations

from torch import nn

from ._registry import register_model
from .net import Net, activation, check_kernel, counts, dropout_layers, norm, pool

R3 = {"family": "R3", "baseline": "r3_lenet"}


@register_model(**R3, summary="LeNet with width n_base: 3x3 convs n→2n with max-pools, dense 64→10")
def r3_lenet(
    *,
    n_base: int = 32,
    dropout: float = 0.0,
    act: str = "relu",
    slope: float = 0.01,
    pooling: str = "max",
    kernel: int = 3,
    conv_dropout: float = 0.0,
    batchnorm: bool = False,
) -> Net:
    """R3's LeNet: two convs n → 2n (padded) with pools, dense 64 → 10.

    Knobs:
        n_base=32: the width: the first conv's channels (the second has 2n)
        dropout=0.0: Dropout after dense 64 (the dense dropout)
        act='relu': relu | leaky | tanh | gelu | silu
        slope=0.01: leaky's negative slope
        pooling='max': 2x2 max | avg
        kernel=3: the convs' size (odd; padded by kernel // 2 to keep the size)
        conv_dropout=0.0: Dropout after each conv's activation
        batchnorm=False: BatchNorm after each conv, before its activation
    """
    k = check_kernel(kernel)
    counts(n_base, "n_base", "8, 16, 32")
    body = nn.Sequential(
        nn.Conv2d(1, n_base, k, padding=k // 2),
        *norm(n_base, batchnorm),
        activation(act, slope),
        *dropout_layers(conv_dropout, "conv_dropout"),
        pool(pooling),  # (B, n, 14, 14)
        nn.Conv2d(n_base, 2 * n_base, k, padding=k // 2),
        *norm(2 * n_base, batchnorm),
        activation(act, slope),
        *dropout_layers(conv_dropout, "conv_dropout"),
        pool(pooling),  # (B, 2n, 7, 7)
        nn.Flatten(),
        nn.Linear(2 * n_base * 49, 64),
        activation(act, slope),
        *dropout_layers(dropout),  # (B, 64)
    )
    return Net(body, nn.Linear(64, 10))


@register_model(
    **R3,
    summary="AlexNet-style: five 3x3 convs n-2n-4n-4n-2n, three pools, dense 64→64→10",
    change="Deeper and wider conv stack (AlexNet's shape shrunk to 28x28), optional dropout in the dense part",
)
def r3_alexnet(
    *, n_base: int = 8, dropout: float = 0.0, act: str = "relu", slope: float = 0.01, batchnorm: bool = False
) -> Net:
    """R3's AlexNet-style net: five 3x3 convs n-2n-4n-4n-2n, three max-pools, dense 64 → 64 → 10.

    Knobs:
        n_base=8: the width: the first conv's channels (the others have 2n, 4n, 4n, 2n)
        dropout=0.0: Dropout after each hidden dense layer
        act='relu': relu | leaky | tanh | gelu | silu
        slope=0.01: leaky's negative slope
        batchnorm=False: BatchNorm after each conv, before its activation
    """
    n = counts(n_base, "n_base", "4, 8, 16")

    def conv(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1), *norm(cout, batchnorm), activation(act, slope)]

    body = nn.Sequential(
        *conv(1, n),
        nn.MaxPool2d(2),  # (B, n, 14, 14)
        *conv(n, 2 * n),
        nn.MaxPool2d(2),  # (B, 2n, 7, 7)
        *conv(2 * n, 4 * n),
        *conv(4 * n, 4 * n),
        *conv(4 * n, 2 * n),
        nn.MaxPool2d(2),  # (B, 2n, 3, 3)
        nn.Flatten(),
        nn.Linear(2 * n * 9, 64),
        activation(act, slope),
        *dropout_layers(dropout),
        nn.Linear(64, 64),
        activation(act, slope),
        *dropout_layers(dropout),  # (B, 64)
    )
    return Net(body, nn.Linear(64, 10))


@register_model(
    **R3,
    summary="MLP: 784 → 256 → 128 → 10, ReLU",
    change="No convolutions at all: every pixel feeds dense layers, so no learned local features",
)
def r3_mlp(
    *, hidden: tuple[int, ...] = (256, 128), dropout: float = 0.0, act: str = "relu", slope: float = 0.01
) -> Net:
    """R3's MLP: dense layers of `hidden` units, then 10.

    Knobs:
        hidden=(256, 128): the units of each hidden layer
        dropout=0.0: Dropout after each hidden layer
        act='relu': relu | leaky | tanh | gelu | silu
        slope=0.01: leaky's negative slope
    """
    counts(hidden, "hidden", "(256, 128)")
    layers: list[nn.Module] = [nn.Flatten()]
    width = 28 * 28
    for units in hidden:
        layers += [nn.Linear(width, units), activation(act, slope), *dropout_layers(dropout)]
        width = units
    return Net(nn.Sequential(*layers), nn.Linear(width, 10))
