import hashlib
import json

import pytest
import torch
from safetensors.torch import load_file

from fashion_cnn import RunConfig, Store, get_or_train, run_key
from fashion_cnn.analysis.metrics import predictions
from fashion_cnn.config import get_profile
from fashion_cnn.errors import ConfigError
from fashion_cnn.studies import get_study
from fashion_cnn.train import engine, runs, training
from fashion_cnn.train import store as store_mod

SMALL = {"subset": 1000, "device": "cpu"}
TIMING = ("seconds", "images_per_s")


def _strip(history):
    return [{k: v for k, v in row.items() if k not in TIMING} for row in history]


def test_run_store_hit_returns_without_training(store, monkeypatch):
    cfg = RunConfig("lenet5", epochs=1, **SMALL)
    first = get_or_train(cfg, progress=False)
    monkeypatch.setattr(training, "fit", lambda *a, **k: pytest.fail("a stored run was trained again"))
    again = get_or_train(cfg, progress=False)
    assert again.key == first.key and again.history == first.history
    for name in ("config.json", "history.json", "metrics.json", "provenance.json", "weights.safetensors", "run.json"):
        assert (first.path / name).is_file(), name
    assert not (first.path / "checkpoint.safetensors").exists()


def test_run_records_config_seed_versions_device_and_checksums(store):
    run = get_or_train(RunConfig("lenet5", epochs=1, seed=7, **SMALL), progress=False)
    prov = json.loads((run.path / "provenance.json").read_text())
    assert prov["seed"] == 7 and prov["device"] == "cpu" and prov["torch"] == torch.__version__
    assert prov["data_checksums"]["train-images-idx3-ubyte"] == "f4a8712d7a061bf5bd6d2ca38dc4d50a"
    assert {"python", "package_version", "git_commit", "device_name"} <= set(prov)
    assert prov["speed"]["cpu_threads"] == 1 and prov["speed"]["channels_last"] is True  # as it trained
    assert RunConfig.from_dict(json.loads((run.path / "config.json").read_text())) == run.config


def test_training_images_counts_epochs_times_the_training_part():
    holdout = RunConfig("lenet5", epochs=2, subset=1000, val_fraction=0.2)
    fold = RunConfig("lenet5", epochs=3, subset=1000, split="fold", folds=10)
    trainval = RunConfig("lenet5", epochs=1, split="trainval")
    assert runs.training_images([holdout]) == 2 * 800
    assert runs.training_images([holdout, fold, trainval]) == 2 * 800 + 3 * 900 + 60_000


def test_the_cpu_estimate_grows_with_epochs_steps_and_arithmetic():
    base = RunConfig("lenet5", epochs=2, subset=1000, device="cpu")
    cost = runs.estimated_cpu_seconds
    assert cost(base.replace(epochs=4)) == pytest.approx(2 * cost(base))
    assert cost(base.replace(batch_size=8)) > 2 * cost(base)  # 8× the steps: per-step overhead dominates
    assert cost(base.replace(model="cnn_2")) > 20 * cost(base)  # ~175× LeNet-5's multiply-adds per image
    assert cost(base.replace(split="trainval")) == pytest.approx(cost(base) * 1000 / 800, rel=0.02)


def test_mult_adds_match_the_known_lenet5_figure():
    from fashion_cnn.models import mult_adds

    assert mult_adds("lenet5") == pytest.approx(0.42e6, rel=0.02)  # the issue's ~0.42 M per image forward
    assert mult_adds("r3_alexnet", n_base=16) > mult_adds("r3_alexnet", n_base=8)


def test_the_built_in_studies_keep_the_run_keys_a_store_was_made_with():
    # the digest of every R0–R4 run key (full and quick profile, 3 seeds) as the code before the Store
    # object computed them: a store trained then is still read, nothing retrains
    keys = [
        run_key(j.config)
        for name in ("R0", "R1", "R2", "R3", "R4")
        for profile in ("full", "quick")
        for j in get_study(name).plan(get_profile(profile), 3, "cpu")
    ]
    assert len(keys) == 528
    assert hashlib.sha256(" ".join(sorted(keys)).encode()).hexdigest()[:16] == "4f57648a26e0443f"


def test_only_speed_settings_that_change_numbers_and_are_not_the_default_enter_the_key():
    c = RunConfig("lenet5", epochs=2, device="cpu")
    assert run_key(c, engine.Speed()) == run_key(c)
    assert run_key(c, engine.Speed(cuda_graph=False, warmup_steps=5)) == run_key(c)  # the same numbers
    changed = {run_key(c, engine.Speed(**s)) for s in ({"channels_last": False}, {"cpu_threads": 2}, {"compile": True})}
    assert len(changed) == 3 and run_key(c) not in changed
    with engine.speed(cpu_threads=2):  # the process's settings are what a key is computed under
        assert run_key(c) == run_key(c, engine.Speed(cpu_threads=2))


def test_key_depends_on_config_only():
    a = RunConfig("lenet5", epochs=2, device="cpu")
    assert run_key(a) == run_key(RunConfig("lenet5", epochs=2, device="cpu"))
    assert run_key(a) != run_key(a.replace(seed=1))
    assert run_key(a) != run_key(a.replace(model_args={"kernel": 3}))
    assert len(run_key(a)) == 16


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"model": "lenet6"}, "unknown model 'lenet6'"),
        ({"optimizer": "adagrad"}, "unknown optimizer 'adagrad'"),
        ({"lr": -1.0}, "lr=-1.0 must be positive"),
        ({"split": "fold", "fold": 5, "folds": 5}, "fold=5 is outside 0..4"),
        ({"schedule": "warm"}, "unknown schedule 'warm'"),
        ({"loss": "mse"}, "unknown loss 'mse'"),
        ({"augment": ("flip", "zoom")}, r"unknown augmentation \['zoom'\]"),
        ({"val_fraction": 1.0}, "val_fraction=1.0 must lie strictly between 0 and 1"),
        ({"split": "fold", "folds": 1}, "folds=1: k-fold needs k ≥ 2"),
        ({"subset": 0}, "subset=0 must lie in 10..60000"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
        ({"l2": -0.1}, "weight_decay, l1 and l2 must not be negative"),
    ],
)
def test_bad_config_gets_a_one_line_cause(bad, message):
    with pytest.raises(ValueError, match=message) as err:
        RunConfig(**{"model": "lenet5", **bad})
    assert "\n" not in str(err.value)


def test_interrupted_run_resumes_to_the_uninterrupted_numbers(store, tmp_path, monkeypatch):
    cfg = RunConfig(
        "lenet5_3x3_leaky_dropout", epochs=3, schedule="step", step_size=1, augment=("flip", "crop"), **SMALL
    )

    def crash_after_first_epoch(epoch, *rest):
        if epoch == 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        get_or_train(cfg, progress=False, on_epoch_end=crash_after_first_epoch)
    folder = store / run_key(cfg)
    assert (folder / "checkpoint.safetensors").is_file() and not (folder / "run.json").exists()
    seen = []
    resumed = get_or_train(cfg, progress=False, on_epoch_end=lambda epoch, *rest: seen.append(epoch))
    assert seen == [1, 2]  # epoch 0 was not trained again

    straight = get_or_train(cfg, store=Store(tmp_path / "other"), progress=False)
    assert _strip(resumed.history) == _strip(straight.history)
    a, b = load_file(resumed.weights_path), load_file(straight.weights_path)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_weights_reload_without_pickle_and_predict_the_same(store):
    run = get_or_train(RunConfig("r2_batchnorm", epochs=1, **SMALL), progress=False)
    reloaded = Store.default().load(run.key)
    first = predictions(run.model(), "test", indices=range(0, 10_000, 50))
    second = predictions(reloaded.model(), "test", indices=range(0, 10_000, 50))
    assert (first["pred"] == second["pred"]).all() and first["logits"].shape == (200, 10)
    assert set(load_file(run.weights_path)) >= {"body.2.running_mean", "head.weight"}


@pytest.mark.parametrize("damage", ["weights", "metrics", "checkpoint"])
def test_a_damaged_store_file_fails_in_one_line_naming_it_and_is_left_in_place(store, damage):
    cfg = RunConfig("lenet5", epochs=2, **SMALL)
    if damage == "checkpoint":

        def stop(epoch, *rest):
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            get_or_train(cfg, progress=False, on_epoch_end=stop)
        target = store / run_key(cfg) / "checkpoint.safetensors"
    else:
        run = get_or_train(cfg, progress=False)
        target = run.weights_path if damage == "weights" else run.path / "metrics.json"
    size = target.stat().st_size
    with open(target, "r+b") as f:
        f.truncate(size // 2)  # a copy or a disk that stopped half-way
    with pytest.raises(store_mod.StoreError) as err:
        get_or_train(cfg, progress=False).model()
    message = str(err.value)
    assert str(target) in message and "damaged" in message and ("delete" in message) and "\n" not in message
    assert target.stat().st_size == size // 2  # nothing removed or rewritten behind the user's back


def test_a_run_another_process_is_training_is_waited_for_not_trained_twice(
    store, trained_elsewhere, monkeypatch, caplog
):
    holder = trained_elsewhere(3)
    c = RunConfig("lenet5", epochs=1, subset=300, device="cpu")
    with pytest.raises(
        store_mod.RunBusy,
        match=rf"^run {run_key(c)} \(lenet5 seed 0\) is being trained by process "
        rf"{holder.pid} on .*; wait for it, or train another run meanwhile$",
    ):
        get_or_train(c, progress=False, wait=False)
    monkeypatch.setattr(training, "fit", lambda *a, **k: pytest.fail("trained while another process trained it"))
    run = get_or_train(c, progress=False)  # blocks until the holder has stored it
    assert holder.wait(timeout=60) == 0
    assert run.metrics["trained_by"] == "holder"
    assert f"is being trained by process {holder.pid}" in caplog.text  # a warning, while it waits
    assert not (run.path / "checkpoint.safetensors").exists()


def test_precision_round_trips_through_the_store_and_only_bf16_changes_the_key(store):
    fp32 = RunConfig("lenet5", epochs=1, subset=300, device="cpu")
    assert run_key(fp32.replace(precision="fp32")) == run_key(fp32)  # the default: keys made before are kept
    bf16 = fp32.replace(precision="bf16")
    assert run_key(bf16) != run_key(fp32)
    run = get_or_train(bf16, progress=False)
    stored = json.loads((run.path / "config.json").read_text())
    assert stored["precision"] == "bf16" and Store.default().load(run.key).config == bf16
    assert runs.estimated_cpu_seconds(bf16) < runs.estimated_cpu_seconds(fp32)  # `make plan` knows it


@pytest.mark.skipif(not engine.bf16_supported("cpu"), reason="this CPU has no native bf16")
def test_bf16_on_the_cpu_trains_to_the_same_accuracy_bar_as_fp32(store):
    c = RunConfig("lenet5", epochs=3, subset=4000, device="cpu")
    fp32, bf16 = (get_or_train(c.replace(precision=p), progress=False) for p in ("fp32", "bf16"))
    assert fp32.metrics["val_acc"] > 0.65 and bf16.metrics["val_acc"] > 0.65  # both learn (chance is 0.1)
    assert fp32.history != bf16.history  # and bf16 did run: its numbers differ


def test_bf16_where_the_hardware_lacks_it_stops_in_one_line_and_writes_no_run(store, monkeypatch):
    with pytest.raises(ConfigError, match=r"^precision bf16: this CPU reports AVX2, without native bf16"):
        engine.check_precision("bf16", "cpu", cpu_capability="AVX2")
    engine.check_precision("bf16", "cpu", cpu_capability="AVX512")
    engine.check_precision("fp32", "cpu", cpu_capability="DEFAULT")  # fp32 runs anywhere
    with pytest.raises(ConfigError, match="this GPU does not support bf16"):
        engine.check_precision("bf16", "cuda", cuda_bf16=False)
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")  # the check's input, not training
    c = RunConfig("lenet5", epochs=1, subset=300, device="cpu", precision="bf16")
    with pytest.raises(ConfigError) as err:
        get_or_train(c, progress=False)
    assert "\n" not in str(err.value) and not (store / run_key(c)).exists()
