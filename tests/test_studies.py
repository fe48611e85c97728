"""The study registry: each report's settings, its parts, and every study running in a quick profile."""

import dataclasses
import math
import re

import pytest

from fashion_cnn import config
from fashion_cnn.cli.studies import main, plan_table, select
from fashion_cnn.config import get_profile
from fashion_cnn.models import list_models
from fashion_cnn.studies import Arm, Study, get_study, list_studies
from fashion_cnn.train.runs import run_key
from fashion_cnn.train.schedule import get_or_train_many
from fashion_cnn.train.training import get_or_train

FULL, QUICK = get_profile("full"), get_profile("quick")
# Smaller than "quick" for the test: it keeps the quick profile's rules (epochs and subset capped).
TINY = dataclasses.replace(QUICK, epochs=1, subset=300, seeds=1, folds=2, test_subset=200)


def test_every_report_has_a_study():
    assert list_studies() == ["R0", "R1", "R2", "R3", "R4"]
    with pytest.raises(ValueError, match="unknown study 'R9': use one of R0, R1"):
        get_study("R9")


@pytest.mark.parametrize("name", ["R0", "R1", "R2", "R3", "R4"])
def test_study_is_well_formed(name):
    study = get_study(name)
    assert {a.model for a in study.arms} <= set(list_models())
    assert study.notes and study.title
    configs = study.configs(QUICK)
    assert len(configs) == len(study.models) * QUICK.seeds
    assert [c.model for c in configs[:: QUICK.seeds]] == list(study.models)
    assert all(c.epochs <= QUICK.epochs and c.subset <= QUICK.subset for c in configs)
    keys = [repr(j.config) for j in study.plan(QUICK)]
    assert len(keys) == len(set(keys))


def test_a_config_takes_the_study_settings_then_the_arms_changes_then_the_call_s():
    study = Study(
        "X",
        "x",
        "lenet5",
        ("lenet5_3x3",),
        settings={"optimizer": "sgd", "lr": 0.05, "batch_size": 32, "epochs": 12},
        extra_arms=(Arm("lenet5/decay", "lenet5", {"schedule": "step", "lr": 0.01}),),
    )
    plain = study.config("lenet5_3x3", FULL, seed=2)
    assert (plain.model, plain.optimizer, plain.lr, plain.batch_size, plain.epochs, plain.seed) == (
        "lenet5_3x3",
        "sgd",
        0.05,
        32,
        12,  # the full profile keeps the study's epochs
        2,
    )
    arm = study.config("lenet5/decay", FULL, split="trainval")
    assert (arm.model, arm.schedule, arm.lr, arm.optimizer, arm.split) == ("lenet5", "step", 0.01, "sgd", "trainval")
    quick = study.config("lenet5/decay", QUICK)  # another profile caps epochs and the subset at its own
    assert (quick.epochs, quick.subset) == (min(12, QUICK.epochs), QUICK.subset)
    assert study.config("lenet5", FULL).subset is None and study.config("lenet5", FULL).epochs == 12


def test_kfold_uses_the_reports_k_in_full_and_the_profiles_in_quick():
    r2 = get_study("R2")
    for profile, k in ((FULL, 10), (QUICK, QUICK.folds)):
        folds = [j.config for j in r2.plan(profile, seeds=1) if j.part == "fold"]
        assert len(folds) == k and {c.folds for c in folds} == {k} and sorted(c.fold for c in folds) == list(range(k))
        assert {c.model for c in folds} == {"r2_base"}


def test_plan_holds_every_part():
    plan = get_study("R0").plan(QUICK, seeds=2)
    parts = {(j.label, j.part) for j in plan}
    assert ("lenet5_3x3_leaky_dropout_avgpool", "trainval") in parts
    assert ("lenet5_3x3_leaky_dropout_avgpool/augment", "extra") in parts
    trainval = [j.config for j in plan if j.part == "trainval"]
    assert [c.seed for c in trainval] == [0, 1] and {c.split for c in trainval} == {"trainval"}


def test_bad_arms_get_a_one_line_cause():
    with pytest.raises(ValueError, match="has no arm 'cnn_9'"):
        get_study("R4").config("cnn_9", QUICK)
    with pytest.raises(ValueError, match="used twice"):
        Study("X", "x", "lenet5", ("lenet5_3x3",), extra_arms=(Arm("a", "lenet5"), Arm("a", "lenet5_3x3")))
    with pytest.raises(ValueError, match="no arm 'missing'"):
        Study("X", "x", "lenet5", ("lenet5_3x3",), kfold=(("missing", 5),))
    with pytest.raises(ValueError, match="must be 'holdout' or 'trainval'"):
        Study("X", "x", "lenet5", ("lenet5_3x3",), test=(("lenet5", "fold"),))
    with pytest.raises(ValueError, match="the baseline 'lenet5' has no variant to be compared with; add at least one"):
        Study("X", "x", "lenet5", ())  # section 4 would die on it with an empty StopIteration


@pytest.mark.slow
@pytest.mark.parametrize("name", ["R0", "R1", "R2", "R3", "R4"])
def test_study_runs_in_a_quick_profile(name, store, monkeypatch):
    monkeypatch.setenv("FASHION_CNN_QUIET", "1")
    jobs = get_study(name).plan(TINY, device="cpu")
    runs = get_or_train_many([j.config for j in jobs])
    assert len(runs) == len(jobs) and len(list(store.glob("*/run.json"))) == len(jobs)
    for job, run in zip(jobs, runs):
        assert run.config == job.config and len(run.history) == 1
        assert math.isfinite(run.metrics["train_loss"])
        if job.part != "trainval":
            assert 0.0 <= run.metrics["val_acc"] <= 1.0 and run.metrics["val_size"] > 0


def test_plan_table_counts_what_the_store_holds(store, monkeypatch, trained_elsewhere):
    monkeypatch.setenv("FASHION_CNN_QUIET", "1")
    jobs = get_study("R2").plan(TINY, device="cpu")  # R2: main view and 10-fold (2 folds here), no extra arms
    before = plan_table(jobs)
    assert list(before.index) == ["main", "fold", "all"]
    assert before.loc["all", "runs"] == len(jobs) == before.loc["main", "runs"] + before.loc["fold", "runs"]
    assert before.loc["all", "stored"] == 0 and before.loc["all", "cpu_hours_left"] > 0
    get_or_train(jobs[0].config)
    (store / run_key(jobs[1].config)).mkdir(parents=True)
    (store / run_key(jobs[1].config) / "checkpoint.safetensors").write_bytes(b"")  # an interrupted run
    after = plan_table(jobs)
    assert (after.loc["main", "stored"], after.loc["main", "resumable"]) == (1, 1)
    assert after.loc["all", "training"] == 0
    holder = trained_elsewhere(600, jobs[2].config)  # another process is training a third run
    assert plan_table(jobs).loc["main", ["stored", "training", "resumable"]].tolist() == [1, 1, 1]
    holder.kill()
    holder.wait()
    assert plan_table(jobs).loc["main", "training"] == 0  # its lock went with it
    assert after.loc["all", "images_M"] == before.loc["all", "images_M"]
    assert after.loc["all", "cpu_hours_left"] < before.loc["all", "cpu_hours_left"]


def test_command_line_plans_the_pilot_of_auto_seeds_before_n_is_known(store, capsys):
    assert main(["plan", "R0", "--profile", "quick", "--seeds", "auto", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "R0: seeds=auto: pilot seeds [0, 1, 2] (not tested); n is chosen after it" in out
    pilot = get_study("R0").plan(config.get_profile("quick"), (0, 1, 2), "cpu")
    assert re.search(r"^all\s+(\d+)", out, re.MULTILINE).group(1) == str(len(pilot))  # the pilot's runs, all of them
    assert not list(store.glob("*/run.json"))  # planning trains nothing


def test_command_line_trains_what_the_store_lacks(store, monkeypatch, capsys):
    tiny = dataclasses.replace(TINY, name="tiny")
    monkeypatch.setitem(config.PROFILES, "tiny", tiny)
    monkeypatch.setenv("FASHION_CNN_QUIET", "1")
    jobs = get_study("R2").plan(tiny, device="cpu")
    assert main(["train", "R2", "--profile", "tiny", "--device", "cpu"]) == 0
    assert len(list(store.glob("*/run.json"))) == len(jobs) and plan_table(jobs).loc["all", "stored"] == len(jobs)
    assert f"R2: {len(jobs)} run(s) trained or resumed" in capsys.readouterr().out
    assert main(["train", "R2", "--profile", "tiny", "--device", "cpu"]) == 0  # nothing left: nothing trained
    assert "R2: 0 run(s) trained" in capsys.readouterr().out
    assert main(["list", "--profile", "tiny"]) == 0
    listed = capsys.readouterr().out
    assert all(f"\n{name} " in listed for name in list_studies())
    assert main(["train", "R9"]) == 2 and main(["plan", "R2", "--seeds", "many"]) == 2
    assert main(["plan", "R2", "--profile", "fast"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "studies: unknown study 'R9': use one of R0, R1, R2, R3, R4, or the path of a study file (.toml)",
        "studies: seeds='many': give a number of seeds (1 or more), 'auto' or 'default'",
        "studies: unknown profile 'fast': use one of ['full', 'quick', 'tiny']",
    ]
    assert len(list(store.glob("*/run.json"))) == len(jobs)


def test_only_picks_arms_by_pattern_and_a_pattern_matching_nothing_fails(store, monkeypatch, capsys):
    jobs = get_study("R4").plan(FULL, seeds=2)
    picked = select(jobs, ["cnn_4*", "cnn_2/tuned"])
    assert sorted({j.label for j in picked}) == [
        "cnn_2/tuned",
        "cnn_4",
        "cnn_4/sigmoid/aug",
        "cnn_4/sigmoid/none",
        "cnn_4/softmax/aug",
    ]
    assert len(picked) == 5 * 2 and select(jobs, None) == jobs
    with pytest.raises(ValueError, match=r"--only 'cnn_9\*' matches no arm; the arms are: cnn_1, cnn_2, "):
        select(jobs, ["cnn_4", "cnn_9*"])
    tiny = dataclasses.replace(TINY, name="tiny")
    monkeypatch.setitem(config.PROFILES, "tiny", tiny)
    monkeypatch.setenv("FASHION_CNN_QUIET", "1")
    assert main(["train", "R4", "--profile", "tiny", "--device", "cpu", "--only", "cnn_4/sig*"]) == 0
    trained = select(get_study("R4").plan(tiny, device="cpu"), ["cnn_4/sig*"])
    assert sorted(p.parent.name for p in store.glob("*/run.json")) == sorted(run_key(j.config) for j in trained)
    assert "(only cnn_4/sig*: 2 runs)" in capsys.readouterr().out
    assert main(["plan", "R4", "--only", "CNN_4"]) == 2  # labels are case-sensitive: a typo trains nothing
    assert "studies: --only 'CNN_4' matches no arm" in capsys.readouterr().err


def test_pairs_are_the_main_views_family():
    r0, r2 = get_study("R0"), get_study("R2")
    assert r2.pairs == [("r2_base", v) for v in r2.variants]  # one change each: each against the baseline
    steps = list(zip(r0.models[1:-1], r0.models[2:]))  # cumulative: each step against the model before it too
    assert r0.pairs == [("lenet5", v) for v in r0.variants] + steps and len(r0.pairs) == 7


def test_seeds_resolve_to_a_number_or_auto():
    assert config.resolve_seeds("default", FULL, "cpu") == 3 and config.resolve_seeds("", QUICK, "cpu") == 2
    assert config.resolve_seeds("5", FULL, "cpu") == 5 and config.resolve_seeds(4, QUICK, "cpu") == 4
    assert config.resolve_seeds(" AUTO ", QUICK, "cpu") == "auto"
    for bad in ("-1", "three", "2.5", "0", 0):  # 0 is no number of seeds, not "default" in disguise
        with pytest.raises(ValueError, match=r"give a number of seeds \(1 or more\)"):
            config.resolve_seeds(bad, FULL, "cpu")


def test_a_study_at_bf16_plans_other_runs_and_fewer_cpu_hours_and_fp32_is_the_study_itself(store):
    r4 = get_study("R4")
    assert r4.at_precision("fp32") is r4
    fp32, bf16 = r4.plan(FULL, 1), r4.at_precision("bf16").plan(FULL, 1)
    assert {j.config.precision for j in bf16} == {"bf16"} and [j.label for j in bf16] == [j.label for j in fp32]
    assert not {run_key(j.config) for j in bf16} & {run_key(j.config) for j in fp32}
    hours = {p: plan_table(jobs).loc["all", "cpu_hours_left"] for p, jobs in (("fp32", fp32), ("bf16", bf16))}
    assert hours["bf16"] < 0.6 * hours["fp32"]  # R4's nets are arithmetic-bound: bf16 roughly halves them


def test_a_full_disk_while_training_stops_in_one_line_and_keeps_the_store(small_disk):
    """A real full disk (tmpfs) under the run store: one line naming the folder, what is kept and how to go
    on, exit 2; no traceback, no finished run that is not whole."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "FASHION_CNN_REPORTS": str(small_disk), "FASHION_CNN_QUIET": "1"}
    cmd = [sys.executable, "-m", "fashion_cnn", "train", "R0", "--profile", "quick", "--seeds", "1"]
    done = subprocess.run([*cmd, "--only", "lenet5", "--device", "cpu"], env=env, capture_output=True, text=True)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith(f"studies: {small_disk}") and "no space left on the disk" in line
    assert "free some space and run the same command again" in line
    for finished in (small_disk / "runs").glob("*/run.json"):  # whatever is marked finished is whole
        assert (finished.parent / "weights.safetensors").stat().st_size > 0
