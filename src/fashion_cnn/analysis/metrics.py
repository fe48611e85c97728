"""Numbers from runs and predictions (scikit-learn): predictions on any split, per-class and macro
metrics, confusion matrices and the most-confused class pairs, a study's runs as one frame, their
comparisons (`stats`), and the one test-set evaluation every section uses (`evaluate_test`).

The sentences these numbers make are in `present.text`, the figures and formatted tables in `present`,
the dataset's own statistics in `data_stats`, and what trains in `sections`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import torch
from scipy.special import log_softmax
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from .. import data as data_mod
from ..config import resolve_device
from ..models import count_parameters, create_model
from ..train.engine import predict


def predictions(
    model: torch.nn.Module,
    part: str = "test",
    indices: np.ndarray | None = None,
    device: str = "auto",
    features: bool = False,
) -> dict[str, np.ndarray]:
    """Logits, predictions, labels (and penultimate features) of `model` on "train" or "test"."""
    device = resolve_device(device)
    tensors = data_mod.tensors(data_mod.load(), part, indices, device)
    return predict(model.to(device), tensors, features=features)


def classification_report(labels: np.ndarray, pred: np.ndarray, logits: np.ndarray | None = None) -> dict[str, float]:
    """Accuracy, macro precision/recall/F1 and (with logits) the cross-entropy loss."""
    p, r, f, _ = precision_recall_fscore_support(labels, pred, average="macro", zero_division=0)
    out = {"acc": accuracy_score(labels, pred), "precision": p, "recall": r, "f1": f}
    if logits is not None:
        out["loss"] = float(-log_softmax(logits.astype(np.float64), axis=1)[np.arange(len(labels)), labels].mean())
    return out


def per_class(labels: np.ndarray, pred: np.ndarray) -> pd.DataFrame:
    """Precision, recall, F1 and support for each of the 10 classes."""
    p, r, f, s = precision_recall_fscore_support(labels, pred, labels=range(10), zero_division=0)
    return pd.DataFrame({"precision": p, "recall": r, "f1": f, "support": s}, index=list(data_mod.CLASSES))


def confusion(labels: np.ndarray, pred: np.ndarray, normalize: bool = False) -> pd.DataFrame:
    """10x10 confusion matrix (rows: true class, columns: predicted), counts or row-normalised."""
    m = confusion_matrix(labels, pred, labels=range(10), normalize="true" if normalize else None)
    return pd.DataFrame(m, index=list(data_mod.CLASSES), columns=list(data_mod.CLASSES))


def most_confused(labels: np.ndarray, pred: np.ndarray, top: int = 5) -> pd.DataFrame:
    """The `top` (true → predicted) pairs with the most errors."""
    m = confusion_matrix(labels, pred, labels=range(10))
    np.fill_diagonal(m, 0)
    order = np.argsort(m, axis=None)[::-1][:top]
    rows = [
        (data_mod.CLASSES[i], data_mod.CLASSES[j], int(m[i, j]), m[i, j] / max((labels == i).sum(), 1))
        for i, j in zip(*np.unravel_index(order, m.shape))
    ]
    return pd.DataFrame(rows, columns=["true", "predicted", "count", "share_of_true"])


# ----------------------------------------------------------------------------------------------
# Runs of a study (notebooks 02–05)


def _label(run) -> dict:
    """A run's columns: `model` is what its study calls it (`RunConfig.name`: the arm's label, else the
    model's name); `architecture` and `model_args` say what was built."""
    c = run.config
    return {
        "model": c.name,
        "architecture": c.model,
        "model_args": json.dumps(c.model_args, sort_keys=True),
        "seed": c.seed,
        "split": c.split,
        "fold": c.fold if c.split == "fold" else None,
        "augment": "+".join(c.augment) or "none",
        "key": run.key,
    }


def history(runs) -> pd.DataFrame:
    """Every epoch of every run in one long table (model, seed, fold, augment, key + the history columns)."""
    return pd.concat([run.frame().assign(**_label(run)) for run in runs], ignore_index=True)


def train_eval_acc(run, device: str = "auto") -> float:
    """The run's training accuracy after its last epoch in eval mode, on its probe (`runs.probe_indices`):
    as the engine recorded it, or measured now from the stored weights for a run that predates the
    measurement (the same weights and images, so the same number)."""
    if "train_eval_acc" in run.metrics:
        return float(run.metrics["train_eval_acc"])
    from ..train.runs import probe_indices

    pred = predictions(run.model(resolve_device(device)), "train", probe_indices(run.config), device)
    return float(accuracy_score(pred["labels"], pred["pred"]))


def _from_history(run) -> dict:
    """The training accuracy in eval mode (`train_eval_acc`), the generalisation gap (that − validation
    accuracy after the last epoch), the epoch of best validation accuracy and the mean seconds per epoch."""
    frame = run.frame()
    best = int(frame.loc[frame["val_acc"].idxmax(), "epoch"]) if frame["val_acc"].notna().any() else np.nan
    train = train_eval_acc(run)
    return {
        "train_eval_acc": train,
        "gap": train - run.metrics["val_acc"],
        "best_epoch": best,
        "epoch_seconds": float(frame["seconds"].mean()),
    }


def evaluate_on_test(run, profile, device: str = "auto") -> dict[str, float]:
    """Accuracy, macro precision/recall/F1, loss and n of a run's model on the profile's test images."""
    report = evaluate_test(run, test_indices(profile.test_subset), device)
    return {**report["report"], "n": len(report["labels"])}


def final_metrics(runs, test: np.ndarray | None | bool = False, device: str = "auto") -> pd.DataFrame:
    """One row per run: its labels and the metrics of its last epoch.

    With `test` (test indices, or None for all 10k) the test accuracy, precision, recall and loss
    are added as `test_*` columns (the default False reads no test image).
    """
    rows = []
    for run in runs:
        row = {**_label(run), **run.metrics, **_from_history(run)}
        if test is not False:
            row.update({f"test_{k}": v for k, v in evaluate_test(run, test, device)["report"].items()})
        rows.append(row)
    return pd.DataFrame(rows)


def values_by(final: pd.DataFrame, metric: str = "val_acc", by: str = "model") -> dict[str, pd.Series]:
    """`metric` per group as a Series indexed by seed (the input of `stats.compare_family`, which
    pairs values by seed)."""
    return {
        name: group.set_index("seed")[metric].sort_index().astype(float)
        for name, group in final.groupby(by, sort=False)
    }


COMPARED = ("val_acc", "train_eval_acc", "gap")  # what every comparison of models reports (each its own family)


def compare_pairs(
    final: pd.DataFrame, pairs, margin: float, by: str = "model", compared=COMPARED, alpha: float = 0.05
) -> dict[str, list]:
    """Each (a, b) of `pairs` compared over matched seeds on each metric of `compared`, one Holm
    family per metric (`stats.compare_family`): metric → comparisons in the order of `pairs`."""
    from . import stats

    return {m: stats.compare_family(values_by(final, m, by), pairs, margin, alpha) for m in compared}


def model_facts(final: pd.DataFrame) -> pd.DataFrame:
    """Per model of `final`: trainable parameters, multiply-adds per image (torchinfo), mean seconds
    per epoch and mean epoch of best validation accuracy over its runs."""
    from ..models import mult_adds

    grouped = final.groupby("model", sort=False)
    g = grouped[["epoch_seconds", "best_epoch"]].mean()
    built = grouped[["architecture", "model_args"]].first()
    args = [json.loads(a) for a in built["model_args"]]
    g.insert(0, "mult_adds", [mult_adds(m, **a) for m, a in zip(built["architecture"], args)])
    g.insert(0, "parameters", [count_parameters(create_model(m, **a)) for m, a in zip(built["architecture"], args)])
    return g


def rank_models(final: pd.DataFrame, metric: str = "val_acc") -> list[str]:
    """Models ordered by their mean `metric` over seeds, best first."""
    return final.groupby("model")[metric].mean().sort_values(ascending=False).index.tolist()


# ----------------------------------------------------------------------------------------------
# Test evaluation (notebooks 03, 05, 06): the only place the test set is read.


def test_indices(n: int | None, seed: int = 0) -> np.ndarray | None:
    """A stratified subset of `n` test images (None: all 10k), the same for every model."""
    if n is None:
        return None
    return data_mod.subset_indices(data_mod.load().test_labels, n, seed)


def evaluate_test(run, indices: np.ndarray | None = None, device: str = "auto", features: bool = False) -> dict:
    """A stored run's predictions on the test images `indices` and its report (acc, precision, recall, f1, loss)."""
    pred = predictions(run.model(resolve_device(device)), "test", indices, device, features=features)
    pred["report"] = classification_report(pred["labels"], pred["pred"], pred["logits"])
    pred["indices"] = np.arange(len(data_mod.load().test_labels)) if indices is None else np.asarray(indices)
    return pred


def misclassified(labels: np.ndarray, pred: np.ndarray, n: int = 20, seed: int = 0) -> np.ndarray:
    """Positions of up to `n` misclassified samples, drawn at random (seeded) so every class can appear."""
    wrong = np.flatnonzero(labels != pred)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(wrong, size=min(n, len(wrong)), replace=False))


# ----------------------------------------------------------------------------------------------
# k-fold (notebook 04)


def kfold_table(
    final: pd.DataFrame, columns=("train_acc", "val_acc", "val_precision", "val_recall", "val_loss")
) -> pd.DataFrame:
    """Per-fold metrics with the mean and std over folds as the last two rows."""
    table = final.assign(fold=final["fold"].astype(int) + 1).set_index("fold")[list(columns)]
    table.index = table.index.map(lambda f: f"fold {f}")
    return pd.concat([table, table.mean().to_frame("mean").T, table.std(ddof=1).to_frame("std").T])


def kfold_compare(
    final: pd.DataFrame, pair: tuple[str, str], margin: float, compared=COMPARED, alpha: float = 0.05
) -> dict[str, list]:
    """Two models cross-validated on the same folds, compared fold by fold with the Nadeau–Bengio
    corrected t-test (and TOST): metric → [stats.Comparison] (`final`: one row per model and fold)."""
    from . import stats

    sizes = (int(final["train_size"].iloc[0]), int(final["val_size"].iloc[0]))
    out = {}
    for m in compared:
        values = {name: g.set_index("fold")[m].astype(float) for name, g in final.groupby("model", sort=False)}
        out[m] = stats.compare_family(values, [pair], margin, alpha, kfold=sizes)
    return out
