"""Section 5, data augmentation: the study's best model (by default) trained with and without the
study's augmentation on section 2's seeds, evaluated on the test images and compared paired over seeds."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..analysis import data_stats, metrics
from ..analysis.stats import SeedPlan
from ..present import tables
from ..setup import ReportSetup
from ..train.schedule import get_or_train_many
from . import variants

COMPARED = ("val_acc", "test_acc", "train_eval_acc", "gap")


@dataclass
class Augmentation:
    """Section 5's result."""

    model: str
    augmentations: tuple[str, ...]
    plan: SeedPlan  # section 2's seeds
    runs: list  # plain runs, one per seed, then the augmented ones
    final: pd.DataFrame  # one row per run, with test metrics; `augment` is "none" or the augmentations joined by +
    families: dict[str, list]  # metric of COMPARED → the augmented-against-plain comparison

    @property
    def label(self) -> str:
        """The augmented runs' label in `final`'s `augment` column."""
        return "+".join(self.augmentations)

    @property
    def history(self) -> pd.DataFrame:
        return metrics.history(self.runs)

    @property
    def table(self) -> pd.DataFrame:
        """Train, validation and test accuracy and test loss with and without augmentation, mean ± std."""
        return tables.mean_std(
            self.final,
            ("train_acc", "train_eval_acc", "val_acc", "test_acc", "test_loss"),
            by="augment",
            percent=("train_acc", "train_eval_acc", "val_acc", "test_acc"),
        )

    def examples(self, samples: int) -> dict:
        """`samples` training images unchanged, under each augmentation alone, and under all of them."""
        return data_stats.augmentation_examples(list(self.augmentations), samples)


def run(setup: ReportSetup, model: str = "", augmentations=()) -> Augmentation:
    """Train `model` ("": the study's best, section 2's ranking) on section 2's seeds without and with
    `augmentations` (empty: the study's own), and compare them on validation and test accuracy,
    training accuracy and the generalisation gap."""
    main = variants.run(setup)  # section 2: its seeds and, unless given, its best model
    plan, name = main.plan, model or main.order[0]
    augmentations = tuple(augmentations) or tuple(setup.study.augmentation)
    plain = [setup.config(name, s) for s in plan.seeds]
    runs = get_or_train_many(plain + [c.replace(augment=augmentations) for c in plain], store=setup.store)
    final = metrics.final_metrics(runs, test=metrics.test_indices(setup.profile.test_subset), device=setup.device)
    families = metrics.compare_pairs(
        final, [("none", "+".join(augmentations))], setup.margin, by="augment", compared=COMPARED
    )
    return Augmentation(name, augmentations, plan, runs, final, families)
