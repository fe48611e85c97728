"""The stored runs in MLflow and the search in optuna-dashboard (`cli.browse`), against the real tools."""

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from fashion_cnn import RunConfig, cli
from fashion_cnn.cli import browse
from fashion_cnn.train import schedule
from fashion_cnn.train.store import Store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_every_stored_run_goes_into_mlflow_once_with_its_numbers(store, tmp_path):
    from mlflow.tracking import MlflowClient

    configs = [RunConfig("lenet5", epochs=2, subset=300, device="cpu", seed=s) for s in (0, 1)]
    runs = schedule.get_or_train_many(configs, progress=False)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert browse.export(Store.default(), uri) == (2, 0)
    client = MlflowClient(uri)
    (experiment,) = [e for e in client.search_experiments() if e.name == browse.EXPERIMENT]
    logged = {r.data.tags[browse.KEY_TAG]: r for r in client.search_runs([experiment.experiment_id])}
    assert set(logged) == {r.key for r in runs}
    for run in runs:
        got = logged[run.key]
        assert got.data.tags["arm"] == "lenet5" and got.data.tags["seed"] == str(run.config.seed)
        assert "R0" in got.data.tags["study"].split(",")  # lenet5 is R0's baseline
        assert got.data.params["lr"] == str(run.config.lr) and got.data.params["epochs"] == "2"
        history = client.get_metric_history(got.info.run_id, "val_acc")
        assert [(m.step, m.value) for m in sorted(history, key=lambda m: m.step)] == [
            (row["epoch"], pytest.approx(row["val_acc"])) for row in run.history
        ]
        assert got.data.metrics["final_val_acc"] == pytest.approx(run.metrics["val_acc"])
        files = {a.path for a in client.list_artifacts(got.info.run_id)}
        assert {"weights.safetensors", "provenance.json", "config.json"} <= files
    assert browse.export(Store.default(), uri) == (0, 2)  # again: nothing added
    schedule.get_or_train_many([configs[0].replace(seed=2)], progress=False)
    assert browse.export(Store.default(), uri) == (1, 2)  # only the new run


def test_the_dashboard_serves_the_searchs_storage_on_localhost(tmp_path):
    import optuna

    url = f"sqlite:///{tmp_path / 'tune.sqlite3'}"
    study = optuna.create_study(study_name="lenet-quick", storage=url, direction="maximize")
    study.optimize(lambda t: t.suggest_float("lr", 1e-4, 1e-1, log=True), n_trials=3)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "fashion_cnn", "dashboard", "--storage", url, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline, studies = time.time() + 60, None
        while time.time() < deadline and studies is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=2) as answer:
                    assert answer.status == 200
                    studies = json.load(answer)["study_summaries"]
            except OSError:
                time.sleep(0.5)
        assert studies is not None, "the dashboard never answered"
        (found,) = studies
        assert found["study_name"] == "lenet-quick"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/dashboard", timeout=5) as page:
            assert page.status == 200
    finally:
        server.terminate()
        out = server.communicate(timeout=30)[0]
    assert f"http://127.0.0.1:{port}" in out.splitlines()[0]


@pytest.mark.parametrize(("command", "package"), [("mlflow", "mlflow"), ("dashboard", "optuna-dashboard")])
def test_a_missing_extra_is_one_line_naming_the_install(command, package, tmp_path):
    blocked = "mlflow" if command == "mlflow" else "optuna_dashboard"
    code = (
        f"import sys; sys.modules[{blocked!r}] = None\n"
        "from fashion_cnn import cli\n"
        f"sys.exit(cli.main([{command!r}, '--storage' if {command!r} == 'dashboard' else '--no-ui']"
        f" + ([{('sqlite:///' + str(tmp_path / 'x.db'))!r}] if {command!r} == 'dashboard' else [])))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line == f"{command}: {package} is not installed: run {browse.EXTRA}"


def test_the_dashboard_without_a_search_says_how_to_make_one(tmp_path, capsys):
    assert cli.main(["dashboard", "--storage", f"sqlite:///{tmp_path / 'none.db'}"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "holds no search yet: run make tune or make report first" in line
    assert list(tmp_path.iterdir()) == []
