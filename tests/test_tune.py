import json
import multiprocessing as mp
import signal
import sys
import time

import optuna
import pytest
from optuna.trial import TrialState

from fashion_cnn import RunConfig, config, tune

TINY = dict(subset=600, epochs=1, device="cpu")
SPACE = {"lr": ["log", 1e-4, 1e-2], "batch_size": ["choice", [32, 64]], "epochs": ["choice", [1]]}


def _plan(tmp_path, trials, space=None, **options):
    space = space if space is not None else SPACE
    return tune.plan_search("r3_lenet", "quick", trials=trials, space=space, device="cpu",
                            storage=f"sqlite:///{tmp_path / 'tune.sqlite3'}", **options)


# ----------------------------------------------------------------------------------------------
# Sweeps

def test_sweep_trains_one_run_per_value_with_the_field_set(store):
    base = RunConfig("r3_lenet", model_args={"n_base": 4}, **TINY)
    result = tune.Sweep("width", "n_base", (2, 4), base).run(progress=False)
    assert [r.config.model_args["n_base"] for r in result.runs] == [2, 4]
    assert len({r.key for r in result.runs}) == 2
    table = result.table()
    assert list(table.index) == [2, 4]
    assert table.loc[4, "val_acc"] == result.runs[1].metrics["val_acc"]
    assert (table["s_per_epoch"] > 0).all()
    assert any("n_base=" in line for line in result.describe())


def test_sweep_timing_is_a_finding_only_beyond_timing_noise():
    import pandas as pd

    batch = tune.timing_sentence(pd.Series([11.05, 6.84, 4.75], index=[8, 32, 128]), "batch_size")
    assert batch == "An epoch takes 4.75 s at batch_size=128 and 11.05 s at batch_size=8 (2.3×)."
    lr = tune.timing_sentence(pd.Series([6.22, 6.84, 6.05], index=[1e-5, 1e-4, 1e-3]), "lr")
    assert lr.startswith("An epoch takes about as long at every lr (6.05–6.84 s)") and "×)" not in lr


def test_sweep_of_a_config_field_changes_only_that_field():
    base = RunConfig("r3_lenet", **TINY)
    configs = tune.Sweep("learning rate", "lr", (1e-5, 1e-4, 1e-3), base).configs()
    assert [c.lr for c in configs] == [1e-5, 1e-4, 1e-3]
    assert all(c.replace(lr=base.lr) == base for c in configs)


def test_default_sweeps_cover_r3s_seven_fields():
    sweeps = tune.default_sweeps(config.get_profile("quick"), device="cpu")
    assert [s.field for s in sweeps] == ["lr", "epochs", "batch_size", "n_base", "dropout", "optimizer", "loss"]
    assert next(s for s in sweeps if s.field == "lr").values == (1e-5, 1e-4, 1e-3)


def test_all_sweeps_are_handed_to_the_workers_in_one_batch(monkeypatch):
    calls = []

    class Stop(Exception):
        pass

    def record(configs, **_):
        calls.append(list(configs))
        raise Stop  # the first call is the one under test: nothing needs training

    monkeypatch.setattr(tune, "get_or_train_many", record)
    with pytest.raises(Stop):
        tune.run_sweeps(config.get_profile("quick"), device="cpu")
    every = [c for s in tune.default_sweeps(config.get_profile("quick"), device="cpu") for c in s.configs()]
    assert calls == [every]  # one call with every sweep's runs, not one per sweep


@pytest.mark.parametrize("field, values, message", [
    ("width", (1, 2), "'width' is neither a RunConfig field nor an argument of model 'r3_lenet'"),
    ("lr", (-1.0,), "lr=-1.0 is invalid"),
    ("model", ("lenet5",), "'model' cannot be varied here"),
])
def test_bad_sweep_gets_a_one_line_cause(field, values, message):
    with pytest.raises(tune.TuneError, match=message) as err:
        tune.Sweep("bad", field, values, RunConfig("r3_lenet", **TINY))
    assert "\n" not in str(err.value)


# ----------------------------------------------------------------------------------------------
# Search space and storage errors

@pytest.mark.parametrize("space, message", [
    ({"lr": ["log", 0, 1e-2]}, "a log range needs low > 0"),
    ({"lr": ["log", 1e-2, 1e-4]}, "low=0.01 must be below high=0.0001"),
    ({"lr": ["loguniform", 1e-4, 1e-2]}, "does not start with a kind"),
    ({"batch_size": ["choice", []]}, "a choice needs a non-empty list"),
    ({"epochs": ["int", 1.5, 3]}, "an int range needs whole numbers"),
    ({"epochs": ["int", -2, 3]}, "epochs=-2 is invalid"),
    ({"width": ["int", 1, 4]}, "'width' is neither a RunConfig field"),
    ({}, "non-empty mapping"),
    ("{not json", "neither JSON nor a readable JSON file"),
])
def test_bad_search_space_gets_a_one_line_cause_and_fix(tmp_path, space, message):
    with pytest.raises(tune.TuneError, match=message) as err:
        _plan(tmp_path, 2, space=space)
    assert "\n" not in str(err.value)


def test_search_space_reaches_model_arguments(tmp_path):
    plan = _plan(tmp_path, 2, space={"dropout": ["float", 0.0, 0.5], "lr": ["log", 1e-4, 1e-2]})
    trial_config = plan.config({"dropout": 0.3, "lr": 2e-3})
    assert trial_config.model_args["dropout"] == 0.3 and trial_config.lr == 2e-3


def test_full_profile_on_a_cpu_searches_r0s_dropout_lenet_and_an_explicit_model_stays(tmp_path):
    storage = f"sqlite:///{tmp_path / 't.sqlite3'}"
    cpu = tune.plan_search(profile="full", device="cpu", storage=storage)
    assert cpu.base.model == tune.CPU_MODEL and cpu.trials == 20 and "fc_dropout" in cpu.space
    assert cpu.config({"fc_dropout": 0.2, "lr": 1e-3, "weight_decay": 1e-5, "batch_size": 64,
                       "epochs": 5}).model_args == {"fc_dropout": 0.2}
    chosen = tune.plan_search("cnn_2", "full", device="cpu", storage=storage)
    assert chosen.base.model == "cnn_2" and chosen.trials == 30 and "dropout" in chosen.space


@pytest.mark.parametrize("url, message", [
    ("not a url", "is not a database URL"),
    ("sqlite:////proc/no/such/folder/t.sqlite3", "cannot create the folder"),
    ("postgresql://user:secret@127.0.0.1:1/db", "needs a database driver|cannot reach storage"),
])
def test_bad_storage_gets_a_one_line_cause_and_fix(url, message):
    with pytest.raises(tune.TuneError, match=message) as err:
        tune.open_storage(url)
    assert "\n" not in str(err.value) and "secret" not in str(err.value)


def test_storage_that_cannot_be_opened(tmp_path):
    with pytest.raises(tune.TuneError, match="cannot reach storage .*omit --storage") as err:
        tune.open_storage(f"sqlite:///{tmp_path}")  # a folder, not a database file
    assert "\n" not in str(err.value)


def test_cli_reports_bad_input_in_one_line_and_exits_2(tmp_path, capsys):
    assert tune.main(["--profile", "quick", "--storage", "not a url"]) == 2
    assert tune.main(["--profile", "quick", "--storage", f"sqlite:///{tmp_path / 't.db'}",
                      "--space", '{"lr": ["log", 0, 1]}']) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and all(line.startswith("error: ") for line in errors)
    assert "Traceback" not in capsys.readouterr().err


def test_a_study_refuses_another_search_space(tmp_path):
    tune.open_study(_plan(tmp_path, 2))
    with pytest.raises(tune.TuneError, match="was made with another model or search space"):
        tune.open_study(_plan(tmp_path, 2, space={"lr": ["log", 1e-3, 1e-2]}))


def _params(study):
    return [(t.number, t.params, t.state, t.value) for t in study.get_trials()]


def test_one_worker_repeats_a_seeded_search_also_when_resumed(store, tmp_path):
    def plan(name, trials, seed=0):
        return _plan(tmp_path / name, trials, seed=seed)

    for name in ("once", "resumed", "other-seed"):
        (tmp_path / name).mkdir()
    once = tune.search(plan("once", 4), log=lambda line: None)
    tune.search(plan("resumed", 2), log=lambda line: None)  # stopped after two trials …
    resumed = tune.search(plan("resumed", 4), log=lambda line: None)  # … and continued in a new sampler
    assert _params(resumed) == _params(once)
    assert [t.user_attrs["sampler_seed"] for t in once.get_trials()] == [tune.sampler_seed(plan("once", 4), n) for n in range(4)]
    other = tune.search(plan("other-seed", 4, seed=1), log=lambda line: None)
    assert [t.params for t in other.get_trials()] != [t.params for t in once.get_trials()]


# ----------------------------------------------------------------------------------------------
# Workers

@pytest.mark.slow
def test_two_workers_finish_a_study_with_every_trial_once(store, tmp_path):
    plan = _plan(tmp_path, 6)
    lines = []
    study = tune.search(plan, workers=2, log=lines.append)
    trials = study.get_trials()
    assert [t.number for t in trials] == list(range(6))
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    assert tune.study_counts(study)["finished"] == 6
    for t in trials:  # every complete trial's run is in the store, once
        if t.state == TrialState.COMPLETE:
            assert (store / t.user_attrs["run_key"] / "run.json").is_file()
            assert t.value == pytest.approx(t.intermediate_values[0])
    assert len({t.user_attrs["worker"] for t in trials}) == 2, "both workers should have run trials"
    # running it again continues the same study: nothing left to do
    again = tune.search(plan, workers=1, log=lines.append)
    assert len(again.get_trials()) == 6


@pytest.mark.slow
def test_two_workers_propose_prune_and_score_the_trials_one_worker_does(store, tmp_path, monkeypatch):
    space = {**SPACE, "epochs": ["choice", [2]]}  # two epochs: the pruner can stop a trial midway
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
    one = tune.search(_plan(tmp_path / "one", 6, space=space), workers=1, log=lambda line: None)
    monkeypatch.setattr(config, "RUNS_DIR", tmp_path / "runs-two")  # the two workers train every trial again
    two = tune.search(_plan(tmp_path / "two", 6, space=space), workers=2, log=lambda line: None)
    assert _params(two) == _params(one)
    assert len({t.user_attrs["worker"] for t in two.get_trials()}) == 2, "both workers should have run trials"
    assert {t.state for t in one.get_trials()} == {TrialState.COMPLETE, TrialState.PRUNED}
    for t in two.get_trials():  # a trial starts only after the batches before it have finished
        earlier = [u for u in two.get_trials() if u.number < t.number // 2 * 2]
        assert all(u.datetime_complete <= t.datetime_start for u in earlier), t.number


@pytest.mark.slow
def test_a_worker_killed_mid_trial_leaves_a_study_the_next_run_finishes(store, tmp_path):
    space = {"lr": ["log", 1e-4, 1e-2], "epochs": ["choice", [4]]}
    plan = _plan(tmp_path, 2, space=space, subset=1000, heartbeat=1, grace=2)
    tune.open_study(plan)
    worker = mp.get_context("spawn").Process(target=tune._worker_main, args=(plan, 0, str(store), 1))
    worker.start()
    study = tune.open_study(plan, create=False)
    deadline = time.time() + 120
    while time.time() < deadline:  # wait until a trial has trained at least one epoch, then kill it
        running = study.get_trials(states=(TrialState.RUNNING,))
        if running and running[0].intermediate_values:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the worker never started a trial")
    worker.kill()
    worker.join()
    killed = running[0]

    loaded = optuna.load_study(study_name=plan.study_name, storage=plan.storage)
    assert loaded.trials[killed.number].state == TrialState.RUNNING  # loadable, the trial not lost

    ran = tune.run_worker(plan, log=lambda line: None, poll=0.5)
    study = tune.open_study(plan, create=False)
    counts = tune.study_counts(study)
    assert counts["finished"] == 2 and counts["fail"] == 1 and counts["running"] == counts["waiting"] == 0
    assert study.trials[killed.number].state == TrialState.FAIL
    retry = [t for t in study.trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retry) == 1 and retry[0].params == killed.params
    assert retry[0].state in (TrialState.COMPLETE, TrialState.PRUNED)
    assert ran == 2


@pytest.mark.slow
def test_workers_end_when_the_search_that_started_them_is_killed(tmp_path, stop_while_training):
    script = tmp_path / "driver.py"
    script.write_text(  # two workers, trials far too long to finish here
        "import pathlib, sys\n"
        "from fashion_cnn import config, tune\n"
        "if __name__ == '__main__':\n"
        "    config.RUNS_DIR = pathlib.Path(sys.argv[1])\n"
        "    plan = tune.plan_search('r3_lenet', 'quick', trials=4, device='cpu', storage=sys.argv[2], subset=3000,\n"
        "                            space={'lr': ['log', 1e-4, 1e-2], 'epochs': ['choice', [500]]})\n"
        "    tune.search(plan, workers=2, log=lambda line: None)\n")
    alive = stop_while_training([sys.executable, str(script), str(tmp_path / "runs"),
                                 f"sqlite:///{tmp_path / 'tune.sqlite3'}"], tmp_path / "runs", signal.SIGKILL)
    assert not alive, f"{len(alive)} worker process(es) still running after the search was killed"


def test_a_timed_out_search_is_continued_by_the_next_run(store, tmp_path, capsys):
    plan = _plan(tmp_path, 2)
    assert tune.main(["--profile", "quick", "--model", "r3_lenet", "--device", "cpu", "--trials", "2",
                      "--storage", plan.storage, "--space", json.dumps(SPACE), "--timeout", "0"]) == 0
    assert "stopped early" in capsys.readouterr().out
    assert tune.study_counts(tune.open_study(plan, create=False))["finished"] == 0
    lines = []
    study = tune.search(plan, log=lines.append)
    assert tune.study_counts(study)["finished"] == 2 and len(lines) == 2
    assert lines[-1].startswith("[worker 0] trial 1 ") and "2/2 finished · best " in lines[-1]
