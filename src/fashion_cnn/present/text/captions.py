"""How a figure or table was measured, for its caption (`plots.captioned`), and which work a method
cites (`[@key]` markers the report resolves against `report/references.bib`)."""

from __future__ import annotations

from .words import and_list, count

OPTIMIZERS = {"adam": "Adam [@kingma2015]", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop"}


def split(config) -> str:
    """ "2,400/600 train/validation images of a stratified 3,000": the images one run trained and validated on."""
    n = config.subset or 60_000
    if config.split == "holdout":
        val = round(n * config.val_fraction)
        return f"{n - val:,}/{val:,} train/validation images" + (f" of a stratified {n:,}" if config.subset else "")
    if config.split == "fold":
        return f"{config.folds}-fold cross-validation of {n:,} training images"
    return f"all {n:,} training images (train + validation)"


def measured(config, profile=None, seeds: int | None = None, varied: tuple[str, ...] = ()) -> str:
    """ "2 seeds, 2,400/600 train/validation images of a stratified 3,000, 2 epochs, quick profile":
    what a caption says about how its numbers were measured (`config`: one of the runs shown). Fields
    in `varied` differ between the runs shown (a sweep's or a search's) and are left to the figure."""
    seeds_part = f"{count(seeds, 'seed')}, " if seeds else f"seed {config.seed}, "
    epochs = "" if "epochs" in varied else f", {count(config.epochs, 'epoch')}"
    return f"{seeds_part}{split(config)}{epochs}" + (f", {profile.name} profile" if profile else "")


def measured_plan(configs, profile, seeds: int, tested: bool = False) -> str:
    """How a whole study was measured when its parts split the data differently (hold-out, k-fold,
    train + validation): "3 seeds; 48,000/12,000 train/validation images, 5-fold cross-validation of
    60,000 training images and all 60,000 training images (train + validation); 10 epochs; tested on
    10,000 test images; full profile" (`tested`: whether test figures are shown)."""
    splits = list(dict.fromkeys(split(c) for c in configs))
    epochs = sorted({c.epochs for c in configs})
    parts = [count(seeds, "seed"), and_list(splits)]
    parts.append(count(epochs[0], "epoch") if len(epochs) == 1 else f"{and_list([str(e) for e in epochs])} epochs")
    if tested:
        parts.append(f"tested on {test_images(profile.test_subset)}")
    return "; ".join([*parts, f"{profile.name} profile"])


def optimizer(name: str) -> str:
    """The optimizer's name as the report writes it, with its citation where it has one."""
    return OPTIMIZERS.get(name, name)


def test_images(subset: int | None) -> str:
    """How many test images a section reads (`metrics.test_indices`: a stratified subset, or all 10,000)."""
    return f"{subset or 10_000:,} test images"
