import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fashion_cnn import RunConfig, get_or_train, losses
from fashion_cnn.train.engine import TrainingDiverged, summarise

TIMING = ("seconds", "images_per_s")


def test_summarise_on_a_known_confusion_matrix():
    m = np.zeros((10, 10), dtype=int)
    m[0, 0], m[0, 1], m[1, 1], m[2, 2] = 3, 1, 2, 4  # classes 3..9 absent
    out = summarise(m, loss_sum=5.0)
    assert out["acc"] == pytest.approx(9 / 10)
    assert out["loss"] == pytest.approx(0.5)
    # precision over present classes 0,1,2: 3/3, 2/3, 4/4 ; recall: 3/4, 2/2, 4/4
    assert out["precision"] == pytest.approx((1 + 2 / 3 + 1) / 3)
    assert out["recall"] == pytest.approx((0.75 + 1 + 1) / 3)


@pytest.mark.slow
def test_lenet5_learns_fashion_mnist(store):
    # 12.5k stratified images → 10k train / 2.5k validation, 2 epochs, Adam, batch 64
    run = get_or_train(RunConfig("lenet5", epochs=2, subset=12_500, device="cpu"), progress=False)
    assert run.metrics["train_size"] == 10_000
    assert run.metrics["val_acc"] >= 0.75
    assert run.history[1]["train_loss"] < run.history[0]["train_loss"]


def test_same_config_and_seed_gives_identical_history(store, tmp_path, monkeypatch):
    cfg = RunConfig("lenet5_3x3_leaky_dropout", epochs=2, subset=1500, device="cpu", augment=("flip", "rotate"))
    first = get_or_train(cfg, progress=False)
    second = get_or_train(cfg, force=True, progress=False)
    strip = lambda h: [{k: v for k, v in row.items() if k not in TIMING} for row in h]
    assert strip(first.history) == strip(second.history)
    other = get_or_train(cfg.replace(seed=1), progress=False)
    assert strip(other.history) != strip(first.history)


def test_nan_loss_stops_the_run_naming_it_and_leaves_no_finished_run(store, monkeypatch):
    monkeypatch.setitem(losses.LOSSES, "ce", lambda logits, y: F.cross_entropy(logits, y) * float("nan"))
    cfg = RunConfig("lenet5", epochs=3, subset=500, device="cpu")
    with pytest.raises(TrainingDiverged, match=r"lenet5 seed 0: training loss became nan in epoch 1"):
        get_or_train(cfg, progress=False)
    assert not list(store.glob("*/run.json"))


def test_every_schedule_and_optimizer_trains(store):
    for opt, schedule in [("sgd", "step"), ("rmsprop", "cosine"), ("adamw", "exponential")]:
        run = get_or_train(
            RunConfig(
                "r3_mlp", epochs=2, subset=500, optimizer=opt, schedule=schedule, step_size=1, lr=0.01, device="cpu"
            ),
            progress=False,
        )
        lrs = [row["lr"] for row in run.history]
        assert lrs[1] < lrs[0], (opt, schedule)
        assert np.isfinite(run.metrics["val_loss"])


def test_step_decay_halves_every_five_epochs(store):
    run = get_or_train(RunConfig("r3_mlp", epochs=11, subset=300, schedule="step", device="cpu"), progress=False)
    assert [row["lr"] for row in run.history] == [1e-3] * 5 + [5e-4] * 5 + [2.5e-4]


def test_each_epoch_measures_the_training_probe_in_eval_mode_without_changing_any_other_number(store):
    from fashion_cnn.analysis import metrics
    from fashion_cnn.train import engine, runs, training

    cfg = RunConfig("lenet5_3x3_leaky_dropout", epochs=2, subset=1500, device="cpu")
    run = get_or_train(cfg, progress=False)
    probe = runs.probe_indices(cfg)
    train_idx, _ = runs.split_indices(cfg)
    assert set(probe) <= set(train_idx) and len(probe) == min(runs.PROBE_IMAGES, len(train_idx))
    last = run.history[-1]
    assert {"train_eval_acc", "train_eval_loss"} <= set(last) and run.metrics["train_eval_acc"] == last[
        "train_eval_acc"
    ]
    # with dropout active the running training accuracy is another number than the eval-mode one
    assert last["train_eval_acc"] != last["train_acc"]
    # a stored run without the measurement (made before it) gets the same number from its weights
    older = dataclasses.replace(run, metrics={k: v for k, v in run.metrics.items() if "eval" not in k})
    assert metrics.train_eval_acc(older) == pytest.approx(last["train_eval_acc"], abs=1e-12)
    # the probe draws no random number: the same fit without it gives every other number unchanged
    torch.manual_seed(cfg.seed)
    model = training.create_model(cfg.model, **cfg.model_args)
    train, val = training.splits_for(cfg, "cpu")
    bare = engine.fit(model, train, val, cfg, generator=torch.Generator().manual_seed(cfg.seed), progress=False)
    strip = lambda h: [{k: v for k, v in row.items() if k not in TIMING and "eval" not in k} for row in h]
    assert strip(bare) == strip(run.history)
