"""The training loop: `train_one_epoch`, `evaluate`, `predict` and `fit`, plus optimizers and schedules.

Metrics are accumulated on the device (a 10x10 confusion count and a loss sum) and read once per
epoch, so the GPU never waits on the host inside an epoch.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Protocol

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from . import augment as augment_mod
from .data import TensorSet
from .losses import LossFn, kernel_penalty, make_loss

NUM_CLASSES = 10


class TrainConfig(Protocol):
    """What `fit` reads from a run config (see runs.RunConfig)."""

    optimizer: str
    lr: float
    momentum: float
    weight_decay: float
    batch_size: int
    epochs: int
    l1: float
    l2: float
    schedule: str
    step_size: int
    gamma: float
    loss: str
    augment: tuple[str, ...]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


OPTIMIZERS = {
    "adam": lambda params, c: torch.optim.Adam(params, lr=c.lr, weight_decay=c.weight_decay),
    "adamw": lambda params, c: torch.optim.AdamW(params, lr=c.lr, weight_decay=c.weight_decay),
    "sgd": lambda params, c: torch.optim.SGD(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay),
    "rmsprop": lambda params, c: torch.optim.RMSprop(params, lr=c.lr, weight_decay=c.weight_decay),
}

SCHEDULES = {
    "none": lambda opt, c: None,
    "step": lambda opt, c: torch.optim.lr_scheduler.StepLR(opt, step_size=c.step_size, gamma=c.gamma),  # ×gamma every step_size epochs
    "exponential": lambda opt, c: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=c.gamma),
    "cosine": lambda opt, c: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=c.epochs),
}


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {config.optimizer!r}: use one of {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[config.optimizer](model.parameters(), config)


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig):
    """The per-epoch learning-rate schedule (None for a constant rate)."""
    if config.schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {config.schedule!r}: use one of {sorted(SCHEDULES)}")
    return SCHEDULES[config.schedule](optimizer, config)


def summarise(confusion: np.ndarray, loss_sum: float) -> dict[str, float]:
    """Loss, top-1 accuracy and macro precision/recall from a (true, predicted) count matrix."""
    n = confusion.sum()
    diag = np.diag(confusion).astype(float)
    predicted, actual = confusion.sum(0), confusion.sum(1)
    precision = np.divide(diag, predicted, out=np.zeros_like(diag), where=predicted > 0)
    recall = np.divide(diag, actual, out=np.zeros_like(diag), where=actual > 0)
    present = actual > 0
    return {
        "loss": loss_sum / n,
        "acc": diag.sum() / n,
        "precision": float(precision[present].mean()),
        "recall": float(recall[present].mean()),
    }


class _Tally:
    """Loss sum and confusion counts kept on the device."""

    def __init__(self, device: torch.device):
        self.loss = torch.zeros((), dtype=torch.float64, device=device)
        self.confusion = torch.zeros(NUM_CLASSES * NUM_CLASSES, dtype=torch.int64, device=device)

    def add(self, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        self.loss += loss.detach().double() * len(y)
        cells = y * NUM_CLASSES + logits.detach().argmax(1)
        self.confusion.scatter_add_(0, cells, torch.ones_like(cells))  # no host sync, unlike bincount

    def result(self) -> dict[str, float]:
        confusion = self.confusion.view(NUM_CLASSES, NUM_CLASSES).cpu().numpy()
        return summarise(confusion, float(self.loss))


def train_one_epoch(
    model: nn.Module,
    data: TensorSet,
    optimizer: torch.optim.Optimizer,
    loss_fn: LossFn,
    *,
    batch_size: int,
    generator: torch.Generator,
    l1: float = 0.0,
    l2: float = 0.0,
    augment: augment_mod.Augment | None = None,
    bar: tqdm | None = None,
) -> dict[str, float]:
    """One pass over `data` in shuffled batches; returns the running (Keras-style) train metrics.

    The reported loss is the data loss; the L1/L2 penalty is optimised but not included.
    """
    model.train()
    tally = _Tally(data.device)
    for step, (x, y) in enumerate(data.batches(batch_size, generator)):
        if augment is not None:
            x = augment(x)
        logits = model(x)
        loss = loss_fn(logits, y)
        penalty = kernel_penalty(model, l1, l2)
        optimizer.zero_grad(set_to_none=True)
        (loss if penalty is None else loss + penalty).backward()
        optimizer.step()
        tally.add(loss, logits, y)
        if bar is not None:
            bar.update(1)
            if step % 50 == 0:  # an occasional host read keeps the bar live without stalling the device
                bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    return tally.result()


@torch.no_grad()
def evaluate(model: nn.Module, data: TensorSet, loss_fn: LossFn, batch_size: int = 2048) -> dict[str, float]:
    """Loss, accuracy and macro precision/recall of `model` on `data` (eval mode, no gradients)."""
    model.eval()
    tally = _Tally(data.device)
    for x, y in data.batches(batch_size):
        logits = model(x)
        tally.add(loss_fn(logits, y), logits, y)
    return tally.result()


@torch.no_grad()
def predict(model: nn.Module, data: TensorSet, batch_size: int = 2048, features: bool = False) -> dict[str, np.ndarray]:
    """Logits, predicted classes and labels (and penultimate features when asked) as numpy arrays."""
    model.eval()
    logits, feats = [], []
    for x, _ in data.batches(batch_size):
        if features:
            f = model.features(x)
            feats.append(f.cpu())
            logits.append(model.head(f).cpu())
        else:
            logits.append(model(x).cpu())
    out = {"logits": torch.cat(logits).numpy(), "labels": data.labels.cpu().numpy()}
    out["pred"] = out["logits"].argmax(1)
    if features:
        out["features"] = torch.cat(feats).numpy()
    return out


EpochHook = Callable[[int, list[dict], torch.optim.Optimizer, object, torch.Generator], None]


def fit(
    model: nn.Module,
    train: TensorSet,
    val: TensorSet | None,
    config: TrainConfig,
    *,
    generator: torch.Generator,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler=None,
    history: list[dict] | None = None,
    on_epoch_end: EpochHook | None = None,
    progress: bool = True,
    name: str = "run",
) -> list[dict]:
    """Train for `config.epochs` epochs (continuing after `len(history)` when resuming).

    Returns the per-epoch history: train/val loss, accuracy, macro precision and recall, the
    learning rate, seconds and images per second. Raises TrainingDiverged naming the run and
    epoch when the loss stops being finite.
    """
    optimizer = optimizer or make_optimizer(model, config)
    scheduler = scheduler or make_scheduler(optimizer, config)
    history = list(history or [])
    loss_fn = make_loss(config.loss)
    augment = augment_mod.build(config.augment)
    l1 = config.l1 + getattr(model, "l1", 0.0)
    l2 = config.l2 + getattr(model, "l2", 0.0)
    steps = train.num_batches(config.batch_size)
    bar = tqdm(total=config.epochs * steps, initial=len(history) * steps, desc=name, unit="step",
               disable=not progress, leave=False, dynamic_ncols=True)
    try:
        for epoch in range(len(history), config.epochs):
            lr = optimizer.param_groups[0]["lr"]
            start = time.perf_counter()
            tr = train_one_epoch(model, train, optimizer, loss_fn, batch_size=config.batch_size,
                                 generator=generator, l1=l1, l2=l2, augment=augment, bar=bar)
            if not math.isfinite(tr["loss"]):
                raise TrainingDiverged(
                    f"{name}: training loss became {tr['loss']} in epoch {epoch + 1}; "
                    f"lower the learning rate (lr={config.lr}) or check the inputs"
                )
            train_seconds = time.perf_counter() - start
            va = evaluate(model, val, loss_fn) if val is not None else {}
            row = {"epoch": epoch + 1, "lr": lr}
            row.update({f"train_{k}": v for k, v in tr.items()})
            row.update({f"val_{k}": va.get(k, float("nan")) for k in tr})
            row["seconds"] = time.perf_counter() - start
            row["images_per_s"] = len(train) / train_seconds
            history.append(row)
            if scheduler is not None:
                scheduler.step()
            bar.set_postfix(loss=f"{tr['loss']:.3f}", acc=f"{tr['acc']:.3f}",
                            val_acc=f"{va['acc']:.3f}" if va else "-", refresh=True)
            if on_epoch_end is not None:
                on_epoch_end(epoch, history, optimizer, scheduler, generator)
    finally:
        bar.close()
    return history
