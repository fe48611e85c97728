"""A study's runs and what sections measure from them: the main view with its comparisons (section 2,
which the summary and section 3 start from too), its best models retrained on train + validation
and compared on the test set (section 3), and the folds of k-fold cross-validation (section 4)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import config as cfg
from .. import stats
from ..metrics import (
    compare_pairs,
    evaluate_test,
    final_metrics,
    mean_std,
    model_facts,
    rank_models,
    test_indices,
    values_by,
)
from ..schedule import get_or_train_many
from .study import SeedPlan, seed_plan

TEST_COMPARED = ("test_acc", "train_acc", "test_gap")  # section 3's families (test_gap: train − test accuracy)


@dataclass
class MainView:
    """Section 2: every model of a study's main view trained with each seed of its plan, the
    last-epoch metrics, the study's comparisons and the models' facts. The summary, section 2 and
    section 3 all start from `main_view`, so the summary reads the very numbers the sections show."""

    seed_plan: SeedPlan  # n seeds, and the pilot's choice under seeds="auto"
    runs: list  # one Run per model × seed, trained once, then read from the store
    final: pd.DataFrame  # one row per run: its last epoch's metrics
    families: dict[str, list]  # metric → stats.Comparison per pair of the study (one Holm family per metric)
    facts: pd.DataFrame  # model → parameters, multiply-adds, seconds per epoch, best epoch


def main_view(
    study,
    profile,
    seeds: int | str = "default",
    device: str = "auto",
    margin: float = cfg.MARGIN,
    max_seeds: int = cfg.AUTO_SEEDS_CAP,
) -> MainView:
    """Train (or read from the store) a study's main view with the seeds `studies.seed_plan` chooses
    ("auto": a pilot picks n ≤ `max_seeds` at the equivalence `margin`, a fraction) and compare its pairs."""
    plan = seed_plan(study, profile, seeds, device, margin, max_seeds)
    runs = get_or_train_many(study.configs(profile, plan.seeds, device))
    final = final_metrics(runs)
    return MainView(plan, runs, final, compare_pairs(final, study.pairs, margin), model_facts(final))


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
            ("train_acc", "val_acc", "test_acc", "test_precision", "test_recall", "test_loss"),
            by="model",
            percent=("train_acc", "val_acc", "test_acc", "test_precision", "test_recall"),
        )

    @property
    def best(self) -> dict:
        """Test predictions of the best model retrained on train + validation, seed 0."""
        runs = self.results[self.label(self.models[0])]
        return runs[min(runs)]


def compare_on_test(
    study, study_runs, profile, device: str = "auto", top: int = 2, margin: float = 0.005, alpha: float = 0.05
) -> TestComparison:
    """Retrain the `top` models (by mean validation accuracy of `study_runs`) on train + validation
    with every seed `study_runs` has, and evaluate them and the best model's train-only runs on the
    profile's test images. Compared paired over seeds (test accuracy, training accuracy, train − test
    gap; one Holm family each), Cochran's Q over all of them per seed, then McNemar per pair and seed
    (Holm over all McNemar tests)."""
    final = final_metrics(study_runs)
    order = rank_models(final)
    models = order[:top]
    seeds = sorted(set(final["seed"]))
    values = values_by(final, "val_acc")
    ranking = stats.compare_family(values, stats.all_pairs(order), margin, alpha)  # no model chosen first
    trainval = get_or_train_many(
        [study.config(m, profile, s, device).replace(split="trainval") for m in models for s in seeds]
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
                    "val_acc": r.metrics.get("val_acc", float("nan")),
                    "test_acc": rep["acc"],
                    "test_precision": rep["precision"],
                    "test_recall": rep["recall"],
                    "test_loss": rep["loss"],
                    "test_gap": r.metrics["train_acc"] - rep["acc"],
                }
            )
    table = pd.DataFrame(rows)
    labels = list(runs)
    pairs = [(labels[0], labels[1])] + [(labels[1], label) for label in labels[2:]]
    families = {m: stats.compare_family(values_by(table, m), pairs, margin, alpha) for m in TEST_COMPARED}
    cochran = {}
    if len(labels) >= 3:
        for seed in seeds:
            if all(seed in results[label] for label in labels):
                truth = results[labels[0]][seed]["labels"]
                cochran[seed] = stats.cochran_q(
                    np.column_stack([results[label][seed]["pred"] == truth for label in labels])
                )
    tests = []
    for a, b in pairs:
        for seed in seeds:
            if seed in results[a] and seed in results[b]:
                ra, rb = results[a][seed], results[b][seed]
                t = stats.mcnemar_test(ra["labels"], ra["pred"], rb["pred"])
                tests.append(
                    {
                        "a": a,
                        "b": b,
                        "seed": seed,
                        "test": t.name,
                        "discordant": t.n,
                        "difference": t.difference,
                        "p": t.p_value,
                    }
                )
    mcnemar = pd.DataFrame(tests, columns=["a", "b", "seed", "test", "discordant", "difference", "p"])
    mcnemar["p_holm"] = stats.holm(mcnemar["p"].tolist())
    return TestComparison(models, ranking, runs, results, table, families, pairs, cochran, mcnemar, order)


def fold_configs(config, k: int) -> list:
    """The k RunConfigs of stratified k-fold cross-validation of `config` (same subset and split seed)."""
    return [config.replace(split="fold", fold=i, folds=k) for i in range(k)]
