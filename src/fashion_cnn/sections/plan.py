"""What a whole report will train, known before it trains anything, and how long that takes here.

Each section's runs come from the same functions the section calls (the study's configs, the decay
configs, the sweeps, the search's plan, each reproduced study's plan), so the plan follows the code.
Where a section's model depends on an earlier outcome (sections 3–5 take section 2's best), section 2's
ranking is read from the store when it holds section 2's runs, and the study's order stands in otherwise
(the count of runs is the same either way); seeds="auto" plans the 3-seed pilot and the fewest seeds a
choice can give after it, a floor; the search counts its trials left as if none were pruned, a ceiling. `estimate`
prices what the store does not hold with `runs.estimated_cpu_seconds`, spread over this machine's cores,
plus a fixed time per notebook for what is not training (kernels, test-set evaluation, t-SNE, figures).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..analysis.stats import PILOT_SEEDS
from ..setup import ReportSetup
from ..studies import get_study
from ..studies.sources import report_names
from ..train import runs
from ..train.runs import RunConfig
from ..train.store import Store
from ..tune.search import plan_search, study_counts
from ..tune.storage import missing_file
from ..tune.sweeps import decay_configs, default_sweeps, sweep_base

# Seconds a notebook spends on everything but training, per profile: measured on 2 cores, every run stored
# (docs/report.md: 1:41 for the full report's 9 notebooks, 2:14 for the quick one's); slower machines take longer.
OVERHEAD_SECONDS = {"quick": 12.0, "full": 20.0}
NOTEBOOKS = 9
DAY = 24 * 3600.0


@dataclass(frozen=True)
class Part:
    """The runs one section will ask for (`configs`), runs whose settings are chosen as it goes (`unplaced`:
    the search's trials left, each priced as its base config), and what stands in for what is not known yet."""

    section: str
    configs: tuple[RunConfig, ...]
    note: str = ""
    unplaced: tuple[RunConfig, ...] = ()


def _trials_left(plan) -> int:
    """The search's trials not finished yet in its storage (all of them when it holds no such study)."""
    import contextlib

    if missing_file(plan.storage):
        return plan.trials  # not opened: opening would create it
    with contextlib.suppress(Exception):  # no such study yet: all are left
        return max(0, plan.trials - study_counts(_stored_study(plan))["finished"])
    return plan.trials


def _stored_study(plan):
    """The search's study as its storage holds it, read only (`open_study` would record the plan in it)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=plan.study_name, storage=plan.storage)


def _seeds(setup: ReportSetup) -> list[int]:
    if setup.seeds == "auto":  # the pilot, then the fewest seeds a choice can give (2 fresh ones)
        return list(range(PILOT_SEEDS + 2))
    return list(range(int(setup.seeds)))


def _ranked(models: list[str], main: list[RunConfig], store: Store) -> tuple[list[str], bool]:
    """Section 2's ranking (mean validation accuracy, best first) when `store` holds all its runs, and True;
    else the study's own order standing in, and False."""
    accuracy: dict[str, list[float]] = {}
    for config in main:
        run = store.get(config) if store.has(config) else None
        if run is None:
            return list(models), False
        accuracy.setdefault(config.name, []).append(float(run.metrics["val_acc"]))
    return sorted(models, key=lambda m: -sum(accuracy[m]) / len(accuracy[m])), True


def _best_trial(plan) -> RunConfig:
    """The search's best trial retrained on train + validation; before the search has one, its base config."""
    import contextlib

    with contextlib.suppress(Exception):
        if _trials_left(plan) < plan.trials:
            return plan.config(_stored_study(plan).best_params).replace(split="trainval")
    return plan.base.replace(split="trainval")


def report_plan(setup: ReportSetup, reproduce: str | None = None, store: Store | None = None) -> list[Part]:
    """Every run the report's sections will train or read under `setup`, section by section (`reproduce`:
    notebook 08's reports, None for its default; `store`: where section 2's ranking is read from when it holds
    its runs, default the project's)."""
    study, profile, device = setup.study, setup.profile, setup.device
    seeds = _seeds(setup)
    main = study.configs(profile, seeds, device)
    order, known = _ranked(list(study.models), main, store or Store.default())
    note = "" if known else "the study's order standing in for section 2's ranking, not trained yet"
    best = order[0]
    trainval = [setup.config(m, s).replace(split="trainval") for m in order[:2] for s in seeds]
    other = next(m for m in order if m != study.baseline)  # section 4 compares the baseline with the best other
    folds = [
        setup.config(m, 0).replace(split="fold", fold=i, folds=profile.folds)
        for m in (study.baseline, other)
        for i in range(profile.folds)
    ]
    plain = [setup.config(best, s) for s in seeds]
    augmented = [c.replace(augment=tuple(study.augmentation)) for c in plain]
    decay = decay_configs(profile, device=device, precision=setup.precision)
    decayed = [c.replace(seed=s) for c in decay.values() for s in seeds]
    base_of_sweeps = sweep_base(profile, device).replace(precision=setup.precision)
    swept = [c for sweep in default_sweeps(profile, device, base_of_sweeps) for c in sweep.configs()]
    search = plan_search(None, profile.name, device=device, precision=setup.precision)
    names = report_names(reproduce or "auto", profile.name, device)
    reproduced = [
        j.config for name in names for j in get_study(name).at_precision(setup.precision).plan(profile, seeds, device)
    ]
    return [
        Part("2. Baseline and variants", tuple(main)),
        Part("3. Test evaluation", tuple(trainval), note),
        Part("4. k-fold cross-validation", tuple(folds), note),
        Part("5. Data augmentation", tuple(plain + augmented), note),
        Part("7. Hyperparameters", tuple(decayed + swept + [_best_trial(search)])),
        Part("7. Hyperparameters: the search", (), "its trials, none pruned", (search.base,) * _trials_left(search)),
        Part("8. Reproduction", tuple(reproduced), " ".join(names)),
    ]


@dataclass(frozen=True)
class Estimate:
    """How much of a plan the store holds and what the rest costs on this machine."""

    runs: int  # distinct runs the report reads
    stored: int  # of those, held by the store
    cpu_seconds: float  # single-core training time of the rest (`runs.estimated_cpu_seconds`)
    workers: int  # runs training at once here
    overhead: float  # seconds of the notebooks' other work

    @property
    def to_train(self) -> int:
        return self.runs - self.stored

    @property
    def seconds(self) -> float:
        """Wall-clock seconds for the whole report here."""
        return self.cpu_seconds / self.workers + self.overhead


def estimate(parts: list[Part], profile: str, store: Store | None = None, workers: int | None = None) -> Estimate:
    """Price `parts` against `store` (default: the project's): distinct runs, stored or to train, and the
    wall time on `workers` cores at once (default: this machine's, as the local Ray uses them)."""
    store = store or Store.default()
    unique = {runs.run_key(c): c for part in parts for c in part.configs}
    placed = len(unique) + sum(len(part.unplaced) for part in parts)
    missing = [c for key, c in unique.items() if not store.has(key)]
    cpu = sum(map(runs.estimated_cpu_seconds, missing + [c for part in parts for c in part.unplaced]))
    return Estimate(
        placed,
        len(unique) - len(missing),
        cpu,
        max(1, workers or os.cpu_count() or 1),
        OVERHEAD_SECONDS.get(profile, OVERHEAD_SECONDS["full"]) * NOTEBOOKS,
    )
