"""Section 4, k-fold cross-validation: one model (the baseline by default) over k stratified folds of
the 60,000 training images, beside its hold-out run, and compared fold by fold with another model
(the study's best other model by default) on the same folds."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..analysis import metrics
from ..setup import ReportSetup
from ..studies import fold_configs
from ..train.runs import RunConfig
from ..train.schedule import get_or_train_many
from ..train.store import Run
from . import variants


@dataclass
class KFold:
    """Section 4's result."""

    model: str  # the model cross-validated
    other: str  # the model compared with it on the same folds ("": none)
    k: int
    seed: int  # training seed of every fold
    base: RunConfig  # the model's hold-out configuration the folds derive from
    runs: list  # every fold's run, the model's first, then the other's
    holdout: Run  # the model's run on the study's own train/validation split
    final: pd.DataFrame  # one row per fold run: its last epoch's metrics
    families: dict[str, list] | None  # metric → the pair's Nadeau–Bengio comparison (None: no other model)

    @property
    def own(self) -> pd.DataFrame:
        """The cross-validated model's folds."""
        return self.final[self.final["model"] == self.model]

    @property
    def history(self) -> pd.DataFrame:
        """Every epoch of the cross-validated model's folds."""
        return metrics.history([r for r in self.runs if r.config.name == self.model])

    @property
    def table(self) -> pd.DataFrame:
        """Per-fold last-epoch metrics of the model, then their mean and standard deviation."""
        return metrics.kfold_table(self.own)

    @property
    def sizes(self) -> tuple[int, int]:
        """Training and validation images of one fold."""
        return int(self.own["train_size"].iloc[0]), int(self.own["val_size"].iloc[0])


def run(setup: ReportSetup, model: str = "", compare: str = "best", folds: int = 0, seed: int = 0) -> KFold:
    """Cross-validate `model` ("": the baseline) over `folds` folds (0: the profile's) with `seed`, and
    `compare` ("best": the study's best other model, section 2's ranking; "": none) on the same folds."""
    name = model or setup.study.baseline
    k = folds or setup.profile.folds
    other = next(m for m in variants.ranked(setup) if m != name) if compare == "best" else compare
    base = setup.config(name, seed)
    configs = fold_configs(base, k) + (fold_configs(setup.config(other, seed), k) if other else [])
    *runs, holdout = get_or_train_many([*configs, base], store=setup.store)
    final = metrics.final_metrics(runs)
    families = metrics.kfold_compare(final, (name, other), setup.margin) if other else None
    return KFold(name, other, k, seed, base, runs, holdout, final, families)
