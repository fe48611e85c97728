"""A run mid-training in one file, so that an interrupted run ends with the numbers of one that never stopped.

`save` writes, atomically, the model's weights, the optimizer's state, the schedule, the global CPU
(and CUDA) RNG state and the shuffling generator's state as safetensors, with the history and the
optimizer's scalars as JSON in its metadata; `restore` puts them all back. The single trainer
(`runs`) saves after every epoch, and so does each member of a stack (`stacked`, with that member's
RNG state swapped in). Nothing is unpickled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

from ..atomic import jsonable, save_tensors

FILE = "checkpoint.safetensors"  # its name in a run's folder


def save(path: Path, model, optimizer, scheduler, generator: torch.Generator, history: list[dict]) -> None:
    """Write the checkpoint of a run after `len(history)` epochs to `path`."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    opt_state = optimizer.state_dict()
    scalars: dict[str, Any] = {}
    for pid, state in opt_state["state"].items():
        for name, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"opt.{pid}.{name}"] = value
            else:
                scalars[f"{pid}.{name}"] = value
    tensors["rng.cpu"] = torch.get_rng_state()
    tensors["rng.generator"] = generator.get_state()
    if generator.device.type == "cuda":
        tensors["rng.cuda"] = torch.cuda.get_rng_state(generator.device)
    meta = {
        "opt_scalars": scalars,
        "param_groups": opt_state["param_groups"],
        "history": history,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
    }
    save_tensors(path, tensors, {"state": json.dumps(meta, default=jsonable)})


def restore(path: Path, model, optimizer, scheduler, generator: torch.Generator) -> list[dict]:
    """Load the checkpoint at `path` into the objects given; returns its history (one row per epoch done)."""
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()["state"])
    tensors = load_file(path, device="cpu")
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    state: dict[int, dict[str, Any]] = {}
    for k, v in tensors.items():
        if k.startswith("opt."):
            _, pid, name = k.split(".", 2)
            state.setdefault(int(pid), {})[name] = v
    for k, v in meta["opt_scalars"].items():
        pid, name = k.split(".", 1)
        state.setdefault(int(pid), {})[name] = v
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    if scheduler is not None and meta["scheduler"] is not None:
        scheduler.load_state_dict(meta["scheduler"])
    torch.set_rng_state(tensors["rng.cpu"])
    generator.set_state(tensors["rng.generator"])
    if "rng.cuda" in tensors:
        torch.cuda.set_rng_state(tensors["rng.cuda"], generator.device)
    return meta["history"]


def epochs(path: Path) -> int:
    """How many epochs the checkpoint at `path` holds (0: none or unreadable; for progress bars)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return len(json.loads(f.metadata()["state"])["history"])
    except (OSError, SafetensorError, ValueError, KeyError, TypeError):
        return 0
