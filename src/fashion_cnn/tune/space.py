"""What a sweep or a search may vary: a RunConfig field, else a model argument (kept in `model_args`),
and the search spaces (`Param`, `parse_space`, the default spaces). `TuneError` is the one-line error
of a bad space, sweep or storage."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna

from ..errors import Error
from ..models import create_model, model_info
from ..train.runs import RunConfig


class TuneError(Error, ValueError):
    """A bad search space, sweep or storage: the message is one line with the cause and the fix."""


_CONFIG_FIELDS = {f.name for f in dataclasses.fields(RunConfig)}


_FIXED_FIELDS = {"model", "model_args", "device", "split", "augment"}  # not varied by a sweep or search


def with_value(config: RunConfig, name: str, value: Any) -> RunConfig:
    """`config` with `name` set to `value`: a RunConfig field, or else a model argument (`n_base`, `dropout`)."""
    if name in _CONFIG_FIELDS:
        return config.replace(**{name: value})
    return config.replace(model_args={**config.model_args, name: value})


def _check_field(config: RunConfig, name: str, values: Sequence[Any], what: str) -> None:
    """Raise TuneError unless every value of `name` gives a valid config and a buildable model."""
    if name in _FIXED_FIELDS:
        raise TuneError(f"{what}: {name!r} cannot be varied here; vary a training field or a model argument")
    for value in values:
        try:
            changed = with_value(config, name, value)
        except (ValueError, TypeError) as err:
            raise TuneError(f"{what}: {name}={value!r} is invalid ({err}); change its values") from None
        if name not in _CONFIG_FIELDS:
            info = model_info(config.model)
            knobs = info.knobs
            if name not in knobs and not info.open_ended:
                raise TuneError(
                    f"{what}: {name!r} is neither a RunConfig field nor an argument of model {config.model!r}; "
                    f"use a RunConfig field ({', '.join(sorted(_CONFIG_FIELDS - _FIXED_FIELDS))}) "
                    f"or one of the model's knobs ({', '.join(sorted(knobs))})"
                )
            try:
                create_model(changed.model, **changed.model_args)
            except (TypeError, ValueError) as err:
                raise TuneError(f"{what}: {config.model} cannot be built with {name}={value!r} ({err})") from None


PARAM_KINDS = ("log", "float", "int", "choice")


@dataclass(frozen=True)
class Param:
    """One searched dimension: `log`/`float`/`int` between low and high, or `choice` among values."""

    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()

    def suggest(self, trial: optuna.Trial, name: str) -> Any:
        if self.kind == "choice":
            return trial.suggest_categorical(name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(name, int(self.low), int(self.high))
        return trial.suggest_float(name, self.low, self.high, log=self.kind == "log")

    def extremes(self) -> list[Any]:
        return list(self.choices) if self.kind == "choice" else [self.low, self.high]

    def to_json(self) -> list:
        return [self.kind, list(self.choices)] if self.kind == "choice" else [self.kind, self.low, self.high]


SPACE_HELP = (
    'write the space as {"lr": ["log", 1e-4, 1e-2], "batch_size": ["choice", [32, 64, 128]], '
    '"epochs": ["int", 5, 15], "dropout": ["float", 0.0, 0.5]}'
)


# R4 searched lr, L2 strength, batch size and epochs for CNN_2; we add dropout (CNN_2 takes it).
DEFAULT_SPACE = {
    "lr": ["log", 1e-4, 1e-2],
    "weight_decay": ["log", 1e-6, 1e-2],
    "batch_size": ["choice", [32, 64, 128]],
    "epochs": ["int", 5, 15],
    "dropout": ["float", 0.0, 0.5],
}


# The full profile on a CPU searches R0's dropout LeNet-5 instead: a CNN_2 trial takes ~1 h on 2 cores.
CPU_MODEL = "lenet5_3x3_leaky_dropout"


CPU_SPACE = {**{k: v for k, v in DEFAULT_SPACE.items() if k != "dropout"}, "fc_dropout": DEFAULT_SPACE["dropout"]}


QUICK_SPACE = {
    "lr": ["log", 1e-4, 1e-2],
    "weight_decay": ["log", 1e-6, 1e-2],
    "batch_size": ["choice", [32, 64]],
    "epochs": ["int", 1, 2],
    "dropout": ["float", 0.0, 0.5],
}


def parse_space(spec: dict | str, base: RunConfig) -> dict[str, Param]:
    """Check a search space (a dict or its JSON text) against `base`'s model; raise TuneError on any fault."""
    if isinstance(spec, str):
        try:
            spec = json.loads(Path(spec).read_text() if not spec.lstrip().startswith("{") else spec)
        except (OSError, json.JSONDecodeError) as err:
            raise TuneError(
                f"search space {spec[:60]!r} is neither JSON nor a readable JSON file ({err}); {SPACE_HELP}"
            ) from None
    if not isinstance(spec, dict) or not spec:
        raise TuneError(f"the search space must be a non-empty mapping from names to [kind, …]; {SPACE_HELP}")
    space: dict[str, Param] = {}
    for name, entry in spec.items():
        where = f"search space {name!r}"
        if not isinstance(entry, (list, tuple)) or not entry or entry[0] not in PARAM_KINDS:
            raise TuneError(f"{where}: {entry!r} does not start with a kind ({', '.join(PARAM_KINDS)}); {SPACE_HELP}")
        kind = entry[0]
        if kind == "choice":
            if len(entry) != 2 or not isinstance(entry[1], (list, tuple)) or not entry[1]:
                raise TuneError(f'{where}: a choice needs a non-empty list, e.g. ["choice", [32, 64]]')
            param = Param(kind, choices=tuple(entry[1]))
        else:
            if len(entry) != 3 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in entry[1:]):
                raise TuneError(f'{where}: {kind} needs two numbers, e.g. ["{kind}", low, high]')
            low, high = entry[1], entry[2]
            if not low < high:
                raise TuneError(f'{where}: low={low} must be below high={high}; swap them or use ["choice", [{low}]]')
            if kind == "log" and low <= 0:
                raise TuneError(f"{where}: a log range needs low > 0 (got {low}); use e.g. 1e-6 as the low end")
            if kind == "int" and not (float(low).is_integer() and float(high).is_integer()):
                raise TuneError(f"{where}: an int range needs whole numbers (got {low}, {high})")
            param = Param(kind, float(low) if kind != "int" else int(low), float(high) if kind != "int" else int(high))
        _check_field(base, name, param.extremes(), where)
        space[name] = param
    return space
