"""The run store: one folder per finished run (`<root>/<key>/`), a lock per run, and what a run records.

A run's folder holds `config.json`, `history.json`, `metrics.json`, `provenance.json`,
`weights.safetensors` and, last, `run.json`, which marks it finished; while it trains it holds
`checkpoint.safetensors` instead (`checkpoint`). Every file is written atomically (`files`).

Several processes may share one store (`make train` in one terminal, `make report` in another): a
process trains a run only while it holds the run's lock (`Store.lock`, an flock the kernel drops
when the process ends, however it ends), so no run is trained twice at once; the others wait for it,
or (`schedule`) train other runs meanwhile. A `Store` is passed to what needs one; `Store.default()`
is the project's (`config.RUNS_DIR`), which logs each run it loads to `FASHION_CNN_RUN_LOG` when that
is set (the report lists the runs its notebooks used).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import platform
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

from .. import config as cfg
from .. import data as data_mod
from ..atomic import write_bytes
from ..errors import Error
from ..models import create_model
from ..models import user_files as model_files
from . import checkpoint, engine
from .runs import RunConfig, __version__, run_key

_logger = logging.getLogger(__name__)

RUN_LOG = "FASHION_CNN_RUN_LOG"  # environment: a file the default store appends each loaded run to (JSON lines)


class StoreError(Error, RuntimeError):
    """A file of the run store that cannot be read (truncated, edited, copied half-way)."""


class RunBusy(Error, RuntimeError):
    """Another process holds the run's lock: it is training that run now."""


RETRAIN = "delete the run's folder (or pass force=True) to train it again"


def damaged(path: Path, err: Exception, fix: str) -> StoreError:
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
            raise damaged(self.weights_path, err, RETRAIN) from None
        return model.to(device).eval()


_HELD: set[tuple[str, str]] = set()  # (store root, key) of the locks this process holds


def _holder(fd: int) -> str:
    return os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"


class Store:
    """A run store rooted at `root`; `log`: a file each loaded run is appended to (its key, model, split,
    seed and fold as a JSON line), or None."""

    def __init__(self, root: Path | str, log: Path | str | None = None):
        self.root = Path(root)
        self.log = Path(log) if log else None

    @classmethod
    def default(cls) -> Store:
        """The project's store (`config.RUNS_DIR`, under `FASHION_CNN_REPORTS`)."""
        return cls(cfg.RUNS_DIR, os.environ.get(RUN_LOG))

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    def __str__(self) -> str:
        return str(self.root)

    def path(self, key: str) -> Path:
        return self.root / key

    def checkpoint(self, key: str) -> Path:
        """Where run `key`'s checkpoint lies while it trains."""
        return self.root / key / checkpoint.FILE

    def checkpoint_epochs(self, key: str) -> int:
        """How many epochs run `key`'s checkpoint holds (0: none or unreadable; for progress bars)."""
        return checkpoint.epochs(self.checkpoint(key))

    def has(self, run: str | RunConfig) -> bool:
        """Whether a run (its key or its config) is stored finished (a checkpoint alone does not count)."""
        key = run_key(run) if isinstance(run, RunConfig) else run
        return (self.root / key / "run.json").is_file()

    def run_keys(self) -> list[str]:
        """The keys of every run stored finished, sorted (a run still training is left out)."""
        return sorted(done.parent.name for done in self.root.glob("*/run.json")) if self.root.is_dir() else []

    def get(self, config: RunConfig) -> Run | None:
        """`config`'s stored run, or None when it is not stored finished."""
        key = run_key(config)
        return self.load(key) if self.has(key) else None

    def load(self, key: str | Path) -> Run:
        """The finished run `key` (or the run in folder `key`); raises StoreError naming a damaged file."""
        path = Path(key)
        if not path.is_absolute() and not path.exists():
            path = self.root / str(key)
        if not (path / "run.json").is_file():
            raise FileNotFoundError(f"{path} holds no finished run (no run.json); train it with get_or_train(config)")

        def read(name: str):
            try:
                return json.loads((path / name).read_text())
            except (OSError, ValueError) as err:  # missing, or not JSON (json.JSONDecodeError is a ValueError)
                raise damaged(path / name, err, RETRAIN) from None

        meta = read("run.json")
        try:
            config = RunConfig.from_dict(read("config.json"))
        except (TypeError, ValueError) as err:  # unknown fields or values: not a config this version wrote
            raise damaged(path / "config.json", err, RETRAIN) from None
        run = Run(
            meta.get("key", path.name),
            path,
            config,
            read("history.json"),
            read("metrics.json"),
            read("provenance.json"),
        )
        if self.log is not None:
            c = config
            used = {"key": run.key, "model": c.model, "split": c.split, "seed": c.seed, "fold": c.fold}
            with open(self.log, "a") as f:
                f.write(json.dumps(used) + "\n")
        return run

    def put(self, key: str, files: dict[str, bytes]) -> None:
        """Write a finished run's files (`run.json` last: it marks the run finished), then drop its checkpoint."""
        for name in sorted(files, key=lambda n: n == "run.json"):
            write_bytes(self.root / key / name, files[name])
        self.checkpoint(key).unlink(missing_ok=True)

    def files(self, key: str) -> dict[str, bytes]:
        """Run `key`'s files by name (what `put` writes into another store)."""
        folder = self.root / key
        return {f.name: f.read_bytes() for f in folder.iterdir() if f.is_file() and not f.name.startswith(".")}

    def remove(self, key: str) -> None:
        """Delete run `key`'s folder (the caller holds its lock)."""
        shutil.rmtree(self.root / key, ignore_errors=True)

    @contextlib.contextmanager
    def lock(self, key: str, *, wait: bool = True, what: str = "", name: str = "") -> Iterator[None]:
        """Hold the lock of run `key` (`<root>/.locks/<key>.lock`) for the block (`name`: what the lock
        guards when it is no run, e.g. a search, for the waiting message).

        Held already by another process: `wait` blocks until it is released (saying so once, as a
        warning), otherwise raises `RunBusy`. Re-entrant within one process. The lock file stays
        behind (it names its last holder).
        """
        held = (str(self.root), key)
        if held in _HELD:
            yield
            return
        path = self.root / ".locks" / f"{key}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                busy = (
                    f"{name} is used by {_holder(fd)}" if name else f"run {key}{what} is being trained by {_holder(fd)}"
                )
                if not wait:
                    raise RunBusy(f"{busy}; wait for it, or train another run meanwhile") from None
                _logger.warning("%s: waiting for it to finish", busy)
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"process {os.getpid()} on {socket.gethostname()}".encode(), 0)
            _HELD.add(held)
            try:
                yield
            finally:
                _HELD.discard(held)
        finally:
            os.close(fd)  # releases the lock

    def check(self) -> int:
        """Read every finished run's JSON files and its weights' header (safetensors checks the file holds
        every tensor the header names): cheap, so a command can find a damaged run before anything runs
        rather than minutes in. Raises StoreError naming the first damaged file and the fix; returns the
        runs checked."""
        checked, quiet = 0, Store(self.root)  # `quiet`: reading to check is no use of a run (no run log)
        for key in self.run_keys():
            run = quiet.load(self.root / key)  # a damaged JSON file raises here
            try:
                with safe_open(run.weights_path, framework="pt"):
                    pass
            except (OSError, SafetensorError) as err:  # missing, truncated
                raise damaged(run.weights_path, err, RETRAIN) from None
            checked += 1
        return checked

    def busy(self, key: str) -> bool:
        """Whether a process holds run `key`'s lock now, i.e. is training it (writes nothing)."""
        try:
            fd = os.open(self.root / ".locks" / f"{key}.lock", os.O_RDONLY)
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
# What a run records besides its numbers


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


def provenance(device: str, model: str | None = None) -> dict[str, Any]:
    """Versions, commit, device, dataset checksums, the engine's speed settings and, for `model` from a
    user's model file, that file's path and sha256: what a reader needs to trust a number."""
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    source = model_files.source(model) if model else None
    return {
        **({"model_file": {"path": source.path, "sha256": source.sha256}} if source else {}),
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
        "speed": engine.SPEED.settings(torch.device(device)),  # the process's, as it trains
    }
