"""A study: a baseline, its variants, the settings they share, and the other parts a report ran
(grid cells, schedules, sweeps, k-fold, retraining on train+validation, test evaluation).

A study's *main view* is `baseline` + `variants` (arm labels) under `settings`: that is what
`configs()` returns and what notebook 02 compares. A main-view label is a registered model's name,
or the label of one of `main_arms` (a model with its knobs, `model_args`, or other settings). Everything
else a report ran is an extra `Arm`, named by a label such as ``"cnn_2/sigmoid/aug"``; `config()`
takes any arm label, and the RunConfig it gives carries the label (`RunConfig.name`).
`plan()` lists every run the study needs, tagged with its part. The registry holds the five source
reports' studies (`sources`) and any a user registers.

What a report states about its study is `Reported` (a number) and `Claim` (a comparison), under the
settings of `SETTINGS` and the metrics of `METRICS`; `check` refuses one that names something the
study never measures.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..config import Profile
from ..errors import ConfigError
from ..train.runs import RunConfig

Seeds = int | Sequence[int] | None  # a number n (seeds 0 … n − 1), the seeds themselves, or None (the profile's n)


def seed_list(seeds: Seeds, profile: Profile) -> Sequence[int]:
    """The seeds a study's runs use: `seeds` itself when it lists them (a `SeedPlan.seeds`), 0 … n − 1
    for a number n, 0 … profile.seeds − 1 for None."""
    if seeds is None:
        return range(profile.seeds)
    return range(seeds) if isinstance(seeds, int) else tuple(seeds)


DEFAULT_AUGMENT = ("flip", "rotate", "color", "blur", "crop")  # section 5's set for a study whose report used none


@dataclass(frozen=True)
class Arm:
    """One configuration of a study: a registered model plus the RunConfig fields that differ."""

    label: str  # unique within the study
    model: str  # registered model name
    changes: Mapping[str, Any] = field(default_factory=dict)  # RunConfig fields over the settings, model_args too
    note: str = ""  # what the arm is, in the report's terms


@dataclass(frozen=True)
class Job:
    """One run of a study's plan: which arm, which part of the study, and its config."""

    label: str  # arm label
    part: str  # "main" | "extra" (holdout) | "fold" | "trainval"
    config: RunConfig


@dataclass(frozen=True)
class Study:
    name: str  # "R0" … "R4", or a user's study's name
    title: str  # one line for the report
    baseline: str  # arm label: a registered model name, or a label of `main_arms`
    variants: tuple[str, ...]  # arm labels compared with the baseline
    settings: dict[str, Any] = field(default_factory=dict)  # RunConfig fields the source report used
    cumulative: bool = False  # each variant builds on the previous one (compare with the previous too)
    notes: str = ""  # where the settings come from, and what we had to choose
    extra_arms: tuple[Arm, ...] = ()  # further configurations the report ran (grid cells, schedules, sweeps)
    kfold: tuple[tuple[str, int], ...] = ()  # (arm label, k the report used) cross-validated on the 60k
    test: tuple[tuple[str, str], ...] = ()  # (arm label, "holdout" | "trainval") evaluated on the test set
    augment: tuple[str, ...] = ()  # the augmentation the report used (section 5's default); () if it used none
    main_arms: tuple[Arm, ...] = ()  # main-view arms that are more than a model's name (knobs, settings)
    question: str = ""  # what the study asks, in one sentence

    def __post_init__(self):
        if not self.variants:
            raise ConfigError(
                f"study {self.name}: the baseline {self.baseline!r} has no variant to be compared with; add at least one"
            )
        stray = [a.label for a in self.main_arms if a.label not in self.models]
        if stray:
            raise ConfigError(f"study {self.name}: main-view arm {stray[0]!r} is neither the baseline nor a variant")
        labels = [a.label for a in self.arms]
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise ConfigError(f"study {self.name}: arm labels {dupes} are used twice; give each arm its own label")
        for label, _ in (*self.kfold, *self.test):
            self.arm(label)
        for label, split in self.test:
            if split not in ("holdout", "trainval"):
                raise ConfigError(
                    f"study {self.name}: test split {split!r} of {label!r} must be 'holdout' or 'trainval'"
                )

    def at_precision(self, precision: str) -> Study:
        """This study with every run in `precision` ("fp32", the default: the study itself, whose runs
        keep their keys; "bf16": autocast of forward and loss, `RunConfig.precision`)."""
        if precision == "fp32":
            return self
        return dataclasses.replace(self, settings={**self.settings, "precision": precision})

    @property
    def models(self) -> tuple[str, ...]:
        """The main view's labels, baseline first (for the five source reports, registered model names)."""
        return (self.baseline, *self.variants)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """The main view's comparisons, one family: each variant against the baseline and, in a
        cumulative study, each step against the model before it (the first step is already there)."""
        out = [(self.baseline, v) for v in self.variants]
        if self.cumulative:
            out += list(zip(self.variants[:-1], self.variants[1:]))
        return out

    def steps(self, a: str, b: str) -> tuple[str, ...] | None:
        """The main view's models that each add one change on the way from `a` to `b` (`b` last): in a
        cumulative study the variants after `a` up to `b`, otherwise `b` alone against the baseline; None
        when `b` is not built from `a` by the study's changes."""
        models = self.models
        if a not in models or b not in models:
            return None
        i, j = models.index(a), models.index(b)
        if self.cumulative:
            return models[i + 1 : j + 1] if j > i else None
        return (b,) if a == self.baseline and b != a else None

    def change(self, label: str) -> str:
        """What the main view's model `label` changes against the one before it, in words: its arm's note,
        else the registry's description of the model's change (none for the baseline or a tuned knob)."""
        from ..models import model_info

        arm = next(x for x in self.main if x.label == label)
        if arm.note or label == self.baseline or arm.changes.get("model_args"):
            return arm.note
        return model_info(arm.model).change

    @property
    def arms(self) -> tuple[Arm, ...]:
        """Every configuration of the study: the main view's arms, baseline first, then the extra arms."""
        given = {a.label: a for a in self.main_arms}
        return (*(given.get(m, Arm(m, m)) for m in self.models), *self.extra_arms)

    @property
    def main(self) -> tuple[Arm, ...]:
        """The main view's arms, baseline first."""
        return self.arms[: len(self.models)]

    def arm(self, label: str) -> Arm:
        """The arm called `label`; raises ConfigError listing the study's arms."""
        for a in self.arms:
            if a.label == label:
                return a
        raise ConfigError(f"study {self.name} has no arm {label!r}: use one of {', '.join(a.label for a in self.arms)}")

    def config(self, model: str, profile: Profile, seed: int = 0, device: str = "auto", **changes) -> RunConfig:
        """The RunConfig of arm `model` (its label) in this study under `profile`, labelled with it.

        The full profile uses the report's settings (epochs from the profile only where the report
        stated none); any other profile caps epochs and the training subset at the profile's.
        """
        arm = self.arm(model)
        settings = {"epochs": profile.epochs, "subset": profile.subset, **self.settings, **arm.changes, **changes}
        if profile.name != "full":
            settings["epochs"] = min(settings["epochs"], profile.epochs)
            sizes = [s for s in (settings["subset"], profile.subset) if s is not None]
            settings["subset"] = min(sizes) if sizes else None
        return RunConfig(arm.model, seed=seed, device=device, label=arm.label, **settings)

    def configs(self, profile: Profile, seeds: Seeds = None, device: str = "auto") -> list[RunConfig]:
        """Every model × seed of the main view, model-major (`seeds`: see `seed_list`)."""
        return [self.config(m, profile, s, device) for m in self.models for s in seed_list(seeds, profile)]

    @property
    def augmentation(self) -> tuple[str, ...]:
        """The augmentation section 5 trains with: the report's own, else `DEFAULT_AUGMENT`."""
        return self.augment or DEFAULT_AUGMENT

    def folds(self, profile: Profile, k: int) -> int:
        """The k used under `profile`: the report's k in the full profile, at most the profile's otherwise."""
        return k if profile.name == "full" else min(k, profile.folds)

    def plan(self, profile: Profile, seeds: Seeds = None, device: str = "auto") -> list[Job]:
        """Every run the study needs (main view, extra arms, k-fold, train+validation), without repeats
        (`seeds`: see `seed_list`)."""
        n = seed_list(seeds, profile)
        jobs = [
            Job(a.label, "main" if a.label in self.models else "extra", self.config(a.label, profile, s, device))
            for a in self.arms
            for s in n
        ]
        for label, k in self.kfold:
            k = self.folds(profile, k)
            jobs += [
                Job(label, "fold", self.config(label, profile, s, device, split="fold", fold=i, folds=k))
                for s in n
                for i in range(k)
            ]
        for label, split in self.test:
            if split == "trainval":
                jobs += [Job(label, "trainval", self.config(label, profile, s, device, split="trainval")) for s in n]
        seen: set[str] = set()
        unique = []
        for job in jobs:
            key = json.dumps(job.config.to_dict(), sort_keys=True)
            if key not in seen:
                seen.add(key)
                unique.append(job)
        return unique


def fold_configs(config: RunConfig, k: int) -> list[RunConfig]:
    """The k RunConfigs of stratified k-fold cross-validation of `config` (same subset and split seed)."""
    return [config.replace(split="fold", fold=i, folds=k) for i in range(k)]


_STUDIES: dict[str, Study] = {}


def register_study(study: Study) -> Study:
    """Add `study` to the registry under its name (a later one with the same name replaces it)."""
    _STUDIES[study.name] = study
    return study


def list_studies() -> list[str]:
    """Names of the registered studies, in registration order."""
    return list(_STUDIES)


def registered(name: str) -> Study:
    """The study called `name`; raises ConfigError listing the known ones."""
    if name not in _STUDIES:
        raise ConfigError(
            f"unknown study {name!r}: use one of {', '.join(_STUDIES)}, or the path of a study file (.toml)"
        )
    return _STUDIES[name]


SETTINGS = {
    "holdout": "trained on the study's train split; value after the last epoch",
    "holdout-test": "trained on the train split, evaluated on the test set",
    "trainval": "retrained on train + validation; value after the last epoch",
    "trainval-test": "retrained on train + validation, evaluated on the test set",
    "kfold-mean": "k-fold cross-validation: last-epoch value averaged over the k folds",
    "kfold-max": "k-fold cross-validation: the largest last-epoch value over the k folds",
}


_KERAS = (
    "Keras Precision()/Recall(): one-hot targets against class scores > 0.5, counted over every (image, class) slot"
)


METRICS = {
    "train_acc": "top-1 accuracy on the training part, running mean over the last epoch's batches (Keras's way)",
    "train_loss": "cross-entropy on the training part, running mean over the last epoch (no penalty term)",
    "val_acc": "top-1 accuracy on the validation part",
    "val_loss": "cross-entropy on the validation part (no penalty term)",
    "val_keras_precision": f"precision on the validation part, {_KERAS}",
    "val_keras_recall": f"recall on the validation part, {_KERAS}",
    "test_acc": "top-1 accuracy on the test set",
    "test_loss": "softmax cross-entropy on the test set",
    "test_precision": "macro-averaged precision on the test set (scikit-learn)",
    "test_recall": "macro-averaged recall on the test set (scikit-learn)",
    "test_keras_precision": f"precision on the test set, {_KERAS}",
    "test_keras_recall": f"recall on the test set, {_KERAS}",
    "epoch_seconds": "mean wall-clock seconds per epoch (training and validation)",
}


@dataclass(frozen=True)
class Reported:
    """One number a source report states, and where our runs measure the same thing."""

    report: str  # "R0" … "R4" (also the study's name)
    where: str  # the report's table or section
    arm: str  # arm label in the study
    setting: str  # key of SETTINGS
    metric: str  # key of METRICS
    value: float  # as a fraction (89.60% → 0.8960); losses as stated
    note: str = ""  # anything the reader needs to judge the comparison


@dataclass(frozen=True)
class Claim:
    """A comparison a report drew: `b` `direction` `a` on `metric` under `setting`."""

    report: str
    where: str
    a: str  # arm label
    b: str  # arm label
    setting: str  # key of SETTINGS (of a, and of b unless setting_b says otherwise)
    metric: str
    direction: str  # ">" (b higher), "<" (b lower) or "≈" (no real difference)
    text: str  # the claim, in our words
    setting_b: str = ""  # b's setting when it differs from a's (same arm trained two ways)

    @property
    def settings(self) -> tuple[str, str]:
        return self.setting, self.setting_b or self.setting


def measured(study: Study) -> set[tuple[str, str]]:
    """Every (arm, setting) the reproduction measures for `study` (`measurements.measure`)."""
    out = {(a.label, "holdout") for a in study.arms}
    out |= {(label, s) for label, _ in study.kfold for s in ("kfold-mean", "kfold-max")}
    out |= {(label, f"{split}-test") for label, split in study.test}
    out |= {(label, "trainval") for label, split in study.test if split == "trainval"}
    return out


def check(study: Study, figures, claims) -> None:
    """Raise ConfigError unless every figure and claim of `study`'s report names one of its arms under
    a setting it measures, and a known metric (a typo would otherwise show as "not run")."""
    labels, runs = {a.label for a in study.arms}, measured(study)
    pairs = [(f.where, f.arm, f.setting, f.metric) for f in figures]
    pairs += [(c.where, arm, setting, c.metric) for c in claims for arm, setting in zip((c.a, c.b), c.settings)]
    for where, arm, setting, metric in pairs:
        if arm not in labels:
            raise ConfigError(f"{study.name} ({where}): no arm {arm!r}; its arms are {', '.join(sorted(labels))}")
        if (arm, setting) not in runs:
            raise ConfigError(f"{study.name} ({where}): {arm} is never evaluated under {setting!r}")
        if metric not in METRICS:
            raise ConfigError(f"{study.name} ({where}): unknown metric {metric!r}; use one of {', '.join(METRICS)}")
