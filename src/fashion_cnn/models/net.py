"""`Net`: every model is a body (input → penultimate features) and a linear head."""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError

ACTIVATIONS = {
    "relu": lambda slope: nn.ReLU(),
    "tanh": lambda slope: nn.Tanh(),
    "leaky": lambda slope: nn.LeakyReLU(slope),
}
POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


def activation(name: str, slope: float = 0.01) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ConfigError(f"unknown activation {name!r}: use one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name](slope)


def pool(name: str) -> nn.Module:
    if name not in POOLS:
        raise ConfigError(f"unknown pooling {name!r}: use one of {sorted(POOLS)}")
    return POOLS[name](2)


def dropout_layers(p: float) -> list[nn.Module]:
    """[Dropout(p)] when p > 0, else nothing: splice into a layer list."""
    return [nn.Dropout(p)] if p > 0 else []


def flat_size(layers: nn.Sequential, shape: tuple[int, ...] = (1, 1, 28, 28)) -> int:
    """Number of features `layers` give for one 28x28 image (what the first dense layer takes)."""
    with torch.no_grad():
        return layers(torch.zeros(shape)).flatten(1).shape[1]


class Net(nn.Module):
    """body: image → penultimate features; head: features → 10 logits.

    `l1`/`l2` are kernel penalties the architecture itself carries (Keras `kernel_regularizer`
    on its dense layers), added to the loss by the engine.
    """

    def __init__(self, body: nn.Sequential, head: nn.Linear, *, l1: float = 0.0, l2: float = 0.0):
        super().__init__()
        self.body = body
        self.head = head
        self.l1 = l1
        self.l2 = l2

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features (the input of the last linear layer), e.g. for t-SNE."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))  # (B, 10)
