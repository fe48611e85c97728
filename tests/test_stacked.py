"""Runs of one architecture trained as one vmapped stack (the GPU path), checked on the CPU."""

import json
import statistics

import pytest
from safetensors.torch import load_file

from fashion_cnn import RunConfig, config, get_or_train
from fashion_cnn.train import engine, runs, stacked, training
from fashion_cnn.train.schedule import get_or_train_many

TIMING = ("seconds", "images_per_s")


def _metrics(history):
    return [{k: v for k, v in row.items() if k not in TIMING} for row in history]


def _relative_gaps(a, b):
    """Per stored tensor: ‖a − b‖ / ‖a‖ between two runs' weights (BatchNorm buffers included)."""
    wa, wb = load_file(a.weights_path), load_file(b.weights_path)
    assert wa.keys() == wb.keys()
    return {
        k: ((wa[k].double() - wb[k].double()).norm() / wa[k].double().norm().clamp_min(1e-12)).item()
        for k in wa
        if wa[k].is_floating_point()
    }


@pytest.mark.parametrize(
    "model, augment, what",
    [
        ("lenet5_3x3_leaky_dropout", ("flip", "rotate"), "dropout masks and augmentation drawn per member"),
        ("r2_batchnorm", (), "BatchNorm batch statistics and running buffers per member"),
    ],
)
def test_stacked_runs_equal_sequential_runs_up_to_float_rounding(store, tmp_path, monkeypatch, model, augment, what):
    configs = [RunConfig(model, epochs=2, subset=600, device="cpu", augment=augment, seed=s) for s in (0, 1)]
    with engine.speed(channels_last=False):  # the same kernel layouts on both paths
        together = stacked.train_stacked(configs, progress=False)
        monkeypatch.setattr(config, "RUNS_DIR", tmp_path / "sequential")
        sequential = [get_or_train(c, progress=False) for c in configs]
    for s, q in zip(together, sequential):
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
    configs = [
        RunConfig("r2_base", epochs=1, subset=300, device="cpu", split="fold", folds=3, fold=f) for f in range(3)
    ]
    assert stacked.can_stack(configs)
    trained = stacked.train_stacked(configs, progress=False)
    for run, c in zip(trained, configs):
        assert run.path == store / runs.run_key(c)
        for name in (
            "config.json",
            "history.json",
            "metrics.json",
            "provenance.json",
            "weights.safetensors",
            "run.json",
        ):
            assert (run.path / name).is_file(), name
        assert not (run.path / "checkpoint.safetensors").exists()
        assert json.loads((run.path / "provenance.json").read_text())["trained_together"] == [r.key for r in trained]
        assert run.metrics["train_size"] == 200 and run.metrics["val_size"] == 100
    assert len({json.dumps(r.history[0]["val_loss"]) for r in trained}) == 3  # three folds, three different runs
    monkeypatch.setattr(training, "fit", lambda *a, **k: pytest.fail("a stored run was trained again"))
    again = get_or_train_many(configs, progress=False)
    assert [r.key for r in again] == [r.key for r in trained]


def test_configs_that_differ_beyond_seed_and_fold_are_refused_with_one_line(store):
    configs = [
        RunConfig("lenet5", epochs=1, subset=300, device="cpu"),
        RunConfig("lenet5", epochs=1, subset=300, device="cpu", lr=0.01),
    ]
    assert not stacked.can_stack(configs)
    with pytest.raises(ValueError, match="must differ only in seed, fold, split_seed") as err:
        stacked.train_stacked(configs, progress=False)
    assert "\n" not in str(err.value)
