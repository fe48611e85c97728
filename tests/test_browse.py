"""`make mlflow` and `make dashboard` against the real tools: real runs (trained here on small subsets) logged into
a real MLflow store and read back, MLflow's UI and optuna-dashboard served on localhost and asked over HTTP."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from fashion_cnn import RunConfig, Store, config, get_or_train, tune
from fashion_cnn.cli import browse
from fashion_cnn.cli import main as cli
from fashion_cnn.config import get_profile
from fashion_cnn.studies import get_study

ROOT = Path(__file__).resolve().parents[1]
INSTALL = "make setup-browse (pip install -e '.[browse]')"
LONE = RunConfig("lenet5", epochs=1, subset=600, device="cpu", seed=1)  # a run of no study and no trial


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A run store holding R0's baseline in the quick profile, two trials of a search (its storage beside it)
    and one run that neither claims; all trained here, on small subsets."""
    folder = tmp_path_factory.mktemp("browse")
    runs = folder / "runs"
    storage = f"sqlite:///{folder / 'tune.sqlite3'}"
    space = {"lr": ["log", 1e-4, 1e-2], "batch_size": ["choice", [32, 64]], "epochs": ["choice", [1]]}
    plan = tune.plan_search("r3_lenet", "quick", trials=2, space=space, device="cpu", storage=storage)
    r0 = get_study("R0").config("lenet5", get_profile("quick"), seed=0, device="cpu")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "RUNS_DIR", runs)
        study = tune.search(plan, log=lambda line: None)
        trials = {t.user_attrs["run_key"]: (plan.study_name, f"trial {t.number}") for t in study.get_trials()}
        keys = {"R0": get_or_train(r0, progress=False).key, "lone": get_or_train(LONE, progress=False).key}
    return SimpleNamespace(runs=runs, storage=storage, trials=trials, keys=keys, study=plan.study_name)


def _client(uri: str):
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name(browse.EXPERIMENT)
    return client, client.search_runs([experiment.experiment_id])


@pytest.mark.slow
@pytest.mark.xdist_group("browse")
def test_every_stored_run_is_logged_once_with_its_config_history_tags_and_weights(
    stored, tmp_path, monkeypatch, capsys
):
    runs = tmp_path / "reports" / "runs"
    shutil.copytree(stored.runs, runs)
    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path / "reports")  # the local tracking store: reports/mlflow/
    monkeypatch.setattr(config, "RUNS_DIR", runs)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    command = ["mlflow", "--no-ui", "--storage", stored.storage]
    assert cli(command) == 0
    assert "4 runs added, 0 there already" in capsys.readouterr().out
    local = f"sqlite:///{tmp_path / 'reports' / 'mlflow' / 'mlflow.db'}"
    client, logged = _client(local)
    store = Store(runs)
    assert sorted(r.data.tags["run_key"] for r in logged) == store.run_keys()
    for r in logged:
        run = store.load(r.data.tags["run_key"])
        assert r.info.status == "FINISHED"
        params = r.data.params
        assert set(params) == set(run.config.to_dict())
        assert (params["model"], float(params["lr"]), int(params["epochs"])) == (
            run.config.model,
            run.config.lr,
            run.config.epochs,
        )
        assert json.loads(params["model_args"]) == run.config.model_args
        assert json.loads(params["subset"]) == run.config.subset
        for name in ("train_loss", "train_acc", "val_loss", "val_acc", "train_eval_acc", "lr", "seconds"):
            history = sorted(client.get_metric_history(r.info.run_id, name), key=lambda m: m.step)
            assert [(m.step, m.value) for m in history] == [(row["epoch"], row[name]) for row in run.history], name
        assert r.data.metrics["best_val_acc"] == run.metrics["best_val_acc"]
        assert r.data.tags["seed"] == str(run.config.seed)
        assert {a.path for a in client.list_artifacts(r.info.run_id)} == {"weights.safetensors", "provenance.json"}
        copy = client.download_artifacts(r.info.run_id, "weights.safetensors", str(tmp_path / r.info.run_id))
        assert Path(copy).read_bytes() == run.weights_path.read_bytes()
    tags = {r.data.tags["run_key"]: r.data.tags for r in logged}
    assert (tags[stored.keys["R0"]]["study"], tags[stored.keys["R0"]]["arm"]) == ("R0", "lenet5")
    for key, (study, trial) in stored.trials.items():
        assert (tags[key]["study"], tags[key]["arm"]) == (study, trial)
    assert "study" not in tags[stored.keys["lone"]] and "arm" not in tags[stored.keys["lone"]]

    assert cli(command) == 0  # again: nothing new
    assert "0 runs added, 4 there already" in capsys.readouterr().out
    assert len(_client(local)[1]) == 4
    new = get_or_train(LONE.replace(seed=2), progress=False)  # one new run: only it is added
    assert cli(command) == 0
    assert "1 runs added, 4 there already" in capsys.readouterr().out
    client, logged = _client(local)
    assert len(logged) == 5 and [r.data.tags["run_key"] for r in logged].count(new.key) == 1

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'elsewhere.db'}")  # another tracking store
    assert cli(command) == 0
    assert "5 runs added, 0 there already" in capsys.readouterr().out
    assert sorted(r.data.tags["run_key"] for r in _client(f"sqlite:///{tmp_path / 'elsewhere.db'}")[1]) == sorted(
        store.run_keys()
    )


def _start(args: list[str], env: dict, pattern: str, timeout: float = 240) -> tuple[subprocess.Popen, str]:
    """Start `python -m fashion_cnn *args` with `env` changed (None: unset); once a line of its output matches
    `pattern` (a URL group), the process and that URL."""
    env = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    process = subprocess.Popen([sys.executable, "-m", "fashion_cnn", *args], stdout=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if found := re.search(pattern, line):
            return process, found.group(1)
        assert process.poll() is None, f"{args} ended with {process.returncode} before saying its URL"
    process.kill()
    pytest.fail(f"{args} said no URL in {timeout} s")


def _get(url: str, timeout: float = 120, data: bytes | None = None) -> tuple[int, bytes]:
    """Status and body of `url` (POST `data` as JSON when given), retried while the server is starting."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def _stop(process: subprocess.Popen) -> list[psutil.Process]:
    """SIGTERM (a `kill`: the command stops as on Ctrl-C), check it exits 0; the processes it started still alive."""
    children = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=90) == 0
    return psutil.wait_procs(children, timeout=30)[1]


@pytest.mark.slow
@pytest.mark.xdist_group("browse")
def test_the_dashboard_serves_the_search_study_on_localhost_then_stops(stored):
    process, url = _start(
        ["dashboard", "--port", "0", "--storage", stored.storage], {}, r"optuna-dashboard on .*: (http://\S+)"
    )
    try:
        status, page = _get(url)
        assert status == 200 and b"<html" in page.lower()
        base = url.removesuffix("/dashboard")
        studies = json.loads(_get(f"{base}/api/studies")[1])["study_summaries"]
        assert [s["study_name"] for s in studies] == [stored.study]
        detail = json.loads(_get(f"{base}/api/studies/{studies[0]['study_id']}")[1])
        assert sorted(t["number"] for t in detail["trials"]) == [0, 1]
    finally:
        left = _stop(process)
    assert left == []


@pytest.mark.slow
@pytest.mark.xdist_group("browse")
def test_make_mlflow_logs_the_runs_then_serves_them_in_mlflows_ui_then_stops(stored, tmp_path):
    shutil.copytree(stored.runs, tmp_path / "runs")
    env = {"FASHION_CNN_REPORTS": str(tmp_path), "MLFLOW_TRACKING_URI": None}
    process, url = _start(["mlflow", "--port", "0"], env, r"MLflow UI on .*: (http://\S+)")
    try:
        assert _get(url)[0] == 200
        found = json.loads(_get(f"{url}/ajax-api/2.0/mlflow/experiments/get-by-name?experiment_name=fashion-cnn")[1])
        search = json.dumps({"experiment_ids": [found["experiment"]["experiment_id"]]}).encode()
        served = json.loads(_get(f"{url}/ajax-api/2.0/mlflow/runs/search", data=search)[1])["runs"]
        keys = {t["value"] for r in served for t in r["data"]["tags"] if t["key"] == "run_key"}
        assert keys == set(Store(tmp_path / "runs").run_keys())
    finally:
        left = _stop(process)
    assert left == [], "the MLflow server outlived the command"


def test_a_missing_search_storage_or_a_taken_port_is_one_line(tmp_path, capsys):
    missing = tmp_path / "none.sqlite3"
    assert cli(["dashboard", "--storage", f"sqlite:///{missing}"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {missing} does not exist: run a search first (make tune), or give its storage (STORAGE=url or --storage)"
    ]
    port = browse.free_port(0)
    with (
        socket.create_server((browse.HOST, port)),
        pytest.raises(browse.BrowseError, match=f"port {port} on 127.0.0.1 is in use: give another one"),
    ):
        browse.free_port(port)


@pytest.mark.parametrize(
    "target, variables, flags",
    [
        (
            "mlflow",
            ["PORT=5001", "STORAGE=sqlite:///s.db", "NO_UI=1"],
            "mlflow --port 5001 --storage sqlite:///s.db --no-ui",
        ),
        ("dashboard", ["PORT=8081", "STORAGE=sqlite:///s.db"], "dashboard --port 8081 --storage sqlite:///s.db"),
        ("dashboard", [], "dashboard"),
    ],
)
def test_make_passes_port_storage_and_no_ui_to_the_command(target, variables, flags):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}  # not as a sub-make of `make test`
    dry = subprocess.run(["make", "-n", target, *variables], cwd=ROOT, capture_output=True, text=True, env=env)
    [line] = [line for line in dry.stdout.splitlines() if "-m fashion_cnn " in line]
    assert line.split("-m fashion_cnn ", 1)[1].strip() == flags


# Blocks a module as if it were not installed (`import` raises ImportError), then runs the command line.
_WITHOUT = (
    "import runpy, sys; sys.modules[sys.argv.pop(1)] = None; runpy.run_module('fashion_cnn', run_name='__main__')"
)


@pytest.mark.parametrize(
    "module, package, args",
    [("mlflow", "mlflow", ["mlflow", "--no-ui"]), ("optuna_dashboard", "optuna-dashboard", ["dashboard"])],
)
def test_a_missing_extra_says_in_one_line_how_to_install_it_and_exits_2(tmp_path, module, package, args):
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT, module, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "FASHION_CNN_REPORTS": str(tmp_path)},
        timeout=300,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"error: {package} is not installed: run {INSTALL}"]
    assert done.stdout == ""
    assert not (tmp_path / "mlflow").exists()  # nothing written
