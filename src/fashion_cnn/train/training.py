"""Training one run into the store: resumed from its checkpoint, stored atomically, `run.json` last.

Every epoch writes one checkpoint file atomically (weights, optimizer, schedule and RNG states in
safetensors, the history in its metadata: `checkpoint`), so an interrupted run resumes from its last
finished epoch and ends with the numbers an uninterrupted run gives. Nothing is ever unpickled. Many
runs at once go through `schedule.get_or_train_many`, which calls this on each worker.
"""

from __future__ import annotations

import os
import time
import traceback

import torch
from safetensors import SafetensorError

from .. import config as cfg
from .. import data as data_mod
from ..atomic import save_tensors, write_json
from ..errors import Error
from ..models import create_model
from ..models import user_files as model_files
from . import checkpoint
from .engine import EpochHook, check_precision, fit, make_optimizer, make_scheduler
from .runs import RunConfig, probe_indices, run_key, split_indices
from .store import Run, Store, damaged, provenance


def splits_for(config: RunConfig, device: str) -> tuple[data_mod.TensorSet, data_mod.TensorSet | None]:
    """Device tensors of the run's training and validation parts (never the test set)."""
    ds = data_mod.load()
    train_idx, val_idx = split_indices(config)
    train = data_mod.tensors(ds, "train", train_idx, device)
    val = data_mod.tensors(ds, "train", val_idx, device) if val_idx is not None else None
    return train, val


def probe_for(config: RunConfig, device: str) -> data_mod.TensorSet:
    """Device tensors of the run's probe (`runs.probe_indices`): training images measured in eval mode."""
    return data_mod.tensors(data_mod.load(), "train", probe_indices(config), device)


def default_progress() -> bool:
    """Show tqdm bars unless FASHION_CNN_QUIET=1 (batch runs: papermill, Ray tasks)."""
    return os.environ.get("FASHION_CNN_QUIET", "0") != "1"


class ModelFailed(Error, RuntimeError):
    """A user's model raised while training: the run, the model file and line, and the exception, in one line."""


def _user_model_failed(config: RunConfig, err: Exception, log) -> ModelFailed | None:
    """The one-line error for `err` raised by a model from a user's file (its traceback written to `log`),
    or None when the model is the package's own (a bug of ours: its traceback is kept as it is)."""
    user = model_files.source(config.model)
    if user is None:
        return None
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == user.path]
    where = f"{user.path}:{frames[-1].lineno} (in {frames[-1].name})" if frames else user.path
    log.write_text("".join(traceback.format_exception(err)))
    return ModelFailed(
        f"{config.title}: model {config.model!r} raised {type(err).__name__}: {err} at {where}; fix the model "
        f"(the traceback is in {log})"
    )


def _train(
    config: RunConfig, store: Store, key: str, *, progress: bool, on_epoch_end: EpochHook | None, name: str | None
) -> None:
    """Train `config` (from its checkpoint, if any) into `store` as run `key`; the caller holds its lock."""
    path = store.path(key)
    device = cfg.resolve_device(config.device)
    check_precision(config.precision, device)  # before anything is written
    torch.manual_seed(config.seed)
    model = create_model(config.model, **config.model_args).to(device)
    optimizer = make_optimizer(model, config)
    scheduler = make_scheduler(optimizer, config)
    generator = torch.Generator(device=device).manual_seed(config.seed)
    saved = store.checkpoint(key)
    try:
        history = checkpoint.restore(saved, model, optimizer, scheduler, generator) if saved.is_file() else []
    except (SafetensorError, RuntimeError, ValueError, KeyError) as err:
        raise damaged(saved, err, "delete it to train this run again from its first epoch") from None
    train, val = splits_for(config, device)
    write_json(path / "config.json", config.to_dict())

    def save_checkpoint(epoch, hist, opt, sched, gen):
        checkpoint.save(saved, model, opt, sched, gen, hist)
        if on_epoch_end is not None:
            on_epoch_end(epoch, hist, opt, sched, gen)

    started = time.perf_counter()
    try:
        history = fit(
            model,
            train,
            val,
            config,
            generator=generator,
            optimizer=optimizer,
            scheduler=scheduler,
            history=history,
            probe=probe_for(config, device),
            on_epoch_end=save_checkpoint,
            progress=progress,
            name=name or config.title,
        )
    except Error:
        raise
    except Exception as err:  # a user's model raising in forward: one line, the traceback in the run's folder
        failed = _user_model_failed(config, err, path / "error.log")
        if failed is None:
            raise
        raise failed from None
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
        {**provenance(device, config.model), "seed": config.seed, "run_key": key, "wall_seconds_this_session": wall},
    )
    write_json(path / "run.json", {"key": key, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    saved.unlink(missing_ok=True)


def get_or_train(
    config: RunConfig,
    *,
    store: Store | None = None,
    force: bool = False,
    progress: bool | None = None,
    on_epoch_end: EpochHook | None = None,
    name: str | None = None,
    wait: bool = True,
) -> Run:
    """The stored run for `config` in `store` (default `Store.default()`), trained first when it is
    not stored (or when `force`).

    An unfinished run resumes from its last checkpoint. `progress=None` shows a tqdm bar unless
    FASHION_CNN_QUIET=1. While another process trains the same run, `wait` waits for it and loads
    its result; `wait=False` raises `store.RunBusy` instead.
    """
    store = store or Store.default()
    key = run_key(config)
    if not force and store.has(key):
        return _labelled(store.load(key), config)
    with store.lock(key, wait=wait, what=f" ({config.title})"):
        if force:
            store.remove(key)
        if store.has(key):  # finished by the process we waited for
            return _labelled(store.load(key), config)
        progress = default_progress() if progress is None else progress
        _train(config, store, key, progress=progress, on_epoch_end=on_epoch_end, name=name)
        return _labelled(store.load(key), config)


def _labelled(run: Run, config: RunConfig) -> Run:
    """The stored run under the label it was asked for (the store keeps no label: one run may serve
    two studies that call it differently)."""
    if config.label:
        run.config = run.config.replace(label=config.label)
    return run
