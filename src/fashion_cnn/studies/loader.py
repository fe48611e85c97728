"""Study files: a study, and what its source report states, written as TOML (read with `tomllib`).

The five built-in studies are such files (`R0.toml` … `R4.toml` beside this module); their facts
live there and nowhere else. A file says:

    name = "R0"                      # the study's name
    title = "…"                      # one line for the report
    question = "…"                   # optional: what the study asks, in one sentence
    baseline = "lenet5"              # the label of the variant the others are compared with
    models = "my_models.py"          # optional: a file of @register_model functions, relative to this file
    cumulative = false               # optional: each variant builds on the one before
    numeric = true                   # optional: false when the report's figures came from another data set
    augment = ["flip", "rotate"]     # optional: the augmentation the report used (section 5's default)
    notes = "…"                      # optional: where the settings come from, and what had to be chosen
    [settings]                       # any RunConfig field the runs share
    [[variants]]                     # the main view: label, model (registered), optional model_args
                                     # (its knobs), changes (RunConfig fields over [settings]) and note
    [[arms]]                         # optional: further configurations (label, model, model_args, changes, note)
    [kfold]                          # optional: arm label = k (k ≥ 2)
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
from ..models import create_model
from ..models import user_files as model_files
from ..models.user_files import ModelFile
from ..train.runs import RunConfig
from . import study as registry
from .study import Arm, Claim, Reported, Study

TOP = {
    "name": str,
    "title": str,
    "question": str,
    "baseline": str,
    "models": str,
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
    "variants": (("label", "model"), ("model_args", "changes", "note")),
    "arms": (("label", "model"), ("model_args", "changes", "note")),
    "test": (("arm", "split"), ()),
    "reported": (("where", "arm", "setting", "metric", "value"), ("note",)),
    "claims": (("where", "a", "b", "setting", "metric", "direction", "text"), ("setting_b",)),
}
SETTINGS = tuple(f.name for f in dataclasses.fields(RunConfig) if f.name not in ("model", "seed", "device", "label"))


@dataclass(frozen=True)
class StudyFile:
    """One study file read: its study, the figures and claims of its report, and where it came from."""

    path: Path
    study: Study
    reported: tuple[Reported, ...] = ()
    claims: tuple[Claim, ...] = ()
    numeric: bool = True  # its figures are on Fashion-MNIST, so they are compared with ours
    models: ModelFile | None = None  # the user's model file it names, loaded


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
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {err.object[err.start]:#04x} at {err.start}); save it as UTF-8"
        ) from None
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
    model_file = _model_file(path, data)
    variants = _tables(path, data, "variants")
    labels = [v["label"] for v in variants]
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:
        raise ConfigError(f"{path}: arm labels {twice} are used twice; give each [[variants]] entry its own label")
    if data["baseline"] not in labels:
        raise ConfigError(f"{path}: baseline {data['baseline']!r} is not among the variants {', '.join(labels)}")
    kfold = data.get("kfold", {})
    for label, k in kfold.items():
        if not isinstance(k, int) or isinstance(k, bool) or k < 2:
            raise ConfigError(f"{path}: [kfold] {label} = {k!r}: k must be a whole number ≥ 2")
    main = tuple(_arm(path, "variants", v) for v in variants)
    arms = tuple(_arm(path, "arms", a) for a in _tables(path, data, "arms"))
    tests = tuple((t["arm"], t["split"]) for t in _tables(path, data, "test"))
    name = data["name"]
    try:
        study = Study(
            name=name,
            title=data["title"],
            question=data.get("question", ""),
            baseline=data["baseline"],
            variants=tuple(label for label in labels if label != data["baseline"]),
            settings=dict(data.get("settings", {})),
            cumulative=data.get("cumulative", False),
            notes=data.get("notes", ""),
            extra_arms=arms,
            kfold=tuple(kfold.items()),
            test=tests,
            augment=tuple(data.get("augment", ())),
            main_arms=tuple(a for a in main if a != Arm(a.label, a.label)),  # a bare model name needs no arm
        )
        built: set[tuple] = set()
        for arm in study.arms:  # every setting, change and knob checked now, before anything trains
            config = RunConfig(arm.model, **{**study.settings, **arm.changes})
            if config.model_args or model_files.source(config.model):
                what = (config.model, repr(config.model_args))
                if what not in built:  # the knobs it takes; a user's model's contract (models.contract)
                    create_model(config.model, **config.model_args)
                    built.add(what)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
    except TypeError as err:  # a change that is no RunConfig field
        raise ConfigError(f"{path}: {err}; the valid settings are {', '.join(SETTINGS)}") from None
    reported = tuple(Reported(name, **_fields(r)) for r in _tables(path, data, "reported"))
    claims = tuple(Claim(name, **_fields(c)) for c in _tables(path, data, "claims"))
    registry.check(study, reported, claims)  # a figure or claim naming what the study never measures
    return StudyFile(path, study, reported, claims, data.get("numeric", True), model_file)


def _model_file(path: Path, data: dict) -> ModelFile | None:
    """The study's model file (`models`, relative to the study file), loaded so its models are known."""
    if "models" not in data:
        return None
    try:
        return model_files.load(path.parent / data["models"])
    except ConfigError as err:
        raise ConfigError(f"{path}: models = {data['models']!r}: {err}") from None


def _arm(path: Path, table: str, row: dict[str, Any]) -> Arm:
    """A [[variants]] or [[arms]] row as an Arm: its model, its knobs (`model_args`) and other changes."""
    if not isinstance(row.get("changes", {}), dict) or not isinstance(row.get("model_args", {}), dict):
        raise ConfigError(f"{path}: [[{table}]] {row['label']!r}: write model_args and changes as tables ({{ k = v }})")
    changes = _tuples(row.get("changes", {}))
    if "model_args" in row:
        changes["model_args"] = _tuples(row["model_args"])
    return Arm(row["label"], row["model"], changes, row.get("note", ""))


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if k == "value" else v) for k, v in row.items()}


def _tuples(changes: dict[str, Any]) -> dict[str, Any]:
    """TOML arrays as tuples (RunConfig's augment is one), the way a Python study writes them."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}


def is_path(name: str) -> bool:
    """Whether a study parameter names a file (a `.toml` path) rather than a registered study."""
    return str(name).endswith(".toml")


def get_study(name: str, models: str | list[str] = "", register: bool = True) -> Study:
    """The study called `name`, or the one in the study file at path `name` (read and, with `register`,
    registered under its own name), after loading the model files `models` (paths; a study file's own
    `models` loads with it). Raises ConfigError naming the known studies, or what is wrong with the
    file; a file whose study takes the name of another registered study is refused."""
    model_files.load_all(models)
    if not is_path(name):
        return registry.registered(name)
    loaded = load(name)
    known = registry.list_studies()
    if loaded.study.name in known and registry.registered(loaded.study.name) != loaded.study:
        raise ConfigError(
            f"{name}: a study named {loaded.study.name!r} is registered already; give this one another `name`"
        )
    return registry.register_study(loaded.study) if register else loaded.study
