"""The Optuna search whose trials train on Ray (`plan_search`, `search`, `python -m fashion_cnn tune`).

TPE over a search space (lr log-uniform,
  weight decay, batch size, epochs, dropout), median pruning on validation accuracy after every epoch.
  Optuna's ask/tell runs in this process (the driver); the trials train as Ray tasks through
  `schedule.train_many`, on this machine or a cluster (`--address`), each through the run store, so a
  retried trial resumes its checkpoint and a trial whose run is stored replays its epochs through the
  pruner. The study lives in the SQLite file `reports/tune.sqlite3` by default, or in the RDB of any
  SQLAlchemy URL (`--storage`); one driver works on a study at a time (`search` holds a lock in the run
  store: a second driver, e.g. another report on the same store, waits for the first).

Reproducibility: trials are proposed in batches (`SearchPlan.batch`, default 2). The trial in slot n (its
place in the search; a retry keeps the slot of the trial it retries) samples with TPE seeded by (plan
seed, n) (`sampler_seed`) from the finished trials of earlier batches only, and the median pruner compares
it with those only; a batch starts once the one before has finished. So a search gives the same trials
however many train at once (`--workers`), on one machine or many, straight through or resumed. An
interrupted search (Ctrl-C, a killed driver) leaves its running trials to be failed and queued again in
their slots: the same command continues it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from .. import config as cfg
from ..analysis.metrics import evaluate_on_test
from ..config import get_profile
from ..errors import ConfigError
from ..studies import get_study
from ..studies.sources import reported
from ..train.runs import RunConfig, run_key
from ..train.schedule import LOCAL_SECONDS, get_or_train_many, train_many
from ..train.store import Run, Store, device_name
from .space import CPU_MODEL, CPU_SPACE, DEFAULT_SPACE, QUICK_SPACE, Param, TuneError, parse_space, with_value
from .storage import default_storage, open_storage, redact

_logger = logging.getLogger(__name__)

R4_TUNED = "cnn_2/tuned"  # the arm of R4's study (R4.toml) the search is set beside
R4_TUNED_TEST = reported("R4", R4_TUNED, "holdout-test", "test_acc")  # R4's CNN_2 after its search, on test
# ----------------------------------------------------------------------------------------------
# Search


@dataclass(frozen=True)
class SearchPlan:
    """Everything a search needs: the fixed base config, the space, the total and where the study lives."""

    base: RunConfig  # fixed settings; searched names override them per trial
    space: dict[str, Param]  # searched dimensions
    trials: int  # total finished (complete + pruned) trials
    study_name: str  # the study's name in the storage
    storage: str  # SQLAlchemy URL
    pruner_startup: int = 5  # trials before the median pruner may prune
    pruner_warmup: int = 2  # epochs of a trial before it may be pruned
    tpe_startup: int = 10  # trials sampled at random before TPE models the results (Optuna's default)
    seed: int = 0  # TPE's seed: the trial in slot n samples with a seed made of (seed, n)
    batch: int = 2  # trials proposed together: slot n learns only from the slots before its batch

    def __post_init__(self):
        if self.batch < 1:
            raise TuneError(f"--batch {self.batch}: trials are proposed at least one at a time")

    def seen(self, slot: int) -> int:
        """How many slots the trial in `slot` learns from (sampler and pruner): those below its batch.

        All of them have finished before its batch starts, so a trial's proposal and its pruning never
        depend on which task was faster: the search is the same however many trials train at once.
        """
        return slot // self.batch * self.batch

    def config(self, params: dict[str, Any]) -> RunConfig:
        """The run config of a trial's parameters."""
        config = self.base
        for name, value in params.items():
            config = with_value(config, name, value)
        return config

    def signature(self) -> dict[str, Any]:
        """What must match for a search to continue an existing study."""
        base = self.base.to_dict() | {"device": None}
        if base["precision"] == "fp32":  # the default: studies made before the option still continue
            del base["precision"]
        return {"base": base, "space": {k: p.to_json() for k, p in self.space.items()}}


def plan_search(
    model: str | None = None,
    profile: str = "full",
    *,
    trials: int | None = None,
    space: dict | str | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    device: str = "auto",
    subset: int | None | str = "profile",
    precision: str = "fp32",
    **plan_options,
) -> SearchPlan:
    """A checked search plan. Defaults per profile: full searches cnn_2 (R4's) on all data for 30 trials
    on a GPU, and R0's dropout LeNet-5 (`CPU_MODEL`) for 20 trials on a CPU, where a CNN_2 trial takes
    about an hour; quick searches r3_lenet on 600 images for 4 trials, 1–2 epochs.

    Raises TuneError for an unknown profile or model, a bad space or a non-positive trial count.
    """
    try:
        prof = cfg.get_profile(profile)
        on_cpu = cfg.resolve_device(device) == "cpu"
    except ConfigError as err:
        raise TuneError(str(err)) from None
    quick = prof.name == "quick"
    cpu_full = not quick and on_cpu and model is None
    model = model or ("r3_lenet" if quick else CPU_MODEL if on_cpu else "cnn_2")
    trials = trials if trials is not None else (4 if quick else 20 if cpu_full else 30)
    if trials < 1:
        raise TuneError(f"--trials {trials}: the study needs at least one trial")
    if subset == "profile":
        subset = 600 if quick else prof.subset
    try:
        base = RunConfig(
            model,
            model_args={"n_base": 8} if quick and model.startswith("r3_") else {},
            epochs=prof.epochs,
            subset=subset,
            device=device,
            precision=precision,
        )
    except ConfigError as err:
        raise TuneError(str(err)) from None
    parsed = parse_space(
        space if space is not None else (QUICK_SPACE if quick else CPU_SPACE if cpu_full else DEFAULT_SPACE), base
    )
    defaults = {"pruner_startup": 2, "pruner_warmup": 0, "tpe_startup": 2} if quick else {}
    return SearchPlan(
        base,
        parsed,
        trials,
        study_name or f"{model}-{prof.name}",
        storage or default_storage(),
        **{**defaults, **plan_options},
    )


def sampler_seed(plan: SearchPlan, slot: int) -> int:
    """The TPE seed of the trial in `slot`: fixed by the plan's seed and the slot.

    With `SearchPlan.seen`, a search therefore proposes the same trials on every run, however many
    trials train at once, straight through or resumed.
    """
    return int(np.random.SeedSequence([plan.seed, slot]).generate_state(1)[0])


def _sampler(plan: SearchPlan, slot: int) -> optuna.samplers.TPESampler:
    return optuna.samplers.TPESampler(seed=sampler_seed(plan, slot), n_startup_trials=plan.tpe_startup)


def slot(trial: optuna.trial.FrozenTrial | optuna.Trial) -> int:
    """A trial's place in the search (its number, unless it retries an interrupted trial's slot)."""
    return trial.user_attrs.get("slot", trial.number)


class _SeenStudy:
    """What the pruner reads of a study (`get_trials`, `direction`), cut to the trials a trial learns from."""

    def __init__(self, study: optuna.Study, limit: int):
        self._study, self._limit = study, limit
        self.direction = study.direction

    def get_trials(self, deepcopy: bool = True, states=None) -> list[optuna.trial.FrozenTrial]:
        return [
            t
            for t in self._study.get_trials(deepcopy=deepcopy, states=states)
            if slot(t) < self._limit and t.state != TrialState.FAIL
        ]


class _BatchPruner(optuna.pruners.MedianPruner):
    """Optuna's median pruner, comparing a trial only with the complete trials before its batch."""

    def __init__(self, plan: SearchPlan):
        super().__init__(n_startup_trials=plan.pruner_startup, n_warmup_steps=plan.pruner_warmup)
        self._plan = plan

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        return super().prune(_SeenStudy(study, self._plan.seen(slot(trial))), trial)


def propose(plan: SearchPlan, study: optuna.Study, at: int) -> dict[str, Any]:
    """The parameters of the trial in slot `at`: TPE (seeded for that slot) on the trials it may learn from only."""
    view = optuna.create_study(direction="maximize", sampler=_sampler(plan, at))
    seen = _SeenStudy(study, plan.seen(at))
    view.add_trials(seen.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
    trial = view.ask()
    return {name: p.suggest(trial, name) for name, p in plan.space.items()}


def open_study(plan: SearchPlan, *, create: bool = True) -> optuna.Study:
    """Create the plan's study, or load it when it exists; TuneError when it was made with another plan."""
    storage = open_storage(plan.storage)
    pruner = _BatchPruner(plan)
    if create:
        study = optuna.create_study(
            study_name=plan.study_name,
            storage=storage,
            direction="maximize",
            sampler=_sampler(plan, 0),
            pruner=pruner,
            load_if_exists=True,
        )
    else:
        study = optuna.load_study(study_name=plan.study_name, storage=storage, sampler=_sampler(plan, 0), pruner=pruner)
    signature = json.loads(json.dumps(plan.signature()))
    stored = study.user_attrs.get("plan")
    if stored is None:
        study.set_user_attr("plan", signature)
    elif stored != signature:
        raise TuneError(
            f"study {plan.study_name!r} in {redact(plan.storage)} was made with another model or "
            f"search space; pass the same options to continue it, or --study-name NEW to start another"
        )
    finished = [slot(t) for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))]
    twice = sorted({n for n in finished if finished.count(n) > 1})
    if twice:  # two drivers ran it at once (before `search` took its lock): its trials are not the plan's
        raise TuneError(
            f"study {plan.study_name!r} in {redact(plan.storage)} has {finished.count(twice[0])} finished trials in "
            f"slot {twice[0]}, as two searches running it at once leave it: delete it (optuna delete-study "
            f"--study-name {plan.study_name} --storage URL) to search again, or use --study-name NEW"
        )
    study.set_user_attr("trials", plan.trials)
    study.set_user_attr("batch", plan.batch)
    return study


def study_counts(study: optuna.Study) -> dict[str, int]:
    """Trials per state: complete, pruned, fail, running, waiting (and finished = complete + pruned)."""
    states = [t.state for t in study.get_trials(deepcopy=False)]
    out = {
        s.name.lower(): states.count(s)
        for s in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING, TrialState.WAITING)
    }
    out["finished"] = out["complete"] + out["pruned"]
    return out


def _best(study: optuna.Study) -> float | None:
    done = [t.value for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    return max(done) if done else None


def _retry(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    """Fail an interrupted trial and queue its parameters again, in its slot."""
    if trial.state == TrialState.RUNNING:
        study.tell(trial.number, state=TrialState.FAIL)
    study.enqueue_trial(trial.params, user_attrs={"slot": slot(trial), "retry_of": trial.number}, skip_if_exists=False)


def _next_batch(study: optuna.Study, plan: SearchPlan) -> list[int]:
    """The unfinished slots of the first batch that has any (empty: the search is done)."""
    finished = {slot(t) for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))}
    left = [n for n in range(plan.trials) if n not in finished]
    return [n for n in left if n // plan.batch == left[0] // plan.batch] if left else []


def _ask(study: optuna.Study, plan: SearchPlan, slots: list[int]) -> dict[int, optuna.Trial]:
    """A trial for each slot: its queued retry, else TPE's proposal for the slot (queued, then asked)."""
    waiting = {slot(t) for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,))}
    for n in slots:
        if n not in waiting:
            study.enqueue_trial(propose(plan, study, n), user_attrs={"slot": n}, skip_if_exists=False)
    asked = {}
    while len(asked) < len(slots):
        trial = study.ask()
        asked[slot(trial)] = trial
    return asked


class _Batch:
    """One batch of trials training together: reports every epoch, prunes, and tells Optuna the results."""

    def __init__(self, study: optuna.Study, plan: SearchPlan, trials: dict[int, optuna.Trial]):
        self.study, self.plan = study, plan
        self.trials = list(trials.values())
        self.configs = [plan.config({name: p.suggest(t, name) for name, p in plan.space.items()}) for t in self.trials]
        self.keys = [run_key(c) for c in self.configs]
        self.reported = {t.number: 0 for t in self.trials}
        self.pruned: set[int] = set()
        self.told: set[int] = set()
        for t, c, key in zip(self.trials, self.configs, self.keys):
            t.set_user_attr("run_key", key)
            t.set_user_attr("sampler_seed", sampler_seed(plan, slot(t)))

    def _report(self, trial: optuna.Trial, history: list[dict]) -> bool:
        """Report the epochs not reported yet (a resumed or stored run meets the pruner at the same epochs
        as one trained now); True once the trial is pruned."""
        for e in range(self.reported[trial.number], len(history)):
            trial.report(history[e]["val_acc"], e)
            self.reported[trial.number] = e + 1
            if trial.should_prune():
                self.pruned.add(trial.number)
                return True
        return trial.number in self.pruned

    def _where(self, trial: optuna.Trial, where: dict, config: RunConfig) -> None:
        if "worker" not in trial.user_attrs:
            trial.set_user_attr("worker", f"{where.get('host')}:{where.get('pid')}")
            trial.set_user_attr("device", f"{device_name(cfg.resolve_device(config.device))} on {where.get('host')}")

    def on_epoch(self, key: str, history: list[dict], where: dict) -> bool:
        sharing = [(t, c) for t, c, k in zip(self.trials, self.configs, self.keys) if k == key]
        for t, c in sharing:
            self._where(t, where, c)
        return all(self._report(t, history) for t, _ in sharing)  # stop the run once every trial on it is pruned

    def on_diverged(self, key: str, err: Exception) -> None:
        for t, k in zip(self.trials, self.keys):
            if k == key:
                t.set_user_attr("diverged", str(err))
                self.pruned.add(t.number)

    def tell(self, results: list[Run | None], log: Callable[[str], None]) -> None:
        for trial, run in zip(self.trials, results):
            if run is not None:
                self._where(trial, run.provenance.get("trained_on") or {"host": "stored", "pid": "-"}, run.config)
                trial.set_user_attr("epoch_seconds", float(np.mean([r["seconds"] for r in run.history])))
                self._report(trial, run.history)
            if trial.number in self.pruned:
                self.study.tell(trial, state=TrialState.PRUNED)
                result = "pruned"
            else:
                self.study.tell(trial, float(run.metrics["val_acc"]))
                result = f"val_acc {run.metrics['val_acc']:.4f}"
            self.told.add(trial.number)
            n, best = study_counts(self.study), _best(self.study)
            log(
                f"trial {trial.number} {result} on {trial.user_attrs.get('worker', '?')} · "
                f"{n['finished']}/{self.plan.trials} finished" + (f" · best {best:.4f}" if best is not None else "")
            )

    def interrupted(self) -> None:
        """Fail the trials not told yet and queue them again, so that the next run retries them in their slots."""
        for trial in self.trials:
            if trial.number not in self.told:
                _retry(self.study, self.study.get_trials(deepcopy=False)[trial.number])


def search(
    plan: SearchPlan,
    workers: int = 0,
    *,
    log: Callable[[str], None] | None = None,
    timeout: float | None = None,
    local_seconds: float = LOCAL_SECONDS,
) -> optuna.Study:
    """Run the plan's study to `plan.trials` finished trials, a batch at a time, and return it loaded.

    Each batch's trials are proposed here and trained together through `schedule.train_many` (Ray,
    unless the batch is too small to pay for it: `local_seconds`); `workers` caps the trials training at
    once (0: the whole batch). The trials do not depend on `workers` (see `SearchPlan.seen`). `timeout`
    (seconds): no batch starts after it (run again to continue). Trials left running by an interrupted
    search are failed and retried in their slots first.
    """
    if workers < 0:
        raise TuneError(f"--workers {workers}: use at least one, or 0 for the whole batch at once")
    # One driver per study: a second (another report on the same store) waits for the first, then finds
    # the search done; two at once would both ask and tell the same slots.
    key = "search-" + hashlib.sha256(f"{plan.storage}|{plan.study_name}".encode()).hexdigest()[:16]
    with Store.default().lock(key, name=f"the search {plan.study_name!r} in {redact(plan.storage)}"):
        return _search(plan, workers, log=log, timeout=timeout, local_seconds=local_seconds)


def _search(
    plan: SearchPlan, workers: int, *, log: Callable[[str], None] | None, timeout: float | None, local_seconds: float
) -> optuna.Study:
    """`search`'s body, under the study's lock."""
    log = log or _logger.info
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = open_study(plan)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        _retry(study, trial)
    started = time.monotonic()
    while (slots := _next_batch(study, plan)) and (timeout is None or time.monotonic() - started <= timeout):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # enqueue_trial's user_attrs
            batch = _Batch(study, plan, _ask(study, plan, slots))
        try:
            results = train_many(
                batch.configs,
                progress=False,
                on_epoch=batch.on_epoch,
                on_diverged=batch.on_diverged,
                local_seconds=local_seconds,
                max_in_flight=workers or None,
            )
            batch.tell(results, log)
        except BaseException:
            batch.interrupted()
            raise
    return open_study(plan, create=False)


# ----------------------------------------------------------------------------------------------
# Results


def trials_frame(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: number, state, value, parameters, seconds and the worker that ran it."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        seconds = (
            (t.datetime_complete - t.datetime_start).total_seconds()
            if t.datetime_complete and t.datetime_start
            else None
        )
        rows.append(
            {
                "number": t.number,
                "state": t.state.name.lower(),
                "value": t.value,
                **t.params,
                "epochs_run": len(t.intermediate_values),
                "seconds": seconds,
                "worker": t.user_attrs.get("worker"),
                "retry_of": t.user_attrs.get("retry_of"),
            }
        )
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows).set_index("number")
    return frame.astype({"retry_of": "Int64"})  # a trial's number, or none: never 1.0000


def search_summary(study: optuna.Study) -> dict[str, Any]:
    """Counts per state, best value and parameters, trial seconds summed and the wall span of the study."""
    trials = study.get_trials(deepcopy=False)
    starts = [t.datetime_start for t in trials if t.datetime_start]
    ends = [t.datetime_complete for t in trials if t.datetime_complete]
    done = [t for t in trials if t.datetime_start and t.datetime_complete]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = max(complete, key=lambda t: t.value) if complete else None
    return {
        **study_counts(study),
        "total": study.user_attrs.get("trials"),
        "best_value": best.value if best else None,
        "best_params": dict(best.params) if best else {},
        "best_number": best.number if best else None,
        "trial_seconds": sum((t.datetime_complete - t.datetime_start).total_seconds() for t in done),
        "wall_seconds": (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0,
        "workers": sorted({t.user_attrs["worker"] for t in trials if "worker" in t.user_attrs}),
        "devices": sorted({t.user_attrs["device"] for t in trials if "device" in t.user_attrs}),
    }


def best_config(study: optuna.Study, plan: SearchPlan) -> RunConfig:
    """The run config of the best complete trial; TuneError when no trial has completed."""
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        raise TuneError(f"study {plan.study_name!r} has no complete trial yet: run python -m fashion_cnn tune first")
    return plan.config(study.best_params)


def retrain_best(
    study: optuna.Study, plan: SearchPlan, profile: cfg.Profile, device: str = "auto"
) -> tuple[Run, dict[str, float]]:
    """The best config retrained on train + validation (same epochs) and its test metrics."""
    (run,) = get_or_train_many([best_config(study, plan).replace(split="trainval")])
    return run, evaluate_on_test(run, profile, device)


def space_table(plan: SearchPlan) -> pd.DataFrame:
    """The searched dimensions: kind and range (or choices), one row per name."""
    return pd.DataFrame(
        [
            {
                "name": k,
                "kind": p.kind,
                "range": ", ".join(map(str, p.choices)) if p.kind == "choice" else f"{p.low:g} … {p.high:g}",
            }
            for k, p in plan.space.items()
        ]
    ).set_index("name")


def test_comparison(test: dict[str, float], run: Run) -> pd.DataFrame:
    """The retrained best config's test accuracy beside what R4 reported for its tuned CNN_2."""
    r4 = get_study("R4").config(R4_TUNED, get_profile("full"))  # R4's own settings of that run
    return pd.DataFrame(
        [
            {
                "source": f"this search: {run.config.model}, train + validation",
                "test images": test["n"],
                "epochs": run.config.epochs,
                "augmentation": ", ".join(run.config.augment) or "none",
                "test_acc": test["acc"],
            },
            {
                "source": "R4 (reported): CNN_2 after its search",
                "test images": 10000,  # R4 tested on the whole test set
                "epochs": r4.epochs,
                "augmentation": ", ".join(r4.augment) or "none",
                "test_acc": R4_TUNED_TEST.value,
            },
        ]
    ).set_index("source")
