"""Many runs on Ray (`schedule`): a real local Ray, a real two-node cluster on this machine, real kills."""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from fashion_cnn import RunConfig, Store, config, get_or_train
from fashion_cnn.config import get_profile
from fashion_cnn.studies import get_study
from fashion_cnn.train import checkpoint, engine, progress, runs, schedule, training

pytestmark = pytest.mark.xdist_group("ray")  # one pytest worker starts the local Ray (`local_ray`)

TIMING = ("seconds", "images_per_s")


def _metrics(history):
    return [{k: v for k, v in row.items() if k not in TIMING} for row in history]


def _same_run(a, b) -> bool:
    """The same numbers: every history metric and every stored tensor, bit for bit."""
    wa, wb = load_file(a.weights_path), load_file(b.weights_path)
    return (
        _metrics(a.history) == _metrics(b.history)
        and wa.keys() == wb.keys()
        and all(torch.equal(wa[k], wb[k]) for k in wa)
    )


def _no_ray(*_):
    pytest.fail("Ray was started")


def test_stored_runs_and_small_work_start_no_ray(store, monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(schedule, "connect", _no_ray)
    configs = [RunConfig("lenet5", epochs=1, subset=300, device="cpu", seed=s) for s in (0, 1)]
    assert sum(map(runs.estimated_cpu_seconds, configs)) < schedule.LOCAL_SECONDS
    trained = schedule.get_or_train_many(configs, progress=False)  # a few seconds of work: trained here
    monkeypatch.setattr(training, "fit", lambda *a, **k: pytest.fail("a stored run was trained again"))
    again = schedule.get_or_train_many(configs + configs[:1], progress=False, local_seconds=0)
    assert [r.key for r in again] == [r.key for r in trained] + [trained[0].key]


def test_a_study_on_ray_gives_the_runs_of_one_by_one_bit_for_bit(local_ray, store, tmp_path, monkeypatch):
    configs = get_study("R0").configs(get_profile("quick"), 1, "cpu")  # five models, 2 epochs on 2,400 images
    on_ray = schedule.get_or_train_many(configs, progress=False, local_seconds=0)
    assert [r.config for r in on_ray] == configs
    assert {r.provenance["trained_on"]["ray_node"] for r in on_ray} == {local_ray.get_runtime_context().get_node_id()}
    assert all(r.provenance["trained_on"]["pid"] != os.getpid() for r in on_ray)  # trained in Ray's workers
    monkeypatch.setattr(config, "RUNS_DIR", tmp_path / "one-by-one")
    alone = [get_or_train(c, progress=False) for c in configs]
    for r, a in zip(on_ray, alone):
        assert r.key == a.key and _same_run(r, a), r.config.model
    assert not _same_run(on_ray[0], on_ray[1])  # the comparison can fail: two models differ


USER_MODELS = """\
from torch import nn

from fashion_cnn.models import register_model


@register_model(summary="A user's net: one 3x3 conv, pooled to 7x7, dense 10")
def users_net(width: int = 4) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4), nn.Flatten(), nn.Linear(width * 49, 10)
    )
"""


def test_a_users_models_train_on_ray_from_the_files_text_under_their_labels(
    local_ray, store, tmp_path, monkeypatch, models_registry
):
    from fashion_cnn.models import user_files as model_files

    path = tmp_path / "users_models.py"
    path.write_text(USER_MODELS)
    model_files.load(path)
    path.unlink()  # the workers get the file's text with their task, not its path
    configs = [
        RunConfig("users_net", model_args=args, epochs=1, subset=1200, device="cpu", seed=s, label=label)
        for label, args in (("narrow", {}), ("wide", {"width": 8}))
        for s in (0, 1)
    ]
    on_ray = schedule.get_or_train_many(configs, progress=False, local_seconds=0)
    assert [r.config.name for r in on_ray] == ["narrow", "narrow", "wide", "wide"]
    assert all(r.provenance["trained_on"]["pid"] != os.getpid() for r in on_ray)
    assert {r.provenance["model_file"]["sha256"] for r in on_ray} == {model_files.source("users_net").sha256}
    monkeypatch.setattr(config, "RUNS_DIR", tmp_path / "here")
    here = [get_or_train(c, progress=False) for c in configs]
    assert all(r.key == h.key and _same_run(r, h) for r, h in zip(on_ray, here))


def test_a_worker_killed_mid_run_is_retried_and_resumes_from_its_checkpoint(local_ray, store, tmp_path, monkeypatch):
    configs = [RunConfig("lenet5", epochs=3, subset=20_000, device="cpu", seed=s) for s in (0, 1)]  # ~2 s an epoch
    victim = runs.run_key(configs[0])
    seen, killed = [], []

    def kill_once(key, history, where):
        if key == victim:
            seen.append((len(history), where["pid"]))
            if not killed:
                killed.append(where["pid"])
                os.kill(where["pid"], signal.SIGKILL)  # mid-run: its next epoch is under way
        return False

    done = schedule.train_many(configs, progress=False, on_epoch=kill_once, local_seconds=0)
    epochs = [n for n, _ in seen]
    assert epochs == sorted(set(epochs)) and epochs[0] == 1 and epochs[-1] == 3, epochs  # resumed, not restarted
    assert {pid for _, pid in seen[1:]} != {killed[0]} and done[0].provenance["trained_on"]["pid"] != killed[0]
    assert len(list(store.glob("*/run.json"))) == 2 and not list(store.glob("*/" + checkpoint.FILE))
    monkeypatch.setattr(config, "RUNS_DIR", tmp_path / "uninterrupted")
    assert _same_run(done[0], get_or_train(configs[0], progress=False))


def test_a_run_whose_worker_dies_twice_stops_with_one_line_naming_the_run_and_node(local_ray, store):
    configs = [RunConfig("lenet5", epochs=3, subset=20_000, device="cpu", seed=s) for s in (0, 1)]
    victim = runs.run_key(configs[0])
    killed = set()

    def kill_every_attempt(key, history, where):
        if key == victim and where["pid"] not in killed:
            killed.add(where["pid"])
            os.kill(where["pid"], signal.SIGKILL)
        return False

    with pytest.raises(schedule.RunFailed) as err:
        schedule.train_many(configs, progress=False, on_epoch=kill_every_attempt, local_seconds=0)
    message = str(err.value)
    assert "\n" not in message and len(killed) == 2
    assert message.startswith(f"run {victim} (lenet5 seed 0) failed twice on {socket.gethostname()}")
    assert "resume" in message
    assert not (store / victim / "run.json").exists() and checkpoint.epochs(store / victim / checkpoint.FILE) >= 1
    assert not list(store.glob("*/.*"))  # nothing half-written


def test_a_diverging_run_on_ray_names_itself_and_nothing_is_stored(local_ray, store):
    configs = [RunConfig("r3_mlp", epochs=1, subset=300, device="cpu", lr=1e6, optimizer="sgd", seed=s) for s in (0, 1)]
    with pytest.raises(engine.TrainingDiverged, match=r"r3_mlp seed \d: training loss became"):
        schedule.train_many(configs, progress=False, local_seconds=0)
    assert not list(store.glob("*/run.json"))


def test_a_run_another_driver_trains_is_left_to_it_and_loaded_at_the_end(local_ray, store, trained_elsewhere):
    holder = trained_elsewhere(4)
    configs = [RunConfig("lenet5", epochs=1, subset=300, device="cpu", seed=s) for s in (0, 1)]  # seed 0: the holder's
    done = schedule.train_many(configs, progress=False, local_seconds=0)
    assert holder.wait(timeout=60) == 0
    assert done[0].metrics.get("trained_by") == "holder" and "trained_by" not in done[1].metrics
    assert [r.config for r in done] == configs


def test_the_bar_fills_per_finished_epoch_counting_a_resumed_runs_epochs(local_ray, store, monkeypatch):
    configs = [RunConfig("lenet5", epochs=2, subset=3000, device="cpu", seed=s) for s in (0, 1, 2)]  # equal costs

    def stop(epoch, *_):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        get_or_train(configs[0], progress=False, on_epoch_end=stop)  # 1 of its 2 epochs done
    shown = []

    class Recording:  # what tqdm would draw, after each change
        def __init__(self, total, initial, **kw):
            self.total, self.n, self.postfix = total, initial, ""

        def set_postfix_str(self, text, refresh):
            self.postfix = text

        def update(self, work):
            self.n += work
            self.refresh()

        def refresh(self):
            shown.append((self.postfix, self.n / self.total))

        def close(self):
            pass

    monkeypatch.setattr(progress, "tqdm", Recording)  # the scheduler's bar (`progress.Bar`)
    schedule.train_many(configs, progress=True, local_seconds=0)
    assert shown[0] == ("runs 0/3, epochs 1/6", pytest.approx(1 / 6))
    assert shown[-1] == ("runs 3/3, epochs 6/6", pytest.approx(1.0))
    fractions = [f for _, f in shown]
    assert fractions == sorted(fractions) and len(set(fractions)) >= 4  # it moved epoch by epoch, never back


def test_bad_extra_resources_get_one_line(monkeypatch):
    monkeypatch.setenv(schedule.RESOURCES_ENV, "gpu_node")
    with pytest.raises(ValueError, match=r"is not a JSON object of resource amounts: write it as \{\"name\": 1\}"):
        schedule._extra_resources()


# ----------------------------------------------------------------------------------------------
# Processes: `make train` stopped, a cluster of two nodes


def _env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    return {**env, "RAY_USAGE_STATS_ENABLED": "0", "FASHION_CNN_QUIET": "1", **extra}


@pytest.mark.slow
def test_ctrl_c_in_make_train_keeps_the_store_consistent_and_the_same_command_finishes(
    tmp_path, monkeypatch, ray_temp, stop_while_training
):
    reports = tmp_path / "reports"
    for name, value in _env(FASHION_CNN_REPORTS=str(reports), RAY_TMPDIR=ray_temp()).items():
        monkeypatch.setenv(name, value)
    command = [
        sys.executable,
        "-m",
        "fashion_cnn",
        "train",
        "R3",
        "--profile",
        "quick",
        "--only",
        "r3_alexnet/batch*",
    ]
    # R3's batch sizes 2 and 4, two seeds each: the batch-2 runs (the longest) start first; a Ctrl-C once both
    # have a checkpoint
    alive = stop_while_training(command, reports / "runs", signal.SIGINT)
    assert not alive, f"{len(alive)} process(es) the command started still run after it ended"
    store = reports / "runs"
    assert not list(store.glob("*/run.json")) and not list(store.glob("*/.*"))  # nothing finished or half-written
    assert [checkpoint.epochs(p) for p in store.glob("*/" + checkpoint.FILE)] == [1, 1]
    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "4 run(s) trained or resumed" in again.stdout and "all 4 stored" in again.stdout
    finished = [Store(store).load(p.parent) for p in store.glob("*/run.json")]
    assert len(finished) == 4 and all([r["epoch"] for r in run.history] == [1, 2] for run in finished)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_second_node_without_the_store_trains_the_runs_into_the_drivers_store(tmp_path, ray_temp):
    ray_cli = str(Path(sys.executable).parent / "ray")
    head, node = ray_temp(), ray_temp()
    address = f"127.0.0.1:{_free_port()}"
    env = _env(RAY_AUTH_MODE="disabled")  # a test cluster on 127.0.0.1; the README shows a real one
    reports = tmp_path / "driver"
    subprocess.run(
        [
            ray_cli,
            "start",
            "--head",
            "--node-ip-address=127.0.0.1",
            f"--port={address.split(':')[1]}",
            "--num-cpus=0",
            f"--temp-dir={head}",
            "--include-dashboard=false",
            "--disable-usage-stats",
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )
    elsewhere = tmp_path / "node-reports"  # what `config.REPORTS_DIR` means on the second node: not the driver's
    subprocess.run(
        [
            ray_cli,
            "start",
            f"--address={address}",
            "--num-cpus=2",
            '--resources={"second_node": 2}',
            f"--temp-dir={node}",
            "--disable-usage-stats",
        ],
        env={**env, "FASHION_CNN_REPORTS": str(elsewhere)},
        check=True,
        capture_output=True,
        timeout=180,
    )
    train = subprocess.run(
        [
            sys.executable,
            "-m",
            "fashion_cnn",
            "train",
            "R0",
            "--profile",
            "quick",
            "--seeds",
            "1",
            "--only",
            "lenet5",
            "lenet5_3x3",
            "--address",
            address,
        ],
        env={**env, "FASHION_CNN_REPORTS": str(reports), schedule.RESOURCES_ENV: '{"second_node": 1}'},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert train.returncode == 0, train.stderr[-3000:]
    nodes = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, ray; ray.init(address=__import__('sys').argv[1], log_to_driver=False, "
            "logging_level='error'); print(json.dumps({n['NodeID']: n['Resources'] for n in ray.nodes() if n['Alive']}))",
            address,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    second = [k for k, res in json.loads(nodes.stdout.strip().splitlines()[-1]).items() if "second_node" in res]
    stored = [Store(reports / "runs").load(p.parent) for p in (reports / "runs").glob("*/run.json")]
    assert len(stored) == 5  # two main runs and three folds of lenet5
    for run in stored:
        assert run.provenance["trained_on"]["ray_node"] == second[0]
        run.model("cpu")  # complete and loadable: weights and all
    assert not list((reports / "runs").glob("*/" + checkpoint.FILE)) and not elsewhere.exists()


def test_an_address_nothing_answers_at_gets_one_line_and_exit_2(tmp_path):
    port = _free_port()  # closed again: nothing listens there
    train = subprocess.run(
        [
            sys.executable,
            "-m",
            "fashion_cnn",
            "train",
            "R0",
            "--profile",
            "quick",
            "--seeds",
            "1",
            "--address",
            f"127.0.0.1:{port}",
        ],
        env=_env(FASHION_CNN_REPORTS=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    err = train.stderr.strip().splitlines()
    assert train.returncode == 2 and len(err) == 1, train.stderr[-2000:]
    assert err[0].startswith(f"studies: no Ray cluster answers at 127.0.0.1:{port} (") and "ray start --head" in err[0]
    assert not list(tmp_path.glob("runs/*/run.json"))


def test_scratch_left_by_a_dead_task_is_swept_and_a_live_ones_kept(tmp_path):
    """A task cancelled with force leaves fashion-cnn-<pid>-… behind; the next task removes it (the process
    is gone), never a live task's folder or one not named by a process id."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(gone.stdout)
    stale = tmp_path / f"fashion-cnn-{dead}-abc"
    live = tmp_path / f"fashion-cnn-{os.getpid()}-def"
    other = tmp_path / "fashion-cnn-chromium-xyz"
    for folder in (stale, live, other):
        (folder / "run").mkdir(parents=True)
        (folder / "run" / "checkpoint.safetensors").write_bytes(b"x" * 100)
    assert schedule.sweep_scratch(str(tmp_path)) == [stale]
    assert not stale.exists() and live.exists() and other.exists()


FLAKY_MODELS = (
    USER_MODELS.replace("nn.Linear(width * 49, 10)\n    )", "nn.Linear(width * 49, 10), Flaky()\n    )")
    + """

class Flaky(nn.Module):
    calls = 0

    def forward(self, x):
        Flaky.calls += 1
        if Flaky.calls > 3:  # past the contract's check, in the first epoch
            raise ValueError("boom on a worker")
        return x
"""
)


def test_a_users_model_raising_on_ray_is_one_line_naming_its_file_and_line(local_ray, store, tmp_path, models_registry):
    """The line is made where the run trains, so the user's frame survives Ray."""
    from fashion_cnn.models import user_files as model_files

    path = tmp_path / "flaky_models.py"
    path.write_text(FLAKY_MODELS)
    model_files.load(path)
    line = 1 + FLAKY_MODELS.splitlines().index('            raise ValueError("boom on a worker")')
    configs = [RunConfig("users_net", epochs=1, subset=600, device="cpu", seed=s) for s in (0, 1)]
    with pytest.raises(training.ModelFailed) as err:
        schedule.get_or_train_many(configs, progress=False, local_seconds=0)
    message = str(err.value)
    assert "\n" not in message and "model 'users_net' raised ValueError: boom on a worker at " in message
    assert f"{path}:{line} (in forward)" in message and message.startswith("users_net seed ")
    assert not list(store.glob("*/run.json"))


@pytest.mark.parametrize("on_ray", [False, True], ids=["here", "on-ray"])
def test_the_training_is_published_as_events_a_follower_adds_up(on_ray, store, tmp_path, monkeypatch, request):
    from fashion_cnn.train.progress import PROGRESS, Follower, Tally

    if on_ray:
        request.getfixturevalue("local_ray")
    events = tmp_path / "events.jsonl"
    monkeypatch.setenv(PROGRESS, str(events))
    configs = [RunConfig("lenet5", epochs=2, subset=300, device="cpu", seed=s) for s in (0, 1)]
    stored = schedule.get_or_train_many(configs[:1], progress=False)  # read, not trained, by the next call
    follower, tally = Follower(events), Tally()
    for event in follower.poll():
        tally.add(event)
    assert (tally.runs, tally.runs_done, tally.epochs, tally.epochs_done) == (1, 1, 2, 2)
    trained = schedule.get_or_train_many(configs, progress=False, local_seconds=0 if on_ray else 1e9)
    for event in follower.poll():  # only what was appended since
        tally.add(event)
    assert (tally.runs, tally.runs_done, tally.epochs, tally.epochs_done) == (2, 2, 4, 4)
    assert tally.trained == {stored[0].key, trained[1].key}  # the stored run was not trained again
    assert tally.work == pytest.approx(sum(map(runs.estimated_cpu_seconds, configs)))
    assert tally.work_done == pytest.approx(tally.work) and not tally.open  # every batch ended
    assert tally.current == configs[1].title and tally.seconds_left() == 0.0
