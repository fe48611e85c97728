import json
import signal
import statistics
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from fashion_cnn import RunConfig, config, engine, get_or_train, parallel, runs

TIMING = ("seconds", "images_per_s")


def _metrics(history):
    return [{k: v for k, v in row.items() if k not in TIMING} for row in history]


def _relative_gaps(a, b):
    """Per stored tensor: ‖a − b‖ / ‖a‖ between two runs' weights (BatchNorm buffers included)."""
    wa, wb = load_file(a.weights_path), load_file(b.weights_path)
    assert wa.keys() == wb.keys()
    return {k: ((wa[k].double() - wb[k].double()).norm() / wa[k].double().norm().clamp_min(1e-12)).item()
            for k in wa if wa[k].is_floating_point()}


@pytest.mark.parametrize("model, augment, what", [
    ("lenet5_3x3_leaky_dropout", ("flip", "rotate"), "dropout masks and augmentation drawn per member"),
    ("r2_batchnorm", (), "BatchNorm batch statistics and running buffers per member"),
])
def test_stacked_runs_equal_sequential_runs_up_to_float_rounding(store, tmp_path, monkeypatch, model, augment, what):
    configs = [RunConfig(model, epochs=2, subset=600, device="cpu", augment=augment, seed=s) for s in (0, 1)]
    with engine.speed(channels_last=False):  # the same kernel layouts on both paths
        stacked = parallel.train_stacked(configs, progress=False)
        monkeypatch.setattr(config, "RUNS_DIR", tmp_path / "sequential")
        sequential = [get_or_train(c, progress=False) for c in configs]
    for s, q in zip(stacked, sequential):
        assert s.key == q.key and s.config == q.config
        for row_s, row_q in zip(_metrics(s.history), _metrics(q.history)):
            assert row_s.keys() == row_q.keys()
            for k in row_s:
                assert row_s[k] == pytest.approx(row_q[k], rel=1e-3, abs=1e-6), (what, k)
        gaps = _relative_gaps(s, q)
        assert max(gaps.values()) < 1e-2, (what, max(gaps, key=gaps.get))
    # the tolerance is far below what a different seed changes: the check can fail
    assert statistics.median(_relative_gaps(sequential[0], sequential[1]).values()) > 0.1


def test_stacked_runs_are_stored_like_get_or_train_and_load_without_training(store, monkeypatch):
    configs = [RunConfig("r2_base", epochs=1, subset=300, device="cpu", split="fold", folds=3, fold=f) for f in range(3)]
    assert parallel.can_stack(configs)
    trained = parallel.train_stacked(configs, progress=False)
    for run, c in zip(trained, configs):
        assert run.path == store / runs.run_key(c)
        for name in ("config.json", "history.json", "metrics.json", "provenance.json", "weights.safetensors", "run.json"):
            assert (run.path / name).is_file(), name
        assert not (run.path / "checkpoint.safetensors").exists()
        assert json.loads((run.path / "provenance.json").read_text())["trained_together"] == [r.key for r in trained]
        assert run.metrics["train_size"] == 200 and run.metrics["val_size"] == 100
    assert len({json.dumps(r.history[0]["val_loss"]) for r in trained}) == 3  # three folds, three different runs
    monkeypatch.setattr(runs, "fit", lambda *a, **k: pytest.fail("a stored run was trained again"))
    again = runs.get_or_train_many(configs, progress=False)
    assert [r.key for r in again] == [r.key for r in trained]


def test_configs_that_differ_beyond_seed_and_fold_are_refused_with_one_line(store):
    configs = [RunConfig("lenet5", epochs=1, subset=300, device="cpu"), RunConfig("lenet5", epochs=1, subset=300, device="cpu", lr=0.01)]
    assert not parallel.can_stack(configs)
    with pytest.raises(ValueError, match="must differ only in seed, fold, split_seed") as err:
        parallel.train_stacked(configs, progress=False)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="unknown strategy 'threads'"):
        parallel.train_many(configs, strategy="threads")


def test_processes_give_the_runs_a_sequential_loop_gives(store, tmp_path, monkeypatch):
    configs = [RunConfig(m, epochs=1, subset=500, device="cpu") for m in ("lenet5", "lenet5_3x3_leaky_dropout")]
    get_or_train(configs[0], progress=False)  # one stored already: loaded, not retrained
    in_processes = runs.get_or_train_many(configs + [configs[0]], progress=False, strategy="processes")
    assert [r.config for r in in_processes] == configs + [configs[0]]
    monkeypatch.setattr(config, "RUNS_DIR", tmp_path / "sequential")
    sequential = [get_or_train(c, progress=False) for c in configs]
    for p, s in zip(in_processes, sequential):  # one thread in both paths: the very same numbers
        assert p.key == s.key and _metrics(p.history) == _metrics(s.history)
        a, b = load_file(p.weights_path), load_file(s.weights_path)
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_workers_take_the_longest_runs_first_and_return_them_in_the_callers_order(store):
    short, long = (RunConfig("lenet5", epochs=e, subset=300, device="cpu") for e in (1, 3))
    assert runs.estimated_cpu_seconds(long) > runs.estimated_cpu_seconds(short)
    trained = parallel.train_in_processes([short, long], workers=1, progress=False)  # one worker: one at a time
    assert [r.config for r in trained] == [short, long]
    finished = [(r.path / "run.json").stat().st_mtime_ns for r in trained]
    assert finished[1] < finished[0]  # the 3-epoch run was handed out first


def test_workers_leave_a_run_another_process_trains_to_it_and_take_the_others(store, trained_elsewhere):
    holder = trained_elsewhere(4)
    configs = [RunConfig("lenet5", epochs=1, subset=300, device="cpu", seed=s) for s in (0, 1)]  # seed 0: the holder's
    assert parallel._train_in_worker(configs[0].to_dict(), str(store), False) is None  # busy: skipped, not trained
    done = parallel.train_in_processes(configs, workers=2, progress=False)  # waits for the holder's run at the end
    assert holder.wait(timeout=60) == 0
    assert done[0].metrics.get("trained_by") == "holder" and "trained_by" not in done[1].metrics
    assert [r.config for r in done] == configs


def test_force_retrains_a_run_after_the_process_training_it_has_finished(store, trained_elsewhere):
    holder = trained_elsewhere(2)
    config = RunConfig("lenet5", epochs=1, subset=300, device="cpu")  # the holder's run
    [run] = runs.get_or_train_many([config], force=True, progress=False, strategy="sequential")
    assert holder.wait(timeout=60) == 0
    assert "trained_by" not in run.metrics  # deleted only once the holder had stored it, then trained again


def test_an_interrupted_run_resumes_in_a_worker_process(store, monkeypatch):
    configs = [RunConfig("lenet5", epochs=2, subset=300, device="cpu", seed=s) for s in (0, 1)]

    def stop(epoch, *_):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        get_or_train(configs[0], progress=False, on_epoch_end=stop)
    assert (store / runs.run_key(configs[0]) / "checkpoint.safetensors").is_file()
    monkeypatch.setattr(parallel, "cpu_strategy", lambda configs: "processes")
    monkeypatch.setattr(runs, "fit", lambda *a, **k: pytest.fail("resumed in this process after the workers"))
    done = runs.get_or_train_many(configs, progress=False)
    assert [r.config for r in done] == configs
    assert [row["epoch"] for row in done[0].history] == [1, 2]


def test_the_pool_bar_fills_as_workers_finish_epochs_counting_a_resumed_runs_epochs(store, monkeypatch):
    configs = [RunConfig("lenet5", epochs=2, subset=300, device="cpu", seed=s) for s in (0, 1, 2)]  # equal costs

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

    monkeypatch.setattr(parallel, "tqdm", Recording)
    parallel.train_in_processes(configs, workers=2, progress=True)
    assert shown[0] == ("runs 0/3, epochs 1/6", pytest.approx(1 / 6))
    assert shown[-1] == ("runs 3/3, epochs 6/6", pytest.approx(1.0))
    fractions = [f for _, f in shown]
    assert fractions == sorted(fractions) and len(set(fractions)) >= 4  # it moved epoch by epoch, never back


def test_a_diverging_run_in_a_worker_names_itself(store, monkeypatch):
    configs = [RunConfig("r3_mlp", epochs=1, subset=300, device="cpu", lr=1e6, optimizer="sgd", seed=s) for s in (0, 1)]
    with pytest.raises(engine.TrainingDiverged, match=r"r3_mlp seed \d: training loss became"):
        parallel.train_in_processes(configs, workers=2, progress=False)
    assert not list(store.glob("*/run.json"))


def test_cpu_workers_take_only_idle_cores(monkeypatch):
    from fashion_cnn import parallel

    monkeypatch.setattr(parallel, "cpu_cores", lambda: 2)
    assert parallel.cpu_workers(5, busy=0.3) == 2  # a nearly idle machine: both cores
    assert parallel.cpu_workers(5, busy=1.0) == 1  # another process trains on one core
    assert parallel.cpu_workers(5, busy=2.0) == 1  # others use everything: still one, never zero
    assert parallel.cpu_workers(1, busy=0.0) == 1  # never more workers than jobs


def test_busy_cores_sees_another_process_spinning():
    spin = subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 4\nwhile time.time() < end: pass"])
    try:
        time.sleep(0.5)
        busy = parallel.busy_cores(1.0)
    finally:
        spin.wait()
    assert 0.7 <= busy <= parallel.cpu_cores() + 0.05


def test_an_unguarded_script_gets_one_line_naming_the_main_guard(tmp_path):
    script = tmp_path / "unguarded.py"  # spawned workers re-run this file's top level and die there
    script.write_text(
        "from fashion_cnn import RunConfig, config, runs\n"
        f"config.RUNS_DIR = __import__('pathlib').Path({str(tmp_path / 'runs')!r})\n"
        "configs = [RunConfig('lenet5', epochs=1, subset=300, device='cpu', seed=s) for s in (0, 1)]\n"
        "runs.get_or_train_many(configs, progress=False, strategy='processes')\n")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("fashion_cnn.parallel.WorkerDied: a training worker process died")
    assert 'if __name__ == "__main__":' in last and 'strategy="sequential"' in last


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["interrupt", "kill -9"])
def test_stopping_the_caller_stops_its_workers_and_keeps_their_checkpoints(tmp_path, stop, stop_while_training):
    script, store = tmp_path / "driver.py", tmp_path / "runs"
    script.write_text(  # four runs far too long to finish here, two workers
        "import pathlib, sys\n"
        "from fashion_cnn import RunConfig, config, parallel\n"
        "if __name__ == '__main__':\n"
        "    config.RUNS_DIR = pathlib.Path(sys.argv[1])\n"
        "    configs = [RunConfig('lenet5', epochs=500, subset=3000, device='cpu', seed=s) for s in range(4)]\n"
        "    parallel.train_in_processes(configs, workers=2, progress=False)\n")
    alive = stop_while_training([sys.executable, str(script), str(store)], store,
                                signal.SIGINT if stop == "interrupt" else signal.SIGKILL)
    assert not alive, f"{len(alive)} worker process(es) still running after the caller stopped"
    assert not list(store.glob("*/run.json")) and len(list(store.glob("*/checkpoint.safetensors"))) == 2
    assert not list(store.glob("*/.*"))  # no half-written file


def test_auto_trains_in_this_process_when_the_workers_die(store, monkeypatch):
    configs = [RunConfig("lenet5", epochs=1, subset=300, device="cpu", seed=s) for s in (0, 1)]

    def die(pending, **_):
        assert [c.seed for c in pending] == [0, 1]
        raise parallel.WorkerDied("a training worker process died")

    monkeypatch.setattr(parallel, "cpu_strategy", lambda configs: "processes")
    monkeypatch.setattr(parallel, "train_in_processes", die)
    with pytest.warns(RuntimeWarning, match="died; training the rest in this process"):
        done = runs.get_or_train_many(configs, progress=False)
    assert [r.config for r in done] == configs and all((r.path / "run.json").is_file() for r in done)
