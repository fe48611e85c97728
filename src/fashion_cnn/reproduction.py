"""The reproduction: every figure the source reports state, as data, beside where one new run of
ours would fall (the 95% prediction interval) and our mean with its 95% confidence interval, and the
comparisons the reports drew, tested across seeds.

`FIGURES` holds each stated number (report, table or section, arm of the study, setting, metric,
value as a fraction); `METRICS` and `SETTINGS` define what each column measures. `measure()` runs
(or loads) every run of a study and returns one value per (arm, setting, metric, seed);
`reproduction_table()` puts the figures beside those values: a reported figure comes from a single
run, so it is judged against our *prediction interval*, not the narrower interval of our mean.
`claims_table()` tests the comparisons in `CLAIMS`, each report's claims as one family
(`stats.compare_family`: the difference b − a with its interval, the paired t-test and the paired
TOST, Holm-adjusted over the report's claims), with McNemar's test per seed on test-set claims
(Holm-adjusted over the report's McNemar tests); `cochran_table()` runs Cochran's Q per seed over a
report's test-set arms before those pairwise tests. R3's claims are tested in direction only: it
ran on another data set, so its numbers are not comparable and are left out of the numeric table.

Verdicts on a claim "b `direction` a" (`verdict`): ">" is *supported* when the family's outcome is
"higher", *contradicted* when it is "lower", and *contradicted (equivalent within ±m)* when the
TOST shows the two equivalent within the margin (a difference the claim needs is ruled out at
that margin); "<" mirrors it. "≈" is *supported* only when the outcome is "equivalent": a test that
fails to find a difference is never read as support. Anything else is *inconclusive at n=…*,
*no test at n=…* (one seed, or differences without spread) or *not run*. Equivalence is tested only
for accuracy-like metrics (fractions: accuracy, precision, recall) at ±`margin`; losses and
seconds per epoch have no scale on which a ±0.5-point margin means anything, so their TOST is
skipped and their outcome can only be higher, lower, inconclusive or no test.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from . import config as cfg
from . import data as data_mod
from . import metrics as metrics_mod
from . import runs as runs_mod
from . import studies as studies_mod
from . import text as wording
from .config import Profile, get_profile, resolve_device
from .stats import (Comparison, TestResult, class_scores, cochran_q, compare_family, holm,
                    keras_precision_recall, mcnemar_test, mean_ci, prediction_interval)
from .studies import R0_BEST, R4_MODELS, R4_TUNED, SeedPlan, Study, get_study, r4_label

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
# The reproduction table


def _by_seed(values: pd.DataFrame, report: str, arm: str, setting: str, metric: str) -> pd.Series:
    sel = values[(values["study"] == report) & (values["arm"] == arm) & (values["setting"] == setting)
                 & (values["metric"] == metric)]
    return sel.set_index("seed")["value"].sort_index().astype(float)


def _ours(values: pd.DataFrame, report: str, arm: str, setting: str, metric: str) -> np.ndarray:
    return _by_seed(values, report, arm, setting, metric).to_numpy()


def reproduction_table(values: pd.DataFrame, figures: tuple[Figure, ...] = FIGURES, confidence: float = 0.95,
                       reports: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One row per reported figure: the reported value, our mean ± std, our `confidence` prediction
    interval (`pi_low`/`pi_high`: where one new run of the same configuration would fall,
    `stats.prediction_interval`) and the confidence interval of our mean (`ci_low`/`ci_high`), the
    difference (reported − our mean) and `inside`: whether the reported value, itself one run, lies
    inside our prediction interval.

    Figures without runs of ours get NaN and `inside` None; one seed gives no interval (`inside` None).
    """
    rows = []
    for fig in figures:
        if reports is not None and fig.report not in reports:
            continue
        ours = _ours(values, fig.report, fig.arm, fig.setting, fig.metric)
        row = {"report": fig.report, "where": fig.where, "arm": fig.arm, "setting": fig.setting,
               "metric": fig.metric, "reported": fig.value, "mean": np.nan, "std": np.nan, "pi_low": np.nan,
               "pi_high": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": len(ours), "difference": np.nan,
               "inside": None, "note": fig.note}
        if len(ours):
            ci = mean_ci(ours, confidence)
            row.update(mean=ci.mean, std=ci.std, ci_low=ci.low, ci_high=ci.high, difference=fig.value - ci.mean)
            if ci.n >= 2:
                low, high = prediction_interval(ours, confidence)
                row.update(pi_low=low, pi_high=high, inside=bool(low <= fig.value <= high))
        rows.append(row)
    return pd.DataFrame(rows, columns=_TABLE_COLUMNS)


_TABLE_COLUMNS = ["report", "where", "arm", "setting", "metric", "reported", "mean", "std", "pi_low", "pi_high",
                  "ci_low", "ci_high", "n", "difference", "inside", "note"]


# ----------------------------------------------------------------------------------------------
# Claims: one family per report, McNemar per seed, Cochran's Q over a report's test-set arms


def in_percent(metric: str) -> bool:
    """Accuracies, precision and recall are shown in %; losses and seconds as numbers."""
    return not metric.endswith("loss") and metric != "epoch_seconds"


def equivalence_tested(metric: str) -> bool:
    """Whether a claim on `metric` gets a TOST at ±margin: accuracy-like metrics (fractions) only.

    The margin is a fraction of the images (±0.5 points by default, `config.MARGIN`); a loss or a
    number of seconds has no such scale, so for those equivalence is not tested and the outcome is
    higher, lower, inconclusive or no test.
    """
    return in_percent(metric)


def _units(metric: str) -> tuple[float, str, int]:
    """(scale, unit, digits) of a difference in `metric` in a sentence: points, loss, or seconds."""
    if in_percent(metric):
        return 100.0, " points", 2
    if metric == "epoch_seconds":
        return 1.0, " s", 3
    return 1.0, "", 4


def verdict(direction: str, c: Comparison) -> str:
    """The verdict on the claim "b `direction` a" from the family's outcome of `c` (module docstring)."""
    if direction not in (">", "<", "≈"):
        raise ValueError(f"direction {direction!r} must be '>', '<' or '≈'")
    n = c.diff.n
    if n == 0:
        return "not run"
    if c.outcome == "no test":
        return f"no test at n={n}"
    if direction == "≈":
        if c.outcome == "equivalent":
            return "supported"
        if c.outcome in ("higher", "lower"):
            return "contradicted"
        return f"inconclusive at n={n}" + ("" if np.isfinite(c.margin) else " (equivalence not tested)")
    claimed = "higher" if direction == ">" else "lower"
    if c.outcome == claimed:
        return "supported"
    if c.outcome in ("higher", "lower"):
        return "contradicted"
    if c.outcome == "equivalent":
        scale, unit, digits = _units("acc")
        return f"contradicted (equivalent within ±{c.margin * scale:.{digits}f}{unit})"
    return f"inconclusive at n={n}"


def _name(arm: str, setting: str, other: str) -> str:
    """A side of a claim: the arm, with its setting when the two sides differ only in it."""
    return arm if setting == other else f"{arm} ({setting})"


def compare_claims(values: pd.DataFrame, claims: list[Claim], margin: float = cfg.MARGIN,
                   alpha: float = 0.05) -> list[Comparison]:
    """One report's claims as one family (`stats.compare_family`, Holm over the claims with a test).

    Each side is paired by seed (only the seeds both sides have). Claims on metrics without an
    equivalence margin (`equivalence_tested`) get no TOST, so the TOSTs' Holm adjustment runs over
    the claims that have one. The comparisons' names are the claims' arms (with the setting where
    both sides are the same arm).
    """
    series, pairs = {}, []
    for i, claim in enumerate(claims):
        set_a, set_b = claim.settings
        series[f"{i}:a"] = _by_seed(values, claim.report, claim.a, set_a, claim.metric)
        series[f"{i}:b"] = _by_seed(values, claim.report, claim.b, set_b, claim.metric)
        pairs.append((f"{i}:a", f"{i}:b"))
    margins = [margin if equivalence_tested(claim.metric) else None for claim in claims]
    family = compare_family(series, pairs, margins, alpha)
    return [replace(c, a=_name(claim.a, *claim.settings), b=_name(claim.b, *claim.settings[::-1]))
            for c, claim in zip(family, claims)]


_CLAIM_COLUMNS = ["report", "where", "claim", "a", "b", "metric", "direction", "n", "mean_a", "mean_b", "difference",
                  "diff_low", "diff_high", "p", "p_holm", "p_tost", "p_tost_holm", "family", "tost_family", "margin",
                  "outcome", "verdict", "mcnemar_p", "mcnemar_p_holm", "mcnemar_diff", "mcnemar_family", "mcnemar_n",
                  "mcnemar_agree", "mcnemar_against", "comparison"]


def claims_table(measurements: Measurements, claims: tuple[Claim, ...] = CLAIMS, alpha: float = 0.05,
                 reports: tuple[str, ...] | None = None, margin: float = cfg.MARGIN) -> pd.DataFrame:
    """Each claim tested across seeds, each report's claims as one family, and test-set claims by
    McNemar per seed.

    Columns: `n` the seeds both sides have; `mean_a`, `mean_b` over those seeds; `difference` the
    mean of b − a with its 95% interval `diff_low`/`diff_high`; `p` / `p_holm` the paired t-test's
    raw and Holm-adjusted p (over the `family` claims of the report that have a test); `p_tost` /
    `p_tost_holm` the paired TOST at ±`margin` (a fraction; `margin` nan and no TOST for losses and
    seconds, `equivalence_tested`), adjusted over the report's `tost_family` TOSTs; `outcome` one of
    higher, lower, equivalent, inconclusive, no test or not run; `verdict` against the claim's
    direction (`verdict`); `comparison` the `stats.Comparison` the text is made from.

    McNemar's columns: `mcnemar_p` and `mcnemar_p_holm` the raw and adjusted p-values seed by seed
    (tuples, empty when not tested), adjusted over all `mcnemar_family` McNemar tests of the report;
    `mcnemar_diff` test accuracy b − a per seed; `mcnemar_n` the seeds tested;
    `mcnemar_agree`/`mcnemar_against` how many of them are significant after adjustment in the
    claimed / the opposite direction (NA for an "≈" claim or without test predictions).
    """
    selected = [c for c in claims if reports is None or c.report in reports]
    values = measurements.values
    rows = []
    for report in dict.fromkeys(c.report for c in selected):
        family = [c for c in selected if c.report == report]
        comparisons = compare_claims(values, family, margin, alpha)
        tost_family = comparisons[0].tost_family if comparisons else 0
        mcnemar = []  # per claim: the McNemar tests of its seeds
        for claim in family:
            set_a, set_b = claim.settings
            tests = []
            if set_a.endswith("-test") and set_b.endswith("-test"):
                seeds = (_by_seed(values, report, claim.a, set_a, claim.metric).index
                         .intersection(_by_seed(values, report, claim.b, set_b, claim.metric).index))
                for seed in seeds:
                    pa = measurements.predictions.get((report, claim.a, set_a, seed))
                    pb = measurements.predictions.get((report, claim.b, set_b, seed))
                    if pa is not None and pb is not None:
                        tests.append(mcnemar_test(pa["labels"], pa["pred"], pb["pred"]))
            mcnemar.append(tests)
        adjusted = iter(holm([t.p_value for tests in mcnemar for t in tests]))
        mcnemar_family = sum(len(tests) for tests in mcnemar)
        for claim, c, tests in zip(family, comparisons, mcnemar):
            run = c.diff.n > 0
            row = {"report": report, "where": claim.where, "claim": claim.text, "a": claim.a, "b": claim.b,
                   "metric": claim.metric, "direction": claim.direction, "n": c.diff.n,
                   "mean_a": np.nan, "mean_b": np.nan, "difference": c.diff.mean if run else np.nan,
                   "diff_low": c.diff.low, "diff_high": c.diff.high, "p": c.test.p_value, "p_holm": c.p_holm,
                   "p_tost": c.tost.p_value, "p_tost_holm": c.tost_holm, "family": c.family,
                   "tost_family": tost_family, "margin": c.margin, "outcome": c.outcome if run else "not run",
                   "verdict": verdict(claim.direction, c), "mcnemar_p": tuple(t.p_value for t in tests),
                   "mcnemar_p_holm": tuple(next(adjusted) for _ in tests),
                   "mcnemar_diff": tuple(t.difference for t in tests), "mcnemar_family": mcnemar_family,
                   "mcnemar_n": len(tests), "mcnemar_agree": pd.NA, "mcnemar_against": pd.NA, "comparison": c}
            if run:
                set_a, set_b = claim.settings
                a = _by_seed(values, report, claim.a, set_a, claim.metric)
                b = _by_seed(values, report, claim.b, set_b, claim.metric)
                seeds = a.index.intersection(b.index)
                row.update(mean_a=float(a[seeds].mean()), mean_b=float(b[seeds].mean()))
            if tests and claim.direction != "≈":
                significant = [(p < alpha, t.difference > 0) for p, t in zip(row["mcnemar_p_holm"], tests)]
                agree = sum(s and up == (claim.direction == ">") for s, up in significant)
                row.update(mcnemar_agree=agree, mcnemar_against=sum(s for s, _ in significant) - agree)
            rows.append(row)
    table = pd.DataFrame(rows, columns=_CLAIM_COLUMNS)
    return table.astype({"n": int, "family": int, "tost_family": int, "mcnemar_family": int, "mcnemar_n": int,
                         "mcnemar_agree": "Int64", "mcnemar_against": "Int64"})


_COCHRAN_COLUMNS = ["report", "seed", "arms", "k", "images", "acc_low", "acc_high", "q", "p", "p_holm", "family"]


def cochran_table(measurements: Measurements, reports: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Cochran's Q per report and seed over every arm with test predictions for that seed, where a
    report has three or more (R0's three test evaluations, R1's three retrains, R4's 21 arms): does
    any of them differ from the others in which test images it gets right? It comes before the
    pairwise McNemar tests of `claims_table`.

    One row per (report, seed): the arms (`arms`, "arm (setting)"; `k` of them), the test images,
    the lowest and highest test accuracy among them, Q, its p and the p Holm-adjusted over the
    report's seeds (`family` of them). Correctness is predictions == labels; every arm of a report
    must have been evaluated on the same test images (raises ValueError otherwise). A seed whose arms
    all get the same images right has no test (nan Q and p).
    """
    groups: dict[tuple[str, int], dict[str, dict[str, np.ndarray]]] = defaultdict(dict)
    for (report, arm, setting, seed), pred in measurements.predictions.items():
        if reports is None or report in reports:
            groups[(report, seed)][f"{arm} ({setting})"] = pred
    rows = []
    for (report, seed), arms in sorted(groups.items()):
        if len(arms) < 3:
            continue
        labels = next(iter(arms.values()))["labels"]
        if any(not np.array_equal(p["labels"], labels) for p in arms.values()):
            raise ValueError(f"cochran_table: {report}'s arms of seed {seed} were evaluated on different test images")
        correct = np.column_stack([p["pred"] == labels for p in arms.values()])
        if np.all(correct == correct[:, :1]):  # every arm right on the same images: nothing to test
            result = TestResult("Cochran's Q", float("nan"), float("nan"), len(arms), float("nan"))
        else:
            result = cochran_q(correct)
        acc = correct.mean(axis=0)
        rows.append({"report": report, "seed": seed, "arms": tuple(arms), "k": len(arms), "images": len(labels),
                     "acc_low": float(acc.min()), "acc_high": float(acc.max()), "q": result.statistic,
                     "p": result.p_value})
    table = pd.DataFrame(rows, columns=_COCHRAN_COLUMNS)
    for report, part in table.groupby("report"):
        table.loc[part.index, "p_holm"] = holm(part["p"].tolist())
        table.loc[part.index, "family"] = int(np.isfinite(part["p"].astype(float)).sum())
    return table.astype({"seed": int, "k": int, "images": int, "family": int})


# ----------------------------------------------------------------------------------------------
# For reading: tables and sentences generated from the numbers


def fmt(metric: str, x: float) -> str:
    """A value of `metric` for reading, in its unit (`in_percent`)."""
    if not np.isfinite(x):
        return "–"
    return f"{100 * x:.2f}" if in_percent(metric) else f"{x:.4f}"


def metric_label(metric: str) -> str:
    """The metric's name with its unit where it is shown in %."""
    return metric + (" (%)" if in_percent(metric) else "")


def _span(metric: str, low: float, high: float) -> str:
    """"[low, high]" in the metric's unit, clipped to what the metric can take (0–100 % for
    accuracy-like metrics, ≥ 0 for losses and seconds): with few seeds a prediction interval can
    reach past them."""
    if not np.isfinite(low):
        return "–"
    low, high = max(low, 0.0), (min(high, 1.0) if in_percent(metric) else high)
    return f"[{fmt(metric, low)}, {fmt(metric, high)}]"


def _p_cell(p: float) -> str:
    """A p-value in a table cell: 3 significant digits, "<0.001" below that, "–" for no test."""
    return "–" if not np.isfinite(p) else "<0.001" if p < 0.001 else f"{p:.3g}"


PI_COLUMN = "95% PI: one new run"
CI_COLUMN = "95% CI: our mean"


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The reproduction table for reading: accuracies in %, losses as numbers, the intervals as text.

    The 95% PI is where one new run of ours would fall (what a single-run reported figure is judged
    against: `inside PI`), the 95% CI is where our mean lies.
    """
    out = []
    for _, r in table.iterrows():
        m = r["metric"]
        out.append({
            "where": r["where"], "arm": r["arm"], "setting": r["setting"],
            "metric": metric_label(m),
            "reported": fmt(m, r["reported"]),
            "ours mean ± std": "–" if not np.isfinite(r["mean"]) else f"{fmt(m, r['mean'])} ± {fmt(m, r['std'])}",
            PI_COLUMN: _span(m, r["pi_low"], r["pi_high"]),
            CI_COLUMN: _span(m, r["ci_low"], r["ci_high"]),
            "difference": fmt(m, r["difference"]),
            "inside PI": {True: "yes", False: "no"}.get(r["inside"], "n/a"),
            "n": int(r["n"]),
        })
    return pd.DataFrame(out)


def _claim_sentence(row: pd.Series) -> str:
    """One tested claim: the estimate and its interval, the adjusted test, the outcome, the verdict,
    and for an undecided test-set claim what McNemar's test found seed by seed."""
    c: Comparison = row["comparison"]
    scale, unit, digits = _units(row["metric"])
    raw = f", paired t {wording.p(c.test.p_value)}" if np.isfinite(c.test.p_value) else ""
    out = (f"{row['claim']}: `{c.b}` vs `{c.a}`, {wording.metric_words(row['metric'])}: "
           f"{wording.interval(c, scale, unit, digits)} (n={wording.count(c.diff.n, 'seed')}){raw}; "
           f"{wording.outcome(c, scale, unit, digits)}. Verdict: {row['verdict']}.")
    if str(row["verdict"]).startswith(("inconclusive", "no test")) and pd.notna(row["mcnemar_agree"]):
        out += " " + _mcnemar_sentence(row)
    return out


def _mcnemar_sentence(c: pd.Series) -> str:
    """What McNemar's test on the test predictions found seed by seed, for a claim the test over seeds
    leaves undecided: the per-seed accuracy differences first, then the adjusted p-values, then the
    count of seeds in the claimed and the opposite direction."""
    n = int(c["mcnemar_n"])
    per_seed = ", ".join(f"{wording.signed(d)} ({wording.p(p)}, {wording.p(q, 'Holm p')})"
                         for d, p, q in zip(c["mcnemar_diff"], c["mcnemar_p"], c["mcnemar_p_holm"]))
    start = (f"McNemar's test on each seed's test predictions (test accuracy b − a per seed: {per_seed}; Holm over "
             f"{wording.count(int(c['mcnemar_family']), 'McNemar test')} of {c['report']}) ")
    agree, against = int(c["mcnemar_agree"]), int(c["mcnemar_against"])
    if agree == 0:
        return start + (f"finds the claimed direction in none of the seeds (0 of {n})"
                        + (f" and the opposite direction in {against} of {n}." if against else "."))
    if against:
        return start + (f"finds the claimed direction in {agree} of {n} seeds and the opposite direction in "
                        f"{against} of {n}: which trained model is better depends on the seed.")
    return start + (f"finds the claimed direction in {agree} of {n} seeds: those trained models differ on the "
                    "test set, but the difference is not shown to hold across seeds.")


def _cochran_sentence(rows: pd.DataFrame, alpha: float = 0.05) -> str:
    """Cochran's Q of one report's test-set arms, seed by seed, before the pairwise McNemar tests."""
    k = sorted(set(int(x) for x in rows["k"]))
    arms = rows.iloc[0]["arms"]
    which = f" ({', '.join(arms)})" if len(arms) <= 4 else ""
    per_seed = "; ".join(
        f"seed {int(r.seed)}: test accuracy {r.acc_low * 100:.2f}–{r.acc_high * 100:.2f}% across arms, "
        + (f"Q={r.q:.2f}, {wording.p(r.p)}, {wording.p(r.p_holm, 'Holm p')}" if np.isfinite(r.p) else
           "every arm right on the same images, no test")
        for r in rows.itertuples())
    tested = rows[np.isfinite(rows["p"].astype(float))]
    differ = int((tested["p_holm"] < alpha).sum())
    family = int(rows["family"].iloc[0])
    out = (f"Before the pairwise McNemar tests, Cochran's Q asks whether any of the {'/'.join(map(str, k))} arms "
           f"evaluated on the test set{which} differs from the others, seed by seed (Holm over "
           f"{wording.count(family, 'seed')}): {per_seed}.")
    if not len(tested):
        return out
    if differ == len(tested):
        return out + f" The arms differ on the test set in every tested seed ({differ} of {len(tested)})."
    return out + (f" The arms are shown to differ in {differ} of {len(tested)} seeds; in the others the test does not "
                  "reject, which does not show them equal.")


def commentary(table: pd.DataFrame, claims: pd.DataFrame | None = None, profile: str = "",
               cochran: pd.DataFrame | None = None, alpha: float = 0.05) -> list[str]:
    """Sentences about one report's rows, generated from the numbers in `table` (and `claims`, and
    `cochran`: its Cochran's Q rows)."""
    out = []
    if len(table):
        judged = table[table["inside"].notna()]
        inside = int(judged["inside"].astype(bool).sum())
        in_ci = int(sum(r["ci_low"] <= r["reported"] <= r["ci_high"] for _, r in judged.iterrows()))
        seeds = sorted(set(int(n) for n in judged["n"]))
        where = f" in the {profile} profile" if profile else ""
        if len(judged):
            out.append(f"{inside} of the {len(judged)} reported figures with an interval lie inside our 95% prediction "
                       f"interval (where one new run of the same configuration would fall){where}, n = "
                       f"{', '.join(map(str, seeds))} seeds per configuration; {in_ci} of them also lie inside the "
                       "narrower 95% confidence interval of our mean.")
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
        run = claims[claims["outcome"] != "not run"]
        if len(run):
            family = int(run["family"].max())
            margins = run["margin"][np.isfinite(run["margin"].astype(float))]
            how = [f"Holm over {wording.count(family, 'comparison')}"] if family else []
            how += [f"equivalence at ±{margins.iloc[0] * 100:.2f} points on accuracy-like metrics"] if len(margins) else []
            out.append(f"Of its {wording.count(len(claims), 'comparison')}, tested as one family"
                       + (f" ({', '.join(how)})" if how else "") + f": {', '.join(parts)}; outcomes of those run: "
                       f"{wording.outcomes_line(list(run['comparison']))}.")
        else:
            out.append(f"Of its {wording.count(len(claims), 'comparison')}: {', '.join(parts)}.")
        if cochran is not None and len(cochran):
            out.append(_cochran_sentence(cochran, alpha))
        out += [_claim_sentence(row) for _, row in run.iterrows()]
    elif cochran is not None and len(cochran):
        out.append(_cochran_sentence(cochran, alpha))
    return out


def definitions(table: pd.DataFrame) -> pd.DataFrame:
    """What each metric and setting in `table` means (the columns' definitions, for the reader)."""
    rows = [{"term": m, "definition": METRICS[m]} for m in dict.fromkeys(table["metric"])]
    rows += [{"term": s, "definition": SETTINGS[s]} for s in dict.fromkeys(table["setting"])]
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------
# Seeds per study, and the whole reproduction


@dataclass(frozen=True)
class StudySeeds:
    """The seeds one study was measured with, and where that number came from."""

    plan: SeedPlan
    source: str  # "given" (a number) | "profile" (the profile's) | "pilot" (seeds="auto") | "store" (see study_seeds)
    cap: int = cfg.AUTO_SEEDS_CAP

    @property
    def n(self) -> int:
        return self.plan.n


def study_seeds(study: Study, profile: Profile, seeds: int | str | None = "default", device: str = "auto",
                margin: float = cfg.MARGIN, cap: int = cfg.AUTO_SEEDS_CAP, stored_only: bool = False) -> StudySeeds:
    """The seeds of one study: `config.resolve_seeds`, and under "auto" `studies.seed_plan` (a pilot of
    `studies.PILOT_SEEDS` seeds per main-view model chooses n ≤ `cap` at the margin, a fraction).

    With `stored_only` no pilot is trained: when the store holds the whole pilot, its choice is
    used (the same n a training run would choose); otherwise the study uses the seeds the store
    holds, n = 1 + the highest seed (below `cap`) of any stored run of its plan, and `measure`
    measures those that are stored (the pilot's size when nothing is stored).
    """
    seeds = "default" if seeds is None else seeds
    resolved = cfg.resolve_seeds(seeds, profile, device)
    if resolved != "auto":
        default = str(seeds).strip().lower() in ("default", "0", "")
        return StudySeeds(SeedPlan(int(resolved)), "profile" if default else "given", cap)
    pilot = study.configs(profile, min(studies_mod.PILOT_SEEDS, cap), device)
    if not stored_only or all(runs_mod.is_stored(c) for c in pilot):  # stored: loads the pilot, trains nothing
        return StudySeeds(studies_mod.seed_plan(study, profile, "auto", device, margin, cap), "pilot", cap)
    stored = [j.config.seed for j in study.plan(profile, cap, device) if runs_mod.is_stored(j.config)]
    return StudySeeds(SeedPlan(max(stored) + 1 if stored else min(studies_mod.PILOT_SEEDS, cap)), "store", cap)


def seeds_sentence(seeds: StudySeeds, profile: str) -> str:
    """How many seeds the study has and why (`text.seed_choice` for a pilot's choice)."""
    if seeds.source == "pilot" and seeds.plan.choice is not None:
        return wording.seed_choice(seeds.plan.choice)
    if seeds.source == "store":
        return (f"Seeds: `seeds=\"auto\"` with `stored_only` trains no pilot, and the store lacks part of the "
                f"{studies_mod.PILOT_SEEDS}-seed pilot, so this study uses the seeds the store holds: seeds 0–"
                f"{seeds.n - 1} (cap {seeds.cap}), each comparison pairing only the seeds both sides have.")
    why = "given" if seeds.source == "given" else f"the {profile} profile's"
    return f"Seeds: {wording.count(seeds.n, 'seed')} per configuration ({why})."


@dataclass
class Reproduction:
    """Everything notebook 08 shows for the chosen studies."""

    profile: str
    measurements: Measurements
    table: pd.DataFrame
    claims: pd.DataFrame
    studies: tuple[str, ...] = ("R0", "R1", "R2", "R3", "R4")  # the studies measured
    stored_only: bool = False  # measured from the run store alone (`measure(stored_only=True)`)
    cochran: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_COCHRAN_COLUMNS))
    seeds: dict[str, StudySeeds] = field(default_factory=dict)  # study → its seeds and where they came from
    margin: float = cfg.MARGIN  # equivalence margin of accuracy-like metrics (fraction)
    alpha: float = 0.05

    def report(self, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(figure rows, claim rows) of one source report."""
        return self.table[self.table["report"] == name], self.claims[self.claims["report"] == name]

    def figures(self, name: str) -> pd.DataFrame:
        """One report's reproduction table, formatted for reading."""
        return display_table(self.report(name)[0])

    def claim_rows(self, name: str) -> pd.DataFrame:
        """One report's tested comparisons, formatted for reading: the difference b − a with its 95%
        CI, raw and Holm-adjusted p of the paired t-test and of the TOST side by side, the outcome and
        the verdict; McNemar's Holm-adjusted p per seed and its counts where test predictions exist."""
        c = self.report(name)[1].copy()
        c["mcnemar_p_holm"] = [", ".join(_p_cell(p) for p in ps) for ps in c["mcnemar_p_holm"]]
        c["mcnemar_seeds"] = [("" if pd.isna(x) else f"{x} / {y} of {n}")
                              for x, y, n in zip(c["mcnemar_agree"], c["mcnemar_against"], c["mcnemar_n"])]
        c["difference"] = [
            "–" if not np.isfinite(d) else fmt(m, d) + ("" if not np.isfinite(lo) else f" [{fmt(m, lo)}, {fmt(m, hi)}]")
            for m, d, lo, hi in zip(c["metric"], c["difference"], c["diff_low"], c["diff_high"])]
        for k in ("p", "p_holm", "p_tost", "p_tost_holm"):
            c[k] = [_p_cell(p) for p in c[k]]
        c["metric"] = c["metric"].map(metric_label)
        # A page holds the difference and the tests: the sides' means stay in the raw claims table (`mean_a`,
        # `mean_b`), where the report says it heads the claim, and one metric for all claims goes in the header.
        c["claim"] = [f"{w}: {t}" for w, t in zip(c["where"], c["claim"])]
        c["direction"] = [f"b {d} a" for d in c["direction"]]
        single = c["metric"].nunique() == 1
        columns = ["claim", *([] if single else ["metric"]), "direction", "difference", "p", "p_holm", "p_tost",
                   "p_tost_holm", "outcome", "verdict"]
        # McNemar's columns only where some comparison has test predictions (R3 has none)
        columns += [k for k in ("mcnemar_p_holm", "mcnemar_seeds") if c[k].ne("").any()]
        difference = f"b − a, {c['metric'].iloc[0]} [95% CI]" if single else "b − a [95% CI]"
        return c[columns].rename(columns={
            "direction": "claimed", "difference": difference, "p_holm": "p Holm", "p_tost": "TOST p",
            "p_tost_holm": "TOST p Holm", "mcnemar_p_holm": "McNemar p Holm per seed",
            "mcnemar_seeds": "McNemar seeds: claimed / opposite"})

    def plot(self, name: str):
        """One report's reported values against our intervals (None when it was not measured)."""
        table = self.report(name)[0]
        if not table["n"].gt(0).any():
            return None
        return plot_reproduction(table, f"{name}: reported (x) against where one new run of ours would fall")

    def method(self) -> str:
        """How the figures and claims are judged, with this reproduction's margin and α (markdown)."""
        m = f"±{self.margin * 100:.2f} points"
        out = (f"A reported figure is one run, so it is judged against our 95% prediction interval: where one new run of "
               "the same configuration would fall (mean ± t·s·√(1 + 1/n)); the 95% confidence interval of our mean "
               "(mean ± t·s/√n) is shown beside it and is much narrower. Each report's claims are one family: every "
               "claim leads with our difference b − a and its 95% interval, then the paired t-test over seeds and the "
               f"paired TOST at {m} (accuracy, precision and recall only: losses and seconds per epoch have no such "
               "margin and get no equivalence test), their p-values Holm-adjusted over the report's claims, then the "
               f"outcome at α={self.alpha:g}: higher, lower, equivalent or inconclusive at n. A claimed difference is "
               "supported by the outcome in its direction and contradicted by the opposite one or by equivalence "
               f"within {m}; a claimed \"≈\" is supported only by equivalence, never by a test that failed to find a "
               "difference. On the test set, where three or more arms were evaluated, Cochran's Q per seed comes first, "
               "then McNemar's test per seed, Holm-adjusted over all McNemar tests of the report.")
        values = self.measurements.values
        accuracy = values.loc[values["metric"] == "test_acc", "value"] if len(values) else []
        images = {len(p["labels"]) for p in self.measurements.predictions.values()}
        if len(accuracy) and len(images) == 1:  # the margin against one test accuracy's binomial error
            out += " " + wording.margin_reason(self.margin, float(np.median(accuracy)), images.pop())
        return out

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
        if name in self.seeds:
            lines += [seeds_sentence(self.seeds[name], self.profile), ""]
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
        cochran = self.cochran[self.cochran["report"] == name] if len(self.cochran) else None
        lines += [f"- {t}" for t in commentary(table if name in NUMERIC_REPORTS else table.iloc[0:0], claims,
                                               self.profile, cochran, self.alpha)]
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


def reproduce(profile: str = "quick", seeds: int | str | None = "default", device: str = "auto",
              studies: tuple[str, ...] | str = "auto", stored_only: bool = False, margin: float = cfg.MARGIN,
              max_seeds: int = cfg.AUTO_SEEDS_CAP, alpha: float = 0.05) -> Reproduction:
    """Measure every study in `studies` (names, one space-separated string, "all", or "auto" for
    `default_reports(profile, device)`) and build the reproduction, claims and Cochran's Q tables.

    `seeds`: a number, "auto" or "default" (`config.resolve_seeds`), resolved per study by
    `study_seeds` (under "auto" a pilot chooses n ≤ `max_seeds` at `margin`). `margin`: the
    equivalence margin of accuracy-like metrics, a fraction (0.005 = ±0.5 points).
    `stored_only`: train nothing, measure the runs the store holds (`measure`, `study_seeds`).
    """
    from tqdm.auto import tqdm

    names = report_names(studies, profile, device)  # an unknown name fails here, before any training
    cfg.resolve_seeds("default" if seeds is None else seeds, get_profile(profile), device)  # a bad value fails here too
    plans, parts = {}, []
    for name in tqdm(names, desc="studies", unit="study"):
        plans[name] = study_seeds(get_study(name), get_profile(profile), seeds, device, margin, max_seeds, stored_only)
        parts.append(measure(name, profile, plans[name].n, device, stored_only))
    measured = Measurements(pd.concat([m.values for m in parts], ignore_index=True),
                            {k: v for m in parts for k, v in m.predictions.items()},
                            pd.concat([m.runs for m in parts], ignore_index=True),
                            {k: v for m in parts for k, v in m.planned.items()})
    table = reproduction_table(measured.values, reports=tuple(s for s in names if s in NUMERIC_REPORTS))
    claims = claims_table(measured, alpha=alpha, reports=tuple(names), margin=margin)
    return Reproduction(profile, measured, table, claims, tuple(names), stored_only,
                        cochran_table(measured, reports=tuple(names)), plans, margin, alpha)


def plot_reproduction(table: pd.DataFrame, title: str = ""):
    """Reported values (red x) against our 95% prediction interval (black bar with caps: where one new
    run would fall) and the 95% confidence interval of our mean (thick blue bar, the dot our mean),
    one row per figure.

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

        def bars(low: str, high: str) -> np.ndarray:
            lo, hi = t[low].to_numpy(float) * scale, t[high].to_numpy(float) * scale
            lo, hi = (np.clip(lo, 0, 100), np.clip(hi, 0, 100)) if scale == 100 else (np.maximum(lo, 0), hi)
            return np.nan_to_num(np.vstack([mean - lo, hi - mean]))

        ax.errorbar(mean, y, xerr=bars("pi_low", "pi_high"), fmt="none", ecolor="black", elinewidth=1, capsize=2,
                    label="ours: 95% prediction interval (one new run)")
        ax.errorbar(mean, y, xerr=bars("ci_low", "ci_high"), fmt="o", color="tab:blue", ms=3, elinewidth=3,
                    capsize=0, label="ours: mean and 95% CI of the mean")
        ax.scatter(t["reported"].to_numpy(float) * scale, y, marker="x", color="tab:red", zorder=3, label="reported")
        ax.set_yticks(y, names, fontsize=7)
        ax.set_xlabel(lab)
        ax.grid(axis="x", alpha=0.3)
    axes[0, 0].legend(fontsize=7, loc="best")
    if title:
        axes[0, 0].set_title(title)
    plt.close(fig)  # the notebook displays the returned figure once
    return fig
