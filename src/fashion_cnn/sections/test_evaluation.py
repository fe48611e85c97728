"""Section 3, the test evaluation: the study's best models retrained on train + validation with every
seed of section 2 and evaluated on the test images, beside the best model's train-only runs, compared
paired over seeds, with Cochran's Q and McNemar's tests per seed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import data
from ..analysis import metrics, stats
from ..analysis.metrics import evaluate_test, final_metrics, rank_models, test_indices, train_eval_acc, values_by
from ..present.tables import mean_std
from ..setup import ReportSetup
from ..train.schedule import get_or_train_many
from . import variants as variants_section

TEST_COMPARED = ("test_acc", "train_eval_acc", "test_gap")  # section 3's families (test_gap: train − test accuracy)


@dataclass
class TestComparison:
    """The best models retrained on train + validation with every seed of section 2 and evaluated
    on test, beside the best model's train-only runs, compared paired over seeds."""

    models: list[str]  # the `top` models by mean validation accuracy, best first
    ranking: list  # stats.Comparison of every pair of models on validation accuracy (one Holm family)
    runs: dict[str, list]  # label → one Run per seed: "<best> (train)" and "<model> (train+val)" per model
    results: dict[str, dict[int, dict]]  # label → seed → evaluate_test output
    final: pd.DataFrame  # one row per (label, seed): train/val/test metrics
    families: dict[str, list]  # metric of TEST_COMPARED → stats.Comparison per pair of `pairs`
    pairs: list[tuple[str, str]]  # (a, b) labels compared
    cochran: dict[int, object]  # seed → stats.TestResult of Cochran's Q over every label (≥ 3 labels)
    mcnemar: pd.DataFrame  # one row per (pair, seed): McNemar's p, its Holm-adjusted p, b − a on test

    @staticmethod
    def label(model: str, split: str = "trainval") -> str:
        return f"{model} ({'train+val' if split == 'trainval' else 'train'})"

    order: list[str]  # every model of the main view by mean validation accuracy, best first

    @property
    def could_be_best(self) -> list[str]:
        """The models no other model is shown above on validation accuracy (all pairs, one Holm family),
        best mean first: the ones the tests leave as possibly the best."""
        return stats.not_below(self.ranking, self.order)

    @property
    def table(self) -> pd.DataFrame:
        """One row per label: mean ± std over seeds of the train, validation and test metrics."""
        return mean_std(
            self.final,
            ("train_acc", "train_eval_acc", "val_acc", "test_acc", "test_precision", "test_recall", "test_loss"),
            by="model",
            percent=("train_acc", "train_eval_acc", "val_acc", "test_acc", "test_precision", "test_recall"),
        )

    @property
    def best(self) -> dict:
        """Test predictions of the best model retrained on train + validation, first seed."""
        runs = self.results[self.label(self.models[0])]
        return runs[min(runs)]

    @property
    def confusion(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The best model's confusion matrix (`best`): counts, and shares of each true class."""
        return (
            metrics.confusion(self.best["labels"], self.best["pred"]),
            metrics.confusion(self.best["labels"], self.best["pred"], normalize=True),
        )

    @property
    def confused(self) -> pd.DataFrame:
        """The best model's most frequent errors: true class, predicted class, count, share of the true class."""
        return metrics.most_confused(self.best["labels"], self.best["pred"])

    @property
    def per_class(self) -> pd.DataFrame:
        """The best model's precision, recall and F1 per class."""
        return metrics.per_class(self.best["labels"], self.best["pred"])

    @property
    def recalls(self) -> dict[str, pd.DataFrame]:
        """Per evaluated label: precision, recall and F1 per class of its first seed."""
        return {label: metrics.per_class(r[min(r)]["labels"], r[min(r)]["pred"]) for label, r in self.results.items()}

    def misclassified(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Up to `n` misclassified test images of the best model: images, true labels, predictions."""
        best = self.best
        wrong = metrics.misclassified(best["labels"], best["pred"], n)
        return data.load().test_images[best["indices"][wrong]], best["labels"][wrong], best["pred"][wrong]


def run(setup: ReportSetup, top: int = 2, variants=None, alpha: float = 0.05) -> TestComparison:
    """Retrain the `top` models (by mean validation accuracy of section 2's runs: `variants`, or run here)
    on train + validation with every seed section 2 has, and evaluate them and the best model's train-only runs on the
    profile's test images. Compared paired over seeds (test accuracy, training accuracy, train − test
    gap; one Holm family each), Cochran's Q over all of them per seed, then McNemar per pair and seed
    (Holm over all McNemar tests)."""
    study, profile, device, margin = setup.study, setup.profile, setup.device, setup.margin
    study_runs = (variants or variants_section.run(setup)).runs
    final = final_metrics(study_runs)
    order = rank_models(final)
    models = order[:top]
    seeds = sorted(set(final["seed"]))
    values = values_by(final, "val_acc")
    ranking = stats.compare_family(values, stats.all_pairs(order), margin, alpha)  # no model chosen first
    trainval = get_or_train_many(
        [study.config(m, profile, s, device).replace(split="trainval") for m in models for s in seeds],
        store=setup.store,
    )
    runs = {TestComparison.label(models[0], "holdout"): [r for r in study_runs if r.config.name == models[0]]}
    runs.update({TestComparison.label(m): [r for r in trainval if r.config.name == m] for m in models})
    indices = test_indices(profile.test_subset)
    results = {label: {r.config.seed: evaluate_test(r, indices, device) for r in rs} for label, rs in runs.items()}
    rows = []
    for label, rs in runs.items():
        for r in rs:
            rep = results[label][r.config.seed]["report"]
            rows.append(
                {
                    "model": label,
                    "seed": r.config.seed,
                    "train images": r.metrics["train_size"],
                    "train_acc": r.metrics["train_acc"],
                    "train_eval_acc": train_eval_acc(r, device),
                    "val_acc": r.metrics.get("val_acc", float("nan")),
                    "test_acc": rep["acc"],
                    "test_precision": rep["precision"],
                    "test_recall": rep["recall"],
                    "test_loss": rep["loss"],
                    "test_gap": train_eval_acc(r, device) - rep["acc"],
                }
            )
    table = pd.DataFrame(rows)
    families, pairs, cochran, mcnemar = compare(table, results, list(runs), margin, alpha)
    return TestComparison(models, ranking, runs, results, table, families, pairs, cochran, mcnemar, order)


def compare(
    table: pd.DataFrame, results: dict[str, dict[int, dict]], labels: list[str], margin: float, alpha: float = 0.05
):
    """Section 3's tests on the evaluated `labels` (the best model's train-only runs first, then each model
    retrained on train + validation): the first two paired, then the best retrained against each other, over
    seeds on each metric of `TEST_COMPARED` (`table`: one row per label and seed; one Holm family per metric);
    Cochran's Q per seed over all labels (≥ 3); McNemar per pair and seed, Holm over all of them.
    Returns (families, pairs, cochran, mcnemar)."""
    pairs = [(labels[0], labels[1])] + [(labels[1], label) for label in labels[2:]]
    families = {m: stats.compare_family(values_by(table, m), pairs, margin, alpha) for m in TEST_COMPARED}
    seeds = sorted(set(table["seed"]))
    cochran = {}
    if len(labels) >= 3:
        for seed in seeds:
            if all(seed in results[label] for label in labels):
                cochran[seed] = stats.cochran_over([results[label][seed] for label in labels])
    tests = [
        {"a": a, "b": b, "seed": seed, "test": t.name, "discordant": t.n, "difference": t.difference, "p": t.p_value}
        for a, b in pairs
        for seed, t in stats.mcnemar_by_seed(results[a], results[b]).items()
    ]
    mcnemar = pd.DataFrame(tests, columns=["a", "b", "seed", "test", "discordant", "difference", "p"])
    mcnemar["p_holm"] = stats.holm(mcnemar["p"].tolist())
    return families, pairs, cochran, mcnemar
