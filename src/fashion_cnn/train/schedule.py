"""Many runs at once on Ray: a local instance by default, a cluster when given an address.

Every multi-run workload (a study's runs, folds and retrains, the sweeps, the search's trials)
goes through `get_or_train_many`. Stored runs load without Ray; the rest become Ray tasks:

* CPU: a task per run, asking for one CPU; the run uses one torch thread (`engine.SPEED`, sent
  with the task), so its numbers are bit-identical to the same run trained alone.
* GPU: runs of one architecture that differ only in seed or fold train as one vmapped stack
  (`stacked`) in a task holding a whole GPU; any other run asks for a share (`gpu_share`), so
  several small models train on one GPU at once; every GPU of the cluster is used.

No shared filesystem: this process (the driver) owns the run store. A task trains in node-local
scratch, sends each epoch's checkpoint to a small actor on the driver's node (`_Relay`) and
returns its finished run's files; the driver writes both into the store, atomically, under the
run's lock, so two drivers on one store never train a run twice. A task whose worker dies (killed,
out of memory, its node lost) is retried once by Ray and resumes from the last checkpoint the relay
holds, losing at most one epoch; a second failure stops with one line naming the run, the node
and the cause. An exception here (Ctrl-C; SIGTERM, which the command lines turn into Ctrl-C)
cancels every task; finished runs stay stored, the others keep their last checkpoint.

`connect` starts Ray on first need: with RAY_ADDRESS (`--address`, `ADDRESS=…` in make) it joins
that cluster; otherwise it starts a local instance sized to this machine (dashboard off, quiet)
that ends with this process. Without an address, a single run, or work estimated under
`LOCAL_SECONDS` of CPU time, trains here, one run after another, with the same numbers: starting
Ray and its first workers costs ~10-20 s on 2 cores. `FASHION_CNN_RAY_RESOURCES` (JSON, e.g. '{"big_gpu": 1}') adds custom
Ray resources every task asks for, to pin the work to some nodes.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from .. import config as cfg
from ..atomic import write_bytes, write_json
from ..errors import ConfigError, Error
from ..models import user_files as model_files
from . import engine, runs
from .progress import Bar
from .runs import RunConfig
from .store import Run, RunBusy, Store
from .training import default_progress, get_or_train

LOCAL_SECONDS = 30.0  # without an address, less estimated CPU work than this trains in this process
RESOURCES_ENV = "FASHION_CNN_RAY_RESOURCES"
POLL_SECONDS = 0.5  # how often the driver collects epochs and finished runs
EpochCallback = Callable[[str, list[dict], dict], bool]  # (run key, history so far, where) → True: stop that run
DivergedCallback = Callable[[str, engine.TrainingDiverged], None]


# In a notebook kernel, importing Ray logs that ipywidgets is missing, into the report's output: not worth it.
logging.getLogger("ray.widgets.util").setLevel(logging.WARNING)


class RunFailed(Error, RuntimeError):
    """A run's task failed twice without an error of its own (its worker died, its node was lost)."""


class ClusterUnreachable(Error, ValueError):
    """The Ray address given (RAY_ADDRESS, --address, ADDRESS=) answers no connection."""


def _check_reachable(address: str) -> None:
    """Fail in one line when `host:port` refuses a TCP connection (Ray's own connect retries for minutes)."""
    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return  # "auto", a ray:// client address: left to Ray
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as err:
        raise ClusterUnreachable(
            f"no Ray cluster answers at {address} ({err.strerror or err}): start its head with "
            "`ray start --head --port=PORT` there, or unset ADDRESS/RAY_ADDRESS to train on "
            "a local Ray"
        ) from None


def cluster_address() -> str | None:
    """The Ray cluster to join (RAY_ADDRESS, which `--address` sets); None: a local Ray."""
    return os.environ.get("RAY_ADDRESS") or None


def connect(address: str | None = None) -> None:
    """Join the Ray cluster at `address` (default: RAY_ADDRESS) or start a local one; once per process.

    The local instance has this machine's cores and GPUs, no dashboard and quiet logs, and shuts down
    when the process exits. Ray replaces the SIGTERM handler when it starts: ours is put back. An
    address nothing answers at raises `ClusterUnreachable` (a ValueError: the commands exit 2).
    """
    import ray

    if ray.is_initialized():
        return
    address = address or cluster_address()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    on_main = threading.current_thread() is threading.main_thread()
    sigterm = signal.getsignal(signal.SIGTERM) if on_main else None
    quiet = {"log_to_driver": False, "logging_level": "error", "include_dashboard": False}
    if address:
        _check_reachable(address)
        ray.init(address=address, **quiet)
    else:
        ray.init(
            address="local",
            num_cpus=cfg.usable_cores(),
            num_gpus=torch.cuda.device_count(),
            object_store_memory=512 * 2**20,
            **quiet,
        )
    if on_main and sigterm is not None:
        signal.signal(signal.SIGTERM, sigterm)
    atexit.register(ray.shutdown)


def gpu_share(config: RunConfig) -> float:
    """The share of a GPU one run of `config` asks for: a quarter for a LeNet-sized model (under
    ~2 M multiply-adds an image), half up to ~50 M, else a whole GPU."""
    from ..models import mult_adds

    macs = mult_adds(config.model, **config.model_args)
    return 0.25 if macs < 2e6 else 0.5 if macs < 5e7 else 1.0


def _extra_resources() -> dict[str, float]:
    text = os.environ.get(RESOURCES_ENV, "").strip()
    if not text:
        return {}
    try:
        extra = json.loads(text)
        assert isinstance(extra, dict) and all(isinstance(v, (int, float)) for v in extra.values())
    except (ValueError, AssertionError):
        raise ConfigError(
            f'{RESOURCES_ENV}={text!r} is not a JSON object of resource amounts: write it as {{"name": 1}}'
        ) from None
    return extra


# ----------------------------------------------------------------------------------------------
# What runs on the cluster


class _Relay:
    """An actor on the driver's node: tasks send it each epoch's checkpoint (and where they run); the
    driver drains those into the store, and a retried task asks it for the run's latest checkpoint."""

    def __init__(self):
        self.latest: dict[str, bytes] = {}
        self.events: list[tuple] = []

    def started(self, keys: list[str], where: dict) -> None:
        self.events.append(("started", keys, where))

    def epoch(self, key: str, history: list[dict], blob: bytes) -> None:
        self.latest[key] = blob
        self.events.append(("epoch", key, history, blob))

    def checkpoints(self, keys: list[str]) -> list[bytes | None]:
        return [self.latest.get(k) for k in keys]

    def forget(self, keys: list[str]) -> None:
        for k in keys:
            self.latest.pop(k, None)

    def drain(self) -> list[tuple]:
        events, self.events = self.events, []
        return events


_RELAY: tuple[str, object] | None = None  # (the cluster's GCS address, the relay actor there)


def _relay():
    """This process's relay, started once per cluster (an actor's worker takes seconds to start)."""
    global _RELAY
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    cluster = ray.get_runtime_context().gcs_address
    if _RELAY is None or _RELAY[0] != cluster:
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        _RELAY = (cluster, ray.remote(_Relay).options(num_cpus=0, scheduling_strategy=here).remote())
    return _RELAY[1]


def _where(on_ray: bool = True) -> dict[str, object]:
    """Where this process trains: host, Ray node id (None outside Ray) and pid."""
    node = None
    if on_ray:
        import ray

        node = ray.get_runtime_context().get_node_id()
    return {"host": socket.gethostname(), "ray_node": node, "pid": os.getpid()}


SCRATCH = "fashion-cnn-"  # a training task's scratch folder: fashion-cnn-<pid>-<random> in the temp folder


def _alive(pid: int) -> bool:
    try:  # signal 0: no signal, only whether the process exists
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        pass
    return True


def sweep_scratch(folder: str | None = None) -> list[Path]:
    """Remove our scratch folders of training tasks whose process is gone (cancelled with force: no `finally`
    ran) and return them; a live task's folder, or one not named by a process id, is left alone."""
    removed = []
    for path in Path(folder or tempfile.gettempdir()).glob(f"{SCRATCH}*"):
        found = re.fullmatch(rf"{SCRATCH}(\d+)-.+", path.name)
        try:
            mine = path.is_dir() and path.stat().st_uid == os.getuid()
        except OSError:
            continue
        if found and mine and not _alive(int(found.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _train_task(
    configs: list[dict],
    keys: list[str],
    saved: list[bytes | None],
    speed: engine.Speed,
    relay,
    sources: list[tuple[str, str]],
) -> dict[str, dict[str, bytes]]:
    """Train one run, or a stack of runs, in node-local scratch; return each run's files by key.

    Runs in a Ray worker: its store is a temporary folder of this node, seeded with each run's latest
    checkpoint (the relay's, from an earlier attempt of this task, else the one the store held when it
    was submitted, `saved`), and every finished epoch's checkpoint goes back to the relay. `sources`:
    (path, text) of the users' model files the runs' models come from, loaded here first.
    """
    import ray

    where = _where()
    relay.started.remote(keys, where)
    for path, text in sources:
        model_files.load_text(path, text)
    configs = [RunConfig.from_dict(c) for c in configs]
    sweep_scratch()  # what earlier tasks cancelled with force left behind on this node
    with tempfile.TemporaryDirectory(prefix=f"{SCRATCH}{os.getpid()}-") as scratch, engine.speed(**asdict(speed)):
        store = Store(scratch)  # this task's store, on this node
        for config, key in zip(configs, keys):
            if runs.run_key(config) != key:
                raise RunFailed(
                    f"node {where['host']} computes another run key for {config.model} seed "
                    f"{config.seed}: install the driver's commit and dataset on every node"
                )
        blobs = [latest or first for latest, first in zip(ray.get(relay.checkpoints.remote(keys)), saved)]
        for key, blob in zip(keys, blobs):
            if blob:
                write_bytes(store.checkpoint(key), blob)

        def send(key: str, history: list[dict]) -> None:
            relay.epoch.remote(key, history, store.checkpoint(key).read_bytes())

        if len(configs) > 1 and not any(blobs):
            from .stacked import StackedTrainer

            StackedTrainer(configs, store, progress=False, on_epoch_end=send).fit()
        for config, key in zip(configs, keys):  # one by one; a stack's members are stored already
            hook = lambda e, history, *_, key=key: send(key, history)
            get_or_train(config, store=store, progress=False, on_epoch_end=hook)
        out = {}
        for key in keys:
            prov = json.loads((store.path(key) / "provenance.json").read_text())
            write_json(store.path(key) / "provenance.json", {**prov, "trained_on": where})
            out[key] = store.files(key)
        return out


# ----------------------------------------------------------------------------------------------
# The driver


@dataclass
class _Task:
    """Runs trained by one Ray task (one run, or a stack on a GPU), the locks held for them and where it runs."""

    configs: dict[str, RunConfig]
    resources: dict[str, float]
    locks: dict[str, contextlib.ExitStack] = field(default_factory=dict)
    where: dict = field(default_factory=dict)

    def release(self, key: str | None = None) -> None:
        """Release the lock of run `key` (None: of every run of the task)."""
        for k in [key] if key is not None else list(self.locks):
            if k in self.locks:
                self.locks.pop(k).close()

    def name(self) -> str:
        c = next(iter(self.configs.values()))
        return f"run {next(iter(self.configs))} ({c.title}" + (
            f" and {len(self.configs) - 1} more in its stack)" if len(self.configs) > 1 else ")"
        )


def _tasks(todo: dict[str, RunConfig], store: Store, max_stack: int) -> list[_Task]:
    """The Ray tasks for `todo`, longest first: stacks of GPU runs where they can stack, else one per run."""
    from .stacked import can_stack, stack_signature

    extra = _extra_resources()

    def options(gpus: float) -> dict:
        return {"num_cpus": 1, **({"num_gpus": gpus} if gpus else {}), **({"resources": extra} if extra else {})}

    groups: dict[str, dict[str, RunConfig]] = {}
    tasks = []
    for key, c in todo.items():
        on_gpu = torch.device(cfg.resolve_device(c.device)).type == "cuda"
        if on_gpu and not store.checkpoint(key).is_file():  # a resumed run trains alone
            groups.setdefault(stack_signature(c), {})[key] = c
        else:
            tasks.append(_Task({key: c}, options(gpu_share(c) if on_gpu else 0)))
    for group in groups.values():
        keys = list(group)
        for i in range(0, len(keys), max_stack):
            chunk = {k: group[k] for k in keys[i : i + max_stack]}
            if len(chunk) > 1 and can_stack(list(chunk.values())):
                tasks.append(_Task(chunk, options(1)))
            else:
                tasks += [_Task({k: c}, options(gpu_share(c))) for k, c in chunk.items()]
    return sorted(tasks, key=lambda t: -sum(map(runs.estimated_cpu_seconds, t.configs.values())))


def _sources(configs) -> list[tuple[str, str]]:
    """(path, text) of each user's model file that `configs`' models come from, for a Ray task."""
    files = {f.sha256: f for c in configs if (f := model_files.source(c.model))}
    return [(f.path, f.text) for f in files.values()]


class _Driver:
    """Submits the tasks (a window at a time, each holding its runs' locks), writes what comes back
    into the store, and cancels everything on any exception."""

    def __init__(
        self,
        todo: dict[str, RunConfig],
        store: Store,
        *,
        progress: bool,
        on_epoch: EpochCallback | None,
        on_diverged: DivergedCallback | None,
        max_in_flight: int | None,
        max_stack: int,
    ):
        import ray

        connect()
        self.ray, self.store = ray, store
        self.pending = _tasks(todo, store, max_stack)
        self.relay = _relay()
        # What an earlier call's last tasks sent after it ended, discarded before any task of this call can
        # send: a new relay takes seconds to start, and the calls queued for it by different callers (this
        # process, a task's worker) arrive in any order, so a drain left running could discard a task's "started".
        ray.get(self.relay.drain.remote())
        self.remote = ray.remote(max_retries=1)(_train_task)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.window = max_in_flight or max(2, 2 * cpus)
        self.inflight: dict = {}  # ObjectRef → _Task
        self.owner: dict[str, _Task] = {}  # run key → its task, while in flight
        self.stopped: set[str] = set()
        self.on_epoch, self.on_diverged = on_epoch, on_diverged
        nodes = len([n for n in ray.nodes() if n.get("Alive")])
        self.bar = Bar(todo, store, f"on Ray ({cpus} CPUs, {nodes} node{'s' * (nodes != 1)})", progress)

    def run(self) -> set[str]:
        """Train every task; returns the keys of the runs `on_epoch` stopped."""
        try:
            while self.pending or self.inflight:
                self._submit()
                if not self.inflight:
                    continue
                done, _ = self.ray.wait(list(self.inflight), num_returns=len(self.inflight), timeout=POLL_SECONDS)
                self._drain()
                for ref in done:
                    if ref in self.inflight:  # not stopped by `on_epoch` meanwhile
                        self._finish(ref, self.inflight.pop(ref))
            return self.stopped
        except BaseException:
            for ref in self.inflight:
                self.ray.cancel(ref, force=True)
            with contextlib.suppress(Exception):
                self._drain(timeout=10)  # the last checkpoints that arrived: an interrupted run loses at most one epoch
            raise
        finally:
            for task in list(self.inflight.values()) + list(self.owner.values()):
                task.release()
            self.relay.forget.remote(list(self.bar.epochs))
            self.bar.close()

    def _submit(self) -> None:
        while self.pending and len(self.inflight) < self.window:
            task = self.pending.pop(0)
            for key in list(task.configs):
                if not self._claim(task, key):  # another driver trains it (loaded at the end), or it is stored now
                    del task.configs[key]
                    task.release(key)
                    self.bar.run_done(key)
            if not task.configs:
                continue
            keys = list(task.configs)
            saved = [self.store.checkpoint(key) for key in keys]
            for key in keys:
                self.owner[key] = task
            ref = self.remote.options(**task.resources).remote(
                [c.to_dict() for c in task.configs.values()],
                keys,
                [p.read_bytes() if p.is_file() else None for p in saved],
                engine.SPEED,
                self.relay,
                _sources(task.configs.values()),
            )
            self.inflight[ref] = task

    def _claim(self, task: _Task, key: str) -> bool:
        c, lock = task.configs[key], contextlib.ExitStack()
        try:
            lock.enter_context(self.store.lock(key, wait=False, what=f" ({c.title})"))
        except RunBusy:
            return False
        task.locks[key] = lock
        return not self.store.has(key)

    def _drain(self, timeout: float | None = None) -> None:
        for event in self.ray.get(self.relay.drain.remote(), timeout=timeout):
            if event[0] == "started":
                _, keys, where = event
                for key in keys:
                    if key in self.owner:
                        self.owner[key].where = where
                continue
            _, key, history, blob = event
            if key not in self.owner:  # finished, stopped or cancelled meanwhile
                continue
            write_bytes(self.store.checkpoint(key), blob)
            self.bar.epoch(key, len(history))
            if self.on_epoch is not None and self.on_epoch(key, history, self.owner[key].where):
                self._stop(key)

    def _stop(self, key: str) -> None:
        """End the task training `key` (its checkpoint stays); a stack's other members lose their epoch."""
        task = self.owner[key]
        for ref, t in list(self.inflight.items()):
            if t is task:
                self.ray.cancel(ref, force=True)
                del self.inflight[ref]
        for k in task.configs:
            self.owner.pop(k, None)
            self.stopped.add(k)
        task.release()

    def _finish(self, ref, task: _Task) -> None:
        import ray.exceptions as rex

        try:
            results = self.ray.get(ref)
        except rex.RayTaskError as err:  # the run's own error (e.g. TrainingDiverged): raise it as it is
            cause = err.cause if isinstance(getattr(err, "cause", None), Exception) else err.as_instanceof_cause()
            if not (isinstance(cause, engine.TrainingDiverged) and self.on_diverged is not None):
                raise cause from None
            for key in task.configs:
                self.on_diverged(key, cause)
            self._stop(next(iter(task.configs)))
            return
        except rex.RayError as err:
            where = task.where.get("host", "an unknown node")
            node = task.where.get("ray_node", "?")
            cause = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise RunFailed(
                f"{task.name()} failed twice on {where} (Ray node {str(node)[:12]}): {type(err).__name__}: "
                f"{cause}; its last checkpoint is stored: run the same command again to resume it"
            ) from None
        for key, files in results.items():
            self.store.put(key, files)
            self.owner.pop(key, None)
            self.bar.run_done(key)
        task.release()


class _Stopped(Exception):
    """Raised in this process's epoch hook when `on_epoch` asks to stop the run."""


def _train_here(
    todo: dict[str, RunConfig],
    store: Store,
    progress: bool,
    on_epoch: EpochCallback | None,
    on_diverged: DivergedCallback | None,
) -> set[str]:
    stopped = set()
    where = _where(on_ray=False)
    bar = Bar(todo, store, "here", progress=False)  # each run shows its own bar; this one tells the followers
    try:
        for key, c in todo.items():

            def hook(epoch, history, *_, key=key):
                bar.epoch(key, len(history))
                if on_epoch is not None and on_epoch(key, history, where):
                    raise _Stopped

            try:
                get_or_train(c, store=store, progress=progress, on_epoch_end=hook)
                bar.run_done(key)
            except _Stopped:
                stopped.add(key)
            except engine.TrainingDiverged as err:
                if on_diverged is None:
                    raise
                on_diverged(key, err)
                stopped.add(key)
    finally:
        bar.close()
    return stopped


def train_many(
    configs: list[RunConfig],
    *,
    store: Store | None = None,
    force: bool = False,
    progress: bool | None = None,
    on_epoch: EpochCallback | None = None,
    on_diverged: DivergedCallback | None = None,
    local_seconds: float = LOCAL_SECONDS,
    max_in_flight: int | None = None,
    max_stack: int = 16,
) -> list[Run | None]:
    """Train (or load) every config into `store` (default `Store.default()`) and return the runs in
    order; None for a run that was stopped.

    Stored runs are loaded, never retrained (unless `force`). `on_epoch(key, history, where)` is
    called in this process after each epoch of each run trained now (`where`: host, Ray node and
    pid of its worker); returning True stops that run (its checkpoint stays). A diverging run
    raises `engine.TrainingDiverged`, unless `on_diverged(key, error)` is given: it is then told,
    and the others go on. `local_seconds`: without an address, work estimated under this trains here
    (0: always on Ray). `max_in_flight`: at most this many tasks at once (default twice the CPUs).
    """
    store = store or Store.default()
    progress = default_progress() if progress is None else progress
    unique: dict[str, RunConfig] = {}
    for c in configs:
        unique.setdefault(runs.run_key(c), c)
    if force:
        for key, c in unique.items():
            with store.lock(key, what=f" ({c.title})"):  # never under a process training it
                store.remove(key)
    todo = {k: c for k, c in unique.items() if not store.has(k)}
    for c in {c.precision: c for c in todo.values()}.values():  # no bf16 here: one line, before any task starts
        engine.check_precision(c.precision, cfg.resolve_device(c.device))
    stopped: set[str] = set()
    if todo:
        work = sum(map(runs.estimated_cpu_seconds, todo.values()))
        if cluster_address() is None and (len(todo) == 1 or work < local_seconds):
            stopped = _train_here(todo, store, progress, on_epoch, on_diverged)
        else:
            stopped = _Driver(
                todo,
                store,
                progress=progress,
                on_epoch=on_epoch,
                on_diverged=on_diverged,
                max_in_flight=max_in_flight,
                max_stack=max_stack,
            ).run()
    return [None if runs.run_key(c) in stopped else get_or_train(c, store=store, progress=progress) for c in configs]


def get_or_train_many(
    configs: list[RunConfig],
    *,
    store: Store | None = None,
    force: bool = False,
    progress: bool | None = None,
    local_seconds: float = LOCAL_SECONDS,
) -> list[Run]:
    """`get_or_train` for each config, in order: the entry point for studies, seeds, folds and sweeps."""
    return train_many(configs, store=store, force=force, progress=progress, local_seconds=local_seconds)


def use_address(address: str | None) -> None:
    """A command line's `--address`: every later `connect` in this process, and in the notebooks it
    starts, joins that Ray cluster (it sets RAY_ADDRESS, which child processes inherit). Checked now,
    with the other arguments: an address nothing answers at raises `ClusterUnreachable` before anything
    runs, even when every run is stored and Ray would never be asked."""
    if address:
        _check_reachable(address)
        os.environ["RAY_ADDRESS"] = address
