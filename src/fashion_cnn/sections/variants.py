"""Section 2, the study's main view: every model of the baseline and its variants trained with each
seed of the plan, their last-epoch metrics, the comparisons and the models' facts.

The seed plan (`seed_plan`) and the ranking (`ranked`) are taken from here by every other section, so
the summary, the test evaluation, k-fold, augmentation and t-SNE all see the same seeds and the same
best model.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..analysis import metrics, stats
from ..analysis.stats import SeedPlan
from ..present import tables, text
from ..setup import ReportSetup
from ..train.schedule import get_or_train_many


def seed_plan(setup: ReportSetup) -> SeedPlan:
    """The seeds section 2 tests (`stats.plan_seeds`): the setup's number, or under "auto" n fresh seeds
    after a pilot of `stats.PILOT_SEEDS` seeds per model (trained here, or read from the store), n chosen
    from the pilot's comparisons of validation accuracy for 80% power at the margin, at most
    `max_seeds`. Deterministic given the stored pilot, so every notebook gets the same seeds."""
    study = setup.study

    def pilot(seeds):
        configs = study.configs(setup.profile, seeds, setup.device)
        return metrics.values_by(metrics.final_metrics(get_or_train_many(configs, store=setup.store)))

    return stats.plan_seeds(setup.seeds, pilot, study.pairs, setup.margin, setup.max_seeds)


@dataclass
class Variants:
    """Section 2's result."""

    plan: SeedPlan  # n seeds, and the pilot's choice under seeds="auto"
    runs: list  # one Run per model × seed, trained once, then read from the store
    final: pd.DataFrame  # one row per run: its last epoch's metrics
    families: dict[str, list]  # metric → stats.Comparison per pair of the study (one Holm family per metric)
    facts: pd.DataFrame  # model → parameters, multiply-adds, seconds per epoch, best epoch
    order: list[str]  # the models by mean validation accuracy, best first

    @property
    def history(self) -> pd.DataFrame:
        """Every epoch of every run (the training curves)."""
        return metrics.history(self.runs)

    @property
    def metrics(self) -> pd.DataFrame:
        """Last-epoch train and validation metrics per model, mean ± std over seeds."""
        return tables.mean_std(
            self.final,
            ("train_acc", "train_eval_acc", "val_acc", "val_precision", "val_recall", "train_loss", "val_loss"),
            percent=("train_acc", "train_eval_acc", "val_acc", "val_precision", "val_recall"),
        )

    @property
    def means(self) -> pd.DataFrame:
        """Mean validation accuracy per model with its 95% interval over seeds."""
        return stats.mean_table(metrics.values_by(self.final, "val_acc"))

    @property
    def accuracy(self) -> float:
        """Mean validation accuracy over every run (what the margin is set against)."""
        return float(self.final["val_acc"].mean())

    @property
    def val_size(self) -> int:
        """Validation images per run."""
        return int(self.final["val_size"].iloc[0])

    @property
    def ranking(self) -> list:
        """Every pair of models on validation accuracy, one Holm family (no model chosen first)."""
        val = self.families["val_acc"]
        margin, alpha = (val[0].margin, val[0].alpha) if val else (0.005, 0.05)
        return stats.compare_family(
            metrics.values_by(self.final, "val_acc"), stats.all_pairs(self.order), margin, alpha
        )

    @property
    def contenders(self) -> list[str]:
        """The models the ranking leaves as possibly the best, best mean first."""
        return stats.not_below(self.ranking, self.order)

    def discussion(self, study) -> list[str]:
        """The discussion's paragraphs (`text.discussion`; `study`: the setup's, whose changes they discuss)."""
        epochs = int(self.history["epoch"].max())
        gaps = self.final.groupby("model", sort=False)["gap"].mean()
        return text.discussion(
            self.families, self.facts, self.history, gaps, study, self.ranking, self.contenders, epochs
        )

    @property
    def weights(self) -> pd.DataFrame:
        """Every run's stored weights by model and seed."""
        return tables.weights_table(self.runs)


def run(setup: ReportSetup) -> Variants:
    """Train (or read from the store) the study's main view with the seeds of `seed_plan` and compare its
    pairs, one Holm family per metric."""
    plan = seed_plan(setup)
    runs = get_or_train_many(setup.study.configs(setup.profile, plan.seeds, setup.device), store=setup.store)
    final = metrics.final_metrics(runs)
    families = metrics.compare_pairs(final, setup.study.pairs, setup.margin)
    return Variants(plan, runs, final, families, metrics.model_facts(final), metrics.rank_models(final))


def ranked(setup: ReportSetup) -> list[str]:
    """The main view's models by mean validation accuracy over the seeds section 2 tests, best first:
    every section that takes "the study's best model" takes it from here."""
    return run(setup).order
