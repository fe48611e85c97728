"""The training loop: one `Step` (for a model or a stack), `train_one_epoch`, `evaluate`, `predict` and `fit`, plus optimizers and schedules.

Metrics are accumulated on the device (a 10x10 confusion count and a loss sum) and read once per
epoch, so the GPU never waits on the host inside an epoch.

Speed (`SPEED`; the measurements are in docs/speed.md, made with `make bench`). On the CPU a run
uses one intra-op thread (the thread count changes the float results; many runs go to Ray tasks of
one CPU each: `schedule`) and keeps the model and optimizer state channels_last. On CUDA the whole
step (forward, loss, backward, optimizer step, metric tally) is captured once as a CUDA graph and
replayed. None of these defaults changes what is computed beyond float rounding. A run's
`precision` ("bf16": autocast of forward and loss, where the hardware has it, `check_precision`)
does change its numbers: it is part of the run's config and key.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .. import augment as augment_mod
from ..data import TensorSet
from ..errors import ConfigError, Error
from ..losses import LossFn, kernel_penalty, make_loss
from ..models import user_files as model_files
from ..models.contract import forward_with_features

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
    precision: str


PRECISIONS = ("fp32", "bf16")  # fp32: everything in float32; bf16: autocast of forward and loss


def bf16_supported(device_type: str, cpu_capability: str | None = None, cuda_bf16: bool | None = None) -> bool:
    """Whether `device_type` computes bf16 natively: on CUDA `torch.cuda.is_bf16_supported()`, on the CPU
    the capability torch reports (`torch.backends.cpu.get_cpu_capability()`: AVX512, AMX or SVE; an
    AVX2 CPU emulates bf16, slower than fp32). The inputs may be given, to simulate another machine."""
    if device_type == "cuda":
        return torch.cuda.is_bf16_supported() if cuda_bf16 is None else cuda_bf16
    capability = torch.backends.cpu.get_cpu_capability() if cpu_capability is None else cpu_capability
    return capability.upper().startswith(("AVX512", "AMX", "SVE"))


def check_precision(precision: str, device: str, cpu_capability: str | None = None, cuda_bf16: bool | None = None):
    """Raise ConfigError, in one line, when `precision` is bf16 and `device` lacks it (see `bf16_supported`)."""
    kind = torch.device(device).type
    if precision == "bf16" and not bf16_supported(kind, cpu_capability, cuda_bf16):
        what = (
            "this GPU does not support bf16"
            if kind == "cuda"
            else f"this CPU reports {cpu_capability or torch.backends.cpu.get_cpu_capability()}, without native bf16 "
            "(AVX512, AMX or SVE)"
        )
        raise ConfigError(f"precision bf16: {what}; train in fp32 (precision=fp32, the default)")


class TrainingDiverged(Error, RuntimeError):
    """The loss became NaN or infinite."""


OPTIMIZERS = {
    "adam": lambda params, c: torch.optim.Adam(params, lr=c.lr, weight_decay=c.weight_decay),
    "adamw": lambda params, c: torch.optim.AdamW(params, lr=c.lr, weight_decay=c.weight_decay),
    "sgd": lambda params, c: torch.optim.SGD(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay),
    "rmsprop": lambda params, c: torch.optim.RMSprop(params, lr=c.lr, weight_decay=c.weight_decay),
}

SCHEDULES = {
    "none": lambda opt, c: None,
    "step": lambda opt, c: torch.optim.lr_scheduler.StepLR(
        opt, step_size=c.step_size, gamma=c.gamma
    ),  # ×gamma every step_size epochs
    "exponential": lambda opt, c: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=c.gamma),
    "cosine": lambda opt, c: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=c.epochs),
}


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """The configured optimizer over `model`'s parameters (capturable in a CUDA graph on a GPU)."""
    optimizer = OPTIMIZERS[config.optimizer](model.parameters(), config)
    make_capturable(optimizer)
    return optimizer


def make_capturable(optimizer: torch.optim.Optimizer) -> None:
    """Keep step counters on the GPU so the step can be captured (Adam, AdamW, RMSprop; SGD needs nothing)."""
    if "capturable" not in optimizer.defaults:
        return
    on_cuda = any(p.is_cuda for g in optimizer.param_groups for p in g["params"])
    if on_cuda and not optimizer.defaults["capturable"] and not optimizer.state:
        optimizer.defaults["capturable"] = True
        for group in optimizer.param_groups:
            group["capturable"] = True


@dataclass(frozen=True)
class Speed:
    """How the engine runs steps. None changes results beyond float rounding (bf16 is a run's
    `precision`, part of its config)."""

    channels_last: bool | None = None  # None: on the CPU (a measured win), not on CUDA (a measured loss)
    cuda_graph: bool = True  # capture the CUDA training step as a graph and replay it
    warmup_steps: int = 3  # eager steps before capturing (lazy initialisation happens there)
    cpu_threads: int | None = 1  # intra-op threads while a run trains on the CPU (None: leave torch's setting)
    compile: bool = False  # torch.compile the training forward (Triton kernels; changes rounding, costs compile time)

    def use_channels_last(self, device: torch.device) -> bool:
        return (device.type == "cpu") if self.channels_last is None else self.channels_last

    def settings(self, device: torch.device) -> dict:
        """Every setting as it applies on `device` (a run's provenance records them)."""
        return {**dataclasses.asdict(self), "channels_last": self.use_channels_last(device)}

    def key(self) -> dict:
        """The settings that change a run's numbers and differ from the defaults (part of its run key:
        runs with the default settings keep the keys they have)."""
        default = Speed()
        return {f: getattr(self, f) for f in NUMBER_CHANGING if getattr(self, f) != getattr(default, f)}


NUMBER_CHANGING = ("channels_last", "compile", "cpu_threads")  # kernels, rounding or reduction order


SPEED = Speed()


@contextlib.contextmanager
def speed(**changes) -> Iterator[Speed]:
    """Temporarily change `SPEED` (e.g. `with speed(cuda_graph=False): fit(...)`), as the benchmark does."""
    global SPEED
    before = SPEED
    SPEED = dataclasses.replace(SPEED, **changes)
    try:
        yield SPEED
    finally:
        SPEED = before


@contextlib.contextmanager
def cpu_threads(n: int | None) -> Iterator[None]:
    """Run the block with `n` torch intra-op threads (None: unchanged), restoring the setting after."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def to_channels_last(model: nn.Module, optimizer: torch.optim.Optimizer | None = None) -> None:
    """Convert `model` (and the optimizer state shaped like its parameters) to channels_last in place.

    The state follows the parameters so that a resumed run computes with the same layouts, hence
    the same bits, as one that never stopped.
    """
    model.to(memory_format=torch.channels_last)
    if optimizer is None:
        return
    for p in model.parameters():
        for name, value in optimizer.state.get(p, {}).items():
            if isinstance(value, torch.Tensor) and value.shape == p.shape and value.stride() != p.stride():
                optimizer.state[p][name] = torch.empty_like(p).copy_(value)


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig):
    """The per-epoch learning-rate schedule (None for a constant rate)."""
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


class Tally:
    """Loss sums and confusion counts of one model, or of each member of a stack, kept on the device."""

    def __init__(self, device: torch.device, members: int = 1):
        self.members = members
        self.loss = torch.zeros(members, dtype=torch.float64, device=device)
        self.confusion = torch.zeros(members * NUM_CLASSES**2, dtype=torch.int64, device=device)
        self.offsets = torch.arange(members, device=device).unsqueeze(1) * NUM_CLASSES**2

    def reset(self) -> None:
        self.loss.zero_()
        self.confusion.zero_()

    def add(self, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        """loss () or (K,), logits (B, 10) or (K, B, 10), y (B,) or (K, B)."""
        self.loss += loss.detach().double().reshape(-1) * y.shape[-1]
        cells = (
            self.offsets
            + y.reshape(self.members, -1) * NUM_CLASSES
            + logits.detach().reshape(self.members, -1, NUM_CLASSES).argmax(2)
        )
        self.confusion.scatter_add_(
            0, cells.flatten(), torch.ones_like(cells.flatten())
        )  # no host sync, unlike bincount

    def results(self) -> list[dict[str, float]]:
        confusion = self.confusion.view(self.members, NUM_CLASSES, NUM_CLASSES).cpu().numpy()
        loss = self.loss.cpu().numpy()
        return [summarise(confusion[k], float(loss[k])) for k in range(self.members)]

    def result(self) -> dict[str, float]:
        return self.results()[0]


def check_finite(loss: float, name: str, epoch: int, lr: float, model: str = "") -> None:
    """Raise TrainingDiverged naming the run and epoch when an epoch's training loss is not finite; where
    `model` comes from a user's model file, the message names that file too (the model may be the cause)."""
    if not math.isfinite(loss):
        user = model_files.source(model)
        check = f"check the model in {user.path}" if user else "check the inputs"
        raise TrainingDiverged(
            f"{name}: training loss became {loss} in epoch {epoch + 1}; lower the learning rate (lr={lr}) or {check}"
        )


class Step:
    """One optimisation step, run op by op: forward, loss, penalty, backward, optimizer step, tally.

    The same step serves one model (`forward` is the model, `loss` a scalar) and a stack of K models
    (`stacked`: a vmapped forward, one loss per member); `extra` inputs (a stack's dropout masks: a dict
    of tensors) go to `forward` after x. The tally accumulates on the device.
    """

    def __init__(
        self,
        forward: Callable,
        loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        penalty: Callable[[], torch.Tensor | None],
        optimizer: torch.optim.Optimizer,
        tally: Tally,
        bf16: bool = False,
    ):
        self.forward, self.loss, self.penalty, self.optimizer, self.tally = forward, loss, penalty, optimizer, tally
        self.bf16, self.device_type = bf16, tally.loss.device.type

    def run(self, x: torch.Tensor, y: torch.Tensor, *extra) -> torch.Tensor:
        # weights, optimizer state and the loss sum stay fp32; only the forward and the loss run in bf16
        with torch.autocast(self.device_type, dtype=torch.bfloat16, enabled=self.bf16, cache_enabled=False):
            logits = self.forward(x, *extra)
            loss = self.loss(logits, y)
        penalty = self.penalty()
        total = loss if loss.dim() == 0 else loss.sum()  # a stack: each member's gradient is its own loss's
        self.optimizer.zero_grad(set_to_none=True)
        (total if penalty is None else total + penalty).backward()
        self.optimizer.step()
        self.tally.add(loss, logits.float(), y)
        return loss

    __call__ = run


def _copy_into(static, value) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            static[k].copy_(v)
    else:
        static.copy_(value)


def _clone(value):
    return {k: v.clone() for k, v in value.items()} if isinstance(value, dict) else value.clone()


class GraphStep(Step):
    """The same step captured as a CUDA graph after a few eager warm-up steps, then replayed.

    A graph is captured per learning rate since the optimizer bakes its rate into the graph; a
    schedule therefore costs one capture per epoch. A ragged last batch runs eagerly (the same
    kernels, so the same numbers). Inputs (x, y and any extra tensors) are copied into static buffers.
    """

    def __init__(self, *args, batch_size: int, warmup_steps: int = 3, **kw):
        super().__init__(*args, **kw)
        self.batch_size, self.warmup_left = batch_size, warmup_steps
        self.graph: torch.cuda.CUDAGraph | None = None
        self.key = None
        self.side = torch.cuda.Stream()

    def _eager(self, *inputs):
        self.side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(self.side):
            loss = self.run(*inputs)
        torch.cuda.current_stream().wait_stream(self.side)
        return loss

    def __call__(self, x: torch.Tensor, y: torch.Tensor, *extra) -> torch.Tensor:
        if y.shape[-1] != self.batch_size:
            return self._eager(x, y, *extra)
        if self.warmup_left > 0:
            self.warmup_left -= 1
            return self._eager(x, y, *extra)
        key = tuple(g["lr"] for g in self.optimizer.param_groups)
        if self.graph is None or key != self.key:
            self.graph, self.key = None, key
            self.static = [_clone(v) for v in (x, y, *extra)]
            self.optimizer.zero_grad(set_to_none=True)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                self.static_loss = self.run(*self.static)
            self.graph = graph
        else:
            for static, value in zip(self.static, (x, y, *extra)):
                _copy_into(static, value)
        self.graph.replay()
        return self.static_loss


def make_step(
    forward: Callable,
    loss,
    penalty,
    optimizer: torch.optim.Optimizer,
    tally: Tally,
    batch_size: int,
    precision: str = "fp32",
) -> Step:
    """The step `SPEED` asks for on this device: a captured CUDA graph on a GPU (unless `cuda_graph=False`),
    else eager; bf16 autocast of forward and loss when `precision` is "bf16"."""
    bf16 = precision == "bf16"
    if tally.loss.device.type == "cuda" and SPEED.cuda_graph:
        make_capturable(optimizer)
        return GraphStep(
            forward,
            loss,
            penalty,
            optimizer,
            tally,
            bf16=bf16,
            batch_size=batch_size,
            warmup_steps=SPEED.warmup_steps,
        )
    return Step(forward, loss, penalty, optimizer, tally, bf16=bf16)


def model_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: LossFn,
    l1: float,
    l2: float,
    device: torch.device,
    batch_size: int,
    forward: Callable | None = None,
    precision: str = "fp32",
) -> Step:
    """`make_step` for one model (`forward`: a compiled model, else the model itself)."""
    return make_step(
        model if forward is None else forward,
        loss_fn,
        lambda: kernel_penalty(model, l1, l2),
        optimizer,
        Tally(device),
        batch_size,
        precision,
    )


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
    stepper: Step | None = None,
) -> dict[str, float]:
    """One pass over `data` in shuffled batches; returns the running (Keras-style) train metrics.

    The reported loss is the data loss; the L1/L2 penalty is optimised but not included.
    `stepper` (made by `fit`) may replay a captured CUDA graph; without it every step runs eagerly.
    """
    model.train()
    stepper = stepper or Step(model, loss_fn, lambda: kernel_penalty(model, l1, l2), optimizer, Tally(data.device))
    stepper.tally.reset()
    on_cpu = data.device.type == "cpu"
    for step, (x, y) in enumerate(data.batches(batch_size, generator)):
        if augment is not None:
            x = augment(x)
        loss = stepper(x, y)
        if bar is not None:
            bar.update(1)
            if on_cpu and step % 50 == 0:  # a host read is free on the CPU; on a GPU it would stall the queue
                bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    return stepper.tally.result()


@torch.no_grad()
def evaluate(model: nn.Module, data: TensorSet, loss_fn: LossFn, batch_size: int = 2048) -> dict[str, float]:
    """Loss, accuracy and macro precision/recall of `model` on `data` (eval mode, no gradients)."""
    model.eval()
    tally = Tally(data.device)
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
            out, f = forward_with_features(model, x)
            feats.append(f.cpu())
            logits.append(out.cpu())
        else:
            logits.append(model(x).cpu())
    out = {"logits": torch.cat(logits).numpy(), "labels": data.labels.cpu().numpy()}
    out["pred"] = out["logits"].argmax(1)
    if features:
        out["features"] = torch.cat(feats).numpy()
    return out


def history_row(
    epoch: int,
    lr: float,
    train: dict[str, float],
    val: dict[str, float],
    *,
    seconds: float,
    images_per_s: float,
    probe: dict[str, float] | None = None,
) -> dict:
    """One history row: epoch (1-based), lr, train_*/val_* metrics (NaN without validation), the training
    probe's accuracy and loss in eval mode (train_eval_*, when measured), timing."""
    row = {"epoch": epoch + 1, "lr": lr}
    row.update({f"train_{k}": v for k, v in train.items()})
    row.update({f"val_{k}": val.get(k, float("nan")) for k in train})
    if probe:
        row.update({f"train_eval_{k}": probe[k] for k in ("acc", "loss")})
    row.update(seconds=seconds, images_per_s=images_per_s)
    return row


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
    probe: TensorSet | None = None,
    on_epoch_end: EpochHook | None = None,
    progress: bool = True,
    name: str = "run",
) -> list[dict]:
    """Train for `config.epochs` epochs (continuing after `len(history)` when resuming).

    Returns the per-epoch history: train/val loss, accuracy, macro precision and recall, the
    learning rate, seconds and images per second; with `probe` (training images), their accuracy and
    loss in eval mode after each epoch (what the train − validation gap should compare: the running
    training metrics lag the weights and carry dropout's noise). The probe draws no random number, so
    it leaves every other number as it was. Raises TrainingDiverged naming the run and
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
    device = train.device
    if SPEED.use_channels_last(device):
        to_channels_last(model, optimizer)
    stepper = model_step(
        model,
        optimizer,
        loss_fn,
        l1,
        l2,
        device,
        config.batch_size,
        forward=torch.compile(model) if SPEED.compile else None,
        precision=config.precision,
    )
    bar = tqdm(
        total=config.epochs * steps,
        initial=len(history) * steps,
        desc=name,
        unit="step",
        disable=not progress,
        leave=False,
        dynamic_ncols=True,
    )
    with cpu_threads(SPEED.cpu_threads if device.type == "cpu" else None):  # see the module docstring
        try:
            for epoch in range(len(history), config.epochs):
                lr = optimizer.param_groups[0]["lr"]
                start = time.perf_counter()
                tr = train_one_epoch(
                    model,
                    train,
                    optimizer,
                    loss_fn,
                    batch_size=config.batch_size,
                    generator=generator,
                    l1=l1,
                    l2=l2,
                    augment=augment,
                    bar=bar,
                    stepper=stepper,
                )
                check_finite(tr["loss"], name, epoch, config.lr, config.model)
                train_seconds = time.perf_counter() - start
                va = evaluate(model, val, loss_fn) if val is not None else {}
                pr = evaluate(model, probe, loss_fn) if probe is not None else None
                history.append(
                    history_row(
                        epoch,
                        lr,
                        tr,
                        va,
                        seconds=time.perf_counter() - start,
                        images_per_s=len(train) / train_seconds,
                        probe=pr,
                    )
                )
                if scheduler is not None:
                    scheduler.step()
                bar.set_postfix(
                    loss=f"{tr['loss']:.3f}",
                    acc=f"{tr['acc']:.3f}",
                    val_acc=f"{va['acc']:.3f}" if va else "-",
                    refresh=True,
                )
                if on_epoch_end is not None:
                    on_epoch_end(epoch, history, optimizer, scheduler, generator)
        finally:
            bar.close()
    return history
