"""Hyperparameter studies: learning-rate decay, one-field sweeps and an Optuna search that scales past one machine.

* **Decay and sweeps** live in `sweeps` (re-exported here for notebook 07 and `make tune`).
* **Search** (`plan_search`, `search`, `python -m fashion_cnn.tune`): TPE over a search space (lr log-uniform,
  weight decay, batch size, epochs, dropout), median pruning on validation accuracy after every epoch.
  The study lives in an RDB: by default the SQLite file `reports/tune.sqlite3`, shared by the worker
  processes of one machine; any SQLAlchemy URL (PostgreSQL, MySQL) lets workers on many machines join
  the same study. Every trial trains through the run store, so a retried trial resumes its checkpoint.

Failure model: each running trial sends a heartbeat; a worker killed mid-trial leaves its trial RUNNING
until the heartbeat is `grace` seconds old, then the next worker marks it FAIL and re-queues its
parameters (`RetryHeartbeatStaleTrialCallback`). The total is enforced across workers: a worker starts
a trial only while finished + running trials < total (checked and asked under a file lock for SQLite,
so the count is exact; without a shared lock, workers that finish at the same instant can overshoot
by at most workers − 1). Running the same command again continues the same study (load_if_exists).

Reproducibility: trials are proposed in batches (`SearchPlan.batch`, default 2): trial n samples with
TPE seeded by (plan seed, n) (`sampler_seed`) from the finished trials before its batch only, and the
median pruner compares it with those only; a worker starts trial n once they have all finished. A trial
whose run comes from the store replays its epochs through the pruner. So a search gives the same trials
with one worker or `batch` workers, straight through or resumed, and `batch` workers stay busy.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from . import config as cfg
from .engine import TrainingDiverged
from .parallel import cpu_workers, exit_with_parent
from .runs import Run, RunConfig, device_name, get_or_train, run_key
from .sweeps import (QUICK_SUBSET, R1_TEST_ACC, SWEEP_VALUES, TIMING_NOISE, DecayResult, Sweep,  # noqa: F401
                     SweepResult, TuneError, _check_field, decay_configs, decay_study, default_sweeps, describe_config,
                     evaluate_on_test, run_sweeps, sweep_base, timing_sentence, with_value)

R4_TEST_ACC = 0.9291  # R4's tuned CNN_2 on the test set (with augmentation, 10 epochs)
# ----------------------------------------------------------------------------------------------
# Search space

PARAM_KINDS = ("log", "float", "int", "choice")


@dataclass(frozen=True)
class Param:
    """One searched dimension: `log`/`float`/`int` between low and high, or `choice` among values."""

    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()

    def suggest(self, trial: optuna.Trial, name: str) -> Any:
        if self.kind == "choice":
            return trial.suggest_categorical(name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(name, int(self.low), int(self.high))
        return trial.suggest_float(name, self.low, self.high, log=self.kind == "log")

    def extremes(self) -> list[Any]:
        return list(self.choices) if self.kind == "choice" else [self.low, self.high]

    def to_json(self) -> list:
        return [self.kind, list(self.choices)] if self.kind == "choice" else [self.kind, self.low, self.high]


SPACE_HELP = ('write the space as {"lr": ["log", 1e-4, 1e-2], "batch_size": ["choice", [32, 64, 128]], '
              '"epochs": ["int", 5, 15], "dropout": ["float", 0.0, 0.5]}')

# R4 searched lr, L2 strength, batch size and epochs for CNN_2; we add dropout (CNN_2 takes it).
DEFAULT_SPACE = {
    "lr": ["log", 1e-4, 1e-2],
    "weight_decay": ["log", 1e-6, 1e-2],
    "batch_size": ["choice", [32, 64, 128]],
    "epochs": ["int", 5, 15],
    "dropout": ["float", 0.0, 0.5],
}
# The full profile on a CPU searches R0's dropout LeNet-5 instead: a CNN_2 trial takes ~1 h on 2 cores.
CPU_MODEL = "lenet5_3x3_leaky_dropout"
CPU_SPACE = {**{k: v for k, v in DEFAULT_SPACE.items() if k != "dropout"}, "fc_dropout": DEFAULT_SPACE["dropout"]}
QUICK_SPACE = {
    "lr": ["log", 1e-4, 1e-2],
    "weight_decay": ["log", 1e-6, 1e-2],
    "batch_size": ["choice", [32, 64]],
    "epochs": ["int", 1, 2],
    "dropout": ["float", 0.0, 0.5],
}


def parse_space(spec: dict | str, base: RunConfig) -> dict[str, Param]:
    """Check a search space (a dict or its JSON text) against `base`'s model; raise TuneError on any fault."""
    if isinstance(spec, str):
        try:
            spec = json.loads(Path(spec).read_text() if not spec.lstrip().startswith("{") else spec)
        except (OSError, json.JSONDecodeError) as err:
            raise TuneError(f"search space {spec[:60]!r} is neither JSON nor a readable JSON file ({err}); {SPACE_HELP}") from None
    if not isinstance(spec, dict) or not spec:
        raise TuneError(f"the search space must be a non-empty mapping from names to [kind, …]; {SPACE_HELP}")
    space: dict[str, Param] = {}
    for name, entry in spec.items():
        where = f"search space {name!r}"
        if not isinstance(entry, (list, tuple)) or not entry or entry[0] not in PARAM_KINDS:
            raise TuneError(f"{where}: {entry!r} does not start with a kind ({', '.join(PARAM_KINDS)}); {SPACE_HELP}")
        kind = entry[0]
        if kind == "choice":
            if len(entry) != 2 or not isinstance(entry[1], (list, tuple)) or not entry[1]:
                raise TuneError(f"{where}: a choice needs a non-empty list, e.g. [\"choice\", [32, 64]]")
            param = Param(kind, choices=tuple(entry[1]))
        else:
            if len(entry) != 3 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in entry[1:]):
                raise TuneError(f"{where}: {kind} needs two numbers, e.g. [\"{kind}\", low, high]")
            low, high = entry[1], entry[2]
            if not low < high:
                raise TuneError(f"{where}: low={low} must be below high={high}; swap them or use [\"choice\", [{low}]]")
            if kind == "log" and low <= 0:
                raise TuneError(f"{where}: a log range needs low > 0 (got {low}); use e.g. 1e-6 as the low end")
            if kind == "int" and not (float(low).is_integer() and float(high).is_integer()):
                raise TuneError(f"{where}: an int range needs whole numbers (got {low}, {high})")
            param = Param(kind, float(low) if kind != "int" else int(low), float(high) if kind != "int" else int(high))
        _check_field(base, name, param.extremes(), where)
        space[name] = param
    return space


# ----------------------------------------------------------------------------------------------
# Storage

DRIVERS = {"postgresql": "psycopg2-binary", "mysql": "PyMySQL (and use mysql+pymysql://)"}  # pip names


def default_storage() -> str:
    """`sqlite:///<REPORTS_DIR>/tune.sqlite3`: shared by the workers of one machine."""
    return f"sqlite:///{cfg.REPORTS_DIR / 'tune.sqlite3'}"


def _redact(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parseable: show it as given
        return url


def open_storage(url: str | None = None, *, heartbeat: int = 10, grace: int = 30, max_retry: int = 2) -> optuna.storages.RDBStorage:
    """An RDB storage with heartbeats: a trial whose worker died is failed after `grace` s and re-queued.

    Raises TuneError (one line: cause and fix) when the URL is malformed, its driver is missing or the
    database cannot be reached.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    url = url or default_storage()
    shown = _redact(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise TuneError(f"storage {url!r} is not a database URL: use sqlite:////abs/path.sqlite3 or "
                        f"postgresql://user:password@host:5432/db (or omit --storage for {default_storage()})") from None
    engine_kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            folder = Path(database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise TuneError(f"storage {shown}: cannot create the folder {folder} ({err.strerror}); "
                                f"choose a writable path or omit --storage") from None
        engine_kwargs["connect_args"] = {"timeout": 60}  # wait for another worker's write instead of failing
    elif parsed.get_backend_name() in ("postgresql", "mysql"):
        engine_kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat, grace_period=grace,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry))
    except ImportError:
        driver = DRIVERS.get(parsed.get_backend_name(), "the SQLAlchemy driver of this database")
        raise TuneError(f"storage {shown} needs a database driver that is not installed: pip install {driver} "
                        f"into .venv on every worker machine, or omit --storage") from None
    except (SQLAlchemyError, OSError) as err:
        cause = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
        raise TuneError(f"cannot reach storage {shown} ({cause}); check host, port, credentials and that the "
                        f"database exists, or omit --storage to use {default_storage()}") from None


class _Lock:
    """A file lock beside a SQLite database (no-op for other URLs): makes 'count, then ask' atomic."""

    def __init__(self, url: str):
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        self._lock = None
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            from filelock import FileLock

            self._lock = FileLock(f"{parsed.database}.lock")

    def acquire(self) -> None:
        if self._lock is not None:
            self._lock.acquire()

    def release(self) -> None:
        if self._lock is not None and self._lock.is_locked:
            self._lock.release(force=True)


# ----------------------------------------------------------------------------------------------
# Search

@dataclass(frozen=True)
class SearchPlan:
    """Everything a worker needs: the fixed base config, the space, the total and where the study lives."""

    base: RunConfig  # fixed settings; searched names override them per trial
    space: dict[str, Param]  # searched dimensions
    trials: int  # total finished (complete + pruned) trials across all workers
    study_name: str  # the study's name in the storage
    storage: str  # SQLAlchemy URL
    pruner_startup: int = 5  # trials before the median pruner may prune
    pruner_warmup: int = 2  # epochs of a trial before it may be pruned
    tpe_startup: int = 10  # trials sampled at random before TPE models the results (Optuna's default)
    heartbeat: int = 10  # seconds between a running trial's heartbeats
    grace: int = 30  # seconds without a heartbeat before a trial counts as dead
    seed: int = 0  # TPE's seed: trial n samples with a seed made of (seed, n)
    batch: int = 2  # trials proposed together: trial n learns only from the trials before its batch

    def __post_init__(self):
        if self.batch < 1:
            raise TuneError(f"--batch {self.batch}: trials are proposed at least one at a time")

    def seen(self, number: int) -> int:
        """How many trials trial `number` learns from (sampler and pruner): those numbered below its batch.

        Every one of them has finished before trial `number` starts (workers wait for that), so a trial's
        proposal and its pruning never depend on which worker was faster: the search is the same with one
        worker or `batch` workers, and up to `batch` workers stay busy.
        """
        return number // self.batch * self.batch

    def config(self, params: dict[str, Any]) -> RunConfig:
        """The run config of a trial's parameters."""
        config = self.base
        for name, value in params.items():
            config = with_value(config, name, value)
        return config

    def signature(self) -> dict[str, Any]:
        """What must match for a worker to join an existing study."""
        return {"base": self.base.to_dict() | {"device": None},
                "space": {k: p.to_json() for k, p in self.space.items()}}


def plan_search(model: str | None = None, profile: str = "full", *, trials: int | None = None,
                space: dict | str | None = None, storage: str | None = None, study_name: str | None = None,
                device: str = "auto", subset: int | None | str = "profile", **plan_options) -> SearchPlan:
    """A checked search plan. Defaults per profile: full searches cnn_2 (R4's) on all data for 30 trials
    on a GPU, and R0's dropout LeNet-5 (`CPU_MODEL`) for 20 trials on a CPU, where a CNN_2 trial takes
    about an hour; quick searches r3_lenet on 600 images for 4 trials, 1–2 epochs.

    Raises TuneError for an unknown profile or model, a bad space or a non-positive trial count.
    """
    try:
        prof = cfg.get_profile(profile)
    except ValueError as err:
        raise TuneError(str(err)) from None
    quick = prof.name == "quick"
    try:
        on_cpu = cfg.resolve_device(device) == "cpu"
    except ValueError as err:
        raise TuneError(str(err)) from None
    cpu_full = not quick and on_cpu and model is None
    model = model or ("r3_lenet" if quick else CPU_MODEL if on_cpu else "cnn_2")
    trials = trials if trials is not None else (4 if quick else 20 if cpu_full else 30)
    if trials < 1:
        raise TuneError(f"--trials {trials}: the study needs at least one trial")
    if subset == "profile":
        subset = 600 if quick else prof.subset
    try:
        base = RunConfig(model, model_args={"n_base": 8} if quick and model.startswith("r3_") else {},
                         epochs=prof.epochs, subset=subset, device=device)
    except ValueError as err:
        raise TuneError(str(err)) from None
    parsed = parse_space(space if space is not None else (QUICK_SPACE if quick else CPU_SPACE if cpu_full
                                                          else DEFAULT_SPACE), base)
    defaults = dict(pruner_startup=2, pruner_warmup=0, tpe_startup=2) if quick else {}
    return SearchPlan(base, parsed, trials, study_name or f"{model}-{prof.name}", storage or default_storage(),
                      **{**defaults, **plan_options})


def sampler_seed(plan: SearchPlan, number: int) -> int:
    """The TPE seed of trial `number`: fixed by the plan's seed and the trial's number.

    With `SearchPlan.seen`, a search therefore proposes the same trials on every run, whether it runs
    in one worker or several, straight through or resumed.
    """
    return int(np.random.SeedSequence([plan.seed, number]).generate_state(1)[0])


def _sampler(plan: SearchPlan, number: int) -> optuna.samplers.TPESampler:
    return optuna.samplers.TPESampler(seed=sampler_seed(plan, number), n_startup_trials=plan.tpe_startup)


class _SeenStudy:
    """What the pruner reads of a study (`get_trials`, `direction`), cut to the trials a trial learns from."""

    def __init__(self, study: optuna.Study, limit: int):
        self._study, self._limit = study, limit
        self.direction = study.direction

    def get_trials(self, deepcopy: bool = True, states=None) -> list[optuna.trial.FrozenTrial]:
        return [t for t in self._study.get_trials(deepcopy=deepcopy, states=states) if t.number < self._limit]


class _BatchPruner(optuna.pruners.MedianPruner):
    """Optuna's median pruner, comparing a trial only with the complete trials before its batch."""

    def __init__(self, plan: SearchPlan):
        super().__init__(n_startup_trials=plan.pruner_startup, n_warmup_steps=plan.pruner_warmup)
        self._plan = plan

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        return super().prune(_SeenStudy(study, self._plan.seen(trial.number)), trial)


def propose(plan: SearchPlan, study: optuna.Study, number: int) -> dict[str, Any]:
    """Trial `number`'s parameters: TPE (seeded for that number) on the trials it may learn from only."""
    view = optuna.create_study(direction="maximize", sampler=_sampler(plan, number))
    seen = _SeenStudy(study, plan.seen(number))
    view.add_trials(seen.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
    trial = view.ask()
    return {name: p.suggest(trial, name) for name, p in plan.space.items()}


def open_study(plan: SearchPlan, *, create: bool = True) -> optuna.Study:
    """Create the plan's study, or load it when it exists; TuneError when it was made with another plan."""
    storage = open_storage(plan.storage, heartbeat=plan.heartbeat, grace=plan.grace)
    pruner = _BatchPruner(plan)
    if create:
        study = optuna.create_study(study_name=plan.study_name, storage=storage, direction="maximize",
                                    sampler=_sampler(plan, 0), pruner=pruner, load_if_exists=True)
    else:
        study = optuna.load_study(study_name=plan.study_name, storage=storage, sampler=_sampler(plan, 0), pruner=pruner)
    signature = json.loads(json.dumps(plan.signature()))
    stored = study.user_attrs.get("plan")
    if stored is None:
        study.set_user_attr("plan", signature)
    elif stored != signature:
        raise TuneError(f"study {plan.study_name!r} in {_redact(plan.storage)} was made with another model or "
                        f"search space; pass the same options to continue it, or --study-name NEW to start another")
    study.set_user_attr("trials", plan.trials)
    study.set_user_attr("batch", plan.batch)
    return study


def study_counts(study: optuna.Study) -> dict[str, int]:
    """Trials per state: complete, pruned, fail, running, waiting (and finished = complete + pruned)."""
    states = [t.state for t in study.get_trials(deepcopy=False)]
    out = {s.name.lower(): states.count(s) for s in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL,
                                                      TrialState.RUNNING, TrialState.WAITING)}
    out["finished"] = out["complete"] + out["pruned"]
    return out


def _next_number(study: optuna.Study) -> int:
    """The number of the trial `optimize` starts next: a re-queued (WAITING) one first, else a new one."""
    trials = study.get_trials(deepcopy=False)
    waiting = [t.number for t in trials if t.state == TrialState.WAITING]
    return min(waiting) if waiting else len(trials)


def _next_step(study: optuna.Study, plan: SearchPlan) -> str:
    """'go' (start a trial), 'wait' (for others' trials: the study's last ones, or the next trial's
    earlier batches) or 'stop'."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # a dead worker's trial → FAIL, re-queued as WAITING
    n = study_counts(study)
    if n["finished"] >= plan.trials:
        return "stop"
    if n["finished"] + n["running"] >= plan.trials:
        return "wait"
    limit = plan.seen(_next_number(study))
    busy = (TrialState.RUNNING, TrialState.WAITING)
    return "wait" if any(t.number < limit and t.state in busy for t in study.get_trials(deepcopy=False)) else "go"


def _best(study: optuna.Study) -> float | None:
    done = [t.value for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    return max(done) if done else None


class _Objective:
    """Train one trial through the run store, reporting validation accuracy after every epoch."""

    def __init__(self, plan: SearchPlan, lock: _Lock, worker: int):
        self.plan, self.lock, self.worker = plan, lock, worker
        self.number: int | None = None  # the trial this worker ran last

    def __call__(self, trial: optuna.Trial) -> float:
        self.lock.release()  # the trial exists now: other workers may count and ask
        self.number = trial.number
        params = {name: p.suggest(trial, name) for name, p in self.plan.space.items()}
        config = self.plan.config(params)
        trial.set_user_attr("run_key", run_key(config))
        trial.set_user_attr("sampler_seed", sampler_seed(self.plan, trial.number))
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        trial.set_user_attr("device", f"{device_name(cfg.resolve_device(config.device))} on {socket.gethostname()}")

        reported = 0

        def report(epoch: int, history: list[dict], *_):
            # every epoch not reported yet: a run resumed from its checkpoint, or loaded whole from the
            # store, meets the pruner at the same epochs as one trained from scratch
            nonlocal reported
            for e in range(reported, len(history)):
                value = history[e]["val_acc"]
                trial.report(value, e)
                reported = e + 1
                if trial.should_prune():
                    raise optuna.TrialPruned(f"val_acc {value:.4f} after epoch {e + 1} is below the median")

        try:
            run = get_or_train(config, on_epoch_end=report, progress=False, name=f"trial {trial.number}")
        except TrainingDiverged as err:  # a diverging setting is a (bad) result, not a crash
            trial.set_user_attr("diverged", str(err))
            raise optuna.TrialPruned(str(err)) from None
        report(len(run.history) - 1, run.history)
        trial.set_user_attr("epoch_seconds", float(np.mean([r["seconds"] for r in run.history])))
        return float(run.metrics["val_acc"])


def run_worker(plan: SearchPlan, worker: int = 0, *, runs_dir: str | None = None, threads: int | None = None,
               log: Callable[[str], None] | None = None, poll: float | None = None, timeout: float | None = None) -> int:
    """Run trials of the plan's study until it has `plan.trials` finished trials; returns how many this worker ran.

    With `timeout` (seconds) the worker starts no trial after that time (the running one finishes; the
    study stays open for the next run). Prints one line per trial: this worker's trial, its result,
    finished/total and the best value so far.
    """
    started = time.monotonic()
    if runs_dir is not None:
        cfg.RUNS_DIR = Path(runs_dir)  # the parent's run store (also when a test redirected it)
    if threads:
        import torch
        torch.set_num_threads(threads)
    log = log or (lambda line: print(line, flush=True))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = open_study(plan, create=False)
    lock = _Lock(plan.storage)
    objective = _Objective(plan, lock, worker)
    ran = 0
    while True:
        lock.acquire()
        try:
            step = _next_step(study, plan)
            if timeout is not None and time.monotonic() - started > timeout:
                step = "stop"
            if step == "go":  # exact under the lock: the next trial's number, and all it may learn from
                number = _next_number(study)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    study.sampler = optuna.samplers.PartialFixedSampler(propose(plan, study, number),
                                                                        _sampler(plan, number))
                study.optimize(objective, n_trials=1, catch=())  # the objective releases the lock once asked
        finally:
            lock.release()
        if step == "stop":
            break
        if step == "wait":  # the remaining trials are running elsewhere (or are dead and not yet stale)
            time.sleep(poll or max(1.0, plan.heartbeat / 2))
            continue
        ran += 1
        trial = study.get_trials(deepcopy=False)[objective.number]
        n = study_counts(study)
        best = _best(study)
        result = f"val_acc {trial.value:.4f}" if trial.state == TrialState.COMPLETE else trial.state.name.lower()
        log(f"[worker {worker}] trial {trial.number} {result} · {n['finished']}/{plan.trials} finished"
            + (f" · best {best:.4f}" if best is not None else ""))
    return ran


def _worker_main(plan: SearchPlan, worker: int, runs_dir: str, threads: int, timeout: float | None = None,
                 parent: int | None = None) -> None:
    os.environ.setdefault("FASHION_CNN_QUIET", "1")
    if parent is not None:  # a killed caller: end too; the trial's heartbeat stops and the next run re-queues it
        exit_with_parent(parent)
    try:
        run_worker(plan, worker, runs_dir=runs_dir, threads=threads, timeout=timeout)
    except TuneError as err:
        print(f"[worker {worker}] error: {err}", file=sys.stderr, flush=True)
        sys.exit(2)


def auto_workers(plan: SearchPlan) -> int:
    """Workers worth starting on this machine: on a CPU one per idle core, at most `plan.batch` (more would
    wait for the batch before theirs); on a GPU one."""
    on_cpu = cfg.resolve_device(plan.base.device) == "cpu"
    return cpu_workers(plan.batch) if on_cpu else 1


def search(plan: SearchPlan, workers: int = 1, *, log: Callable[[str], None] | None = None,
           timeout: float | None = None) -> optuna.Study:
    """Run the plan's study to `plan.trials` finished trials with `workers` processes (1: in this process;
    0: `auto_workers`). The trials do not depend on `workers` (see `SearchPlan.seen`).

    The study is created (or checked) first, so every worker joins the same one; returns it loaded.
    `timeout` (seconds): no worker starts a trial after it (run again to continue).
    """
    if workers < 0:
        raise TuneError(f"--workers {workers}: use at least one worker, or 0 for one per idle core")
    workers = workers or auto_workers(plan)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial comes from the workers
    open_study(plan)
    if workers == 1:
        run_worker(plan, 0, log=log, timeout=timeout)
    else:
        threads = max(1, (os.cpu_count() or 1) // workers)
        ctx = mp.get_context("spawn")
        procs = [ctx.Process(target=_worker_main, args=(plan, i, str(cfg.RUNS_DIR), threads, timeout, os.getpid()))
                 for i in range(workers)]
        for p in procs:
            p.start()
        try:
            for p in procs:
                p.join()
        except KeyboardInterrupt:
            for p in procs:
                p.join(timeout=30)
            raise
        bad = [f"worker {i} exited with {p.exitcode}" for i, p in enumerate(procs) if p.exitcode != 0]
        if bad:
            raise RuntimeError(f"{'; '.join(bad)}: see its output above; the study is kept, run the same command to continue")
    return open_study(plan, create=False)


# ----------------------------------------------------------------------------------------------
# Results

def trials_frame(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: number, state, value, parameters, seconds and the worker that ran it."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        seconds = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete and t.datetime_start else None
        rows.append({"number": t.number, "state": t.state.name.lower(), "value": t.value, **t.params,
                     "epochs_run": len(t.intermediate_values), "seconds": seconds,
                     "worker": t.user_attrs.get("worker"), "retry_of": t.system_attrs.get("failed_trial")})
    return pd.DataFrame(rows).set_index("number") if rows else pd.DataFrame()


def search_summary(study: optuna.Study) -> dict[str, Any]:
    """Counts per state, best value and parameters, trial seconds summed and the wall span of the study."""
    trials = study.get_trials(deepcopy=False)
    starts = [t.datetime_start for t in trials if t.datetime_start]
    ends = [t.datetime_complete for t in trials if t.datetime_complete]
    done = [t for t in trials if t.datetime_start and t.datetime_complete]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = max(complete, key=lambda t: t.value) if complete else None
    return {**study_counts(study), "total": study.user_attrs.get("trials"),
            "best_value": best.value if best else None, "best_params": dict(best.params) if best else {},
            "best_number": best.number if best else None,
            "trial_seconds": sum((t.datetime_complete - t.datetime_start).total_seconds() for t in done),
            "wall_seconds": (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0,
            "workers": sorted({t.user_attrs["worker"] for t in trials if "worker" in t.user_attrs}),
            "devices": sorted({t.user_attrs["device"] for t in trials if "device" in t.user_attrs})}


def best_config(study: optuna.Study, plan: SearchPlan) -> RunConfig:
    """The run config of the best complete trial; TuneError when no trial has completed."""
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        raise TuneError(f"study {plan.study_name!r} has no complete trial yet: run python -m fashion_cnn.tune first")
    return plan.config(study.best_params)


def retrain_best(study: optuna.Study, plan: SearchPlan, profile: cfg.Profile, device: str = "auto") -> tuple[Run, dict[str, float]]:
    """The best config retrained on train + validation (same epochs) and its test metrics."""
    run = get_or_train(best_config(study, plan).replace(split="trainval"))
    return run, evaluate_on_test(run, profile, device)


def space_table(plan: SearchPlan) -> pd.DataFrame:
    """The searched dimensions: kind and range (or choices), one row per name."""
    return pd.DataFrame([{"name": k, "kind": p.kind,
                          "range": ", ".join(map(str, p.choices)) if p.kind == "choice" else f"{p.low:g} … {p.high:g}"}
                         for k, p in plan.space.items()]).set_index("name")


def search_figures(study: optuna.Study) -> dict[str, Any]:
    """Optuna's matplotlib figures: optimisation history, parameter importances (needs 2+ complete
    trials), parallel coordinates and the validation accuracy per epoch of every trial."""
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as ovm

    from . import plots

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    makers = {"history": ovm.plot_optimization_history, "parallel": ovm.plot_parallel_coordinate,
              "intermediate": ovm.plot_intermediate_values}
    if len(complete) >= 2:
        makers["importances"] = ovm.plot_param_importances
    figures = {}
    for name, make in makers.items():
        with warnings.catch_warnings(), plt.rc_context():  # optuna switches to its ggplot style: keep ours
            warnings.simplefilter("ignore")
            ax = make(study)
        ax = ax.flat[0] if isinstance(ax, np.ndarray) else ax
        fig = ax.figure
        fig.set_size_inches(plots.WIDTH, 3.2)
        if name in ("history", "intermediate"):
            ax.set_ylabel("validation accuracy")
        if name == "intermediate" and ax.get_legend() is not None:
            ax.get_legend().remove()  # one entry per trial says nothing
        plt.close(fig)
        figures[name] = fig
    return figures


def test_comparison(test: dict[str, float], run: Run) -> pd.DataFrame:
    """The retrained best config's test accuracy beside R4's reported 92.91%."""
    return pd.DataFrame([
        {"source": f"this search: {run.config.model}, train + validation", "test images": test["n"],
         "epochs": run.config.epochs, "augmentation": ", ".join(run.config.augment) or "none", "test_acc": test["acc"]},
        {"source": "R4 (reported): CNN_2 after its search", "test images": 10000, "epochs": 10,
         "augmentation": "yes", "test_acc": R4_TEST_ACC},
    ]).set_index("source")


def describe_search(summary: dict[str, Any], test: dict[str, float], run: Run, plan: SearchPlan) -> list[str]:
    """The closing note, generated from the study and the retrained run's measured numbers."""
    prov = run.provenance
    diff = (test["acc"] - R4_TEST_ACC) * 100
    where = ", ".join(summary["devices"]) or "?"
    return [
        f"The search ran {summary['finished']} finished trials of {plan.base.model} ({summary['complete']} complete, "
        f"{summary['pruned']} pruned, {summary['fail']} failed and retried or replaced) out of a total of {summary['total']}, "
        f"over {len(summary['workers'])} worker process(es) on {where}; the trials took {summary['trial_seconds'] / 60:.1f} min "
        f"of training in a wall span of {summary['wall_seconds'] / 60:.1f} min.",
        f"The best trial (#{summary['best_number']}) reached {summary['best_value']:.2%} validation accuracy with "
        + ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in summary["best_params"].items()) + ".",
        f"Retrained on train + validation ({run.metrics['train_size']} images, {run.config.epochs} epochs, "
        f"{'with' if run.config.augment else 'without'} augmentation) on {prov.get('device_name', '?')}, it scores "
        f"{test['acc']:.2%} on {test['n']} test images, {diff:+.2f} points against R4's "
        f"{R4_TEST_ACC:.2%} (R4: CNN_2 with augmentation, 10 epochs; one run each: no test, so no "
        "difference or equivalence is claimed)"
        + ("." if run.config.model == "cnn_2" else
           f"; {run.config.model} is not CNN_2, so this compares two searches, not one model's settings."),
    ]


# ----------------------------------------------------------------------------------------------
# Command line

def main(argv: Sequence[str] | None = None) -> int:
    """`python -m fashion_cnn.tune`: run (or continue) an Optuna study with several worker processes."""
    parser = argparse.ArgumentParser(prog="python -m fashion_cnn.tune", description=main.__doc__)
    parser.add_argument("--workers", type=int, default=0,
                        help="worker processes on this machine (default 0: one per idle CPU core up to --batch; 1 on a GPU)")
    parser.add_argument("--storage", default=None, help=f"SQLAlchemy URL of the study (default {default_storage()})")
    parser.add_argument("--trials", type=int, default=None, help="total finished trials across all workers (full: 30 on a GPU, 20 on a CPU; quick: 4)")
    parser.add_argument("--model", default=None, help=f"model to tune (full: cnn_2 on a GPU, {CPU_MODEL} on a CPU; quick: r3_lenet)")
    parser.add_argument("--profile", default="full", choices=sorted(cfg.PROFILES), help="data and epochs (default full)")
    parser.add_argument("--study-name", default=None, help="study name (default <model>-<profile>)")
    parser.add_argument("--space", default=None, help="search space as JSON text or a JSON file; " + SPACE_HELP)
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds after which workers start no new trial (run again to continue)")
    parser.add_argument("--seed", type=int, default=0,
                        help="TPE's seed (default 0): the same seed and batch propose the same trials, with any number of workers")
    parser.add_argument("--batch", type=int, default=SearchPlan.batch,
                        help=f"trials proposed together, each learning only from earlier batches (default {SearchPlan.batch}); "
                             "up to this many workers stay busy")
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        plan = plan_search(args.model, args.profile, trials=args.trials, space=args.space, storage=args.storage,
                           study_name=args.study_name, device=args.device, seed=args.seed, batch=args.batch)
        workers = args.workers or auto_workers(plan)
        print(f"study {plan.study_name!r} in {_redact(plan.storage)}: {plan.trials} trials of {plan.base.model}, "
              f"batches of {plan.batch}, {workers} worker(s)", flush=True)
        study = search(plan, workers, timeout=args.timeout)
    except TuneError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the study is kept; run the same command to continue it", file=sys.stderr)
        return 130
    s = search_summary(study)
    best = f"best val_acc {s['best_value']:.4f} with {s['best_params']}" if s["best_value"] is not None else "no complete trial"
    state = "done" if s["finished"] >= plan.trials else "stopped early (run the same command to continue)"
    print(f"{state}: {s['finished']}/{plan.trials} finished ({s['complete']} complete, {s['pruned']} pruned, "
          f"{s['fail']} failed), {best}, trial time {s['trial_seconds'] / 60:.1f} min, "
          f"wall span {s['wall_seconds'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
