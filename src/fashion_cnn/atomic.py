"""Files written atomically: a reader sees the old file or the new one, never half of one.

Every file of the run store and of `make bench` goes through here (JSON and safetensors), so an
interrupted write (Ctrl-C, a killed process, a full disk) leaves no partial file behind.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import save_file


def atomic(path: Path, write: Callable[[str], None]) -> None:
    """Call `write(tmp)` on a temporary file beside `path`, then rename it onto `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: Path, blob: bytes) -> None:
    atomic(path, lambda tmp: Path(tmp).write_bytes(blob))


def jsonable(x):
    """`json.dumps(default=…)` for numpy scalars, tensors and tuples."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, torch.Tensor):
        return x.tolist()
    if isinstance(x, tuple):
        return list(x)
    raise TypeError(f"{type(x).__name__} is not JSON serialisable")


def write_json(path: Path, obj: Any) -> None:
    atomic(path, lambda tmp: Path(tmp).write_text(json.dumps(obj, indent=2, default=jsonable)))


def save_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    """safetensors; tensors are copied to contiguous CPU memory first. A full disk raises OSError
    (ENOSPC, naming `path`) as every other write here does, not safetensors' own error."""
    flat = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    try:
        atomic(path, lambda tmp: save_file(flat, tmp, metadata=metadata))
    except SafetensorError as err:
        if f"os error {errno.ENOSPC})" in str(err):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from None
        raise
