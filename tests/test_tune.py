import json
import signal
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from optuna.trial import TrialState

from fashion_cnn import RunConfig, config, tune
from fashion_cnn.analysis import stats
from fashion_cnn.cli import tune as tune_cli
from fashion_cnn.present import text
from fashion_cnn.tune import sweeps

TINY = {"subset": 600, "epochs": 1, "device": "cpu"}
SPACE = {"lr": ["log", 1e-4, 1e-2], "batch_size": ["choice", [32, 64]], "epochs": ["choice", [1]]}


def _plan(tmp_path, trials, space=None, **options):
    space = space if space is not None else SPACE
    return tune.plan_search(
        "r3_lenet",
        "quick",
        trials=trials,
        space=space,
        device="cpu",
        storage=f"sqlite:///{tmp_path / 'tune.sqlite3'}",
        **options,
    )


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
    lines = text.sweep_sentences(result.table(), result.sweep.field, result.sweep.base.seed)
    assert any("n_base=" in line for line in lines)
    comparing = [line for line in lines if "ranges from" in line or "gap is largest" in line]
    assert len(comparing) == 2 and all(line.endswith(f"; {text.NO_TEST}.") for line in comparing)
    assert not any(
        word in line for line in lines for word in ("is higher", "is lower", "equivalent within", "inconclusive at")
    )


def test_sweep_timing_is_a_finding_only_beyond_timing_noise():
    import pandas as pd

    batch = text.timing_sentence(pd.Series([11.05, 6.84, 4.75], index=[8, 32, 128]), "batch_size")
    assert batch == "An epoch takes 4.75 s at batch_size=128 and 11.05 s at batch_size=8 (2.3×)."
    lr = text.timing_sentence(pd.Series([6.22, 6.84, 6.05], index=[1e-5, 1e-4, 1e-3]), "lr")
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

    monkeypatch.setattr(sweeps, "get_or_train_many", record)
    with pytest.raises(Stop):
        tune.run_sweeps(config.get_profile("quick"), device="cpu")
    every = [c for s in tune.default_sweeps(config.get_profile("quick"), device="cpu") for c in s.configs()]
    assert calls == [every]  # one call with every sweep's runs, not one per sweep


@pytest.mark.parametrize(
    "field, values, message",
    [
        ("width", (1, 2), "'width' is neither a RunConfig field nor an argument of model 'r3_lenet'"),
        ("lr", (-1.0,), "lr=-1.0 is invalid"),
        ("model", ("lenet5",), "'model' cannot be varied here"),
    ],
)
def test_bad_sweep_gets_a_one_line_cause(field, values, message):
    with pytest.raises(tune.TuneError, match=message) as err:
        tune.Sweep("bad", field, values, RunConfig("r3_lenet", **TINY))
    assert "\n" not in str(err.value)


# ----------------------------------------------------------------------------------------------
# Learning-rate decay

QUICK = config.get_profile("quick")


TINY_PROFILE = config.Profile("quick", epochs=2, subset=600, seeds=2, folds=3, test_subset=200)


def _decay(acc_diffs, train_diffs=None, gap_diffs=None, margin=config.MARGIN, choice=None):
    """A DecayResult built by hand: per-seed metrics of the constant rate, and the step decay's as
    the constant's plus the given differences (test accuracy, training accuracy, gap)."""
    n = len(acc_diffs)
    base = np.linspace(0.89, 0.91, n)
    train_diffs = acc_diffs if train_diffs is None else train_diffs
    gap_diffs = acc_diffs if gap_diffs is None else gap_diffs
    rows = []
    for label, sign in (("none", 0), ("step", 1)):
        for seed in range(n):
            train = base[seed] + 0.02 + sign * train_diffs[seed]
            rows.append(
                {
                    "schedule": label,
                    "seed": seed,
                    "acc": base[seed] + sign * acc_diffs[seed],
                    "precision": 0.9,
                    "recall": 0.9,
                    "f1": 0.9,
                    "loss": 0.3,
                    "n": 2000,
                    "train_acc": train,
                    "val_acc": train - (0.03 + sign * gap_diffs[seed]),
                    "gap": 0.03 + sign * gap_diffs[seed],
                }
            )
    configs = tune.decay_configs(QUICK, device="cpu")
    return tune.DecayResult(configs, {label: [] for label in configs}, pd.DataFrame(rows), margin, choice)


def _sentence(lines, what):
    found = [line for line in lines if line.startswith(f"`step` vs `none`, {what}: ")]
    assert len(found) == 1, lines
    return found[0]


@pytest.mark.parametrize(
    "diffs, outcome, words",
    [
        ([0.010, 0.012, 0.011, 0.009, 0.010], "higher", "is higher ("),
        ([-0.010, -0.012, -0.011, -0.009, -0.010], "lower", "is lower ("),
        ([0.0005, -0.0005, 0.0003, -0.0002, 0.0001], "equivalent", "equivalent within ±0.50 points ("),
        ([0.010, -0.008, 0.004], "inconclusive", "inconclusive at n=3: neither a difference"),
    ],
)
def test_decay_describe_states_the_outcome_the_adjusted_tests_support(diffs, outcome, words):
    decay = _decay(diffs)
    c = decay.comparisons()["acc"]
    assert c.outcome == outcome and c.family == 1
    line = _sentence(text.decay_sentences(decay), "test accuracy")
    assert line == text.comparison(c, "test accuracy")
    mean = np.mean(diffs) * 100
    assert line.startswith(f"`step` vs `none`, test accuracy: {text.signed(np.mean(diffs))}, 95% CI ")
    assert f"{abs(mean):.2f}" in line and f"(n={len(diffs)} seeds)" in line  # the estimate and interval lead
    assert words in line and "Holm over 1 " in line
    assert line.index("95% CI") < line.index(words)
    table = decay.comparison_table()
    assert list(table.index) == ["test accuracy", "training accuracy", "gap (train − val)"]
    assert table.loc["test accuracy", "outcome"] == outcome
    assert table.loc["test accuracy", "difference"] == pytest.approx(mean)


def test_decay_describe_claims_nothing_the_adjusted_tests_do_not_support():
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(40):
        n = int(rng.integers(2, 8))
        diffs = rng.normal(rng.choice([0.0, 0.004, -0.01]), rng.choice([0.001, 0.004, 0.01]), n)
        decay = _decay(list(diffs))
        c = decay.comparisons()["acc"]
        line = _sentence(text.decay_sentences(decay), "test accuracy")
        differs, within = c.p_holm < 0.05, c.tost_holm < 0.05
        assert ("is higher" in line or "is lower" in line) == differs
        assert ("is higher" in line) == (differs and c.diff.mean > 0)
        assert ("by less than ±0.50 points" in line) == (differs and within)  # both tests reject
        assert ("equivalent within" in line) == (within and not differs)
        assert ("90% CI" in line) == within  # the TOST's interval beside any equivalence
        assert ("inconclusive at n=" in line) == (not differs and not within)
        seen.add(c.outcome)
    assert {"higher", "lower", "equivalent", "inconclusive", "higher within margin"} <= seen  # every branch checked


def test_decay_compares_each_metric_as_its_own_family():
    decay = _decay(
        acc_diffs=[0.010, 0.012, 0.011, 0.009, 0.010],  # step higher on test accuracy
        train_diffs=[0.0005, -0.0005, 0.0003, -0.0002, 0.0001],  # equivalent on training accuracy
        gap_diffs=[0.010, -0.008, 0.004, -0.012, 0.006],
    )  # inconclusive on the gap
    got = decay.comparisons()
    assert {m: c.outcome for m, c in got.items()} == {"acc": "higher", "train_acc": "equivalent", "gap": "inconclusive"}
    assert all(c.family == 1 for c in got.values())
    assert decay.values("gap")["step"].tolist() == pytest.approx(
        (decay.values("train_acc")["step"] - decay.values("val_acc")["step"]).tolist()
    )
    lines = text.decay_sentences(decay)
    assert "is higher (" in _sentence(lines, "test accuracy")
    assert "equivalent within ±0.50 points" in _sentence(lines, sweeps.DECAY_COMPARED["train_acc"])
    assert "inconclusive at n=5" in _sentence(lines, sweeps.DECAY_COMPARED["gap"])
    assert "eval mode" in sweeps.DECAY_COMPARED["train_acc"] and "eval mode" in sweeps.DECAY_COMPARED["gap"]
    power = text.power([got["acc"]])  # what n=5 tells apart on test accuracy, and the seeds that would settle it
    assert f"On test accuracy, {power[0].lower()}{power[1:]}" in lines and "n=5" in power
    r1 = {k: f.value for k, f in sweeps.R1_DECAY.items()}  # R1's test results, retrained on train + validation
    assert lines[-1].startswith(f"R1 reported {r1['none']:.2%} with a constant rate and {r1['step']:.2%} with")
    batch = decay.configs["none"].batch_size
    assert f"hold-out runs at batch {batch}" in lines[-1] and "not the same setting" in lines[-1]
    assert not any("Seeds chosen from a pilot" in line for line in lines)  # n was given, not chosen


def test_decay_margin_decides_equivalence():
    diffs = [0.003, 0.004, 0.0035, 0.0045, 0.003]
    assert _decay(diffs, margin=0.01).comparisons()["acc"].outcome == "higher within margin"  # both tests reject
    assert _decay(diffs, margin=0.002).comparisons()["acc"].outcome == "higher"  # not within the narrower margin
    near = [0.0010, -0.0015, 0.0020, -0.0005, 0.0005]
    assert _decay(near, margin=0.005).comparisons()["acc"].outcome == "equivalent"
    assert _decay(near, margin=0.0005).comparisons()["acc"].outcome == "inconclusive"
    assert "equivalent within ±0.50 points" in _sentence(text.decay_sentences(_decay(near)), "test accuracy")


def _fake_training(monkeypatch, acc):
    """get_or_train_many and evaluate_on_test replaced: no training, `acc(schedule, seed)` as test
    accuracy; returns the seeds of every training call and the number of evaluations."""
    calls, evaluated = [], []

    def train(configs, **_):
        calls.append([(c.schedule, c.seed) for c in configs])
        return [
            SimpleNamespace(
                config=c, metrics={"train_acc": 0.95, "train_eval_acc": 0.96, "val_acc": 0.9}, history=[{"lr": c.lr}]
            )
            for c in configs
        ]

    def evaluate(run, profile, device="auto"):
        evaluated.append((run.config.schedule, run.config.seed))
        return {
            "acc": acc(run.config.schedule, run.config.seed),
            "precision": 0.9,
            "recall": 0.9,
            "f1": 0.9,
            "loss": 0.3,
            "n": 2000,
        }

    monkeypatch.setattr(sweeps, "get_or_train_many", train)
    monkeypatch.setattr(sweeps.metrics, "evaluate_on_test", evaluate)
    return calls, evaluated


PILOT_DIFFS = [0.004, 0.010, 0.001]  # step − constant on the pilot's seeds 0, 1, 2


def _acc(schedule, seed):
    diff = PILOT_DIFFS[seed] if seed < len(PILOT_DIFFS) else (-0.02 if seed % 2 else 0.03)  # later seeds differ
    return 0.9 + (diff if schedule == "step" else 0.0)


@pytest.mark.parametrize("cap", [10, 4])
def test_auto_seeds_choose_n_from_the_pilot_then_test_fresh_seeds_only(monkeypatch, cap):
    calls, evaluated = _fake_training(monkeypatch, _acc)
    decay = tune.decay_study(QUICK, "cpu", seeds="auto", margin=0.005, cap=cap)
    pilot = {s: pd.Series([_acc(s, seed) for seed in range(3)]) for s in ("none", "step")}
    expected = stats.choose_seeds(stats.compare_family(pilot, [("none", "step")], 0.005), cap=cap)
    fresh = list(range(3, 3 + expected.n))  # the tested seeds: none of the pilot's
    assert decay.plan.choice == expected and expected.pilot == 3 and 3 < expected.n <= cap
    assert decay.plan.pilot_seeds == (0, 1, 2) and list(decay.plan.seeds) == fresh
    assert calls[0] == [(s, seed) for s in ("none", "step") for seed in range(3)]  # the pilot, both schedules
    assert calls[1:] == [[(s, seed) for s in ("none", "step") for seed in fresh]]  # then n fresh seeds, once
    assert sorted(evaluated) == sorted((s, seed) for s in ("none", "step") for seed in [0, 1, 2, *fresh])  # once each
    assert [r.config.seed for r in decay.runs["step"]] == fresh
    assert decay.comparisons()["acc"].diff.n == expected.n  # the test is made at n, on the fresh seeds only
    lines = text.decay_sentences(decay)
    assert text.seed_choice(decay.plan) in lines
    assert lines.index(text.seed_choice(decay.plan)) < lines.index(_sentence(lines, "test accuracy"))
    if cap == 4:
        assert expected.n == 4 and expected.undecidable


def test_auto_seeds_with_a_pilot_that_decides_still_test_fresh_seeds(monkeypatch):
    calls, _ = _fake_training(monkeypatch, lambda s, seed: 0.9 + (0.0001 * (seed % 3 - 1) if s == "step" else 0.0))
    decay = tune.decay_study(QUICK, "cpu", seeds="auto", margin=0.005)
    assert decay.plan.choice.n == 3 and len(calls) == 2  # the pilot decides at 3: 3 fresh seeds are trained
    assert decay.plan.seeds == (3, 4, 5) and decay.comparisons()["acc"].diff.n == 3
    assert decay.comparisons()["acc"].outcome == "equivalent"


@pytest.mark.parametrize(
    "seeds, profile, n",
    [
        (None, QUICK, QUICK.seeds),
        ("default", QUICK, QUICK.seeds),
        ("3", QUICK, 3),
        (1, QUICK, 1),
        ("default", config.get_profile("full"), config.get_profile("full").seeds),  # on a CPU: the profile's, not auto
    ],
)
def test_given_seeds_train_once_without_a_pilot(monkeypatch, seeds, profile, n):
    calls, _ = _fake_training(monkeypatch, _acc)
    decay = tune.decay_study(profile, "cpu", seeds=seeds)
    assert calls == [[(s, seed) for s in ("none", "step") for seed in range(n)]]
    assert decay.plan.choice is None and decay.plan.pilot_seeds == () and len(decay.test) == 2 * n


def test_one_seed_per_schedule_is_no_test(monkeypatch):
    _fake_training(monkeypatch, _acc)
    decay = tune.decay_study(QUICK, "cpu", seeds=1)
    c = decay.comparisons()["acc"]
    assert c.outcome == "no test" and c.diff.n == 1
    lines = text.decay_sentences(decay)
    assert "no test at n=1" in _sentence(lines, "test accuracy")
    assert not any(
        word in line for line in lines for word in ("is higher", "is lower", "equivalent within", "inconclusive at")
    )
    power = text.power([c])
    assert f"On test accuracy, {power[0].lower()}{power[1:]}" in lines


@pytest.mark.parametrize(
    "options, message",
    [
        ({"seeds": "many"}, "give a number of seeds"),
        ({"margin": 0.0}, "margin must be positive"),
        ({"seeds": "auto", "cap": 0}, "cap of at least 1"),
    ],
)
def test_bad_decay_options_get_a_one_line_cause(monkeypatch, options, message):
    _fake_training(monkeypatch, _acc)
    with pytest.raises(ValueError, match=message):
        tune.decay_study(QUICK, "cpu", **options)


def test_decay_study_trains_both_schedules_over_the_same_seeds(store):
    decay = tune.decay_study(TINY_PROFILE, "cpu", seeds=2)
    assert list(decay.runs) == ["none", "step"] and [len(r) for r in decay.runs.values()] == [2, 2]
    assert decay.test[["schedule", "seed"]].values.tolist() == [["none", 0], ["none", 1], ["step", 0], ["step", 1]]
    for label, runs in decay.runs.items():
        for run in runs:
            row = decay.test[(decay.test["schedule"] == label) & (decay.test["seed"] == run.config.seed)].iloc[0]
            assert row["train_acc"] == run.metrics["train_eval_acc"] and row["val_acc"] == run.metrics["val_acc"]
            assert row["gap"] == pytest.approx(run.metrics["train_eval_acc"] - run.metrics["val_acc"])
            assert run.metrics["train_eval_acc"] == run.history[-1]["train_eval_acc"]  # recorded by the engine
            assert row["n"] == 200
    lines = text.decay_sentences(decay)
    assert lines[0] == "The step schedule multiplies the rate by 0.5 every epoch (0.001 → 0.0005 in the last epoch)."
    for what in sweeps.DECAY_COMPARED.values():
        assert "(n=2 seeds); " in _sentence(lines, what)
    assert list(decay.table().index) == ["none", "step"] and len(decay.comparison_table()) == 3


def test_describe_search_compares_single_runs_without_a_test():
    summary = {
        "finished": 2,
        "complete": 2,
        "pruned": 0,
        "fail": 0,
        "total": 2,
        "workers": [0],
        "devices": ["cpu"],
        "trial_seconds": 60.0,
        "wall_seconds": 60.0,
        "best_number": 1,
        "best_value": 0.9,
        "best_params": {"lr": 1e-3},
    }
    run = SimpleNamespace(
        provenance={"device_name": "cpu"},
        metrics={"train_size": 1000},
        config=RunConfig("cnn_2", epochs=1, split="trainval"),
    )
    lines = text.describe_search(summary, {"acc": 0.92, "n": 2000}, run, run.config.model, tune.R4_TUNED_TEST.value)
    assert lines[-1].endswith(
        "scores 92.00% on 2,000 test images, −0.91 points against R4's 92.91% (R4: CNN_2 with "
        "augmentation, 10 epochs; one run each: no test, so no difference or equivalence is "
        "claimed)."
    )


# ----------------------------------------------------------------------------------------------
# Search space and storage errors


@pytest.mark.parametrize(
    "space, message",
    [
        ({"lr": ["log", 0, 1e-2]}, "a log range needs low > 0"),
        ({"lr": ["log", 1e-2, 1e-4]}, "low=0.01 must be below high=0.0001"),
        ({"lr": ["loguniform", 1e-4, 1e-2]}, "does not start with a kind"),
        ({"batch_size": ["choice", []]}, "a choice needs a non-empty list"),
        ({"epochs": ["int", 1.5, 3]}, "an int range needs whole numbers"),
        ({"epochs": ["int", -2, 3]}, "epochs=-2 is invalid"),
        ({"width": ["int", 1, 4]}, "'width' is neither a RunConfig field"),
        ({}, "non-empty mapping"),
        ("{not json", "neither JSON nor a readable JSON file"),
    ],
)
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
    assert cpu.config(
        {"fc_dropout": 0.2, "lr": 1e-3, "weight_decay": 1e-5, "batch_size": 64, "epochs": 5}
    ).model_args == {"fc_dropout": 0.2}
    chosen = tune.plan_search("cnn_2", "full", device="cpu", storage=storage)
    assert chosen.base.model == "cnn_2" and chosen.trials == 30 and "dropout" in chosen.space


@pytest.mark.parametrize(
    "url, message",
    [
        ("not a url", "is not a database URL"),
        ("sqlite:////proc/no/such/folder/t.sqlite3", "cannot create the folder"),
        ("postgresql://user:secret@127.0.0.1:1/db", "needs a database driver|cannot reach storage"),
    ],
)
def test_bad_storage_gets_a_one_line_cause_and_fix(url, message):
    with pytest.raises(tune.TuneError, match=message) as err:
        tune.open_storage(url)
    assert "\n" not in str(err.value) and "secret" not in str(err.value)


def test_storage_that_cannot_be_opened(tmp_path):
    with pytest.raises(tune.TuneError, match="cannot reach storage .*omit --storage") as err:
        tune.open_storage(f"sqlite:///{tmp_path}")  # a folder, not a database file
    assert "\n" not in str(err.value)


def test_cli_reports_bad_input_in_one_line_and_exits_2(tmp_path, capsys):
    assert tune_cli.main(["--profile", "quick", "--storage", "not a url"]) == 2
    assert (
        tune_cli.main(
            ["--profile", "quick", "--storage", f"sqlite:///{tmp_path / 't.db'}", "--space", '{"lr": ["log", 0, 1]}']
        )
        == 2
    )
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
    assert [t.user_attrs["sampler_seed"] for t in once.get_trials()] == [
        tune.sampler_seed(plan("once", 4), n) for n in range(4)
    ]
    other = tune.search(plan("other-seed", 4, seed=1), log=lambda line: None)
    assert [t.params for t in other.get_trials()] != [t.params for t in once.get_trials()]


# ----------------------------------------------------------------------------------------------
# Trials on Ray


def _by_slot(study):
    """(slot, params, state, value) of the finished trials, in slot order: what a search decided."""
    done = [t for t in study.get_trials() if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    return sorted((tune.slot(t), t.params, t.state, t.value) for t in done)


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_one_or_two_trials_at_once_on_ray_propose_prune_and_score_the_same_trials(
    local_ray, store, tmp_path, monkeypatch
):
    space = {**SPACE, "epochs": ["choice", [2]]}  # two epochs: the pruner can stop a trial midway
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
    one = tune.search(_plan(tmp_path / "one", 4, space=space), workers=1, log=lambda line: None, local_seconds=0)
    monkeypatch.setattr(config, "RUNS_DIR", tmp_path / "runs-two")  # the second search trains every trial again
    lines = []
    two = tune.search(_plan(tmp_path / "two", 4, space=space), workers=2, log=lines.append, local_seconds=0)
    assert _params(two) == _params(one) and [t.number for t in two.get_trials()] == list(range(4))
    assert {t.state for t in one.get_trials()} == {TrialState.COMPLETE, TrialState.PRUNED}
    assert len({t.user_attrs["worker"] for t in two.get_trials()}) == 2, "two Ray workers should have run trials"
    for t in two.get_trials():  # a trial starts only after the batches before it have finished
        earlier = [u for u in two.get_trials() if u.number < t.number // 2 * 2]
        assert all(u.datetime_complete <= t.datetime_start for u in earlier), t.number
        if t.state == TrialState.COMPLETE:  # its run is in the store, once
            assert (config.RUNS_DIR / t.user_attrs["run_key"] / "run.json").is_file()
    assert len(lines) == 4 and lines[-1].startswith("trial 3 ") and " · 4/4 finished · best " in lines[-1]
    again = tune.search(_plan(tmp_path / "two", 4, space=space), workers=2, log=lines.append, local_seconds=0)
    assert len(again.get_trials()) == 4 and len(lines) == 4  # done: the same command trains nothing


def test_an_interrupted_search_retries_its_trials_in_their_slots_and_ends_as_an_uninterrupted_one(store, tmp_path):
    for name in ("once", "interrupted"):
        (tmp_path / name).mkdir()
    once = tune.search(_plan(tmp_path / "once", 4), log=lambda line: None)

    def interrupt(line):
        raise KeyboardInterrupt  # Ctrl-C after the first trial of the first batch was told

    with pytest.raises(KeyboardInterrupt):
        tune.search(_plan(tmp_path / "interrupted", 4), log=interrupt)
    study = tune.open_study(_plan(tmp_path / "interrupted", 4), create=False)
    counts = tune.study_counts(study)
    assert counts["finished"] == 1 and counts["fail"] == 1 and counts["waiting"] == 1 and counts["running"] == 0
    resumed = tune.search(_plan(tmp_path / "interrupted", 4), log=lambda line: None)
    assert _by_slot(resumed) == _by_slot(once)
    [failed] = resumed.get_trials(states=(TrialState.FAIL,))
    [retry] = [t for t in resumed.get_trials() if t.user_attrs.get("retry_of") == failed.number]
    assert tune.slot(retry) == tune.slot(failed) == 1 and retry.params == failed.params


@pytest.mark.slow
def test_a_killed_search_leaves_no_process_and_the_next_run_finishes_its_trials(
    tmp_path, monkeypatch, ray_temp, stop_while_training
):
    script = tmp_path / "driver.py"
    script.write_text(  # two trials on Ray, 3 epochs of ~2 s each
        "import pathlib, sys\n"
        "from fashion_cnn import config, tune\n"
        "config.RUNS_DIR = pathlib.Path(sys.argv[1])\n"
        "plan = tune.plan_search('lenet5', 'quick', trials=2, device='cpu', storage=sys.argv[2], subset=20000,\n"
        "                        space={'lr': ['log', 1e-4, 1e-2], 'epochs': ['choice', [3]]})\n"
        "tune.search(plan, log=lambda line: None, local_seconds=0)\n"
    )
    storage = f"sqlite:///{tmp_path / 'tune.sqlite3'}"
    monkeypatch.setenv("RAY_TMPDIR", ray_temp())  # the driver's own local Ray
    alive = stop_while_training(
        [sys.executable, str(script), str(tmp_path / "runs"), storage], tmp_path / "runs", signal.SIGKILL
    )
    # Ray's two idle per-node agents end on their own once their GCS reconnect gives up, ~60 s after the
    # raylet died (docs/speed.md); everything that trains or holds the store is gone (teardown ends the agents)
    agents = ("ray::DashboardAgent", "ray::RuntimeEnvAgent")
    training = [p for p in alive if not " ".join(p.cmdline()).startswith(agents)]
    assert not training, f"{len(training)} process(es) of the killed search still running: {training}"
    plan = tune.plan_search(
        "lenet5",
        "quick",
        trials=2,
        device="cpu",
        storage=storage,
        subset=20000,
        space={"lr": ["log", 1e-4, 1e-2], "epochs": ["choice", [3]]},
    )
    assert tune.study_counts(tune.open_study(plan, create=False))["running"] == 2  # left by the killed driver
    monkeypatch.setattr(config, "RUNS_DIR", tmp_path / "runs")
    study = tune.search(plan, log=lambda line: None)  # this process continues it, from the trials' checkpoints
    counts = tune.study_counts(study)
    assert counts["finished"] == 2 and counts["fail"] == 2 and counts["running"] == counts["waiting"] == 0
    for t in study.get_trials(states=(TrialState.FAIL,)):
        [retry] = [u for u in study.get_trials() if u.user_attrs.get("retry_of") == t.number]
        assert retry.params == t.params and tune.slot(retry) == tune.slot(t)


def test_a_timed_out_search_is_continued_by_the_next_run(store, tmp_path, capsys):
    plan = _plan(tmp_path, 2)
    assert (
        tune_cli.main(
            [
                "--profile",
                "quick",
                "--model",
                "r3_lenet",
                "--device",
                "cpu",
                "--trials",
                "2",
                "--storage",
                plan.storage,
                "--space",
                json.dumps(SPACE),
                "--timeout",
                "0",
            ]
        )
        == 0
    )
    assert "stopped early" in capsys.readouterr().out
    assert tune.study_counts(tune.open_study(plan, create=False))["finished"] == 0
    lines = []
    study = tune.search(plan, log=lines.append)
    assert tune.study_counts(study)["finished"] == 2 and len(lines) == 2
    assert lines[-1].startswith("trial 1 ") and "2/2 finished · best " in lines[-1]


def test_the_trials_table_shows_no_raw_none_and_whole_trial_numbers():
    """A trial that retried another names its number (1, not 1.0000); the others show "–", not None."""
    import optuna

    from fashion_cnn.present import plots

    study = optuna.create_study(direction="maximize")
    study.enqueue_trial({"lr": 1e-3})
    for i in range(3):
        trial = study.ask()
        trial.suggest_float("lr", 1e-4, 1e-2, log=True)
        if i == 2:
            trial.set_user_attr("retry_of", 1)
        study.tell(trial, 0.8 + i / 100)
    frame = tune.trials_frame(study)
    assert frame["retry_of"].tolist()[:2] == [pd.NA, pd.NA] and frame.loc[2, "retry_of"] == 1
    html = plots.html_table(frame).data
    assert "None" not in html and "&lt;NA&gt;" not in html and "1.0000" not in html
    assert "<td>1</td>" in html and "<td>–</td>" in html


def test_two_drivers_of_one_search_at_once_leave_it_as_one_driver_would(store, tmp_path):
    """Two real processes drive the same study (two reports on one store): the second waits for the first's
    lock and finds the search done; before, both asked and told the same slots (8 trials for 4, two failed)."""
    import os
    import subprocess

    plan = _plan(tmp_path, 2)
    argv = ["--profile", "quick", "--model", "r3_lenet", "--device", "cpu", "--trials", "2"]
    argv += ["--storage", plan.storage, "--space", json.dumps(SPACE)]
    env = {**os.environ, "FASHION_CNN_REPORTS": str(store.parent), "FASHION_CNN_QUIET": "1"}
    cmd = [sys.executable, "-m", "fashion_cnn", "tune", *argv]
    drivers = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in "ab"]
    outs = [d.communicate(timeout=600) for d in drivers]
    assert [d.returncode for d in drivers] == [0, 0], [err[-2000:] for _, err in outs]
    waited = "the search 'r3_lenet-quick' in sqlite:///"
    assert any(waited in out + err and "is used by process" in out + err for out, err in outs)  # the second waited
    study = tune.open_study(plan, create=False)
    counts = tune.study_counts(study)
    assert counts["finished"] == 2 and counts["fail"] == counts["running"] == counts["waiting"] == 0
    assert len(study.trials) == 2 and sorted(tune.slot(t) for t in study.trials) == [0, 1]


def test_a_study_two_drivers_left_inconsistent_is_refused_in_one_line(tmp_path):
    import optuna

    plan = _plan(tmp_path, 2)
    study = tune.open_study(plan)
    for value in (0.5, 0.6):  # slot 0 finished twice, as two drivers at once left R4's search
        study.add_trial(optuna.trial.create_trial(value=value, user_attrs={"slot": 0}))
    with pytest.raises(tune.TuneError, match=r"has 2 finished trials in slot 0, as two searches running it at once"):
        tune.open_study(plan, create=False)
