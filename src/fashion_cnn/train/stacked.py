"""Several runs of one architecture trained as one vmapped model: the GPU path for seeds and folds.

A small model leaves most of a GPU idle, so K copies of one architecture that differ only in seed,
fold or split seed are stacked with `torch.func.stack_module_state` and trained as one vmapped
model whose step is captured as a CUDA graph: 5 LeNet-5 seeds on an H100 took 0.24 s per
run-epoch stacked against 0.36 s one by one (1.12 s stacked without the graph; docs/speed.md). On
the CPU stacking loses (the batched convolutions become slow grouped ones), so `schedule` stacks
only GPU runs.

Each member computes what its own `get_or_train` would, up to float rounding: the same
initialisation (`torch.manual_seed(seed)` before building), its own shuffling generator and data
(its own fold), and its own global RNG stream for augmentation and dropout. Dropout masks are drawn
per member, with that member's RNG state swapped in, by the very op the sequential model runs
(`F.dropout` on a tensor of ones with the activation's shape and strides), and applied inside the
vmapped forward as `x * mask`. BatchNorm running statistics are stacked buffers, updated per
member. The optimizer runs on the stacked parameters: Adam, AdamW, SGD and RMSprop are
element-wise, so member k's slice follows exactly its own optimizer.

Runs are stored exactly as `training.get_or_train` stores them: each member writes its checkpoint
(`checkpoint.save`) after every epoch, and `get_or_train` then finishes the run from it (no epoch
left to train), so keys, files and resume behave the same.
"""

from __future__ import annotations

import contextlib
import copy
import json
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state
from tqdm.auto import tqdm

from .. import augment as augment_mod
from .. import config as cfg
from ..atomic import write_json
from ..losses import dense_kernels, make_loss, penalty
from ..models import create_model
from . import checkpoint, engine, runs
from .store import Run, Store
from .training import get_or_train, probe_for, splits_for

# Fields that may differ between the members of one stack; everything else must be equal.
MEMBER_FIELDS = ("seed", "fold", "split_seed")


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

    def __init__(self, config: runs.RunConfig, store: Store, device: str):
        self.config = config
        self.key = runs.run_key(config)
        self.checkpoint_path = store.checkpoint(self.key)
        torch.manual_seed(config.seed)  # as get_or_train: seeds the CPU and every CUDA generator
        self.model = create_model(config.model, **config.model_args).to(device)
        self.optimizer = engine.make_optimizer(self.model, config)
        self.generator = torch.Generator(device=device).manual_seed(config.seed)
        self.train, self.val = splits_for(config, device)
        self.probe = probe_for(config, device)
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
    hooks = [
        m.register_forward_pre_hook(
            lambda mod, args, name=name: seen.append((name, mod.p, tuple(args[0].shape), args[0].stride()))
        )
        for name, m in model.named_modules()
        if isinstance(m, nn.Dropout)
    ]
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

    def __init__(
        self,
        configs: list[runs.RunConfig],
        store: Store | None = None,
        *,
        progress: bool = True,
        on_epoch_end: Callable[[str, list[dict]], None] | None = None,
    ):
        signatures = {stack_signature(c) for c in configs}
        if len(signatures) != 1:
            raise ValueError("stacked runs must differ only in " + ", ".join(MEMBER_FIELDS) + "; group them first")
        self.config = configs[0]
        self.device = cfg.resolve_device(self.config.device)
        engine.check_precision(self.config.precision, self.device)
        self.store = store or Store.default()
        self.members = [_Member(c, self.store, self.device) for c in configs]
        sizes = {(len(m.train), len(m.val) if m.val is not None else 0) for m in self.members}
        if len(sizes) != 1:
            raise ValueError(f"stacked runs need equal split sizes, got {sorted(sizes)}; train them one by one")
        random = _random_modules(self.members[0].model)
        if random:
            raise ValueError(
                f"{self.config.model}: {random} draw randomness the stack cannot replay; train them one by one"
            )
        self.progress = progress
        self.on_epoch_end = on_epoch_end  # (member's run key, its history) after each epoch's checkpoint
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
        self.forward = torch.vmap(self._forward_one, in_dims=(0, 0, 0, 0), randomness="error")
        self.tally = engine.Tally(torch.device(self.device), members=len(self.members))
        self.step = engine.make_step(  # the engine's step (and CUDA graph), on the stacked model
            lambda x, masks: self.forward(self.params, self.buffers, masks, x),
            self._losses,
            lambda: penalty([self.params[name] for name in self.kernels], self.l1, self.l2),
            self.optimizer,
            self.tally,
            self.config.batch_size,
            self.config.precision,
        )

    def _forward_one(self, params, buffers, masks, x):
        return functional_call(self.template, {**params, **buffers, **masks}, (x,))

    def _masks(self, member: _Member, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Member's dropout masks for a batch like `x`, drawn as its sequential forward would draw them."""
        if not self.dropouts:
            return {}
        layouts = self.layouts.get(len(x))
        if layouts is None:
            layouts = self.layouts[len(x)] = _dropout_layouts(member.model, x)
        return {
            f"{name}.mask": F.dropout(torch.empty_strided(shape, stride, device=x.device).fill_(1.0), p, True)
            for name, p, shape, stride in layouts
        }

    def _losses(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Each member's loss: logits (K, B, 10), y (K, B) → (K,)."""
        return torch.stack([self.loss_fn(logits[k], y[k]) for k in range(len(self.members))])

    def _train_epoch(self, bar) -> list[dict[str, float]]:
        self.template.train()
        self.tally.reset()
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
            self.step(torch.stack(xs), torch.stack(ys), stacked_masks)
            if bar is not None:
                bar.update(1)
        return self.tally.results()

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
            state = {
                pid: {
                    name: (
                        v[k].clone()
                        if isinstance(v, torch.Tensor) and v.dim() > 0
                        else v.clone()
                        if isinstance(v, torch.Tensor)
                        else v
                    )
                    for name, v in s.items()
                }
                for pid, s in stacked_state["state"].items()
            }
            groups = [
                {**g, "params": own_g["params"]} for g, own_g in zip(stacked_state["param_groups"], own["param_groups"])
            ]
            member.optimizer.load_state_dict({"state": state, "param_groups": groups})

    def _checkpoint(self, member: _Member) -> None:
        """Write the checkpoint get_or_train writes after an epoch (weights, optimizer, RNG, history)."""
        with member:  # the member's own RNG states go into its checkpoint
            checkpoint.save(
                member.checkpoint_path,
                member.model,
                member.optimizer,
                self.scheduler,
                member.generator,
                member.history,
            )
        if self.on_epoch_end is not None:
            self.on_epoch_end(member.key, member.history)

    def fit(self) -> list[Run]:
        """Train every member for the configured epochs, store each run, and return them in order."""
        steps = self.members[0].train.num_batches(self.config.batch_size)
        epochs = self.config.epochs
        bar = tqdm(
            total=epochs * steps,
            desc=f"{self.config.model} ×{len(self.members)} stacked",
            unit="step",
            disable=not self.progress,
            leave=False,
            dynamic_ncols=True,
        )
        started = time.perf_counter()
        on_cpu = torch.device(self.device).type == "cpu"
        with contextlib.ExitStack() as cleanup:
            for member in self.members:  # held until every member is stored; RunBusy if another process has one
                cleanup.enter_context(self.store.lock(member.key, wait=False, what=f" ({member.config.title})"))
            cleanup.callback(bar.close)
            cleanup.enter_context(engine.cpu_threads(engine.SPEED.cpu_threads if on_cpu else None))
            for epoch in range(epochs):
                lr = self.optimizer.param_groups[0]["lr"]
                start = time.perf_counter()
                results = self._train_epoch(bar)
                train_seconds = time.perf_counter() - start
                for member, tr in zip(self.members, results):
                    engine.check_finite(tr["loss"], member.config.title, epoch, self.config.lr, self.config.model)
                self._unstack()
                for member, tr in zip(self.members, results):
                    va = engine.evaluate(member.model, member.val, self.loss_fn) if member.val is not None else {}
                    pr = engine.evaluate(member.model, member.probe, self.loss_fn)
                    member.history.append(
                        engine.history_row(  # the stack's wall time: every member took it
                            epoch,
                            lr,
                            tr,
                            va,
                            seconds=time.perf_counter() - start,
                            images_per_s=len(member.train) / train_seconds,
                            probe=pr,
                        )
                    )
                if self.scheduler is not None:
                    self.scheduler.step()
                for member in self.members:
                    self._checkpoint(member)
            wall = time.perf_counter() - started
            finished = []
            for member in self.members:
                # finishes from the checkpoint (no epoch left) and stores the run as a single run is stored
                run = get_or_train(member.config, store=self.store, progress=False)
                prov = json.loads((run.path / "provenance.json").read_text())
                prov.update(wall_seconds_this_session=wall, trained_together=[m.key for m in self.members])
                write_json(run.path / "provenance.json", prov)
                finished.append(self.store.load(run.key))
            return finished


def train_stacked(configs: list[runs.RunConfig], store: Store | None = None, *, progress: bool = True) -> list[Run]:
    """Train `configs` (one architecture; they differ only in seed, fold or split seed) as one vmapped model."""
    return StackedTrainer(configs, store, progress=progress).fit()


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
