"""R3 family (a lab run on another data set; here on Fashion-MNIST): a width-parameterised LeNet,
an AlexNet-style net adapted to 28x28 input, and an MLP baseline."""

from __future__ import annotations

from torch import nn

from ._registry import register_model
from .net import Net, dropout_layers

R3 = {"family": "R3", "baseline": "r3_lenet"}


@register_model(**R3, summary="LeNet with width n_base: 3x3 convs n→2n with max-pools, dense 64→10")
def r3_lenet(*, n_base: int = 32, dropout: float = 0.0) -> Net:
    body = nn.Sequential(
        nn.Conv2d(1, n_base, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, n, 14, 14)
        nn.Conv2d(n_base, 2 * n_base, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, 2n, 7, 7)
        nn.Flatten(),
        nn.Linear(2 * n_base * 49, 64),
        nn.ReLU(),
        *dropout_layers(dropout),  # (B, 64)
    )
    return Net(body, nn.Linear(64, 10))


@register_model(
    **R3,
    summary="AlexNet-style: five 3x3 convs n-2n-4n-4n-2n, three pools, dense 64→64→10",
    change="Deeper and wider conv stack (AlexNet's shape shrunk to 28x28), optional dropout in the dense part",
)
def r3_alexnet(*, n_base: int = 8, dropout: float = 0.0) -> Net:
    n = n_base
    body = nn.Sequential(
        nn.Conv2d(1, n, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, n, 14, 14)
        nn.Conv2d(n, 2 * n, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, 2n, 7, 7)
        nn.Conv2d(2 * n, 4 * n, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(4 * n, 4 * n, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(4 * n, 2 * n, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, 2n, 3, 3)
        nn.Flatten(),
        nn.Linear(2 * n * 9, 64),
        nn.ReLU(),
        *dropout_layers(dropout),
        nn.Linear(64, 64),
        nn.ReLU(),
        *dropout_layers(dropout),  # (B, 64)
    )
    return Net(body, nn.Linear(64, 10))


@register_model(
    **R3,
    summary="MLP: 784 → 256 → 128 → 10, ReLU",
    change="No convolutions at all: every pixel feeds dense layers, so no learned local features",
)
def r3_mlp(*, hidden: tuple[int, ...] = (256, 128), dropout: float = 0.0) -> Net:
    layers: list[nn.Module] = [nn.Flatten()]
    width = 28 * 28
    for units in hidden:
        layers += [nn.Linear(width, units), nn.ReLU(), *dropout_layers(dropout)]
        width = units
    return Net(nn.Sequential(*layers), nn.Linear(width, 10))
