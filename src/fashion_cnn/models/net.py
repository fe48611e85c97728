"""`Net`: every model is a body (input → penultimate features) and a linear head."""

from __future__ import annotations

from numbers import Integral, Real

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


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _is_count(value: object) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= 1


def activation(name: str, slope: float = 0.01) -> nn.Module:
    """The knob `act` (with `slope` for leaky) as a module."""
    if name not in ACTIVATIONS:
        raise ConfigError(f"knob act={name!r}: use one of {', '.join(ACTIVATIONS)}")
    if not _is_number(slope):
        raise ConfigError(f"knob slope={slope!r}: leaky's negative slope is a number, e.g. 0.01")
    return ACTIVATIONS[name](slope)


def pool(name: str) -> nn.Module:
    """The knob `pooling` as a 2x2 pooling module."""
    if name not in POOLS:
        raise ConfigError(f"knob pooling={name!r}: use one of {', '.join(POOLS)}")
    return POOLS[name](2)


def dropout_layers(p: float, knob: str = "dropout") -> list[nn.Module]:
    """[Dropout(p)] when p > 0, else nothing: splice into a layer list."""
    if not (_is_number(p) and 0 <= p < 1):
        raise ConfigError(f"knob {knob}={p!r}: a dropout probability lies in [0, 1)")
    return [nn.Dropout(p)] if p > 0 else []


def norm(channels: int, on: bool) -> list[nn.Module]:
    """[BatchNorm2d(channels)] for the knob `batchnorm`, else nothing: splice into a layer list. Only a
    bool is taken, so a study file's string "false" does not switch batch norm on."""
    if not isinstance(on, bool):
        raise ConfigError(f"knob batchnorm={on!r}: use true or false")
    return [nn.BatchNorm2d(channels)] if on else []


def scaled(channels: int, width: float) -> int:
    """`channels` times the knob `width` (a multiplier of every conv's channels), at least 1."""
    if not (_is_number(width) and width > 0):
        raise ConfigError(f"knob width={width!r}: a channel multiplier must be positive (0.5, 1.0, 2.0)")
    return max(1, round(channels * width))


def counts(value, knob: str, example: str):
    """A count knob (`n_base`, `hidden`, `dense`: a whole number ≥ 1, or a tuple of them), checked."""
    if not all(_is_count(v) for v in (value if isinstance(value, (tuple, list)) else [value])):
        raise ConfigError(f"knob {knob}={value!r}: use whole numbers ≥ 1, e.g. {example}")
    return value


def check_kernel(kernel: int) -> int:
    """The knob `kernel`: a positive odd size, so padding kernel // 2 keeps the map's size."""
    if not (_is_count(kernel) and kernel % 2):
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
