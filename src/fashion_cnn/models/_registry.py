"""The one model registry: `register_model`, `create_model`, `list_models`, `model_info`.

A model's *knobs* are the keyword arguments its builder takes, with their defaults as that named model
has them (`ModelInfo.knobs`): a study variant sets them in one line (`model_args = { act = "gelu" }`).
A builder documents them in its docstring, one line each under `Knobs:` (`kernel=5: both convs' size`),
which `python -m fashion_cnn models show` prints. `create_model` refuses a knob the model does not take,
and checks the contract (`contract.check`) the first time a model is built with given knobs.
"""

from __future__ import annotations

import fnmatch
import inspect
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from ..errors import ConfigError
from . import contract

_MODELS: dict[str, Callable[..., nn.Module]] = {}
_INFO: dict[str, ModelInfo] = {}
_CHECKED: set[tuple[Callable, str]] = set()  # (builder, knobs) built once and found to meet the contract


@dataclass(frozen=True)
class ModelInfo:
    name: str
    family: str  # source report the model comes from ("R0" … "R4"), or "user" for a user's model file
    baseline: str  # the family's baseline (itself for a baseline)
    summary: str  # one line: what the model is
    change: str  # what differs from the baseline, and why one would try it ("" for a baseline)
    knobs: dict[str, Any] = field(default_factory=dict)  # keyword argument → default, as this model has it
    open_ended: bool = False  # the builder also takes **kwargs, so knobs beyond `knobs` are not refused
    knob_help: dict[str, str] = field(default_factory=dict)  # knob → its meaning, from the builder's docstring


def _defaults(fn: Callable) -> tuple[dict[str, Any], bool]:
    """The keyword parameters of `fn` that have defaults, and whether it takes **kwargs."""
    params = inspect.signature(fn).parameters.values()
    knobs = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
    return knobs, any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


_KNOB_LINE = re.compile(r"^\s*(\w+)=.*?: (.+)$")  # "kernel=5: both convs' size"


def _knob_help(fn: Callable) -> dict[str, str]:
    """Each knob's meaning from `fn`'s docstring: its lines `name=default: meaning` after `Knobs:`."""
    _, found, section = (inspect.getdoc(fn) or "").partition("Knobs:")
    return {m[1]: m[2] for m in map(_KNOB_LINE.match, section.splitlines()) if m} if found else {}


def register_model(
    fn: Callable[..., nn.Module] | None = None,
    *,
    family: str = "user",
    baseline: str | None = None,
    summary: str | None = None,
    change: str = "",
    builder: Callable[..., nn.Module] | None = None,
):
    """Decorator registering a model constructor under its function name (`@register_model` or
    `@register_model(summary=...)`); registering a name again warns, and the later one wins.

    Its knobs are its keyword parameters with defaults; an entrypoint that passes `**kwargs` on to a
    family's `builder` has the builder's knobs, its own defaults first (`def lenet5_3x3(kernel=3, **kw)`).
    `family` defaults to "user", `baseline` to the model itself, `summary` to its docstring's first line.
    """

    def wrap(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        name = fn.__name__
        if name in _MODELS:
            warnings.warn(f"model {name!r} registered twice; the later one wins", stacklevel=2)
        knobs, open_ended = _defaults(fn)
        if builder is not None and open_ended:
            inherited, open_ended = _defaults(builder)
            knobs = {**inherited, **knobs}
        doc = (inspect.getdoc(fn) or "").split("\n")[0]
        meanings = {**(_knob_help(builder) if builder is not None else {}), **_knob_help(fn)}
        meanings = {k: v for k, v in meanings.items() if k in knobs}
        _MODELS[name] = fn
        _INFO[name] = ModelInfo(
            name, family, baseline or name, summary or doc or name, change, knobs, open_ended, meanings
        )
        return fn

    return wrap(fn) if fn is not None else wrap


def _known(name: str) -> None:
    if name not in _MODELS:
        raise ConfigError(f"unknown model {name!r}: known models are {', '.join(sorted(_MODELS))}")


def list_models(pattern: str = "*", family: str | None = None) -> list[str]:
    """Registered names matching a glob `pattern` (and `family`), in registration order."""
    return [n for n in _MODELS if fnmatch.fnmatch(n, pattern) and (family is None or _INFO[n].family == family)]


def model_info(name: str) -> ModelInfo:
    _known(name)
    return _INFO[name]


def create_model(name: str, **knobs) -> nn.Module:
    """Build a registered model; `knobs` replace its builder's defaults (e.g. act="gelu"). Raises
    ConfigError in one line for an unknown model, a knob it does not take, a bad knob value, or a model
    that breaks the contract (checked the first time these knobs are built)."""
    _known(name)
    info = _INFO[name]
    unknown = sorted(set(knobs) - set(info.knobs)) if not info.open_ended else []
    if unknown:
        takes = ", ".join(sorted(info.knobs)) or "none"
        raise ConfigError(f"model {name!r} has no knob {unknown[0]!r}; its knobs are {takes}")
    try:
        model = _MODELS[name](**knobs)
    except ConfigError as err:  # a bad knob value, named by the builder
        raise ConfigError(f"model {name!r}: {err}") from None
    except TypeError as err:  # an open-ended builder's unknown argument, or a value of the wrong type
        raise ConfigError(f"model {name!r} cannot be built with {knobs}: {err}") from None
    seen = (_MODELS[name], repr(sorted(knobs.items())))
    if seen not in _CHECKED:
        contract.check(model, name)
        _CHECKED.add(seen)
    return model
