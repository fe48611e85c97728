"""`RunConfig` (one training run, validated when made), its run key, its data split and its cost.

A run's key hashes its whole config (with the device resolved to its type), the dataset
checksums, the package version and the engine's non-default settings that change numbers
(`engine.Speed.key`), so asking for the same run twice trains once (`training.get_or_train`,
`schedule.get_or_train_many`) and a store made before keeps its keys (`store.Store`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .. import config as cfg
from .. import data as data_mod
from ..augment import AUGMENTATIONS
from ..errors import ConfigError
from ..losses import LOSSES
from ..models import list_models, mult_adds
from ..models import user_files as model_files
from . import engine
from .engine import OPTIMIZERS, PRECISIONS, SCHEDULES, Speed

try:
    __version__ = importlib.metadata.version("fashion-cnn")
except importlib.metadata.PackageNotFoundError:  # running from a source tree without install
    __version__ = "0+source"

SPLITS = ("holdout", "fold", "trainval")
_KINDS = {"str": (str,), "int": (int,), "float": (int, float), "int | None": (int, type(None))}  # field types
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one training run. Two equal configs are the same run."""

    model: str  # registered model name (models.list_models()), the package's or from a user's model file
    model_args: dict[str, Any] = field(default_factory=dict)  # builder overrides, e.g. {"n_base": 16}
    optimizer: str = "adam"  # adam | adamw | sgd | rmsprop
    lr: float = 1e-3  # initial learning rate
    momentum: float = 0.9  # SGD only
    batch_size: int = 64  # images per step
    epochs: int = 15  # passes over the training split
    weight_decay: float = 0.0  # optimizer weight decay (L2 on every parameter)
    l1: float = 0.0  # extra L1 penalty on the dense kernels, added to the model's own
    l2: float = 0.0  # extra L2 penalty on the dense kernels, added to the model's own
    schedule: str = "none"  # none | step | exponential | cosine (per epoch)
    step_size: int = 5  # epochs between step-decay drops
    gamma: float = 0.5  # step/exponential decay factor
    loss: str = "ce"  # ce (softmax) | bce (one-vs-rest sigmoid) | hinge
    split: str = "holdout"  # holdout | fold | trainval (train + validation, no validation part)
    val_fraction: float = 0.2  # holdout validation share: 0.2 → 48k/12k, 1/6 → 50k/10k
    fold: int = 0  # which fold, for split="fold"
    folds: int = 5  # k, for split="fold"
    subset: int | None = None  # stratified number of the 60k training images used (None: all)
    split_seed: int = 0  # seed of the subset/split (shared by all variants and seeds of a study)
    seed: int = 0  # seed of initialisation, shuffling, dropout and augmentation
    device: str = "auto"  # auto | cpu | cuda
    augment: tuple[str, ...] = ()  # batch augmentations (augment.AUGMENTATIONS)
    precision: str = "fp32"  # fp32 | bf16 (autocast of forward and loss; weights and optimizer state stay fp32)
    label: str = field(default="", compare=False)  # what a study calls this run's arm; not part of the run

    @property
    def name(self) -> str:
        """The run's arm label in its study, else its model's name: what tables and figures call it."""
        return self.label or self.model

    @property
    def title(self) -> str:
        """ "lenet5 seed 0": how progress bars, locks and errors name the run."""
        return f"{self.name} seed {self.seed}"

    def __post_init__(self):
        object.__setattr__(self, "augment", tuple(self.augment))
        object.__setattr__(self, "model_args", dict(sorted(self.model_args.items())))
        for f in dataclasses.fields(self):  # a value of the wrong type (a study file's "three") in one line
            kinds = _KINDS.get(str(f.type), ())
            value = getattr(self, f.name)
            if kinds and (not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)):
                raise ConfigError(f"{f.name}={value!r} must be a {str(f.type).split(' |')[0]}")
        unknown_aug = sorted(set(self.augment) - set(AUGMENTATIONS))
        checks = [
            (self.model in list_models(), _unknown_model(self.model)),
            (self.optimizer in OPTIMIZERS, f"unknown optimizer {self.optimizer!r}: use one of {sorted(OPTIMIZERS)}"),
            (self.schedule in SCHEDULES, f"unknown schedule {self.schedule!r}: use one of {sorted(SCHEDULES)}"),
            (self.loss in LOSSES, f"unknown loss {self.loss!r}: use one of {sorted(LOSSES)}"),
            (self.split in SPLITS, f"unknown split {self.split!r}: use one of {', '.join(SPLITS)}"),
            (self.device.split(":")[0] in DEVICES, f"unknown device {self.device!r}: use one of {', '.join(DEVICES)}"),
            (not unknown_aug, f"unknown augmentation {unknown_aug}: use any of {list(AUGMENTATIONS)}"),
            (self.precision in PRECISIONS, f"unknown precision {self.precision!r}: use one of {', '.join(PRECISIONS)}"),
            (self.lr > 0, f"lr={self.lr} must be positive"),
            (self.batch_size > 0, f"batch_size={self.batch_size} must be positive"),
            (self.epochs > 0, f"epochs={self.epochs} must be positive"),
            (self.momentum >= 0, f"momentum={self.momentum} must not be negative"),
            (min(self.weight_decay, self.l1, self.l2) >= 0, "weight_decay, l1 and l2 must not be negative"),
            (self.step_size > 0, f"step_size={self.step_size} must be positive"),
            (self.gamma > 0, f"gamma={self.gamma} must be positive"),
            (0 < self.val_fraction < 1, f"val_fraction={self.val_fraction} must lie strictly between 0 and 1"),
            (self.folds >= 2, f"folds={self.folds}: k-fold needs k ≥ 2"),
            (self.split != "fold" or 0 <= self.fold < self.folds, f"fold={self.fold} is outside 0..{self.folds - 1}"),
            (self.subset is None or 10 <= self.subset <= 60_000, f"subset={self.subset} must lie in 10..60000"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    def replace(self, **changes) -> RunConfig:
        """A copy with `changes` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The run's fields (the label left out: it names the run in a study, it is not part of the run)."""
        d = dataclasses.asdict(self)
        d["augment"] = list(self.augment)
        del d["label"]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        return cls(**d)


def _unknown_model(name: str) -> str:
    return (
        f"unknown model {name!r}: known models are {', '.join(list_models())}; "
        "a model of your own comes from a model file (a study file's `models`, or --models FILE)"
    )


def run_key(config: RunConfig, speed: Speed | None = None) -> str:
    """16 hex digits hashing the config (device resolved to its type; precision only when not fp32), data
    checksums, version, the engine's non-default number-changing settings (`speed`, default `engine.SPEED`)
    and, for a model from a user's file, that file's sha256 (edit the model, and its runs are new)."""
    payload = config.to_dict()
    payload["device"] = torch.device(cfg.resolve_device(config.device)).type
    if payload["precision"] == "fp32":  # the default is left out: runs made before the option keep their keys
        del payload["precision"]
    what = {"config": payload, "data": data_mod.load().checksums, "version": __version__}
    if settings := (speed or engine.SPEED).key():
        what["speed"] = settings
    if source := model_files.source(config.model):
        what["model_file"] = source.sha256
    blob = json.dumps(what, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


# Training images each run measures in eval mode (`train_eval_*`): the training accuracy without dropout's noise
# or the running mean's lag, so the train − validation gap compares like with like
PROBE_IMAGES = 10_000


def probe_indices(config: RunConfig) -> np.ndarray:
    """A fixed, stratified subset (at most `PROBE_IMAGES`, split seed 0) of the run's training part: where its
    training accuracy is measured in eval mode after each epoch, and after training for a stored run that
    predates the measurement (the same images, so both give the same number)."""
    train_idx, _ = split_indices(config)
    labels = data_mod.load().train_labels[train_idx]
    return train_idx[data_mod.subset_indices(labels, PROBE_IMAGES, seed=0)]


def split_indices(config: RunConfig) -> tuple[np.ndarray, np.ndarray | None]:
    """Indices into the 60k training images of the run's training and validation parts (None: no validation)."""
    return data_mod.split_indices(
        data_mod.load().train_labels,
        split=config.split,
        val_fraction=config.val_fraction,
        fold=config.fold,
        folds=config.folds,
        subset=config.subset,
        seed=config.split_seed,
    )


def _training_part(c: RunConfig) -> int:
    n = c.subset or 60_000
    held_out = 0.0 if c.split == "trainval" else c.val_fraction if c.split == "holdout" else 1 / c.folds
    return round(n * (1 - held_out))


def training_images(configs: list[RunConfig]) -> int:
    """Roughly how many training images all `configs` pass through: epochs × the training part's size."""
    return sum(c.epochs * _training_part(c) for c in configs)


# A CPU training step costs about its arithmetic at CPU_MACS_PER_S plus CPU_STEP_SECONDS of overhead
# (one thread, channels_last, measured with `make bench` on this project's 2-core EPYC: LeNet-5 trains
# at ~8k images/s although its arithmetic alone would allow ~28k; R4's CNN_2 at ~170 images/s).
CPU_MACS_PER_S = 35e9
CPU_STEP_SECONDS = 5e-3
# bf16 autocast roughly doubles the arithmetic rate on an AVX512-BF16 CPU and leaves the per-step cost
# (`make bench`'s bf16 table, docs/speed.md#bf16: R4's arithmetic-bound CNN_2 gains most, LeNet-5 hardly).
CPU_BF16_SPEEDUP = 2.0


def estimated_cpu_seconds(config: RunConfig) -> float:
    """A rough single-thread CPU time for `config`: forward + backward (3× the forward's multiply-adds)
    of every training image plus a fixed cost per step (bf16: the arithmetic `CPU_BF16_SPEEDUP` times faster).
    Used to order work (longest first) and to plan (`make plan`), not to promise it."""
    part = _training_part(config)
    images, steps = config.epochs * part, config.epochs * -(-part // config.batch_size)
    rate = CPU_MACS_PER_S * (CPU_BF16_SPEEDUP if config.precision == "bf16" else 1.0)
    return images * 3 * mult_adds(config.model, **config.model_args) / rate + steps * CPU_STEP_SECONDS
