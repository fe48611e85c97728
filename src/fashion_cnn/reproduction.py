"""The reproduction: every figure the source reports state, as data, beside our mean ± std and 95%
interval for the same configuration, and the comparisons they drew, tested across seeds.

`FIGURES` holds each stated number (report, table or section, arm of the study, setting, metric,
value as a fraction); `METRICS` and `SETTINGS` define what each column measures. `measure()` runs
(or loads) every run of a study and returns one value per (arm, setting, metric, seed);
`reproduction_table()` puts the figures beside those values; `claims_table()` tests the
comparisons in `CLAIMS` (R3's only in direction: it ran on another data set, so its numbers are
not comparable and are left out of the numeric table).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import data as data_mod
from . import metrics as metrics_mod
from . import runs as runs_mod
from .config import Profile, get_profile, resolve_device
from .stats import class_scores, direction_verdict, keras_precision_recall, mcnemar_test, mean_ci
from .studies import R0_BEST, R4_LOSSES, R4_MODELS, R4_TUNED, Study, get_study, r4_label

SETTINGS = {
    "holdout": "trained on the study's train split; value after the last epoch",
    "holdout-test": "trained on the train split, evaluated on the test set",
    "trainval": "retrained on train + validation; value after the last epoch",
    "trainval-test": "retrained on train + validation, evaluated on the test set",
    "kfold-mean": "k-fold cross-validation: last-epoch value averaged over the k folds",
    "kfold-max": "k-fold cross-validation: the largest last-epoch value over the k folds",
}

_KERAS = "Keras Precision()/Recall(): one-hot targets against class scores > 0.5, counted over every (image, class) slot"
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

NUMERIC_REPORTS = ("R0", "R1", "R2", "R4")  # R3 ran on another data set: directions only


@dataclass(frozen=True)
class Figure:
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


def _figures(report: str, where: str, setting: str, rows: dict[str, dict[str, float]], note: str = "") -> list[Figure]:
    return [Figure(report, where, arm, setting, metric, value, note)
            for arm, values in rows.items() for metric, value in values.items()]


_R1_FOLD = "R1 gives each value with the fold it came from; we read it as the best fold's value"
_R1_KERAS = "precision and recall use Keras's thresholded definition"
_R1_FOLDS = {"r1_tanh_avgpool": (0, 1), "r1_relu": (3, 3), "r1_maxpool": (0, 1), "r1_dropout": (1, 0), "r1_leaky": (1, 3)}
_R1_TRAINVAL = {  # (training top-1, validation top-1)
    "r1_tanh_avgpool": (0.9205, 0.8989), "r1_relu": (0.9141, 0.9054), "r1_maxpool": (0.9405, 0.9115),
    "r1_dropout": (0.8406, 0.8728), "r1_leaky": (0.9084, 0.8999),
}


def _apl(acc: float, precision: float, recall: float, loss: float, part: str) -> dict[str, float]:
    return {f"{part}_acc": acc, f"{part}_keras_precision": precision, f"{part}_keras_recall": recall, f"{part}_loss": loss}


_R4_TABLE = {  # test accuracy: (no aug softmax, aug softmax, no aug sigmoid, aug sigmoid)
    "cnn_1": (0.8916, 0.8913, 0.8411, 0.8338), "cnn_2": (0.9025, 0.8943, 0.8585, 0.8661),
    "cnn_3": (0.8850, 0.8837, 0.8156, 0.8472), "cnn_4": (0.8695, 0.8559, 0.8120, 0.7939),
    "cnn_5": (0.8823, 0.8801, 0.8593, 0.8498),
}
_R4_CELLS = (("softmax", "none"), ("softmax", "aug"), ("sigmoid", "none"), ("sigmoid", "aug"))

FIGURES: tuple[Figure, ...] = (
    # R0 -------------------------------------------------------------------------------------
    *_figures("R0", "Table: training and validation top-1 accuracy", "holdout", {
        "lenet5": {"train_acc": 0.9508, "val_acc": 0.8960},
        "lenet5_3x3": {"train_acc": 0.9675, "val_acc": 0.8995},
        "lenet5_3x3_leaky": {"train_acc": 0.9637, "val_acc": 0.9069},
        "lenet5_3x3_leaky_dropout": {"train_acc": 0.9273, "val_acc": 0.9074},
        R0_BEST: {"train_acc": 0.9243, "val_acc": 0.9109},
    }),
    Figure("R0", "Test set: model 5 trained on train only", R0_BEST, "holdout-test", "test_acc", 0.9109),
    Figure("R0", "Test set: model 5 trained on train + validation", R0_BEST, "trainval", "train_acc", 0.928),
    Figure("R0", "Test set: model 5 trained on train + validation", R0_BEST, "trainval-test", "test_acc", 0.9125),
    Figure("R0", "Choice 2: 5-fold cross-validation of the baseline", "lenet5", "kfold-mean", "val_acc", 0.9019),
    Figure("R0", "Choice 4: data augmentation", f"{R0_BEST}/augment", "holdout-test", "test_acc", 0.89,
           "stated as 'around 89%'; R0 does not say which model it augmented (we use model 5)"),
    # R1 -------------------------------------------------------------------------------------
    *(Figure("R1", "Table: training and validation top-1 accuracy", arm, "kfold-max", metric, value,
             f"{_R1_FOLD} (fold {fold})")
      for arm, values in _R1_TRAINVAL.items()
      for metric, value, fold in zip(("train_acc", "val_acc"), values, _R1_FOLDS[arm])),
    *_figures("R1", "Validation tables (baseline against each variant)", "kfold-mean", {
        "r1_tanh_avgpool": _apl(0.8908, 0.9049, 0.8802, 0.2952, "val"),
        "r1_relu": _apl(0.8955, 0.9098, 0.8809, 0.2917, "val"),
        "r1_leaky": _apl(0.8964, 0.9147, 0.8812, 0.2670, "val"),
        "r1_dropout": _apl(0.8665, 0.8904, 0.8439, 0.3779, "val"),
        "r1_maxpool": _apl(0.9068, 0.9172, 0.8995, 0.2594, "val"),
    }, _R1_KERAS),
    *_figures("R1", "Test table: the two best models retrained on the whole training set", "trainval-test", {
        "r1_relu": _apl(0.8974, 0.9089, 0.8880, 0.2836, "test"),
        "r1_leaky": _apl(0.8909, 0.9083, 0.8761, 0.3008, "test"),
    }, _R1_KERAS),
    *_figures("R1", "Choice 2: learning rate halved every 5 epochs", "trainval-test", {
        "r1_relu/step-decay": _apl(0.9085, 0.9167, 0.9016, 0.3028, "test"),
    }, _R1_KERAS),
    # R2 -------------------------------------------------------------------------------------
    *_figures("R2", "Table 2: training and validation top-1 accuracy", "holdout", {
        "r2_base": {"train_acc": 0.9564, "val_acc": 0.9146},
        "r2_dropout": {"train_acc": 0.9461, "val_acc": 0.9140},
        "r2_l1": {"train_acc": 0.9175, "val_acc": 0.9076},
        "r2_l2": {"train_acc": 0.9460, "val_acc": 0.9126},
        "r2_batchnorm": {"train_acc": 0.9864, "val_acc": 0.9216},
    }),
    *_figures("R2", "Table 3: the two best models on the test set", "holdout-test", {
        "r2_base": {"test_acc": 0.9178, "test_loss": 0.2650},
        "r2_batchnorm": {"test_acc": 0.9079, "test_loss": 0.4229},
    }, "R2 does not say whether these models were retrained; we test the holdout-trained ones"),
    *_figures("R2", "Section 6: training of the BatchNorm model", "holdout", {
        "r2_batchnorm": {"train_acc": 0.9896, "train_loss": 0.0324},
    }, "stated in the test discussion; differs from Table 2's 0.9864 for the same model"),
    *_figures("R2", "Choice 3: 10-fold cross-validation of the baseline", "kfold-mean", {
        "r2_base": {"val_acc": 0.9160, "val_loss": 0.2510},
    }, "R2 says 'average accuracy/loss' over folds; we read them as validation values"),
    # R4 -------------------------------------------------------------------------------------
    *(Figure("R4", "Table 1: test accuracy", r4_label(model, head, aug), "holdout-test", "test_acc", value,
             "R4 tested the epoch with the best validation accuracy; we test the last epoch")
      for model, values in _R4_TABLE.items() for (head, aug), value in zip(_R4_CELLS, values)),
    Figure("R4", "Specific model analysis: tuned CNN_2", R4_TUNED, "holdout-test", "test_acc", 0.9291),
)

CLAIMS: tuple[Claim, ...] = (
    Claim("R0", "Test set", R0_BEST, R0_BEST, "holdout-test", "test_acc", ">",
          "retraining model 5 on train + validation raises its test accuracy", setting_b="trainval-test"),
    Claim("R1", "Test table", "r1_leaky", "r1_relu", "trainval-test", "test_acc", ">",
          "the ReLU model beats the LeakyReLU model on the test set"),
    Claim("R1", "Choice 2", "r1_relu", "r1_relu/step-decay", "trainval-test", "test_acc", ">",
          "halving the learning rate every 5 epochs raises the ReLU model's test accuracy"),
    Claim("R2", "Table 3", "r2_base", "r2_batchnorm", "holdout-test", "test_acc", "<",
          "the BatchNorm variant is below the baseline on the test set"),
    *(Claim("R4", "Table 1", r4_label(m, "sigmoid", aug), r4_label(m, "softmax", aug), "holdout-test", "test_acc", ">",
            f"softmax beats sigmoid for {m} ({'with' if aug == 'aug' else 'without'} augmentation)")
      for m in R4_MODELS for aug in ("none", "aug")),
    Claim("R4", "Tuned CNN_2", r4_label("cnn_2", "softmax", "aug"), R4_TUNED, "holdout-test", "test_acc", ">",
          "the tuned CNN_2 beats CNN_2 with R4's shared settings"),
    # R3: on another data set, so directions only ----------------------------------------------
    Claim("R3", "Task 6a", "r3_lenet", "r3_alexnet/base32", "holdout", "val_acc", ">",
          "the AlexNet-style net (width 32) beats LeNet"),
    Claim("R3", "Task 6b", "r3_alexnet", "r3_alexnet/dropout", "holdout", "train_acc", "<",
          "dropout lowers the training accuracy"),
    Claim("R3", "Task 6b", "r3_alexnet", "r3_alexnet/dropout", "holdout", "val_acc", ">",
          "dropout slightly raises the validation accuracy"),
    Claim("R3", "Task 5c", "r3_lenet/lr1e-5", "r3_lenet", "holdout", "val_acc", ">",
          "lr 1e-4 reaches a higher accuracy than lr 1e-5 in the same number of epochs"),
    Claim("R3", "Task 6d", "r3_alexnet", "r3_alexnet/batch4", "holdout", "val_acc", "≈",
          "batch 4 and batch 8 reach about the same accuracy"),
    Claim("R3", "Task 6d", "r3_alexnet", "r3_alexnet/batch2", "holdout", "val_acc", "≈",
          "batch 2 and batch 8 reach about the same accuracy"),
    Claim("R3", "Task 6d", "r3_alexnet/batch4", "r3_alexnet/batch2", "holdout", "epoch_seconds", ">",
          "an epoch takes longer with batch 2 than with batch 4"),
    Claim("R3", "Task 6e", "r3_alexnet/opt-adam", "r3_alexnet/opt-sgd", "holdout", "val_acc", "<",
          "SGD does worst (below Adam)"),
    Claim("R3", "Task 6e", "r3_alexnet/opt-adam", "r3_alexnet/opt-rmsprop", "holdout", "val_acc", "≈",
          "RMSprop and Adam reach similar accuracy"),
    Claim("R3", "Task 6f", "r3_alexnet/opt-hinge", "r3_alexnet/opt-bce", "holdout", "val_acc", ">",
          "BCE reaches a much higher accuracy than hinge"),
)


def available(study: Study) -> set[tuple[str, str]]:
    """Every (arm, setting) that `measure(study)` produces values for."""
    out = {(a.label, "holdout") for a in study.arms}
    out |= {(label, s) for label, _ in study.kfold for s in ("kfold-mean", "kfold-max")}
    out |= {(label, f"{split}-test") for label, split in study.test}
    out |= {(label, "trainval") for label, split in study.test if split == "trainval"}
    return out


# ----------------------------------------------------------------------------------------------
# Measuring our runs


@dataclass
class Measurements:
    """Our per-seed values (one row per study, arm, setting, metric, seed) and test predictions."""

    values: pd.DataFrame
    predictions: dict[tuple[str, str, str, int], dict[str, np.ndarray]] = field(default_factory=dict)
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per run: study, key, device, seconds
    planned: dict[str, int] = field(default_factory=dict)  # study → runs its plan has (measured or not)


def _row(study: str, arm: str, setting: str, seed: int, values: dict[str, float]) -> list[dict]:
    return [{"study": study, "arm": arm, "setting": setting, "metric": m, "seed": seed, "value": float(v)}
            for m, v in values.items()]


def _last_epoch(run: runs_mod.Run, part: str) -> dict[str, float]:
    last = run.history[-1]
    out = {f"{part}_acc": last[f"{part}_acc"], f"{part}_loss": last[f"{part}_loss"]}
    if part == "train":
        out["epoch_seconds"] = float(np.mean([r["seconds"] for r in run.history]))
    return out


def _scored(run: runs_mod.Run, part: str, indices, device: str) -> dict[str, np.ndarray]:
    device = resolve_device(device)  # "auto" → cuda or cpu
    return metrics_mod.predictions(run.model(device), part, indices, device=device)


def _keras(pred: dict[str, np.ndarray], loss: str, prefix: str) -> dict[str, float]:
    precision, recall = keras_precision_recall(pred["labels"], class_scores(pred["logits"], loss))
    return {f"{prefix}_keras_precision": precision, f"{prefix}_keras_recall": recall}


def evaluation_indices(profile: Profile) -> np.ndarray | None:
    """The test images a profile evaluates: a stratified subset of `test_subset`, or all 10k."""
    return None if profile.test_subset is None else data_mod.subset_indices(data_mod.load().test_labels, profile.test_subset)


def measure(study: str | Study, profile: str | Profile = "quick", seeds: int | None = None,
            device: str = "auto", stored_only: bool = False) -> Measurements:
    """Run (or load) every run of `study` under `profile` and measure what the figures need.

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
        jobs = [j for j in jobs if runs_mod.is_stored(j.config)]
    runs = runs_mod.get_or_train_many([j.config for j in jobs])
    by_job = {(j.label, j.part, j.config.seed, j.config.fold): r for j, r in zip(jobs, runs)}
    rows: list[dict] = []
    folds: dict[tuple[str, int], list[dict[str, float]]] = defaultdict(list)
    labels = data_mod.load().train_labels
    for job, run in zip(jobs, runs):
        seed = job.config.seed
        if job.part in ("main", "extra"):
            rows += _row(study.name, job.label, "holdout", seed, {**_last_epoch(run, "train"), **_last_epoch(run, "val")})
        elif job.part == "trainval":
            rows += _row(study.name, job.label, "trainval", seed, _last_epoch(run, "train"))
        elif job.part == "fold":
            c = job.config
            _, val_idx = data_mod.split_indices(labels, split="fold", fold=c.fold, folds=c.folds, subset=c.subset,
                                                seed=c.split_seed)
            pred = _scored(run, "train", val_idx, device)
            folds[(job.label, seed)].append({**_last_epoch(run, "train"), **_last_epoch(run, "val"),
                                             **_keras(pred, c.loss, "val")})
    k_of = {label: study.folds(profile, k) for label, k in study.kfold}  # folds a complete k-fold has
    for (label, seed), per_fold in folds.items():
        if len(per_fold) < k_of[label]:  # some folds not stored (stored_only): no k-fold figure
            continue
        frame = pd.DataFrame(per_fold)
        rows += _row(study.name, label, "kfold-mean", seed, frame.mean().to_dict())
        rows += _row(study.name, label, "kfold-max", seed, frame.max().to_dict())
    predictions: dict[tuple[str, str, str, int], dict[str, np.ndarray]] = {}
    indices = evaluation_indices(profile)
    n = profile.seeds if seeds is None else seeds
    for label, split in study.test:
        part = "main" if label in study.models else "extra"
        part = "trainval" if split == "trainval" else part
        for seed in range(n):
            run = by_job.get((label, part, seed, 0))
            if run is None:  # not stored (stored_only)
                continue
            pred = _scored(run, "test", indices, device)
            report = metrics_mod.classification_report(pred["labels"], pred["pred"], pred["logits"])
            values = {"test_acc": report["acc"], "test_loss": report["loss"], "test_precision": report["precision"],
                      "test_recall": report["recall"], **_keras(pred, run.config.loss, "test")}
            setting = f"{split}-test"
            rows += _row(study.name, label, setting, seed, values)
            predictions[(study.name, label, setting, seed)] = {"labels": pred["labels"], "pred": pred["pred"]}
    info = pd.DataFrame([{"study": study.name, "key": r.key, "device": r.provenance.get("device_name", "?"),
                          "train_seconds": float(sum(h["seconds"] for h in r.history)),
                          "finished": (r.path / "run.json").stat().st_mtime} for r in runs],
                        columns=["study", "key", "device", "train_seconds", "finished"])
    return Measurements(pd.DataFrame(rows, columns=["study", "arm", "setting", "metric", "seed", "value"]),
                        predictions, info, {study.name: planned})


# ----------------------------------------------------------------------------------------------
# Tables


def _by_seed(values: pd.DataFrame, report: str, arm: str, setting: str, metric: str) -> pd.Series:
    sel = values[(values["study"] == report) & (values["arm"] == arm) & (values["setting"] == setting)
                 & (values["metric"] == metric)]
    return sel.set_index("seed")["value"].sort_index().astype(float)


def _ours(values: pd.DataFrame, report: str, arm: str, setting: str, metric: str) -> np.ndarray:
    return _by_seed(values, report, arm, setting, metric).to_numpy()


def reproduction_table(values: pd.DataFrame, figures: tuple[Figure, ...] = FIGURES, confidence: float = 0.95,
                       reports: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One row per reported figure: the reported value, our mean ± std, our `confidence` interval,
    the difference (reported − ours) and whether the reported value lies inside our interval.

    Figures without runs of ours get NaN and `inside` None; one seed gives no interval (`inside` None).
    """
    rows = []
    for fig in figures:
        if reports is not None and fig.report not in reports:
            continue
        ours = _ours(values, fig.report, fig.arm, fig.setting, fig.metric)
        row = {"report": fig.report, "where": fig.where, "arm": fig.arm, "setting": fig.setting,
               "metric": fig.metric, "reported": fig.value, "mean": np.nan, "std": np.nan, "ci_low": np.nan,
               "ci_high": np.nan, "n": len(ours), "difference": np.nan, "inside": None, "note": fig.note}
        if len(ours):
            ci = mean_ci(ours, confidence)
            row.update(mean=ci.mean, std=ci.std, ci_low=ci.low, ci_high=ci.high, difference=fig.value - ci.mean)
            if ci.n >= 2:
                row["inside"] = bool(ci.low <= fig.value <= ci.high)
        rows.append(row)
    return pd.DataFrame(rows, columns=_TABLE_COLUMNS)


_TABLE_COLUMNS = ["report", "where", "arm", "setting", "metric", "reported", "mean", "std", "ci_low", "ci_high", "n",
                  "difference", "inside", "note"]
_CLAIM_COLUMNS = ["report", "where", "claim", "a", "b", "metric", "direction", "mean_a", "mean_b", "difference",
                  "p_value", "verdict", "mcnemar_p", "mcnemar_n", "mcnemar_agree", "mcnemar_against"]


def claims_table(measurements: Measurements, claims: tuple[Claim, ...] = CLAIMS, alpha: float = 0.05,
                 reports: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Each claim tested across seeds (paired t) and, for test-set claims, by McNemar per seed.

    Only directions are checked: the verdict says whether our runs support the direction the
    report claimed, contradict it, or cannot tell at our number of seeds. McNemar's columns:
    `mcnemar_p` the p-values seed by seed (a tuple; empty when not tested), `mcnemar_n` the seeds
    tested, `mcnemar_agree`/`mcnemar_against` how many of them are significant in the claimed / the
    opposite direction (NA for an "≈" claim or without test predictions).
    """
    rows = []
    values = measurements.values
    for claim in claims:
        if reports is not None and claim.report not in reports:
            continue
        set_a, set_b = claim.settings
        a = _by_seed(values, claim.report, claim.a, set_a, claim.metric)
        b = _by_seed(values, claim.report, claim.b, set_b, claim.metric)
        seeds = a.index.intersection(b.index)  # paired by seed: a run missing on one side drops its seed
        a, b = a[seeds].to_numpy(), b[seeds].to_numpy()
        row = {"report": claim.report, "where": claim.where, "claim": claim.text, "a": claim.a, "b": claim.b,
               "metric": claim.metric, "direction": claim.direction, "mean_a": np.nan, "mean_b": np.nan,
               "difference": np.nan, "p_value": np.nan, "verdict": "not run", "mcnemar_p": (), "mcnemar_n": 0,
               "mcnemar_agree": pd.NA, "mcnemar_against": pd.NA}
        if len(seeds):
            verdict, test = direction_verdict(a, b, claim.direction, alpha)
            row.update(mean_a=a.mean(), mean_b=b.mean(), difference=b.mean() - a.mean(), p_value=test.p_value,
                       verdict=verdict)
            if set_a.endswith("-test"):
                tests = []
                for seed in seeds:
                    pa = measurements.predictions.get((claim.report, claim.a, set_a, seed))
                    pb = measurements.predictions.get((claim.report, claim.b, set_b, seed))
                    if pa is not None and pb is not None:
                        tests.append(mcnemar_test(pa["labels"], pa["pred"], pb["pred"]))
                row.update(mcnemar_p=tuple(t.p_value for t in tests), mcnemar_n=len(tests))
                if tests and claim.direction != "≈":
                    agree = sum(t.significant(alpha) and (t.difference > 0) == (claim.direction == ">") for t in tests)
                    row.update(mcnemar_agree=agree, mcnemar_against=sum(t.significant(alpha) for t in tests) - agree)
        rows.append(row)
    table = pd.DataFrame(rows, columns=_CLAIM_COLUMNS)
    return table.astype({"mcnemar_n": int, "mcnemar_agree": "Int64", "mcnemar_against": "Int64"})


def in_percent(metric: str) -> bool:
    """Accuracies, precision and recall are shown in %; losses and seconds as numbers."""
    return not metric.endswith("loss") and metric != "epoch_seconds"


def fmt(metric: str, x: float) -> str:
    """A value of `metric` for reading, in its unit (`in_percent`)."""
    if not np.isfinite(x):
        return "–"
    return f"{100 * x:.2f}" if in_percent(metric) else f"{x:.4f}"


def metric_label(metric: str) -> str:
    """The metric's name with its unit where it is shown in %."""
    return metric + (" (%)" if in_percent(metric) else "")


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The reproduction table for reading: accuracies in %, losses as numbers, the interval as text."""
    out = []
    for _, r in table.iterrows():
        m = r["metric"]
        out.append({
            "where": r["where"], "arm": r["arm"], "setting": r["setting"],
            "metric": metric_label(m),
            "reported": fmt(m, r["reported"]),
            "ours mean ± std": "–" if not np.isfinite(r["mean"]) else f"{fmt(m, r['mean'])} ± {fmt(m, r['std'])}",
            "95% interval": "–" if not np.isfinite(r["ci_low"]) else f"[{fmt(m, r['ci_low'])}, {fmt(m, r['ci_high'])}]",
            "difference": fmt(m, r["difference"]),
            "inside": {True: "yes", False: "no"}.get(r["inside"], "n/a"),
            "n": int(r["n"]),
        })
    return pd.DataFrame(out)


def commentary(table: pd.DataFrame, claims: pd.DataFrame | None = None, profile: str = "") -> list[str]:
    """Sentences about one report's rows, generated from the numbers in `table` (and `claims`)."""
    out = []
    if len(table):
        judged = table[table["inside"].notna()]
        inside = int(judged["inside"].astype(bool).sum())
        seeds = sorted(set(int(n) for n in judged["n"]))
        where = f" in the {profile} profile" if profile else ""
        if len(judged):
            out.append(f"{inside} of the {len(judged)} reported figures with an interval lie inside our 95% interval"
                       f"{where} (n = {', '.join(map(str, seeds))} seeds per configuration).")
        for n, why in ((0, "not run"), (1, "a single seed, so no interval")):
            if k := int((table["n"] == n).sum()):
                out.append(f"{k} of the {len(table)} figures: {why}.")
        finite = table[np.isfinite(table["difference"].astype(float))]
        if len(finite):
            above = int((finite["difference"] > 0).sum())
            out.append(f"The reported value is above our mean in {above} of {len(finite)} figures and below it in "
                       f"{len(finite) - above}.")
            is_loss = finite["metric"].str.endswith("loss")
            for part, scale, unit, digits in ((finite[~is_loss], 100, " points", 2), (finite[is_loss], 1, "", 4)):
                if len(part):
                    worst = part.loc[part["difference"].abs().idxmax()]
                    out.append(f"The largest {'loss' if scale == 1 else 'accuracy'} gap is {worst['arm']} "
                               f"{worst['metric']} ({worst['setting']}): reported {worst['reported'] * scale:.{digits}f}, "
                               f"ours {worst['mean'] * scale:.{digits}f} ({worst['difference'] * scale:+.{digits}f}{unit}).")
    if claims is not None and len(claims):
        counts = claims["verdict"].value_counts()
        parts = [f"{n} {v}" for v, n in counts.items()]
        tested = "" if counts.index.tolist() == ["not run"] else " we tested"
        out.append(f"Of its {metrics_mod.count(len(claims), 'comparison')}{tested}: {', '.join(parts)}.")
        for _, c in claims[claims["verdict"].isin(["supported", "contradicted"])].iterrows():
            m = str(c["metric"])
            gap = (f"{c['difference'] * 100:+.2f} points" if in_percent(m)
                   else f"{c['difference']:+.4f}" + (" s" if m == "epoch_seconds" else ""))
            out.append(f"{c['claim']}: {c['verdict']} (difference {gap}, paired t p={c['p_value']:.3g}).")
        undecided = claims[claims["verdict"].str.startswith(("not detectable", "no test")) & claims["mcnemar_agree"].notna()]
        for _, c in undecided.iterrows():
            out.append(_mcnemar_sentence(c))
    return out


def _mcnemar_sentence(c: pd.Series) -> str:
    """A claim the paired test cannot decide, with what McNemar's test found seed by seed."""
    start = f"{c['claim']}: the paired test over seeds cannot tell ({c['verdict']}), "
    n = c["mcnemar_n"]
    agree, against = f"{c['mcnemar_agree']} of {n}", f"{c['mcnemar_against']} of {n}"
    if c["mcnemar_agree"] == 0:
        return start + (f"and McNemar's test on the test predictions finds the claimed direction in none of the seeds "
                        f"({agree})" + (f" and the opposite direction in {against}." if c["mcnemar_against"] else "."))
    if c["mcnemar_against"]:
        return start + (f"while McNemar's test on the test predictions finds the claimed direction in {agree} seeds "
                        f"and the opposite direction in {against}: which trained model is better depends on the seed.")
    return start + (f"while McNemar's test on the test predictions finds the claimed direction in {agree} seeds: those "
                    "trained models differ on the test set, but the difference is not shown to hold across seeds.")


def definitions(table: pd.DataFrame) -> pd.DataFrame:
    """What each metric and setting in `table` means (the columns' definitions, for the reader)."""
    rows = [{"term": m, "definition": METRICS[m]} for m in dict.fromkeys(table["metric"])]
    rows += [{"term": s, "definition": SETTINGS[s]} for s in dict.fromkeys(table["setting"])]
    return pd.DataFrame(rows)


@dataclass
class Reproduction:
    """Everything notebook 08 shows for the chosen studies."""

    profile: str
    measurements: Measurements
    table: pd.DataFrame
    claims: pd.DataFrame
    studies: tuple[str, ...] = ("R0", "R1", "R2", "R3", "R4")  # the studies measured
    stored_only: bool = False  # measured from the run store alone (`measure(stored_only=True)`)

    def report(self, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(figure rows, claim rows) of one source report."""
        return self.table[self.table["report"] == name], self.claims[self.claims["report"] == name]

    def figures(self, name: str) -> pd.DataFrame:
        """One report's reproduction table, formatted for reading."""
        return display_table(self.report(name)[0])

    def claim_rows(self, name: str) -> pd.DataFrame:
        """One report's tested comparisons, formatted for reading."""
        c = self.report(name)[1].copy()

        def count(k: str) -> list[str]:  # "k of n", blank where not tested
            return [("" if pd.isna(x) else f"{x} of {n}") for x, n in zip(c[k], c["mcnemar_n"])]

        c["mcnemar_p"] = [", ".join("≈0" if p == 0 else f"{p:.3g}" for p in ps) for ps in c["mcnemar_p"]]
        c["mcnemar_agree"], c["mcnemar_against"] = count("mcnemar_agree"), count("mcnemar_against")
        for k in ("mean_a", "mean_b", "difference"):  # in the units of the reproduction table
            c[k] = [fmt(m, x) for m, x in zip(c["metric"], c[k])]
        c["p_value"] = ["–" if not np.isfinite(p) else f"{p:.3g}" for p in c["p_value"]]
        c["metric"] = c["metric"].map(metric_label)
        columns = ["where", "claim", "metric", "direction", "mean_a", "mean_b", "difference", "p_value", "verdict"]
        # McNemar's columns only where some comparison has test predictions (R3 has none): a page holds 9 or 12 columns
        columns += [k for k in ("mcnemar_p", "mcnemar_agree", "mcnemar_against") if c[k].ne("").any()]
        return c[columns].rename(columns={
            "mean_a": "ours: a", "mean_b": "ours: b", "mcnemar_p": "McNemar p per seed",
            "mcnemar_agree": "seeds where McNemar finds the claimed direction",
            "mcnemar_against": "… the opposite direction"})

    def plot(self, name: str):
        """One report's reported values against our intervals (None when it was not measured)."""
        table = self.report(name)[0]
        if not table["n"].gt(0).any():
            return None
        return plot_reproduction(table, f"{name}: reported (x) against our mean and 95% interval")

    def section(self, name: str) -> str:
        """Markdown for one report: heading, where its settings come from, generated commentary."""
        study = get_study(name)
        table, claims = self.report(name)
        if name not in self.studies:
            jobs = study.plan(get_profile("full"), None, "cpu")
            images = runs_mod.training_images([j.config for j in jobs])
            hours = sum(runs_mod.estimated_cpu_seconds(j.config) for j in jobs) / 3600
            return (f"## {name}: {study.title}\n\nNot reproduced in this run. In the full profile it is {len(jobs)} "
                    f"runs over {images / 1e6:.1f} M training images, roughly {hours:.0f} h of single-core CPU "
                    f"training (estimated from the models' multiply-adds and steps); `reports=\"auto\"` reproduces all five reports "
                    "only in the full profile on a GPU (on 2 CPU cores the four together take days). Name it to "
                    f"reproduce it, e.g. `make report REPRODUCE=\"{' '.join(dict.fromkeys(('R0', name)))}\"`, or train a part of it "
                    f"(`make train STUDY={name} ONLY=<arm pattern>`) and report what is stored with `STORED_ONLY=1`.")
        settings = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in study.settings.items())
        lines = [f"## {name}: {study.title}", "", study.notes, "", f"Shared settings: `{settings}`.", ""]
        if self.profile != "full":
            p = get_profile(self.profile)
            data = f"{p.subset:,} training images" if p.subset else "all training images"
            lines += [f"Profile `{p.name}` trains at most {p.epochs} epochs on {data}: it checks that every run and "
                      "measurement works, it does not reproduce; compare values with the report in the `full` "
                      "profile only.", ""]
        if self.stored_only:
            measured = int((self.measurements.runs["study"] == name).sum())
            planned = self.measurements.planned.get(name, measured)
            lines += [f"Measured from the run store alone: {measured} of the {planned} runs this study plans are "
                      "stored; figures and comparisons whose runs are missing show as not run, and a comparison "
                      "uses only the seeds both sides have. Train the rest with "
                      f"`python -m fashion_cnn.studies train {name}`.", ""]
        if name not in NUMERIC_REPORTS:
            lines += [f"{name} ran on another data set, so its numbers are left out of the numeric table; "
                      "only the direction of its comparisons is tested here, on Fashion-MNIST.", ""]
        lines += [f"- {t}" for t in commentary(table if name in NUMERIC_REPORTS else table.iloc[0:0], claims, self.profile)]
        return "\n".join(lines)

    def closing_note(self) -> str:
        """Where the runs ran, how many there were and how long their training took."""
        runs = self.measurements.runs.drop_duplicates("key")
        if not len(runs):
            return "No runs were measured."
        devices = ", ".join(sorted(set(runs["device"])))
        hours = runs["train_seconds"].sum() / 3600
        per_study = ", ".join(f"{s} {g['train_seconds'].sum() / 60:.1f} min" for s, g in runs.groupby("study"))
        text = (f"Profile `{self.profile}`: {len(runs)} runs on {devices}; their training took {hours:.2f} h summed "
                f"over runs ({per_study})")
        if "finished" in runs:
            span = (runs["finished"].max() - (runs["finished"] - runs["train_seconds"]).min()) / 3600
            text += f" and spanned {span:.2f} h of wall-clock time from the first start to the last finish"
        return text + (" (runs trained at the same time overlap; runs found in the store keep the timing of when "
                       "they were trained).")


ALL_REPORTS = ("R0", "R1", "R2", "R3", "R4")


def default_reports(profile: str, device: str = "auto") -> tuple[str, ...]:
    """The reports `reports="auto"` reproduces: all five in the full profile on a GPU, R0 alone otherwise.

    R0's runs are the ones notebooks 02–05 train anyway. On 2 CPU cores the other four take days
    together in the full profile: R1 and R2 are 75 M and 35 M training images of small nets (R2's 15
    holdout runs, 10.8 M images, took 48 min in two processes), R4 is 31.5 M images through
    4-million-parameter nets (~200 images/s) and R3 has batch-2 to batch-8 sweeps; on one H100 they
    take minutes. Name them to run them anywhere.
    """
    device = resolve_device(device) if device == "auto" else device
    return ALL_REPORTS if profile == "full" and device.startswith("cuda") else ("R0",)


def report_names(studies: tuple[str, ...] | str, profile: str = "full", device: str = "auto") -> tuple[str, ...]:
    """The reports `studies` names: names, one space-separated string, "all", or "auto" for
    `default_reports(profile, device)`. Raises ValueError listing the studies for an unknown name."""
    if studies == "auto":
        return default_reports(profile, device)
    names = ALL_REPORTS if studies == "all" else tuple(studies.split()) if isinstance(studies, str) else tuple(studies)
    for name in names:
        get_study(name)
    return names


def reproduce(profile: str = "quick", seeds: int | None = None, device: str = "auto",
              studies: tuple[str, ...] | str = "auto", stored_only: bool = False) -> Reproduction:
    """Measure every study in `studies` (names, one space-separated string, "all", or "auto" for
    `default_reports(profile, device)`) and build the reproduction and claims tables.
    `stored_only`: train nothing, measure the runs the store holds (`measure`)."""
    from tqdm.auto import tqdm

    studies = report_names(studies, profile, device)  # an unknown name fails here, before any training

    parts = [measure(name, profile, seeds, device, stored_only) for name in tqdm(studies, desc="studies", unit="study")]
    measured = Measurements(pd.concat([m.values for m in parts], ignore_index=True),
                            {k: v for m in parts for k, v in m.predictions.items()},
                            pd.concat([m.runs for m in parts], ignore_index=True),
                            {k: v for m in parts for k, v in m.planned.items()})
    table = reproduction_table(measured.values, reports=tuple(s for s in studies if s in NUMERIC_REPORTS))
    return Reproduction(profile, measured, table, claims_table(measured, reports=tuple(studies)), tuple(studies),
                        stored_only)


def plot_reproduction(table: pd.DataFrame, title: str = ""):
    """Reported values (red x) against our mean and 95% interval (black), one row per figure.

    Accuracy-like metrics (in %, intervals clipped to 0–100) and losses get separate panels.
    Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    is_loss = table["metric"].str.endswith("loss")
    panels = [(t, scale, lab) for t, scale, lab in ((table[~is_loss], 100, "%"), (table[is_loss], 1, "loss")) if len(t)]
    heights = [max(len(t), 1) for t, _, _ in panels] or [1]
    fig, axes = plt.subplots(len(panels) or 1, 1, figsize=(7.0, 0.22 * sum(heights) + 0.9 * len(heights)),
                             gridspec_kw={"height_ratios": heights}, squeeze=False, layout="constrained")
    for ax, (t, scale, lab) in zip(axes[:, 0], panels):
        y = np.arange(len(t))[::-1]
        names = [f"{r.arm} · {r.metric} · {r.setting}" for r in t.itertuples()]
        mean = t["mean"].to_numpy(float) * scale
        low, high = t["ci_low"].to_numpy(float) * scale, t["ci_high"].to_numpy(float) * scale
        if scale == 100:  # an accuracy interval cannot leave [0, 100] %
            low, high = np.clip(low, 0, 100), np.clip(high, 0, 100)
        err = np.vstack([mean - low, high - mean])
        ax.errorbar(mean, y, xerr=np.nan_to_num(err), fmt="o", color="black", ms=3, capsize=2, label="ours: mean, 95% CI")
        ax.scatter(t["reported"].to_numpy(float) * scale, y, marker="x", color="tab:red", zorder=3, label="reported")
        ax.set_yticks(y, names, fontsize=7)
        ax.set_xlabel(lab)
        ax.grid(axis="x", alpha=0.3)
    axes[0, 0].legend(fontsize=7, loc="best")
    if title:
        axes[0, 0].set_title(title)
    plt.close(fig)  # the notebook displays the returned figure once
    return fig
