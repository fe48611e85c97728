"""The stored runs and the search in the tools people know (`make mlflow`, `make dashboard`):

    python -m fashion_cnn mlflow [--no-ui] [--port 5000]      every stored run into MLflow, then its UI
    python -m fashion_cnn dashboard [--storage URL] [--port 8080]    optuna-dashboard on the search's storage

`mlflow` logs each finished run of the run store once (looked up by its `run_key` tag first, so a second
export adds only new runs) into the tracking store of `MLFLOW_TRACKING_URI`, else a local one in
`reports/mlflow/` (`mlflow.db`, `artifacts/`): its config as params, its history as metrics per epoch
(step = epoch), tags for its study, arm, seed and run key, its weights and provenance as artifacts. The
store keeps no study: a run's study and arm are found by matching its config against the registered
studies' arms (any seed, split or fold, both profiles and precisions, with or without section 5's
augmentation) and the search's trials (their `run_key`); a run neither claims (a sweep's, the decay study's,
the search's retrained best) gets no study tag. Both tools are the optional extra `browse`; without
it, one line names the install command (exit 2).
"""

from __future__ import annotations

import errno
import importlib
import json
import logging
import math
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import optuna

from .. import config as cfg
from ..errors import ArgumentParser, Error
from ..models import load_model_files
from ..setup import add_arguments as add_setup_arguments
from ..studies import get_study, list_studies
from ..train.engine import PRECISIONS
from ..train.store import Run, Store, StoreError
from ..tune.storage import default_storage, missing_file, open_storage, redact

_logger = logging.getLogger(__name__)

COMMANDS = {
    "mlflow": "log every stored run into MLflow (once per run key), then start its UI on localhost",
    "dashboard": "start optuna-dashboard on localhost on the hyperparameter search's storage",
}
INSTALL = "make setup-browse (pip install -e '.[browse]')"
HOST = "127.0.0.1"
EXPERIMENT = "fashion-cnn"  # the MLflow experiment every run goes into
KEY_TAG = "run_key"
PER_RUN = ("seed", "device", "split", "fold", "folds")  # config fields a study's arm leaves to each run
ARTIFACTS = ("weights.safetensors", "provenance.json")


class MissingExtra(Error, ImportError):
    """A tool of the optional extra `browse` (mlflow, optuna-dashboard) is not installed."""


class BrowseError(Error, RuntimeError):
    """A port in use, a search storage that does not exist, an MLflow experiment that cannot be used."""


def need(module: str, package: str):
    """`module` imported; raises MissingExtra naming `package` and the install command when it is missing."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"{package} is not installed: run {INSTALL}") from None


# ----------------------------------------------------------------------------------------------
# Which study and arm a stored run belongs to


def _signature(config: dict) -> str:
    return json.dumps({k: v for k, v in config.items() if k not in PER_RUN}, sort_keys=True)


def study_arms() -> dict[str, list[tuple[str, str]]]:
    """Signature of an arm's config (without its per-run fields) → the (study, arm label) pairs that train it,
    over the registered studies, both profiles and both precisions."""
    found: dict[str, list[tuple[str, str]]] = {}
    for name in list_studies():
        for precision in PRECISIONS:
            study = get_study(name).at_precision(precision)
            for profile in cfg.PROFILES.values():
                for arm in study.arms:
                    pairs = found.setdefault(_signature(study.config(arm.label, profile).to_dict()), [])
                    if (name, arm.label) not in pairs:
                        pairs.append((name, arm.label))
    return found


def search_trials(storage_url: str | None) -> dict[str, tuple[str, str]]:
    """Run key → (Optuna study, "trial N") for every trial of every study in the search's storage whose run
    was stored (the last trial that trained a key wins); {} when the storage is a SQLite file that does not
    exist (no search has run)."""
    url = storage_url or default_storage()
    if missing_file(url):
        return {}
    storage = open_storage(url)
    found = {}
    for name in optuna.get_all_study_names(storage):
        for trial in optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False):
            if key := trial.user_attrs.get(KEY_TAG):
                found[key] = (name, f"trial {trial.number}")
    return found


def labels(runs: list[Run], storage_url: str | None = None) -> dict[str, list[tuple[str, str]]]:
    """Run key → the (study, arm) pairs it serves: the registered studies' arms (also trained with augmentation,
    as section 5 does: "arm + flip, rotate") and the search's trials."""
    arms, trials = study_arms(), search_trials(storage_url)
    found = {}
    for r in runs:
        pairs = arms.get(_signature(r.config.to_dict()), [])
        if not pairs and r.config.augment:  # an arm trained with augmentation (section 5)
            plain = arms.get(_signature(r.config.replace(augment=()).to_dict()), [])
            pairs = [(s, f"{a} + {', '.join(r.config.augment)}") for s, a in plain]
        found[r.key] = pairs + ([trials[r.key]] if r.key in trials else [])
    return found


# ----------------------------------------------------------------------------------------------
# MLflow


def local_folder() -> Path:
    """Where the default tracking store lives: `reports/mlflow/` (under `FASHION_CNN_REPORTS`)."""
    return cfg.REPORTS_DIR / "mlflow"


def tracking_uri() -> str:
    """`MLFLOW_TRACKING_URI`, else the SQLite file `reports/mlflow/mlflow.db` (MLflow 3 refuses a folder store)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(local_folder() / 'mlflow.db').resolve()}"


def _served(uri: str) -> bool:
    """Whether `uri` is a tracking server (it has a UI of its own and keeps the artifacts itself)."""
    return uri.split(":", 1)[0] in ("http", "https", "databricks")


def _experiment(client, uri: str) -> str:
    """The id of `EXPERIMENT` in `uri`'s store, created when missing (artifacts under `reports/mlflow/artifacts`
    unless a server keeps them)."""
    found = client.get_experiment_by_name(EXPERIMENT)
    if found is not None and found.lifecycle_stage == "deleted":
        raise BrowseError(
            f"the MLflow experiment {EXPERIMENT!r} in {redact(uri)} is deleted: restore it "
            f"(mlflow experiments restore --experiment-id {found.experiment_id}) or delete it for good (mlflow gc)"
        )
    if found is not None:
        return found.experiment_id
    location = None if _served(uri) else (local_folder() / "artifacts").resolve().as_uri()
    return client.create_experiment(EXPERIMENT, artifact_location=location)


def logged_keys(client, experiment_id: str) -> set[str]:
    """The run keys of the experiment's finished MLflow runs; an unfinished one (an export stopped midway) is
    deleted, so its run is logged again whole."""
    from mlflow.entities import RunStatus

    keys, token = set(), None
    while True:
        page = client.search_runs([experiment_id], max_results=1000, page_token=token)
        for r in page:
            if KEY_TAG not in r.data.tags:
                continue
            if r.info.status == RunStatus.to_string(RunStatus.FINISHED):
                keys.add(r.data.tags[KEY_TAG])
            else:
                client.delete_run(r.info.run_id)
        token = page.token
        if not token:
            return keys


def _param(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _finished_ms(run: Run) -> int:
    """When the run was stored (its run.json), in ms since the epoch."""
    stamp = json.loads((run.path / "run.json").read_text()).get("finished")
    try:
        return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z").timestamp() * 1000)
    except (TypeError, ValueError):
        return int((run.path / "run.json").stat().st_mtime * 1000)


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def log_run(client, experiment_id: str, run: Run, pairs: list[tuple[str, str]]) -> str:
    """Log one stored run as one finished MLflow run; its id. Params: the config's fields; metrics: every number
    of each epoch's history at step = epoch (timestamped as it trained), then the final metrics the history
    lacks (best_val_acc, best_epoch, sizes) at the last epoch; artifacts: weights and provenance."""
    from mlflow.entities import Metric, Param, RunTag

    c = run.config
    ended = _finished_ms(run)
    started = ended - int(1000 * sum(row.get("seconds", 0.0) for row in run.history))
    where = {"fold": f" fold {c.fold + 1}/{c.folds}", "trainval": " train+val"}.get(c.split, "")
    tags = {
        KEY_TAG: run.key,
        "seed": str(c.seed),
        "model": c.model,
        "split": c.split,
        **({"study": ", ".join(s for s, _ in pairs), "arm": ", ".join(a for _, a in pairs)} if pairs else {}),
        "device": str(run.provenance.get("device_name", "")),
        "mlflow.source.git.commit": str(run.provenance.get("git_commit") or ""),
    }
    name = f"{pairs[0][0]}: {pairs[0][1]} seed {c.seed}{where}" if pairs else f"{c.model} seed {c.seed}{where}"
    mlflow_run = client.create_run(experiment_id, start_time=started, tags=tags, run_name=name)
    run_id = mlflow_run.info.run_id
    metrics, elapsed, last = [], 0.0, 0
    for row in run.history:
        elapsed += row.get("seconds", 0.0)
        last = int(row["epoch"])
        at = started + int(1000 * elapsed)
        metrics += [Metric(k, float(v), at, last) for k, v in row.items() if k != "epoch" and _number(v)]
    seen = {m.key for m in metrics}
    metrics += [Metric(k, float(v), ended, last) for k, v in run.metrics.items() if k not in seen and _number(v)]
    params = [Param(k, _param(v)) for k, v in c.to_dict().items()]
    client.log_batch(run_id, params=params, tags=[RunTag("mlflow.note.content", _note(run, pairs))])
    for i in range(0, len(metrics), 1000):  # MLflow takes at most 1000 metrics a call
        client.log_batch(run_id, metrics=metrics[i : i + 1000])
    for name in ARTIFACTS:
        if (run.path / name).is_file():
            client.log_artifact(run_id, str(run.path / name))
    client.set_terminated(run_id, "FINISHED", end_time=ended)
    return run_id


def _note(run: Run, pairs: list[tuple[str, str]]) -> str:
    """The run's description in the UI: where it lives and what it serves."""
    serves = "; ".join(f"{s}: {a}" for s, a in pairs) or "no registered study or search trial"
    return f"Run {run.key} of the run store ({run.path}). Serves {serves}."


def export(store: Store, uri: str, storage_url: str | None = None) -> tuple[int, int, int]:
    """Log every finished run of `store` not yet in `uri`'s experiment `EXPERIMENT` (by its run key); returns
    (added, there already, skipped: runs that cannot be read, each named in a warning). Raises BrowseError
    (one line) when the tracking store refuses (a server that cannot be reached, a database that cannot be used)."""
    need("mlflow", "mlflow")
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    if uri.startswith("sqlite:///"):  # SQLite makes the file, not its folder
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    client = MlflowClient(tracking_uri=uri)
    try:
        return _export(client, uri, store, storage_url)
    except MlflowException as err:
        cause = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise BrowseError(f"MLflow at {redact(uri)} refused ({cause}); check MLFLOW_TRACKING_URI") from None


def _export(client, uri: str, store: Store, storage_url: str | None) -> tuple[int, int, int]:
    experiment_id = _experiment(client, uri)
    there = logged_keys(client, experiment_id)
    quiet = Store(store.root)  # reading to export is no use of a run (no run log)
    new, skipped, keys = [], 0, store.run_keys()
    for key in keys:
        if key in there:
            continue
        try:
            new.append(quiet.load(store.root / key))
        except (StoreError, FileNotFoundError) as err:  # a damaged run, or a model from a file not loaded
            _logger.warning("run %s left out: %s", key, err)
            skipped += 1
    found = labels(new, storage_url) if new else {}
    for run in new:
        log_run(client, experiment_id, run, found[run.key])
    return len(new), len(there & set(keys)), skipped


# ----------------------------------------------------------------------------------------------
# Servers on localhost


def _bind_error(port: int, err: OSError) -> Exception:
    """What to raise when binding `port` failed: one line when another process holds it, else `err` itself."""
    if err.errno == errno.EADDRINUSE:
        return BrowseError(f"port {port} on {HOST} is in use: give another one (PORT=… or --port)")
    return err


def free_port(port: int) -> int:
    """`port` when nothing listens on it on localhost (0: a free one); raises BrowseError when it is taken."""
    import socket

    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError as err:
            raise _bind_error(port, err) from None
        return s.getsockname()[1]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass  # no line per request: the command's output is its one line


class _Threads(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def mlflow_ui(uri: str, port: int) -> int:
    """Start `mlflow server` on `uri`'s store on localhost until Ctrl-C (or a kill); its exit status."""
    port = free_port(port)
    artifacts = (local_folder() / "artifacts").resolve().as_uri()
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", uri]
    command += ["--default-artifact-root", artifacts, "--host", HOST, "--port", str(port), "--workers", "1"]
    command += ["--uvicorn-opts", "--log-level warning"]  # no line per request
    print(f"MLflow UI on {redact(uri)}: http://{HOST}:{port} (Ctrl-C stops it)", flush=True)
    # no job runner (seven processes for GenAI evaluations): browsing runs needs none
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **os.environ}
    server = subprocess.Popen(command, env=env)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        return 0


def dashboard(storage_url: str | None, port: int) -> None:
    """Serve optuna-dashboard on the storage at `storage_url` (default the search's) on localhost, printing
    its URL in one line, until Ctrl-C (or a kill). Raises BrowseError when a SQLite storage does not exist
    or the port is taken, TuneError when the storage cannot be opened."""
    optuna_dashboard = need("optuna_dashboard", "optuna-dashboard")
    url = storage_url or default_storage()
    if missing := missing_file(url):
        raise BrowseError(
            f"{missing} does not exist: run a search first (make tune), or give its storage (STORAGE=url or --storage)"
        )
    app = optuna_dashboard.wsgi(open_storage(url))
    try:
        server = make_server(HOST, port, app, server_class=_Threads, handler_class=_Quiet)
    except OSError as err:
        raise _bind_error(port, err) from None
    print(f"optuna-dashboard on {redact(url)}: http://{HOST}:{server.server_port}/dashboard (Ctrl-C stops it)")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


# ----------------------------------------------------------------------------------------------
# The command line


def add_arguments(parser, command: str) -> None:
    parser.add_argument(
        "--port",
        type=int,
        default=5000 if command == "mlflow" else 8080,
        help=f"port on {HOST} (default %(default)s; 0: a free one)",
    )
    parser.add_argument(
        "--storage",
        default=None,
        help=f"SQLAlchemy URL of the search's studies (default {default_storage()})"
        + ("; its trials name the runs they trained" if command == "mlflow" else ""),
    )
    if command == "mlflow":
        add_setup_arguments(parser, only=("models",))
        parser.add_argument("--no-ui", action="store_true", help="log the runs only; start no UI")


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m fashion_cnn.cli.browse")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help in COMMANDS.items():
        add_arguments(commands.add_parser(name, help=help), name)
    return run(parser.parse_args(argv))


def run(args) -> int:
    """`mlflow`: export the stored runs, then (unless --no-ui) the UI; `dashboard`: optuna-dashboard."""
    cfg.show_log()  # the runs left out
    try:
        if args.command == "dashboard":
            dashboard(args.storage, args.port)
            return 0
        need("mlflow", "mlflow")
        load_model_files(args.models)
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")  # a wrong server URL: seconds, not MLflow's 4 min
        os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")  # a server: no two lines per run
        uri = tracking_uri()
        started = time.perf_counter()
        added, there, skipped = export(Store.default(), uri, args.storage)
        left_out = f", {skipped} left out (see above)" if skipped else ""
        print(
            f"MLflow ({redact(uri)}, experiment {EXPERIMENT!r}): {added} runs added, {there} there already"
            f"{left_out} in {math.ceil(time.perf_counter() - started)} s",
            flush=True,
        )
        if args.no_ui:
            return 0
        if _served(uri):
            print(f"MLflow UI: {uri}")
            return 0
        return mlflow_ui(uri, args.port)
    except Error as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
