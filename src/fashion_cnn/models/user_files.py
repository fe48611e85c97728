"""A user's own models: a Python file of `@register_model` functions, loaded by its path.

A study file names one (`models = "my_models.py"`), the command lines take `--models FILE`. The file
runs as a module of its own; the models it registers remember the file and the sha256 of its text,
which enters their runs' keys (edit the file, and its runs are new runs) and their provenance. A Ray
task gets the text of the files its runs need and loads it the same way (`load_text`), so the other
machines of a cluster need not have the file.
"""

from __future__ import annotations

import hashlib
import sys
import traceback
import types
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from . import _registry

FIX = "a model file holds functions decorated with @fashion_cnn.models.register_model"


@dataclass(frozen=True)
class ModelFile:
    """One model file loaded: where it was read, its text and its hash, and the models it registered."""

    path: str
    text: str
    sha256: str
    models: tuple[str, ...]


_FILES: dict[str, ModelFile] = {}  # sha256 of the text → the file loaded from it
_SOURCE: dict[str, ModelFile] = {}  # model name → the file that registered it


def load(path: Path | str) -> ModelFile:
    """Load the model file at `path` (once per text: loading it again is free). Raises ConfigError in
    one line: a file that cannot be read, fails to import (its file and line), registers no model, or
    takes the name of one of the package's models."""
    path = Path(path).expanduser().resolve()
    if path.suffix != ".py":
        raise ConfigError(f"{path}: a model file is a Python file (.py); {FIX}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {err.object[err.start]:#04x} at {err.start}); save it as UTF-8"
        ) from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot be read ({err.strerror or err}); give the path of a model file") from None
    return load_text(str(path), text)


def load_text(path: str, text: str) -> ModelFile:
    """Load a model file from its text (`path` names it in messages and tracebacks)."""
    sha = hashlib.sha256(text.encode()).hexdigest()
    if sha in _FILES:
        return _FILES[sha]
    name = f"fashion_cnn_models_{sha[:16]}"
    module = types.ModuleType(name)
    module.__file__ = path
    before = dict(_registry._MODELS), dict(_registry._INFO)
    sys.modules[name] = module  # dataclasses and pickling look a class's module up here
    try:
        with warnings.catch_warnings():  # re-registering an edited file's models is what loading it means
            warnings.filterwarnings("ignore", "model .* registered twice", UserWarning)
            exec(compile(text, path, "exec"), module.__dict__)  # noqa: S102 (the user's own file, run at their command)
    except SyntaxError as err:
        _undo(name, before)
        raise ConfigError(f"{path}:{err.lineno}: {err.msg}; fix the model file") from None
    except Exception as err:  # noqa: BLE001 (whatever the user's file raises becomes one line)
        _undo(name, before)
        frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == path]
        line = f":{frames[-1].lineno}" if frames else ""
        raise ConfigError(
            f"{path}{line}: importing it raised {type(err).__name__}: {err}; fix the model file"
        ) from None
    models = tuple(n for n, fn in _registry._MODELS.items() if getattr(fn, "__module__", None) == name)
    taken = [n for n in models if n in before[0] and n not in _SOURCE]
    if taken or not models:
        _undo(name, before)
        if taken:
            raise ConfigError(f"{path}: model {taken[0]!r} is one of the package's models; give yours another name")
        raise ConfigError(f"{path}: registers no model; {FIX}")
    loaded = ModelFile(path, text, sha, models)
    _FILES[sha] = loaded
    _SOURCE.update(dict.fromkeys(models, loaded))
    return loaded


def _undo(name: str, before: tuple[dict, dict]) -> None:
    """Forget what a file that failed to load registered."""
    sys.modules.pop(name, None)
    for registry, saved in zip((_registry._MODELS, _registry._INFO), before):
        registry.clear()
        registry.update(saved)


def source(model: str) -> ModelFile | None:
    """The user's file that registered `model`, or None for the package's own models."""
    return _SOURCE.get(model)


def load_all(paths) -> list[ModelFile]:
    """`load` each of `paths` (a command line's `--models`, a notebook's `model_files`: a list, or one
    string of paths separated by spaces or commas)."""
    if isinstance(paths, str):
        paths = paths.replace(",", " ").split()
    return [load(p) for p in paths]
