"""Section 6, t-SNE: the penultimate features of the study's best model (by default) on the test images,
mapped to two dimensions (openTSNE), a held-out share placed afterwards, and how the classes overlap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analysis import embed, metrics
from ..setup import ReportSetup
from ..train.schedule import get_or_train_many
from ..train.store import Run
from . import variants


@dataclass
class TSNE:
    """Section 6's result."""

    model: str
    seed: int  # of the model's run and of t-SNE
    run: Run
    evaluated: dict  # metrics.evaluate_test's output with features: labels, pred, features, report
    map: embed.TSNEResult  # the fitted map and the placed held-out points
    overlap: pd.DataFrame  # class pairs by their mean share of neighbours from the other class
    agreement: float  # share of held-out points whose nearest fitted neighbours agree on the class

    @property
    def labels(self) -> tuple[np.ndarray, np.ndarray]:
        """True classes of the fitted points and of the placed ones."""
        return self.evaluated["labels"][self.map.fit_idx], self.evaluated["labels"][self.map.new_idx]

    @property
    def wrong(self) -> np.ndarray:
        """Whether each fitted point is misclassified."""
        return (self.evaluated["pred"] != self.evaluated["labels"])[self.map.fit_idx]

    @property
    def confused(self) -> pd.DataFrame:
        return metrics.most_confused(self.evaluated["labels"], self.evaluated["pred"])


def run(setup: ReportSetup, model: str = "", held_out: float = 0.2, perplexity: float = 30.0, seed: int = 0) -> TSNE:
    """Map `model`'s ("": the study's best, section 2's ranking) features on the profile's test images."""
    name = model or variants.ranked(setup)[0]
    (trained,) = get_or_train_many([setup.config(name, seed)], store=setup.store)  # the scheduler reports it
    res = metrics.evaluate_test(trained, metrics.test_indices(setup.profile.test_subset), setup.device, features=True)
    fitted = embed.fit_with_held_out(
        res["features"], res["labels"], held_out=held_out, perplexity=perplexity, seed=seed, tag=trained.key
    )
    fit_labels, new_labels = res["labels"][fitted.fit_idx], res["labels"][fitted.new_idx]
    overlap = embed.class_overlap(fitted.xy, fit_labels)
    agreement = embed.neighbour_agreement(fitted.xy, fit_labels, fitted.xy_new, new_labels)
    return TSNE(name, seed, trained, res, fitted, overlap, agreement)
