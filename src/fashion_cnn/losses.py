"""Losses on logits (softmax cross-entropy, one-vs-rest sigmoid BCE, multi-class hinge) and the
Keras-style L1/L2 kernel penalties on dense layers."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _bce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # One sigmoid per class against the one-hot target (a "sigmoid head"), mean over classes.
    return F.binary_cross_entropy_with_logits(logits, F.one_hot(y, logits.shape[1]).to(logits.dtype))


LOSSES: dict[str, LossFn] = {
    "ce": F.cross_entropy,  # softmax cross-entropy (default)
    "bce": _bce,
    "hinge": F.multi_margin_loss,  # Weston–Watkins multi-class hinge: Σ over wrong classes of max(0, 1 - s_y + s_j), / C
}


def make_loss(name: str) -> LossFn:
    """The loss function called `name` (`runs.RunConfig` checks the name when a config is made)."""
    return LOSSES[name]


def dense_kernels(model: nn.Module) -> list[torch.Tensor]:
    """Weight matrices of every nn.Linear (Keras's dense 'kernels'; biases excluded)."""
    return [m.weight for m in model.modules() if isinstance(m, nn.Linear)]


def penalty(kernels: list[torch.Tensor], l1: float = 0.0, l2: float = 0.0) -> torch.Tensor | None:
    """l1·Σ|w| + l2·Σw² over `kernels` (Keras's regularizer definition), or None when both are 0. A
    stack's kernels (K, out, in) give the sum of its members' penalties, so each member's gradient is its own."""
    if (l1 == 0.0 and l2 == 0.0) or not kernels:
        return None
    total = kernels[0].new_zeros(())
    for w in kernels:
        if l1:
            total = total + l1 * w.abs().sum()
        if l2:
            total = total + l2 * w.square().sum()
    return total


def kernel_penalty(model: nn.Module, l1: float = 0.0, l2: float = 0.0) -> torch.Tensor | None:
    """`penalty` over the model's dense kernels."""
    return penalty(dense_kernels(model), l1, l2)
