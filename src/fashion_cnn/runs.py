"""`RunConfig`, the run key, the run store (`reports/runs/<key>/`), resume and provenance.

A run's key hashes its whole config (with the device resolved to its type), the dataset
checksums and the package version, so asking for the same run twice trains once. Every epoch
writes one checkpoint file atomically (weights, optimizer, schedule and RNG states in
safetensors, the history in its metadata), so an interrupted run resumes from its last finished
epoch and ends with the numbers an uninterrupted run gives. Nothing is ever unpickled.

Several processes may share one store (`make train` in one terminal, `make report` in another):
a process trains a run only while it holds the run's lock (`run_lock`, an flock the kernel drops
when the process ends, however it ends), so no run is trained twice at once; the others wait for
it, or (`schedule`) train other runs meanwhile.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from . import checkpoint
from . import config as cfg
from . import data as data_mod
from .engine import OPTIMIZERS, SCHEDULES, EpochHook, fit, make_optimizer, make_scheduler
from .files import save_tensors, write_json
from .losses import LOSSES
from .models import create_model, list_models, mult_adds

try:
    __version__ = importlib.metadata.version("fashion-cnn")
except importlib.metadata.PackageNotFoundError:  # running from a source tree without install
    __version__ = "0+source"


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one training run. Two equal configs are the same run."""

    model: str  # registered model name (models.list_models())
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

    def __post_init__(self):
        object.__setattr__(self, "augment", tuple(self.augment))
        object.__setattr__(self, "model_args", dict(sorted(self.model_args.items())))
        checks = [
            (self.model in list_models(), f"unknown model {self.model!r}: see fashion_cnn.models.list_models()"),
            (self.optimizer in OPTIMIZERS, f"unknown optimizer {self.optimizer!r}: use one of {sorted(OPTIMIZERS)}"),
            (self.schedule in SCHEDULES, f"unknown schedule {self.schedule!r}: use one of {sorted(SCHEDULES)}"),
            (self.loss in LOSSES, f"unknown loss {self.loss!r}: use one of {sorted(LOSSES)}"),
            (
                self.split in ("holdout", "fold", "trainval"),
                f"unknown split {self.split!r}: use holdout, fold or trainval",
            ),
            (self.lr > 0, f"lr={self.lr} must be positive"),
            (self.batch_size > 0, f"batch_size={self.batch_size} must be positive"),
            (self.epochs > 0, f"epochs={self.epochs} must be positive"),
            (self.split != "fold" or 0 <= self.fold < self.folds, f"fold={self.fold} is outside 0..{self.folds - 1}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def replace(self, **changes) -> RunConfig:
        """A copy with `changes` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["augment"] = list(self.augment)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        return cls(**d)


def run_key(config: RunConfig) -> str:
    """16 hex digits hashing the config (device resolved to its type), data checksums and version."""
    payload = config.to_dict()
    payload["device"] = torch.device(cfg.resolve_device(config.device)).type
    blob = json.dumps({"config": payload, "data": data_mod.load().checksums, "version": __version__}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------------------------
# One trainer per run


class RunBusy(RuntimeError):
    """Another process holds the run's lock: it is training that run now."""


_HELD: set[str] = set()  # keys whose lock this process holds


def _holder(fd: int) -> str:
    return os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"


@contextlib.contextmanager
def run_lock(key: str, *, wait: bool = True, what: str = "") -> Iterator[None]:
    """Hold the lock of run `key` in the store (`<store>/.locks/<key>.lock`) for the block.

    Held already by another process: `wait` blocks until it is released (saying so on stderr,
    once), otherwise raises `RunBusy`. Re-entrant within one process. The lock file stays behind
    (empty of meaning once released: it names its last holder).
    """
    if key in _HELD:
        yield
        return
    path = cfg.RUNS_DIR / ".locks" / f"{key}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            busy = f"run {key}{what} is being trained by {_holder(fd)}"
            if not wait:
                raise RunBusy(f"{busy}; wait for it, or train another run meanwhile") from None
            print(f"{busy}: waiting for it to finish", file=sys.stderr, flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} on {socket.gethostname()}".encode(), 0)
        _HELD.add(key)
        try:
            yield
        finally:
            _HELD.discard(key)
    finally:
        os.close(fd)  # releases the lock


def training_elsewhere(key: str) -> bool:
    """Whether a process holds run `key`'s lock now, i.e. is training it (writes nothing)."""
    try:
        fd = os.open(cfg.RUNS_DIR / ".locks" / f"{key}.lock", os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------------------------
# Provenance


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(cfg.PROJECT_ROOT), *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def device_name(device: str) -> str:
    """A readable name of the device: the GPU's name, else the CPU model and thread count."""
    if torch.device(device).type == "cuda":
        return torch.cuda.get_device_name(torch.device(device))
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model} ({torch.get_num_threads()} threads)"


def provenance(device: str) -> dict[str, Any]:
    """Versions, commit, device and dataset checksums: what a reader needs to trust a number."""
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "package_version": __version__,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(dirty) if dirty is not None else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "cuda": torch.version.cuda if torch.device(device).type == "cuda" else None,
        "platform": platform.platform(),
        "device": device,
        "device_name": device_name(device),
        "data_checksums": data_mod.load().checksums,
        "data_source": data_mod.load().source,
    }


# ----------------------------------------------------------------------------------------------
# Runs


class StoreError(RuntimeError):
    """A file of the run store that cannot be read (truncated, edited, copied half-way)."""


RETRAIN = "delete the run's folder (or pass force=True) to train it again"


def _damaged(path: Path, err: Exception, fix: str) -> StoreError:
    """One line: the file, what reading it raised (its first line) and the fix."""
    cause = str(err).splitlines()[0] if str(err) else "unreadable"
    return StoreError(f"{path} is damaged ({type(err).__name__}: {cause}); {fix}")


@dataclass
class Run:
    """A finished run as stored: config, per-epoch history, final metrics and provenance."""

    key: str
    path: Path
    config: RunConfig
    history: list[dict]
    metrics: dict[str, Any]
    provenance: dict[str, Any]

    @property
    def weights_path(self) -> Path:
        return self.path / "weights.safetensors"

    def frame(self) -> pd.DataFrame:
        """The history as a DataFrame, one row per epoch."""
        return pd.DataFrame(self.history)

    def model(self, device: str | None = None) -> torch.nn.Module:
        """The trained model, weights loaded from safetensors (no pickle), in eval mode."""
        device = device or cfg.resolve_device(self.config.device)
        model = create_model(self.config.model, **self.config.model_args)
        try:
            model.load_state_dict(load_file(self.weights_path, device="cpu"))
        except (OSError, SafetensorError, RuntimeError) as err:  # missing, truncated, or not this model's tensors
            raise _damaged(self.weights_path, err, RETRAIN) from None
        return model.to(device).eval()


def load_run(path: Path | str) -> Run:
    """Load a finished run from its folder (or key)."""
    path = Path(path)
    if not path.is_absolute() and not path.exists():
        path = cfg.RUNS_DIR / str(path)
    if not (path / "run.json").is_file():
        raise FileNotFoundError(f"{path} holds no finished run (no run.json); train it with get_or_train(config)")

    def read(name: str):
        try:
            return json.loads((path / name).read_text())
        except (OSError, ValueError) as err:  # missing, or not JSON (json.JSONDecodeError is a ValueError)
            raise _damaged(path / name, err, RETRAIN) from None

    meta = read("run.json")
    try:
        config = RunConfig.from_dict(read("config.json"))
    except (TypeError, ValueError) as err:  # unknown fields or values: not a config this version wrote
        raise _damaged(path / "config.json", err, RETRAIN) from None
    return Run(
        meta.get("key", path.name), path, config, read("history.json"), read("metrics.json"), read("provenance.json")
    )


def list_runs() -> pd.DataFrame:
    """Every finished run in the store: key, model, seed, epochs and final validation accuracy."""
    rows = []
    for meta in sorted(cfg.RUNS_DIR.glob("*/run.json")):
        run = load_run(meta.parent)
        rows.append(
            {
                "key": run.key,
                "model": run.config.model,
                "seed": run.config.seed,
                "split": run.config.split,
                "epochs": run.config.epochs,
                **{k: run.metrics.get(k) for k in ("train_acc", "val_acc")},
            }
        )
    return pd.DataFrame(rows)


def checkpoint_epochs(key: str) -> int:
    """How many epochs run `key`'s checkpoint holds (0: none or unreadable; for progress bars)."""
    return checkpoint.epochs(cfg.RUNS_DIR / key / checkpoint.FILE)


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


def estimated_cpu_seconds(config: RunConfig) -> float:
    """A rough single-thread CPU time for `config`: forward + backward (3× the forward's multiply-adds)
    of every training image plus a fixed cost per step. Used to order work (longest first), not to promise it."""
    part = _training_part(config)
    images, steps = config.epochs * part, config.epochs * -(-part // config.batch_size)
    return images * 3 * mult_adds(config.model, **config.model_args) / CPU_MACS_PER_S + steps * CPU_STEP_SECONDS


def splits_for(config: RunConfig, device: str) -> tuple[data_mod.TensorSet, data_mod.TensorSet | None]:
    """Device tensors of the run's training and validation parts (never the test set)."""
    ds = data_mod.load()
    train_idx, val_idx = split_indices(config)
    train = data_mod.tensors(ds, "train", train_idx, device)
    val = data_mod.tensors(ds, "train", val_idx, device) if val_idx is not None else None
    return train, val


def default_progress() -> bool:
    """Show tqdm bars unless FASHION_CNN_QUIET=1 (batch runs: papermill, Ray tasks)."""
    return os.environ.get("FASHION_CNN_QUIET", "0") != "1"


def _train(config: RunConfig, path: Path, *, progress: bool, on_epoch_end: EpochHook | None, name: str | None) -> None:
    """Train `config` (from its checkpoint, if any) and store it in `path`; the caller holds its lock."""
    key = path.name
    device = cfg.resolve_device(config.device)
    torch.manual_seed(config.seed)
    model = create_model(config.model, **config.model_args).to(device)
    optimizer = make_optimizer(model, config)
    scheduler = make_scheduler(optimizer, config)
    generator = torch.Generator(device=device).manual_seed(config.seed)
    saved = path / checkpoint.FILE
    try:
        history = checkpoint.restore(saved, model, optimizer, scheduler, generator) if saved.is_file() else []
    except (SafetensorError, RuntimeError, ValueError, KeyError) as err:
        raise _damaged(saved, err, "delete it to train this run again from its first epoch") from None
    train, val = splits_for(config, device)
    write_json(path / "config.json", config.to_dict())

    def save_checkpoint(epoch, hist, opt, sched, gen):
        checkpoint.save(saved, model, opt, sched, gen, hist)
        if on_epoch_end is not None:
            on_epoch_end(epoch, hist, opt, sched, gen)

    started = time.perf_counter()
    history = fit(
        model,
        train,
        val,
        config,
        generator=generator,
        optimizer=optimizer,
        scheduler=scheduler,
        history=history,
        on_epoch_end=save_checkpoint,
        progress=progress,
        name=name or f"{config.model} seed {config.seed}",
    )
    wall = time.perf_counter() - started
    last = history[-1]
    metrics = {k: v for k, v in last.items() if k.startswith(("train_", "val_"))}
    if val is not None:
        best = max(history, key=lambda r: r["val_acc"])
        metrics.update(best_val_acc=best["val_acc"], best_epoch=best["epoch"])
    metrics.update(train_size=len(train), val_size=len(val) if val is not None else 0)
    save_tensors(path / "weights.safetensors", model.state_dict(), {"key": key, "model": config.model})
    write_json(path / "history.json", history)
    write_json(path / "metrics.json", metrics)
    write_json(
        path / "provenance.json",
        {**provenance(device), "seed": config.seed, "run_key": key, "wall_seconds_this_session": wall},
    )
    write_json(path / "run.json", {"key": key, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    saved.unlink(missing_ok=True)


def is_stored(config: RunConfig) -> bool:
    """Whether the run store holds `config`'s run finished (a checkpoint alone does not count)."""
    return (cfg.RUNS_DIR / run_key(config) / "run.json").is_file()


def get_or_train(
    config: RunConfig,
    *,
    force: bool = False,
    progress: bool | None = None,
    on_epoch_end: EpochHook | None = None,
    name: str | None = None,
    wait: bool = True,
) -> Run:
    """The stored run for `config`, trained first when it is not stored (or when `force`).

    An unfinished run resumes from its last checkpoint. `progress=None` shows a tqdm bar unless
    FASHION_CNN_QUIET=1. While another process trains the same run, `wait` waits for it and loads
    its result; `wait=False` raises `RunBusy` instead.
    """
    key = run_key(config)
    path = cfg.RUNS_DIR / key
    if not force and (path / "run.json").is_file():
        return load_run(path)
    with run_lock(key, wait=wait, what=f" ({config.model} seed {config.seed})"):
        if force and path.exists():
            shutil.rmtree(path)
        if (path / "run.json").is_file():  # finished by the process we waited for
            return load_run(path)
        _train(
            config,
            path,
            progress=default_progress() if progress is None else progress,
            on_epoch_end=on_epoch_end,
            name=name,
        )
        return load_run(path)
