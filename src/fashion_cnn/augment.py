"""Batch-level augmentation on the training device (kornia): every sample of a batch draws its own
random parameters. Names select the transforms; the engine applies them to training batches only."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .errors import ConfigError

Augment = Callable[[torch.Tensor], torch.Tensor]


def _transforms() -> dict[str, Callable[[], nn.Module]]:
    import kornia.augmentation as K

    return {
        "flip": lambda: K.RandomHorizontalFlip(p=0.5),
        "rotate": lambda: K.RandomRotation(degrees=20.0, p=0.5),
        "color": lambda: K.ColorJitter(brightness=0.2, contrast=0.2, p=0.5),
        "blur": lambda: K.RandomGaussianBlur((3, 3), (0.1, 1.0), p=0.3),
        "crop": lambda: K.RandomCrop((28, 28), padding=2, p=1.0),
        "translate": lambda: K.RandomAffine(degrees=0.0, translate=(0.1, 0.1), p=0.5),
    }


AUGMENTATIONS = ("flip", "rotate", "color", "blur", "crop", "translate")

# What each transform does, in the report's words (beside its parameters above, so the two change together)
DESCRIPTIONS = {
    "flip": "a horizontal flip (half the images)",
    "rotate": "a rotation by up to 20° (half the images)",
    "color": "brightness and contrast jitter of up to 20% (half the images)",
    "blur": "a 3x3 Gaussian blur of σ 0.1–1.0 (30% of the images)",
    "crop": "a random 28x28 crop after padding by 2 pixels (a shift of up to 2 pixels, every image)",
    "translate": "a shift of up to 10% of the width and height (half the images)",
}


def build(names: tuple[str, ...] | list[str]) -> Augment | None:
    """A callable augmenting a (B, 1, 28, 28) float batch in [0, 1], or None for no augmentation."""
    if not names:
        return None
    unknown = sorted(set(names) - set(AUGMENTATIONS))
    if unknown:
        raise ConfigError(f"unknown augmentation {unknown}: use any of {list(AUGMENTATIONS)}")
    table = _transforms()
    pipeline = nn.Sequential(*(table[n]() for n in names))

    def augment(x: torch.Tensor) -> torch.Tensor:
        return pipeline(x).clamp_(0.0, 1.0)

    return augment
