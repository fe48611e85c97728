"""Project paths, run profiles and the device choice: the one place notebooks get them from."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
REPORTS_DIR = Path(os.environ.get("FASHION_CNN_REPORTS", PROJECT_ROOT / "reports"))
RUNS_DIR = REPORTS_DIR / "runs"
DATA_DIR_DEFAULT = Path("/usr/share/datasets/fashion-mnist")


def data_dir() -> Path:
    """Folder holding the four Fashion-MNIST files (`FASHION_MNIST_DIR`, else Debian's)."""
    return Path(os.environ.get("FASHION_MNIST_DIR", DATA_DIR_DEFAULT))


@dataclass(frozen=True)
class Profile:
    """How much work a notebook does: `full` for the report, `quick` for fast checks."""

    name: str
    epochs: int  # passes over the training split
    subset: int | None  # stratified number of training images used (None: all 60k)
    seeds: int  # independent seeds per variant
    folds: int  # k of k-fold cross-validation
    test_subset: int | None  # test images evaluated (None: all 10k)


PROFILES = {
    "full": Profile("full", epochs=15, subset=None, seeds=3, folds=5, test_subset=None),
    "quick": Profile("quick", epochs=2, subset=3000, seeds=2, folds=3, test_subset=2000),
}


def get_profile(name: str) -> Profile:
    """The named profile; raises ConfigError listing the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"unknown profile {name!r}: use one of {sorted(PROFILES)}") from None


AUTO_SEEDS_CAP = 10  # the most seeds `seeds="auto"` trains per configuration
MARGIN = 0.005  # equivalence margin of accuracies (±0.5 points; text.margin_reason says why)
OUTPUT_META = "fashion_cnn"  # a notebook output's metadata key for what the report's builder reads: captions, findings


def resolve_seeds(seeds: int | str, profile: Profile, device: str = "auto") -> int | str:
    """A notebook's `seeds` parameter as a number of seeds or "auto".

    `seeds` is a number of 1 or more (or its text), "auto" (a pilot chooses n: `sections.variants.seed_plan`),
    or "default" (or empty): the profile's number, except the full profile on a GPU, where it is
    "auto". Raises ConfigError naming the accepted values (0 too: it is no number of seeds).
    """
    text = str(seeds).strip().lower()
    if text in ("default", ""):
        return "auto" if profile.name == "full" and resolve_device(device).startswith("cuda") else profile.seeds
    if text == "auto":
        return "auto"
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise ConfigError(f"seeds={seeds!r}: give a number of seeds (1 or more), 'auto' or 'default'")


def show_log(stream=None, level: int = logging.INFO) -> None:
    """Send the package's log (`logging.getLogger("fashion_cnn…")`: a search's trials, a run waited
    for) to `stream` (default stdout) as plain lines, as the command lines do; once per process."""
    logger = logging.getLogger("fashion_cnn")
    if not logger.handlers:
        handler = logging.StreamHandler(stream or sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity, which a container or `taskset` narrows)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def resolve_device(device: str = "auto") -> str:
    """`auto` → `cuda` when a GPU is visible, else `cpu`; an explicit choice is checked."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} asked for but no CUDA GPU is visible: use device='cpu' or 'auto'")
    if device.split(":")[0] not in ("cpu", "cuda"):
        raise ConfigError(f"unknown device {device!r}: use 'auto', 'cpu' or 'cuda'")
    return device
