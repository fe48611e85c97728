"""How a figure or table was measured, for its caption (`plots.captioned`), and which work a method
cites (`[@key]` markers the report resolves against `report/references.bib`)."""

from __future__ import annotations

from .words import count

OPTIMIZERS = {"adam": "Adam [@kingma2015]", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop"}


def measured(config, profile=None, seeds: int | None = None) -> str:
    """ "2 seeds, 2,400/600 train/validation images of a stratified 3,000, 2 epochs, quick profile":
    what a caption says about how its numbers were measured (`config`: one of the runs shown)."""
    n = config.subset or 60_000
    if config.split == "holdout":
        val = round(n * config.val_fraction)
        split = f"{n - val:,}/{val:,} train/validation images" + (f" of a stratified {n:,}" if config.subset else "")
    elif config.split == "fold":
        split = f"{config.folds}-fold cross-validation of {n:,} training images"
    else:
        split = f"all {n:,} training images (train + validation)"
    seeds_part = f"{count(seeds, 'seed')}, " if seeds else f"seed {config.seed}, "
    return f"{seeds_part}{split}, {count(config.epochs, 'epoch')}" + (f", {profile.name} profile" if profile else "")


def optimizer(name: str) -> str:
    """The optimizer's name as the report writes it, with its citation where it has one."""
    return OPTIMIZERS.get(name, name)


def test_images(subset: int | None) -> str:
    """How many test images a section reads (`metrics.test_indices`: a stratified subset, or all 10,000)."""
    return f"{subset or 10_000:,} test images"
