"""`Net`: every model is a body (input → penultimate features) and a linear head."""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError

ACTIVATIONS = {
    "relu": lambda slope: nn.ReLU(),
    "tanh": lambda slope: nn.Tanh(),
    "leaky": lambda slope: nn.LeakyReLU(slope),  # `slope`: the negative slope
    "gelu": lambda slope: nn.GELU(),
    "silu": lambda slope: nn.SiLU(),
}
POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


def activation(name: str, slope: float = 0.01) -> nn.Module:
    """The knob `act` (with `slope` for leaky) as a module."""
    if name not in ACTIVATIONS:
        raise ConfigError(f"knob act={name!r}: use one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name](slope)


def pool(name: str) -> nn.Module:
    """The knob `pooling` as a 2x2 pooling module."""
    if name not in POOLS:
        raise ConfigError(f"knob pooling={name!r}: use one of {', '.join(POOLS)}")
    return POOLS[name](2)


def dropout_layers(p: float, knob: str = "dropout") -> list[nn.Module]:
    """[Dropout(p)] when p > 0, else nothing: splice into a layer list."""
    if not 0 <= p < 1:
        raise ConfigError(f"knob {knob}={p!r}: a dropout probability lies in [0, 1)")
    return [nn.Dropout(p)] if p > 0 else []


def norm(channels: int, on: bool) -> list[nn.Module]:
    """[BatchNorm2d(channels)] for the knob `batchnorm`, else nothing: splice into a layer list."""
    return [nn.BatchNorm2d(channels)] if on else []


def scaled(channels: int, width: float) -> int:
    """`channels` times the knob `width` (a multiplier of every conv's channels), at least 1."""
    if not width > 0:
        raise ConfigError(f"knob width={width!r}: a channel multiplier must be positive")
    return max(1, round(channels * width))


def check_kernel(kernel: int) -> int:
    """The knob `kernel`: a positive odd size, so padding kernel // 2 keeps the map's size."""
    if not (isinstance(kernel, int) and kernel >= 1 and kernel % 2):
        raise ConfigError(f"knob kernel={kernel!r}: use a positive odd size (3, 5, 7)")
    return kernel


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
