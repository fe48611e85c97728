"""Our runs measured the way the source reports' figures need: one value per (study, arm, setting,
metric, seed), with the test predictions McNemar's and Cochran's tests use (`reproduction`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..analysis import metrics as metrics_mod
from ..analysis.stats import class_scores, keras_precision_recall
from ..config import Profile, get_profile, resolve_device
from ..studies import Study, get_study
from ..studies.study import seed_list
from ..train import runs as runs_mod
from ..train.schedule import get_or_train_many
from ..train.store import Run, Store


@dataclass
class Measurements:
    """Our per-seed values (one row per study, arm, setting, metric, seed) and test predictions."""

    values: pd.DataFrame  # also train_size, val_size: the images of the run's parts (a fold's, for k-fold rows)
    predictions: dict[tuple[str, str, str, int], dict[str, np.ndarray]] = field(default_factory=dict)
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per run: study, key, device, seconds
    planned: dict[str, int] = field(default_factory=dict)  # study → runs its plan has (measured or not)


def _row(
    study: str, arm: str, setting: str, seed: int, values: dict[str, float], sizes: dict[str, float]
) -> list[dict]:
    return [
        {"study": study, "arm": arm, "setting": setting, "metric": m, "seed": seed, "value": float(v), **sizes}
        for m, v in values.items()
    ]


_SIZES = ("train_size", "val_size")


def _sizes(run: Run) -> dict[str, float]:
    """The images of the run's training and validation parts (NaN where a run did not record them): the
    reproduction's split term (`reproduction.split_images`)."""
    return {k: float(run.metrics.get(k, np.nan)) for k in _SIZES}


def _last_epoch(run: Run, part: str) -> dict[str, float]:
    last = run.history[-1]
    out = {f"{part}_acc": last[f"{part}_acc"], f"{part}_loss": last[f"{part}_loss"]}
    if part == "train":
        out["epoch_seconds"] = float(np.mean([r["seconds"] for r in run.history]))
    return out


def _scored(run: Run, part: str, indices, device: str) -> dict[str, np.ndarray]:
    device = resolve_device(device)  # "auto" → cuda or cpu
    return metrics_mod.predictions(run.model(device), part, indices, device=device)


def _keras(pred: dict[str, np.ndarray], loss: str, prefix: str) -> dict[str, float]:
    precision, recall = keras_precision_recall(pred["labels"], class_scores(pred["logits"], loss))
    return {f"{prefix}_keras_precision": precision, f"{prefix}_keras_recall": recall}


def measure(
    study: str | Study,
    profile: str | Profile = "quick",
    seeds=None,
    device: str = "auto",
    stored_only: bool = False,
) -> Measurements:
    """Run (or load) every run of `study` under `profile` with `seeds` (a number, the seeds
    themselves, e.g. a `SeedPlan.seeds`, or None: `studies.study.seed_list`) and measure what the
    figures need.

    `stored_only` trains nothing: it measures the runs the store holds finished (a study trained in
    part, e.g. `studies train R4 --only cnn_4*`) and leaves out the rest, and any k-fold whose folds
    are not all stored; their figures then show as not run.

    Returns per-seed values for the holdout runs (train/val accuracy and loss, seconds per epoch),
    the k-fold runs (mean and max over folds, with Keras precision/recall on each fold's validation
    part), the train + validation retrains, and the test evaluations the report made (accuracy,
    loss, macro and Keras precision/recall), plus each test evaluation's predictions.
    """
    study = get_study(study) if isinstance(study, str) else study
    profile = get_profile(profile) if isinstance(profile, str) else profile
    jobs = study.plan(profile, seeds, device)
    planned = len(jobs)
    if stored_only:
        jobs = [j for j in jobs if Store.default().has(j.config)]
    runs = get_or_train_many([j.config for j in jobs])
    by_job = {(j.label, j.part, j.config.seed, j.config.fold): r for j, r in zip(jobs, runs)}
    rows: list[dict] = []
    folds: dict[tuple[str, int], list[dict[str, float]]] = defaultdict(list)
    fold_sizes: dict[tuple[str, int], list[dict[str, float]]] = defaultdict(list)  # each fold's part sizes
    for job, run in zip(jobs, runs):
        seed = job.config.seed
        if job.part in ("main", "extra"):
            measured = {**_last_epoch(run, "train"), **_last_epoch(run, "val")}
            rows += _row(study.name, job.label, "holdout", seed, measured, _sizes(run))
        elif job.part == "trainval":
            rows += _row(study.name, job.label, "trainval", seed, _last_epoch(run, "train"), _sizes(run))
        elif job.part == "fold":
            c = job.config
            _, val_idx = runs_mod.split_indices(c)
            pred = _scored(run, "train", val_idx, device)
            folds[(job.label, seed)].append(
                {**_last_epoch(run, "train"), **_last_epoch(run, "val"), **_keras(pred, c.loss, "val")}
            )
            fold_sizes[(job.label, seed)].append(_sizes(run))
    k_of = {label: study.folds(profile, k) for label, k in study.kfold}  # folds a complete k-fold has
    for (label, seed), per_fold in folds.items():
        if len(per_fold) < k_of[label]:  # some folds not stored (stored_only): no k-fold figure
            continue
        frame, sizes = pd.DataFrame(per_fold), pd.DataFrame(fold_sizes[(label, seed)]).mean().to_dict()
        rows += _row(study.name, label, "kfold-mean", seed, frame.mean().to_dict(), sizes)
        rows += _row(study.name, label, "kfold-max", seed, frame.max().to_dict(), sizes)
    predictions: dict[tuple[str, str, str, int], dict[str, np.ndarray]] = {}
    indices = metrics_mod.test_indices(profile.test_subset)  # the test images of every section
    for label, split in study.test:
        part = "main" if label in study.models else "extra"
        part = "trainval" if split == "trainval" else part
        for seed in seed_list(seeds, profile):
            run = by_job.get((label, part, seed, 0))
            if run is None:  # not stored (stored_only)
                continue
            pred = metrics_mod.evaluate_test(run, indices, device)  # the one test evaluation
            report = pred["report"]
            values = {
                "test_acc": report["acc"],
                "test_loss": report["loss"],
                "test_precision": report["precision"],
                "test_recall": report["recall"],
                **_keras(pred, run.config.loss, "test"),
            }
            setting = f"{split}-test"
            rows += _row(study.name, label, setting, seed, values, _sizes(run))
            predictions[(study.name, label, setting, seed)] = {"labels": pred["labels"], "pred": pred["pred"]}
    info = pd.DataFrame(
        [
            {
                "study": study.name,
                "key": r.key,
                "device": r.provenance.get("device_name", "?"),
                "train_seconds": float(sum(h["seconds"] for h in r.history)),
                "finished": (r.path / "run.json").stat().st_mtime,
            }
            for r in runs
        ],
        columns=["study", "key", "device", "train_seconds", "finished"],
    )
    return Measurements(
        pd.DataFrame(rows, columns=["study", "arm", "setting", "metric", "seed", "value", *_SIZES]),
        predictions,
        info,
        {study.name: planned},
    )


def _by_seed(values: pd.DataFrame, report: str, arm: str, setting: str, metric: str) -> pd.Series:
    sel = values[
        (values["study"] == report)
        & (values["arm"] == arm)
        & (values["setting"] == setting)
        & (values["metric"] == metric)
    ]
    return sel.set_index("seed")["value"].sort_index().astype(float)


def _ours(values: pd.DataFrame, report: str, arm: str, setting: str, metric: str) -> np.ndarray:
    return _by_seed(values, report, arm, setting, metric).to_numpy()
