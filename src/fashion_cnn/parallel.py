"""Several runs at once: stacked (vmapped) models on a GPU, worker processes on the CPU.

What wins where was measured with `python -m fashion_cnn.bench` (docs/speed.md):

* CPU (2 cores): on an idle machine LeNet-5 trains at ~11k images/s in one process with 2
  threads, ~8k with 1 thread, and two 1-thread processes side by side give ~16k together;
  vmapping 5 LeNet-5s into one model gives only ~6k (the batched convolutions become grouped
  convolutions, slow in mkldnn). So independent runs go to worker processes, one thread each
  (`train_in_processes`), but only onto idle cores: at load 3.5, two workers took 53 s for the
  R0 study where one process took 36 s (`cpu_workers`).
* GPU: a small model leaves most of the chip idle, so K copies of one architecture (seeds,
  folds) are stacked with `torch.func.stack_module_state` and trained as one vmapped model
  whose step is captured as a CUDA graph (`train_stacked`): 5 LeNet-5 seeds on an H100 took
  0.24 s per run-epoch stacked against 0.36 s one by one (1.12 s stacked without the graph).

Each member of a stack computes what its own `get_or_train` would, up to float rounding:
the same initialisation (`torch.manual_seed(seed)` before building), its own shuffling
generator and data (its own fold), and its own global RNG stream for augmentation and dropout.
Dropout masks are drawn per member, with that member's RNG state swapped in, by the very op the
sequential model runs (`F.dropout` on a tensor of ones with the activation's shape and strides),
and applied inside the vmapped forward as `x * mask`. BatchNorm running statistics are stacked
buffers, updated per member. The optimizer runs on the stacked parameters: Adam, AdamW, SGD and
RMSprop are element-wise, so member k's slice follows exactly its own optimizer.

Runs are stored exactly as `runs.get_or_train` stores them: each member writes the checkpoint
`get_or_train` writes after every epoch, and `get_or_train` then finishes the run from it (no
epoch left to train), so keys, files and resume behave the same.
"""

from __future__ import annotations

import concurrent.futures as futures
import contextlib
import copy
import json
import multiprocessing
import os
import queue
import shutil
import threading
import time
import warnings
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state
from tqdm.auto import tqdm

from . import augment as augment_mod
from . import config as cfg
from . import engine
from . import runs
from .losses import dense_kernels, make_loss
from .models import create_model

# Fields that may differ between the members of one stack; everything else must be equal.
MEMBER_FIELDS = ("seed", "fold", "split_seed")


def cpu_cores() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def busy_cores(seconds: float = 1.0) -> float:
    """Cores that other processes keep busy now: psutil's per-CPU use over the next `seconds`, summed
    over the cores this process may run on. The caller sleeps meanwhile, so its own work does not count.
    """
    import psutil

    mine = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    use = psutil.cpu_percent(interval=seconds, percpu=True)
    return sum(u for i, u in enumerate(use) if mine is None or i in mine) / 100


def cpu_workers(jobs: int, busy: float | None = None) -> int:
    """Worker processes for `jobs` independent CPU runs: one per idle core, at most one per job.

    Idle cores are the cores minus what other processes use now (`busy_cores`, a one-second sample),
    rounded. On a shared 2-core machine at load 3.5, two workers took 53 s for what one process did in
    36 s; on an idle one the R0 study's epoch took 23.7 s in two workers against 32.2 s in one. The
    1-minute load average, used before, lags: after a two-core job it still read 1.5 or more when the next
    notebook started, so a full `make report` trained notebook 02 on one core (1,463 s instead of 784 s).
    The choice never changes results: every run uses one thread on either path.
    """
    busy = busy_cores() if busy is None else busy
    idle = int(cpu_cores() - busy + 0.5)
    return max(1, min(jobs, cpu_cores(), idle))


# ----------------------------------------------------------------------------------------------
# Processes (the CPU path)

def exit_with_parent(parent: int, every: float = 1.0) -> None:
    """Call in a worker process (the pool's initializer here, `tune`'s workers): a daemon thread ends the
    worker once its parent is gone (a kernel shut down by papermill, a `kill -9`), instead of training on
    for nobody. Files are written atomically and a run keeps the checkpoint of its last finished epoch,
    so ending mid-epoch loses only that epoch."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _stop(pool: futures.ProcessPoolExecutor) -> None:
    """Cancel the queued runs and end the workers now (Ctrl-C, SIGTERM, a failed run): a worker whose
    run raised takes the next queued one, and `shutdown(wait=True)` would wait for all of them."""
    workers = list((getattr(pool, "_processes", None) or {}).values())  # CPython's; no public handle
    for process in workers:
        process.terminate()
    for process in workers:
        process.join(timeout=10)
    pool.shutdown(wait=True, cancel_futures=True)  # the pool's thread sees the workers gone and ends


_EPOCHS = None  # in a worker of train_in_processes: the multiprocessing queue its finished (key, epoch)s go to


def _init_worker(parent: int, epochs) -> None:
    global _EPOCHS
    exit_with_parent(parent)
    _EPOCHS = epochs


def _train_in_worker(config: dict, runs_dir: str, force: bool) -> str | None:
    """The run's key once stored; None when another process is training it (the worker moves on)."""
    cfg.RUNS_DIR = Path(runs_dir)  # fit() sets the thread count (engine.SPEED.cpu_threads)
    config = runs.RunConfig.from_dict(config)
    key = runs.run_key(config)

    def tell(epoch: int, *_) -> None:
        if _EPOCHS is not None:
            _EPOCHS.put((key, epoch + 1))

    try:
        return runs.get_or_train(config, force=force, progress=False, wait=False, on_epoch_end=tell).key
    except runs.RunBusy:
        return None


class WorkerDied(RuntimeError):
    """A worker process of `train_in_processes` ended without returning (its pool is broken)."""


# Starting a worker (spawn, import torch, load and check the data) costs ~5 s on 2 busy cores:
# below ~30 s of sequential training (8k images/s) processes do not pay.
MIN_IMAGE_EPOCHS_FOR_PROCESSES = 240_000


class _WorkBar:
    """The progress of a pool of runs: the bar fills by estimated single-core work
    (`runs.estimated_cpu_seconds`) as each epoch finishes in a worker, so that its time left means
    something while runs of very different sizes train; the postfix counts runs and epochs."""

    def __init__(self, configs: list[runs.RunConfig], workers: int, progress: bool, resumed: bool = True):
        self.keys = [runs.run_key(c) for c in configs]
        self.epochs = {k: c.epochs for k, c in zip(self.keys, configs)}
        self.cost = {k: runs.estimated_cpu_seconds(c) / c.epochs for k, c in zip(self.keys, configs)}  # per epoch
        self.done = {k: runs.checkpoint_epochs(k) if resumed else 0 for k in self.keys}  # a resumed run's epochs
        self.runs = 0
        self.bar = tqdm(total=sum(self.cost[k] * self.epochs[k] for k in self.keys),
                        initial=sum(self.cost[k] * self.done[k] for k in self.keys),
                        desc=f"{len(configs)} runs in {workers} processes", disable=not progress, leave=False,
                        dynamic_ncols=True, bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]")
        self._show(0.0)

    def epoch(self, key: str, epoch: int) -> None:
        self._show(self._advance(key, epoch))

    def run_done(self, key: str) -> None:
        self.runs += 1
        self._show(self._advance(key, self.epochs[key]))  # a run loaded, or left to another process: done

    def _advance(self, key: str, epoch: int) -> float:
        work = self.cost[key] * max(0, epoch - self.done[key])
        self.done[key] = max(self.done[key], epoch)
        return work

    def _show(self, work: float) -> None:
        self.bar.set_postfix_str(f"runs {self.runs}/{len(self.keys)}, "
                                 f"epochs {sum(self.done.values())}/{sum(self.epochs.values())}", refresh=False)
        if work:
            self.bar.update(work)
        else:
            self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def train_in_processes(configs: list[runs.RunConfig], *, workers: int | None = None, force: bool = False,
                       progress: bool = True) -> list[runs.Run]:
    """Train `configs` in `workers` spawned processes (default: one per core) and return their runs in order.

    Each worker calls `get_or_train`, so the store holds the same runs a sequential loop makes. The
    runs are handed out longest first (`runs.estimated_cpu_seconds`), so that no worker is left with
    a long run after the others have finished; the order never changes a run's result. An interrupt
    (Ctrl-C, SIGTERM turned into an exception) or a failed run stops every worker at once: finished
    runs stay stored, an interrupted one resumes from its last epoch's checkpoint next time. A run
    that another process is training (`runs.run_lock`) is left to it: the workers go on with the
    others, and this process waits for it at the end.
    """
    if not configs:
        return []
    order = sorted(range(len(configs)), key=lambda i: -runs.estimated_cpu_seconds(configs[i]))
    workers = workers or max(2, cpu_workers(len(configs)))  # asked for processes: at least two
    context = multiprocessing.get_context("spawn")  # fork after torch's thread pools started is unsafe
    epochs = context.Queue()
    bar = _WorkBar(configs, workers, progress, resumed=not force)
    pool = futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                       initargs=(os.getpid(), epochs))
    try:
        jobs = {pool.submit(_train_in_worker, configs[i].to_dict(), str(cfg.RUNS_DIR), force): i for i in order}
        waiting = set(jobs)
        while waiting:
            finished, waiting = futures.wait(waiting, timeout=1.0, return_when=futures.FIRST_COMPLETED)
            with contextlib.suppress(queue.Empty):
                while True:
                    bar.epoch(*epochs.get_nowait())
            for job in finished:
                job.result()  # a worker's exception (e.g. TrainingDiverged) surfaces here
                bar.run_done(bar.keys[jobs[job]])
        keys = [job.result() for job in sorted(jobs, key=jobs.get)]  # None: another process trains it
        pool.shutdown()
    except BaseException as err:
        _stop(pool)
        if not isinstance(err, BrokenProcessPool):
            raise
        raise WorkerDied(
            "a training worker process died before finishing its run (killed, out of memory, or started from a "
            "script without an `if __name__ == \"__main__\":` guard, which spawned workers need); the runs it "
            "finished are stored: guard the script's entry point, or pass strategy=\"sequential\"") from None
    finally:
        bar.close()
        epochs.close()
    return [runs.load_run(cfg.RUNS_DIR / key) if key else runs.get_or_train(c, progress=progress)
            for key, c in zip(keys, configs)]


# ----------------------------------------------------------------------------------------------
# Stacked models (the GPU path)

def stack_signature(config: runs.RunConfig) -> str:
    """Configs with the same signature can share one stacked model (they differ only in MEMBER_FIELDS)."""
    d = config.to_dict()
    for name in MEMBER_FIELDS:
        d.pop(name)
    d["device"] = torch.device(cfg.resolve_device(config.device)).type
    return json.dumps(d, sort_keys=True)


class _MaskedDropout(nn.Module):
    """Dropout whose mask (already scaled by 1/(1-p)) is handed in as a buffer, one per stack member."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mask", torch.empty(0), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.mask if self.training else x


def _random_modules(model: nn.Module) -> list[str]:
    allowed = (nn.Dropout,)
    return [n for n, m in model.named_modules() if "Dropout" in type(m).__name__ and not type(m) in allowed]


class _Member:
    """One run of a stack: its config, model, data, shuffling generator and global RNG states."""

    def __init__(self, config: runs.RunConfig, device: str):
        self.config = config
        self.key = runs.run_key(config)
        self.path = cfg.RUNS_DIR / self.key
        torch.manual_seed(config.seed)  # as get_or_train: seeds the CPU and every CUDA generator
        self.model = create_model(config.model, **config.model_args).to(device)
        self.optimizer = engine.make_optimizer(self.model, config)
        self.generator = torch.Generator(device=device).manual_seed(config.seed)
        self.train, self.val = runs.splits_for(config, device)
        self.cuda = torch.device(device).type == "cuda"
        self.rng_cpu = torch.get_rng_state()
        self.rng_cuda = torch.cuda.get_rng_state(device) if self.cuda else None
        self.history: list[dict] = []
        self.device = device
        if engine.SPEED.use_channels_last(torch.device(device)):  # the layouts fit() uses: same dropout strides
            engine.to_channels_last(self.model, self.optimizer)

    def __enter__(self):
        torch.set_rng_state(self.rng_cpu)
        if self.cuda:
            torch.cuda.set_rng_state(self.rng_cuda, self.device)

    def __exit__(self, *exc):
        self.rng_cpu = torch.get_rng_state()
        if self.cuda:
            self.rng_cuda = torch.cuda.get_rng_state(self.device)


def _dropout_layouts(model: nn.Module, x: torch.Tensor) -> list[tuple[str, float, tuple, tuple]]:
    """(name, p, shape, strides) of every dropout's input, in the order the forward meets them."""
    seen = []
    hooks = [m.register_forward_pre_hook(lambda mod, args, name=name: seen.append(
        (name, mod.p, tuple(args[0].shape), args[0].stride())))
        for name, m in model.named_modules() if isinstance(m, nn.Dropout)]
    was_training = model.training
    try:
        model.eval()  # no randomness consumed, no BatchNorm statistics touched
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return seen


class StackedTrainer:
    """Train K runs of one architecture as one vmapped model; see the module docstring."""

    def __init__(self, configs: list[runs.RunConfig], *, progress: bool = True):
        signatures = {stack_signature(c) for c in configs}
        if len(signatures) != 1:
            raise ValueError("stacked runs must differ only in " + ", ".join(MEMBER_FIELDS) + "; group them first")
        self.config = configs[0]
        self.device = cfg.resolve_device(self.config.device)
        self.members = [_Member(c, self.device) for c in configs]
        sizes = {(len(m.train), len(m.val) if m.val is not None else 0) for m in self.members}
        if len(sizes) != 1:
            raise ValueError(f"stacked runs need equal split sizes, got {sorted(sizes)}; train them one by one")
        random = _random_modules(self.members[0].model)
        if random:
            raise ValueError(f"{self.config.model}: {random} draw randomness the stack cannot replay; train them one by one")
        self.progress = progress
        self.template = copy.deepcopy(self.members[0].model)
        self.dropouts = [n for n, m in self.template.named_modules() if isinstance(m, nn.Dropout)]
        for name in self.dropouts:
            parent, _, child = name.rpartition(".")
            setattr(self.template.get_submodule(parent) if parent else self.template, child, _MaskedDropout())
        self.template = self.template.to(memory_format=torch.contiguous_format)
        params, buffers = stack_module_state([m.model for m in self.members])  # (K, ...) each
        self.params = {k: v.detach().contiguous().requires_grad_(True) for k, v in params.items()}
        self.buffers = {k: v.contiguous() for k, v in buffers.items()}
        self.optimizer = engine.OPTIMIZERS[self.config.optimizer](list(self.params.values()), self.config)
        engine.make_capturable(self.optimizer)  # the same optimizer flags as each member's own
        self.scheduler = engine.make_scheduler(self.optimizer, self.config)
        self.loss_fn = make_loss(self.config.loss)
        self.augment = augment_mod.build(self.config.augment)
        self.l1 = self.config.l1 + getattr(self.members[0].model, "l1", 0.0)
        self.l2 = self.config.l2 + getattr(self.members[0].model, "l2", 0.0)
        linear = {id(w) for w in dense_kernels(self.members[0].model)}
        self.kernels = [name for name, p in self.members[0].model.named_parameters() if id(p) in linear]
        self.layouts: dict[int, list] = {}
        K = len(self.members)
        self.loss_sum = torch.zeros(K, dtype=torch.float64, device=self.device)
        self.confusion = torch.zeros(K * engine.NUM_CLASSES ** 2, dtype=torch.int64, device=self.device)
        self.offsets = torch.arange(K, device=self.device).unsqueeze(1) * engine.NUM_CLASSES ** 2
        self.graph_enabled = torch.device(self.device).type == "cuda" and engine.SPEED.cuda_graph
        self.graph, self.graph_key, self.warmup_left = None, None, engine.SPEED.warmup_steps
        self.side = torch.cuda.Stream() if self.graph_enabled else None
        self.forward = torch.vmap(self._forward_one, in_dims=(0, 0, 0, 0), randomness="error")

    def _forward_one(self, params, buffers, masks, x):
        return functional_call(self.template, {**params, **buffers, **masks}, (x,))

    def _masks(self, member: _Member, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Member's dropout masks for a batch like `x`, drawn as its sequential forward would draw them."""
        if not self.dropouts:
            return {}
        layouts = self.layouts.get(len(x))
        if layouts is None:
            layouts = self.layouts[len(x)] = _dropout_layouts(member.model, x)
        return {f"{name}.mask": F.dropout(torch.empty_strided(shape, stride, device=x.device).fill_(1.0), p, True)
                for name, p, shape, stride in layouts}

    def _penalty(self) -> torch.Tensor | None:
        if not self.kernels or (self.l1 == 0.0 and self.l2 == 0.0):
            return None
        total = 0.0
        for name in self.kernels:
            w = self.params[name]
            if self.l1:
                total = total + self.l1 * w.abs().sum()
            if self.l2:
                total = total + self.l2 * w.square().sum()
        return total

    def _step(self, x: torch.Tensor, y: torch.Tensor, masks: dict[str, torch.Tensor]) -> None:
        """One optimisation step of every member: x (K, B, 1, 28, 28), y (K, B); the tally stays on the device."""
        logits = self.forward(self.params, self.buffers, masks, x)  # (K, B, 10)
        losses = torch.stack([self.loss_fn(logits[k], y[k]) for k in range(len(self.members))])
        penalty = self._penalty()
        self.optimizer.zero_grad(set_to_none=True)
        (losses.sum() if penalty is None else losses.sum() + penalty).backward()
        self.optimizer.step()
        self.loss_sum += losses.detach().double() * y.shape[1]
        cells = (self.offsets + y * engine.NUM_CLASSES + logits.detach().argmax(2)).flatten()
        self.confusion.scatter_add_(0, cells, torch.ones_like(cells))

    def _graph_step(self, x, y, masks) -> None:
        """`_step` captured as a CUDA graph after a few eager steps (as engine._GraphStep), then replayed."""
        if len(y[0]) != self.config.batch_size or self.warmup_left > 0:
            self.warmup_left -= len(y[0]) == self.config.batch_size
            side = self.side
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                self._step(x, y, masks)
            torch.cuda.current_stream().wait_stream(side)
            return
        key = tuple(g["lr"] for g in self.optimizer.param_groups)
        if self.graph is None or key != self.graph_key:
            self.graph, self.graph_key = None, key
            self.static = (x.clone(), y.clone(), {k: v.clone() for k, v in masks.items()})
            self.optimizer.zero_grad(set_to_none=True)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                self._step(*self.static)
            self.graph = graph
        else:
            sx, sy, smasks = self.static
            sx.copy_(x)
            sy.copy_(y)
            for k, v in masks.items():
                smasks[k].copy_(v)
        self.graph.replay()

    def _train_epoch(self, bar) -> list[dict[str, float]]:
        self.template.train()
        K = len(self.members)
        self.loss_sum.zero_()
        self.confusion.zero_()
        step = self._graph_step if self.graph_enabled else self._step
        streams = [m.train.batches(self.config.batch_size, m.generator) for m in self.members]
        for batch in zip(*streams):
            xs, ys, masks = [], [], []
            for member, (x, y) in zip(self.members, batch):
                if self.augment is not None or self.dropouts:
                    with member:  # this member's global RNG stream, in its sequential order
                        x = self.augment(x) if self.augment is not None else x
                        masks.append(self._masks(member, x))
                xs.append(x)
                ys.append(y)
            stacked_masks = {k: torch.stack([m[k] for m in masks]) for k in masks[0]} if self.dropouts else {}
            step(torch.stack(xs), torch.stack(ys), stacked_masks)
            if bar is not None:
                bar.update(1)
        confusion = self.confusion.view(K, engine.NUM_CLASSES, engine.NUM_CLASSES).cpu().numpy()
        loss_sum = self.loss_sum.cpu().numpy()
        return [engine.summarise(confusion[k], float(loss_sum[k])) for k in range(K)]

    def _unstack(self) -> None:
        """Copy the stacked weights, buffers and optimizer state into each member's own model and optimizer."""
        stacked_state = self.optimizer.state_dict()
        for k, member in enumerate(self.members):
            with torch.no_grad():
                for name, p in member.model.named_parameters():
                    p.copy_(self.params[name][k])
                for name, b in member.model.named_buffers():
                    b.copy_(self.buffers[name][k])
            own = member.optimizer.state_dict()
            state = {pid: {name: (v[k].clone() if isinstance(v, torch.Tensor) and v.dim() > 0 else
                                  v.clone() if isinstance(v, torch.Tensor) else v) for name, v in s.items()}
                     for pid, s in stacked_state["state"].items()}
            groups = [{**g, "params": own_g["params"]} for g, own_g in zip(stacked_state["param_groups"], own["param_groups"])]
            member.optimizer.load_state_dict({"state": state, "param_groups": groups})

    def _checkpoint(self, member: _Member) -> None:
        """Write the checkpoint get_or_train writes after an epoch (weights, optimizer, RNG, history)."""
        with member:
            tensors, meta = runs._checkpoint_tensors(member.model, member.optimizer, member.generator)
        meta.update(history=member.history,
                    scheduler=self.scheduler.state_dict() if self.scheduler is not None else None)
        runs.save_tensors(member.path / "checkpoint.safetensors", tensors,
                          {"state": json.dumps(meta, default=runs._jsonable)})

    def fit(self) -> list[runs.Run]:
        """Train every member for the configured epochs, store each run, and return them in order."""
        steps = self.members[0].train.num_batches(self.config.batch_size)
        epochs = self.config.epochs
        bar = tqdm(total=epochs * steps, desc=f"{self.config.model} ×{len(self.members)} stacked", unit="step",
                   disable=not self.progress, leave=False, dynamic_ncols=True)
        started = time.perf_counter()
        on_cpu = torch.device(self.device).type == "cpu"
        with contextlib.ExitStack() as cleanup:
            for member in self.members:  # held until every member is stored; RunBusy if another process has one
                cleanup.enter_context(runs.run_lock(member.key, wait=False,
                                                    what=f" ({member.config.model} seed {member.config.seed})"))
            cleanup.callback(bar.close)
            cleanup.enter_context(engine.cpu_threads(engine.SPEED.cpu_threads if on_cpu else None))
            for epoch in range(epochs):
                lr = self.optimizer.param_groups[0]["lr"]
                start = time.perf_counter()
                results = self._train_epoch(bar)
                train_seconds = time.perf_counter() - start
                for member, tr in zip(self.members, results):
                    if not torch.isfinite(torch.tensor(tr["loss"])):
                        raise engine.TrainingDiverged(
                            f"{member.config.model} seed {member.config.seed}: training loss became {tr['loss']} "
                            f"in epoch {epoch + 1}; lower the learning rate (lr={self.config.lr}) or check the inputs")
                self._unstack()
                for member, tr in zip(self.members, results):
                    va = engine.evaluate(member.model, member.val, self.loss_fn) if member.val is not None else {}
                    member.history.append(engine.history_row(  # the stack's wall time: every member took it
                        epoch, lr, tr, va, seconds=time.perf_counter() - start,
                        images_per_s=len(member.train) / train_seconds))
                if self.scheduler is not None:
                    self.scheduler.step()
                for member in self.members:
                    self._checkpoint(member)
            wall = time.perf_counter() - started
            finished = []
            for member in self.members:
                run = runs.get_or_train(member.config, progress=False)  # finishes from the checkpoint: no epoch left
                prov = json.loads((run.path / "provenance.json").read_text())
                prov.update(wall_seconds_this_session=wall, trained_together=[m.key for m in self.members])
                runs.write_json(run.path / "provenance.json", prov)
                finished.append(runs.load_run(run.path))
            return finished


def train_stacked(configs: list[runs.RunConfig], *, progress: bool = True) -> list[runs.Run]:
    """Train `configs` (one architecture; they differ only in seed, fold or split seed) as one vmapped model."""
    return StackedTrainer(configs, progress=progress).fit()


def can_stack(configs: list[runs.RunConfig]) -> bool:
    """Whether `configs` can train as one stack (same signature, equal split sizes, replayable randomness)."""
    if len(configs) < 2 or len({stack_signature(c) for c in configs}) != 1:
        return False
    if _random_modules(create_model(configs[0].model, **configs[0].model_args)):
        return False
    ds_sizes = set()
    for c in configs:
        tr, va = runs.split_indices(c)
        ds_sizes.add((len(tr), 0 if va is None else len(va)))
    return len(ds_sizes) == 1


def cpu_strategy(configs: list[runs.RunConfig]) -> str:
    """What `train_many(strategy="auto")` does with these CPU runs now: "processes" or "sequential"."""
    if len(configs) > 1 and runs.training_images(configs) >= MIN_IMAGE_EPOCHS_FOR_PROCESSES \
            and cpu_workers(len(configs)) > 1:  # last: it samples the cores for a second
        return "processes"
    return "sequential"


def _claim(held: contextlib.ExitStack, key: str) -> bool:
    """Take run `key`'s lock into `held` unless another process has it; False also when the run was
    stored or started while we looked (it is then loaded or resumed on its own)."""
    try:
        held.enter_context(runs.run_lock(key, wait=False))
    except runs.RunBusy:
        return False
    return not any((cfg.RUNS_DIR / key / f).is_file() for f in ("run.json", "checkpoint.safetensors"))


def train_many(configs: list[runs.RunConfig], *, strategy: str = "auto", force: bool = False,
               progress: bool = True, max_stack: int = 16) -> list[runs.Run]:
    """Train (or load) every config and return the runs in order, several at a time where that is faster.

    strategy: "auto" (stacks on CUDA, processes on a multi-core CPU, else one by one),
    "stacked", "processes" or "sequential". Stored runs are loaded, never retrained (unless `force`).
    """
    if strategy not in ("auto", "stacked", "processes", "sequential"):
        raise ValueError(f"unknown strategy {strategy!r}: use auto, stacked, processes or sequential")
    unique: dict[str, runs.RunConfig] = {}
    for c in configs:
        unique.setdefault(runs.run_key(c), c)
    if force:
        for key, c in unique.items():
            with runs.run_lock(key, what=f" ({c.model} seed {c.seed})"):  # never under a process training it
                shutil.rmtree(cfg.RUNS_DIR / key, ignore_errors=True)

    def has(key: str, name: str) -> bool:
        return (cfg.RUNS_DIR / key / name).is_file()

    unfinished = {k: c for k, c in unique.items() if not has(k, "run.json")}  # stored runs just load
    on_cuda = {k for k, c in unfinished.items() if torch.device(cfg.resolve_device(c.device)).type == "cuda"}
    cpu = [c for k, c in unfinished.items() if k not in on_cuda]  # interrupted ones too: they resume in a worker
    if strategy in ("auto", "stacked"):  # a stack starts its members at epoch 0: interrupted runs resume alone
        groups: dict[str, dict[str, runs.RunConfig]] = {}
        for k, c in unfinished.items():
            if (strategy == "stacked" or k in on_cuda) and not has(k, "checkpoint.safetensors"):
                groups.setdefault(stack_signature(c), {})[k] = c
        for group in groups.values():
            keys = list(group)
            for i in range(0, len(keys), max_stack):
                with contextlib.ExitStack() as held:  # runs another process trains stay out of the stack
                    chunk = [group[k] for k in keys[i:i + max_stack] if _claim(held, k)]
                    if can_stack(chunk):
                        train_stacked(chunk, progress=progress)
    if strategy == "processes":
        train_in_processes(list(unfinished.values()), progress=progress)
    elif strategy == "auto" and cpu_strategy(cpu) == "processes":
        try:
            train_in_processes(cpu, progress=progress)
        except WorkerDied as err:  # "auto" promised speed, not processes: what is left trains below
            warnings.warn(f"{err}; training the rest in this process", RuntimeWarning, stacklevel=2)
    return [runs.get_or_train(c, progress=progress) for c in configs]  # loads the stored; trains what is left
