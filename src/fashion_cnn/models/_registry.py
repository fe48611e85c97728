"""The one model registry: `register_model`, `create_model`, `list_models`, `model_info`."""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from ..errors import ConfigError

_MODELS: dict[str, Callable[..., nn.Module]] = {}
_INFO: dict[str, ModelInfo] = {}


@dataclass(frozen=True)
class ModelInfo:
    name: str
    family: str  # source report the model comes from: "R0" … "R4"
    baseline: str  # the family's baseline (itself for a baseline)
    summary: str  # one line: what the model is
    change: str  # what differs from the baseline, and why one would try it ("" for a baseline)


def register_model(*, family: str, baseline: str | None = None, summary: str, change: str = ""):
    """Decorator registering a model constructor under its function name."""

    def wrap(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        name = fn.__name__
        if name in _MODELS:
            warnings.warn(f"model {name!r} registered twice; the later one wins", stacklevel=2)
        _MODELS[name] = fn
        _INFO[name] = ModelInfo(name, family, baseline or name, summary, change)
        return fn

    return wrap


def _known(name: str) -> None:
    if name not in _MODELS:
        raise ConfigError(f"unknown model {name!r}: known models are {', '.join(sorted(_MODELS))}")


def list_models(pattern: str = "*", family: str | None = None) -> list[str]:
    """Registered names matching a glob `pattern` (and `family`), in registration order."""
    return [n for n in _MODELS if fnmatch.fnmatch(n, pattern) and (family is None or _INFO[n].family == family)]


def model_info(name: str) -> ModelInfo:
    _known(name)
    return _INFO[name]


def create_model(name: str, **overrides) -> nn.Module:
    """Build a registered model; `overrides` replace its builder arguments (e.g. n_base=16)."""
    _known(name)
    try:
        return _MODELS[name](**overrides)
    except TypeError as err:
        raise ConfigError(f"model {name!r} does not take these overrides {sorted(overrides)}: {err}") from None
