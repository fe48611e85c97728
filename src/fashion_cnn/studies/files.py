"""Study files: a study, and what its source report states, written as TOML (read with `tomllib`).

The five built-in studies are such files (`R0.toml` … `R4.toml` beside this module); their facts
live there and nowhere else. A file says:

    name = "R0"                      # the study's name
    title = "…"                      # one line for the report
    baseline = "lenet5"              # the label of the variant the others are compared with
    cumulative = false               # optional: each variant builds on the one before
    numeric = true                   # optional: false when the report's figures came from another data set
    augment = ["flip", "rotate"]     # optional: the augmentation the report used (section 5's default)
    notes = "…"                      # where the settings come from, and what had to be chosen
    [settings]                       # any RunConfig field the runs share
    [[variants]]                     # the main view: label and model (a registered model name)
    [[arms]]                         # optional: further configurations (label, model, changes, note)
    [kfold]                          # optional: arm label = k
    [[test]]                         # optional: arm, split ("holdout" | "trainval") evaluated on test
    [[reported]]                     # optional: where, arm, setting, metric, value, note
    [[claims]]                       # optional: where, a, b, setting, setting_b, metric, direction, text

Anything wrong stops in one line naming the file, the key and the fix (`errors.ConfigError`),
before anything trains.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..runs import RunConfig
from . import study as registry
from .study import Arm, Claim, Reported, Study

TOP = {
    "name": str,
    "title": str,
    "baseline": str,
    "cumulative": bool,
    "numeric": bool,
    "augment": list,
    "notes": str,
    "settings": dict,
    "variants": list,
    "arms": list,
    "kfold": dict,
    "test": list,
    "reported": list,
    "claims": list,
}
REQUIRED = ("name", "title", "baseline", "variants")
TABLES = {  # keys of each array of tables: (required, optional)
    "variants": (("label", "model"), ("note",)),
    "arms": (("label", "model"), ("changes", "note")),
    "test": (("arm", "split"), ()),
    "reported": (("where", "arm", "setting", "metric", "value"), ("note",)),
    "claims": (("where", "a", "b", "setting", "metric", "direction", "text"), ("setting_b",)),
}
SETTINGS = tuple(f.name for f in dataclasses.fields(RunConfig) if f.name not in ("model", "seed", "device"))


@dataclass(frozen=True)
class StudyFile:
    """One study file read: its study, the figures and claims of its report, and where it came from."""

    path: Path
    study: Study
    reported: tuple[Reported, ...] = ()
    claims: tuple[Claim, ...] = ()
    numeric: bool = True  # its figures are on Fashion-MNIST, so they are compared with ours


def _unknown(where: str, keys, valid) -> None:
    extra = sorted(set(keys) - set(valid))
    if extra:
        raise ConfigError(f"{where}: unknown key {extra[0]!r}; the valid keys are {', '.join(valid)}")


def _tables(path: Path, data: dict, key: str) -> list[dict]:
    required, optional = TABLES[key]
    rows = data.get(key, [])
    for i, row in enumerate(rows, 1):
        where = f"{path}: [[{key}]] #{i}"
        if not isinstance(row, dict):
            raise ConfigError(f"{where}: write it as a table ([[{key}]] with keys {', '.join(required)})")
        _unknown(where, row, (*required, *optional))
        missing = [k for k in required if k not in row]
        if missing:
            raise ConfigError(f"{where}: {missing[0]!r} is missing; give {', '.join(required)}")
    return rows


def load(path: Path | str) -> StudyFile:
    """Read and check the study file at `path`; raises ConfigError in one line naming what is wrong."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as err:
        raise ConfigError(f"{path}: cannot be read ({err.strerror or err}); give the path of a study file") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    _unknown(str(path), data, TOP)
    for key, kind in TOP.items():
        if key in data and not isinstance(data[key], kind):
            raise ConfigError(f"{path}: {key!r} must be a {kind.__name__}, not {type(data[key]).__name__}")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ConfigError(f"{path}: {missing[0]!r} is missing; a study file needs {', '.join(REQUIRED)}")
    _unknown(f"{path}: [settings]", data.get("settings", {}), SETTINGS)
    variants = _tables(path, data, "variants")
    for v in variants:
        if v["label"] != v["model"]:  # the main view compares registered models by name
            raise ConfigError(
                f"{path}: variant {v['label']!r}: its label must be its model's name ({v['model']!r}); "
                "put a model with other settings under [[arms]]"
            )
    labels = [v["label"] for v in variants]
    if data["baseline"] not in labels:
        raise ConfigError(f"{path}: baseline {data['baseline']!r} is not among the variants {', '.join(labels)}")
    arms = tuple(
        Arm(a["label"], a["model"], _tuples(a.get("changes", {})), a.get("note", ""))
        for a in _tables(path, data, "arms")
    )
    tests = tuple((t["arm"], t["split"]) for t in _tables(path, data, "test"))
    name = data["name"]
    try:
        study = Study(
            name=name,
            title=data["title"],
            baseline=data["baseline"],
            variants=tuple(label for label in labels if label != data["baseline"]),
            settings=dict(data.get("settings", {})),
            cumulative=data.get("cumulative", False),
            notes=data.get("notes", ""),
            extra_arms=arms,
            kfold=tuple(data.get("kfold", {}).items()),
            test=tests,
            augment=tuple(data.get("augment", ())),
        )
        for arm in study.arms:  # every setting and change checked now, before anything trains
            RunConfig(arm.model, **{**study.settings, **arm.changes})
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
    except TypeError as err:  # a change that is no RunConfig field
        raise ConfigError(f"{path}: {err}; the valid settings are {', '.join(SETTINGS)}") from None
    reported = tuple(Reported(name, **_fields(r)) for r in _tables(path, data, "reported"))
    claims = tuple(Claim(name, **_fields(c)) for c in _tables(path, data, "claims"))
    registry.check(study, reported, claims)  # a figure or claim naming what the study never measures
    return StudyFile(path, study, reported, claims, data.get("numeric", True))


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if k == "value" else v) for k, v in row.items()}


def _tuples(changes: dict[str, Any]) -> dict[str, Any]:
    """TOML arrays as tuples (RunConfig's augment is one), the way a Python study writes them."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}


def is_path(name: str) -> bool:
    """Whether a study parameter names a file (a `.toml` path) rather than a registered study."""
    return str(name).endswith(".toml")


def get_study(name: str) -> Study:
    """The study called `name`, or the one in the study file at path `name` (read and registered under
    its own name the first time). Raises ConfigError naming the known studies, or what is wrong with
    the file; a file whose study takes the name of another registered study is refused."""
    if not is_path(name):
        return registry.get_study(name)
    loaded = load(name)
    known = registry.list_studies()
    if loaded.study.name in known and registry.get_study(loaded.study.name) != loaded.study:
        raise ConfigError(
            f"{name}: a study named {loaded.study.name!r} is registered already; give this one another `name`"
        )
    return registry.register_study(loaded.study)
