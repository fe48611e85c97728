import json

import pytest
import torch

from fashion_cnn import RunConfig, bench
from fashion_cnn.bench import bf16 as bf16_comparison
from fashion_cnn.report import render
from fashion_cnn.studies import get_study
from fashion_cnn.train.store import Store


def test_naive_dataset_gives_the_pixels_the_engine_gives():
    from fashion_cnn import data

    ds = data.load()
    naive = bench.NaiveFashionMNIST(ds.train_images[:5], ds.train_labels[:5])
    x, y = naive[3]
    ours, labels = next(data.tensors(ds, "train", None, "cpu").batches(5))
    assert x.shape == (1, 28, 28) and y == int(ds.train_labels[3])
    assert torch.equal(x, ours[3]) and labels[3].item() == y


def test_agree_uses_three_standard_errors_of_the_difference():
    # about p = 0.86 on 2,400 images: SE of a difference = sqrt(2 * 0.86 * 0.14 / 2400) ≈ 0.0100
    assert bench.agree(0.85, 0.85 + 0.025, 2400)
    assert not bench.agree(0.835, 0.835 + 0.035, 2400)
    assert bench.agree(0.9, 0.9, 10)


def test_naive_loop_and_engine_train_the_same_thing(store):
    row = bench.bench_model("lenet5", RunConfig("lenet5", epochs=2, subset=2500, device="cpu"), "cpu", 1, Store(store))
    assert row["train_images"] == 2000 and row["val_images"] == 500
    assert row["naive_val_acc"] > 0.6 and row["engine_val_acc"] > 0.6  # both learn (chance is 0.1)
    assert row["acc_agree"], (row["naive_val_acc"], row["engine_val_acc"])
    assert row["speedup"] == pytest.approx(row["naive_s_per_epoch"] / row["engine_s_per_epoch"])
    assert row["engine_images_per_s"] == pytest.approx(2000 / row["engine_s_per_epoch"])


def test_cli_writes_json_and_markdown_tables(tmp_path, capsys):
    out = tmp_path / "bench"
    result = bench.main(
        [
            "--device",
            "cpu",
            "--models",
            "lenet5",
            "--subset",
            "1200",
            "--study",
            "none",
            "--tsne",
            "600",
            "--precision-seeds",
            "2",
            "--precision-models",
            "lenet5",
            "--precision-subset",
            "600",
            "--out",
            str(out),
        ]
    )
    saved = json.loads((out / "bench-cpu.json").read_text())
    assert saved["models"][0]["model"] == "lenet5" and saved["device"] == "cpu"
    assert saved["models"][0]["engine_s_per_epoch"] == result["models"][0]["engine_s_per_epoch"]
    table = (out / "bench-cpu.md").read_text()
    assert "| lenet5 | 960 | 1 |" in table
    bf16 = saved["precision"][0]  # this CPU has native bf16 (AVX-512): the comparison ran
    assert (bf16["model"], bf16["seeds"], bf16["train_images"]) == ("lenet5", 2, 480)
    assert bf16["speedup"] == pytest.approx(bf16["bf16_images_per_s"] / bf16["fp32_images_per_s"])
    assert bf16["verdict"] in {*bf16_comparison.VERDICTS.values(), "inconclusive"}
    assert f"| lenet5 | {bf16['fp32_images_per_s']:,.0f} | {bf16['bf16_images_per_s']:,.0f} |" in table
    assert saved["tsne"]["points"] == 600 and saved["tsne"]["placed"] == 2000 and saved["tsne"]["fit_s"] > 0
    assert "600 test images × 84 features" in table
    assert "| lenet5 | 960 | 1 |" in capsys.readouterr().out
    assert not list(out.glob(".*"))  # no temporary files left behind
    assert render.latest_tables(out) == table
    assert render.latest_tables(tmp_path / "none") == ""


def test_cli_refuses_an_unknown_model_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--device", "cpu", "--models", "lenet6", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert "unknown model(s) ['lenet6']" in err and "list_models()" in err
    assert not (tmp_path / "bench-cpu.json").exists()


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_study_section_trains_every_variant_three_ways(local_ray, store):
    out = bench.bench_study("R0", RunConfig("lenet5", epochs=1, subset=800, device="cpu"), "cpu", Store(store))
    assert out["runs"] == 5 and len(out["naive_val_acc"]) == 5 and len(out["ray_val_acc"]) == 5
    assert out["speedup_vs_naive"] == pytest.approx(out["naive_sequential_s"] / out["ray_s"])
    assert out["ray_val_acc"] == out["engine_sequential_val_acc"]  # one thread per run either way
    assert out["ray_startup_s"] >= 0 and out["ray_cluster"]["cpus"] >= 1
    assert [w["model"] for w in out["trained_on"]] == list(get_study("R0").models)
    result = {
        "device_name": "CPU",
        "device": "cpu",
        "when": "now",
        "torch": "2",
        "command": "c",
        "naive_threads": 1,
        "engine_threads": 1,
        "models": [],
        "study": out,
    }
    assert "| engine on Ray (local: 1 node(s), " in bench.markdown(result)


def test_markdown_shows_a_dash_for_what_a_gpu_variant_did_not_measure():
    result = {
        "device_name": "GPU",
        "device": "cuda",
        "when": "now",
        "torch": "2",
        "command": "c",
        "naive_threads": 1,
        "engine_threads": None,
        "models": [],
        "gpu_variants": [
            {
                "variant": "5 seeds one by one",
                "s_per_epoch": 0.363,
                "first_epoch_s": float("nan"),
                "val_acc": float("nan"),
            }
        ],
    }
    assert "| 5 seeds one by one | 0.363 | – | – |" in bench.markdown(result)


def test_cli_refuses_a_missing_dataset_in_one_line_before_any_timing(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(SystemExit):
        bench.main(["--device", "cpu", "--models", "lenet5", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert "nowhere does not exist" in err and "FASHION_MNIST_DIR" in err and "Traceback" not in err
    assert not (tmp_path / "bench-cpu.json").exists()
