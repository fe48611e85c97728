"""The stored runs and the search in the browsers people know: `make mlflow` and `make dashboard`.

`mlflow` logs every finished run of the run store into an MLflow tracking store (`reports/mlflow.db`, or
`MLFLOW_TRACKING_URI` for an existing server): its config as params, its history as per-epoch metrics, its
final metrics, tags for its study, arm, seed and run key, its provenance and weights as artifacts. A run is
looked up by its key first, so running it again adds only the new runs. Then MLflow's UI starts on
localhost (unless `--no-ui`). `dashboard` starts optuna-dashboard on the search's storage (Optuna's RDB
storage, `tune.default_storage`). Both tools are an optional extra (`make setup-browse`); without it, one
line says how to install it, exit 2.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

from .. import config as cfg
from ..errors import Error

EXTRA = "make setup-browse (pip install -e '.[browse]')"
EXPERIMENT = "fashion-cnn runs"
KEY_TAG = "run_key"


class MissingExtra(Error, ImportError):
    """An optional tool (mlflow, optuna-dashboard) is not installed."""


def _require(module: str, package: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"{package} is not installed: run {EXTRA}") from None


def tracking_uri() -> str:
    """`MLFLOW_TRACKING_URI`, else a local SQLite store beside the run store (reports/mlflow.db)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(cfg.REPORTS_DIR / 'mlflow.db').resolve()}"


def _artifacts() -> str:
    """Where a new local experiment keeps its artifacts (reports/mlartifacts)."""
    return (cfg.REPORTS_DIR / "mlartifacts").resolve().as_uri()


def studies_of(config) -> list[str]:
    """The registered studies with an arm of this run's label and model (a run does not record its study)."""
    from ..studies import get_study, list_studies

    found = []
    for name in list_studies():
        arms = get_study(name).arms
        if any(a.label == config.name and a.model == config.model for a in arms):
            found.append(name)
    return found


def _params(config) -> dict[str, str]:
    flat = {k: v for k, v in config.to_dict().items() if k != "model_args"}
    flat |= {f"model_args.{k}": v for k, v in config.model_args.items()}
    return {k: json.dumps(v) if isinstance(v, list | tuple | dict) else str(v) for k, v in flat.items()}


def export(store=None, uri: str | None = None) -> tuple[int, int]:
    """Log every finished run of `store` (default the project's) not yet in the tracking store `uri`
    (default `tracking_uri()`); returns (runs added, runs already there)."""
    mlflow = _require("mlflow", "mlflow")
    import logging

    from mlflow.tracking import MlflowClient

    for name in ("mlflow", "alembic"):  # its database set-up notes are not the user's business
        logging.getLogger(name).setLevel(logging.WARNING)

    from ..train.store import Store

    store = store or Store.default()
    client = MlflowClient(uri or tracking_uri())
    experiment = client.get_experiment_by_name(EXPERIMENT)
    kind = {"mlflow.experimentKind": "custom_model_development"}  # MLflow 3 opens on its runs, not on GenAI traces
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(EXPERIMENT, _artifacts(), kind)
    known = {
        r.data.tags.get(KEY_TAG)
        for r in client.search_runs([experiment_id], max_results=50_000)
        if r.data.tags.get(KEY_TAG)
    }
    added = skipped = 0
    folders = sorted(p for p in store.root.glob("*") if (p / "run.json").is_file()) if store.root.is_dir() else []
    for folder in folders:
        if folder.name in known:
            skipped += 1
            continue
        run = store.load(folder.name)
        c = run.config
        tags = {KEY_TAG: run.key, "arm": c.name, "seed": str(c.seed), "study": ",".join(studies_of(c))}
        tags |= {"split": c.split, "device": str(run.provenance.get("device_name", "")), "mlflow.runName": c.title}
        created = client.create_run(experiment_id, tags=tags)
        rid, now = created.info.run_id, int(time.time() * 1000)
        metrics = [
            mlflow.entities.Metric(name, float(value), now, int(row["epoch"]))
            for row in run.history
            for name, value in row.items()
            if name != "epoch" and isinstance(value, int | float) and math.isfinite(value)
        ]
        metrics += [
            mlflow.entities.Metric(f"final_{name}", float(value), now, 0)
            for name, value in run.metrics.items()
            if isinstance(value, int | float) and math.isfinite(value)
        ]
        params = [mlflow.entities.Param(k, v[:6000]) for k, v in _params(c).items()]
        for start in range(0, len(metrics), 900):  # MLflow takes at most 1,000 entries a batch
            client.log_batch(rid, metrics=metrics[start : start + 900], params=params if start == 0 else [])
        if not metrics:
            client.log_batch(rid, params=params)
        for name in ("provenance.json", "config.json"):
            client.log_artifact(rid, str(run.path / name))
        if run.weights_path.is_file():
            client.log_artifact(rid, str(run.weights_path))
        client.set_terminated(rid)
        added += 1
    return added, skipped


COMMANDS = {
    "mlflow": "log every stored run into MLflow (once per run key) and open its UI",
    "dashboard": "open optuna-dashboard on the search's storage",
}


def add_arguments(parser, command: str) -> None:
    default = 5000 if command == "mlflow" else 8080
    parser.add_argument("--port", type=int, default=default, help=f"the UI's port on localhost (default {default})")
    if command == "mlflow":
        parser.add_argument("--no-ui", action="store_true", help="export only; do not start the UI")
    else:
        parser.add_argument("--storage", default=None, help="the search's storage URL (default: the project's)")


def run(args) -> int:
    """`mlflow` or `dashboard` (`args.command`)."""
    return run_mlflow(args) if args.command == "mlflow" else run_dashboard(args)


def run_mlflow(args) -> int:
    """Export the runs, then serve MLflow's UI on localhost until Ctrl-C."""
    try:
        uri = tracking_uri()
        added, skipped = export(uri=uri)
    except Error as err:
        print(f"mlflow: {err}", file=sys.stderr)
        return 2
    print(f"mlflow: {added} runs added, {skipped} already there, in {uri}", flush=True)
    if args.no_ui or os.environ.get("MLFLOW_TRACKING_URI"):
        return 0
    port = args.port
    print(f"mlflow: the UI is at http://127.0.0.1:{port} (Ctrl-C stops it)", flush=True)
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri, "--host", "127.0.0.1"]
    command += ["--default-artifact-root", _artifacts()]
    return _serve([*command, "--port", str(port)])


def run_dashboard(args) -> int:
    """Serve optuna-dashboard on the search's storage on localhost until Ctrl-C."""
    from ..tune.storage import default_storage

    try:
        _require("optuna_dashboard", "optuna-dashboard")
    except Error as err:
        print(f"dashboard: {err}", file=sys.stderr)
        return 2
    storage = args.storage or default_storage()
    if storage.startswith("sqlite:///") and not Path(storage.removeprefix("sqlite:///")).is_file():
        print(f"dashboard: {storage} holds no search yet: run make tune or make report first", file=sys.stderr)
        return 2
    port = args.port
    print(f"dashboard: the search's trials are at http://127.0.0.1:{port} (Ctrl-C stops it)", flush=True)
    script = Path(sys.executable).with_name("optuna-dashboard")  # its console script, beside this Python
    return _serve([str(script), storage, "--host", "127.0.0.1", "--port", str(port)])


def _serve(command: list[str]) -> int:
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0
