"""Section 7, hyperparameters: R1's learning-rate decay (constant rate against step decay, paired over
seeds), R3's one-field sweeps around a base configuration, and the Optuna search whose trials train on
Ray, its best configuration retrained on train + validation and tested."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import optuna

from .. import tune
from ..setup import ReportSetup
from ..train.runs import RunConfig
from ..train.store import Run


@dataclass
class Hyperparameters:
    """Section 7's result."""

    decay: tune.DecayResult  # both schedules over the same seeds, tested
    base: RunConfig  # the sweeps' base configuration
    sweeps: dict[str, tune.SweepResult]  # field → its sweep
    plan: tune.SearchPlan  # the search: model, space, trials, storage
    study: optuna.Study  # the search's trials (continued from the storage; no trial runs twice)
    summary: dict[str, Any]  # finished, complete, pruned trials, best value, workers
    best_run: Run  # the best trial's configuration retrained on train + validation
    best_test: dict[str, float]  # its test metrics

    @property
    def trials(self):
        """The ten best trials by validation accuracy, with their parameters, the epochs each ran (a pruned
        trial stops early) and its minutes (where and how often it ran are the search's log, not results)."""
        frame = tune.trials_frame(self.study).sort_values("value", ascending=False).head(10)
        frame = frame.drop(columns=["worker", "retry_of"]).rename(columns={"value": "val_acc"})
        return frame.assign(seconds=frame["seconds"] / 60).rename(columns={"seconds": "minutes"}).round({"minutes": 1})


def run(
    setup: ReportSetup,
    decay_model: str = "r1_relu",
    decay_step: int = 5,
    decay_gamma: float = 0.5,
    search_model: str = "",
    search_trials: int = 0,
    search_storage: str = "",
    search_workers: int = 0,
    search_seed: int = 0,
) -> Hyperparameters:
    """Train (or read) the decay study, the sweeps and the search under `setup` (its profile, device,
    precision, seeds, margin and max_seeds); "" and 0 take the profile's defaults (`tune.plan_search`)."""
    profile, device, precision = setup.profile, setup.device, setup.precision
    decay = tune.decay_study(
        profile,
        device,
        decay_model,
        setup.seeds,
        margin=setup.margin,
        cap=setup.max_seeds,
        step_size=decay_step,
        gamma=decay_gamma,
        precision=precision,
    )
    base = tune.sweep_base(profile, device).replace(precision=precision)
    sweeps = tune.run_sweeps(profile, device, base)
    plan = tune.plan_search(
        search_model or None,
        profile.name,
        trials=search_trials or None,
        storage=search_storage or None,
        device=device,
        seed=search_seed,
        precision=precision,
    )
    study = tune.search(plan, search_workers)
    best_run, best_test = tune.retrain_best(study, plan, profile, device)
    return Hyperparameters(decay, base, sweeps, plan, study, tune.search_summary(study), best_run, best_test)
