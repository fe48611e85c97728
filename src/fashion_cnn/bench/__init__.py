"""`python -m fashion_cnn bench` (`make bench`): our engine against a naive DataLoader loop, and a study trained on Ray.

For every model the same RunConfig (split, batch size, Adam, learning rate, seed, epochs) is
trained two ways:

* naive: a torchvision-style `Dataset` that converts one image at a time with `ToTensor`, a
  shuffling `DataLoader`, and the plain loop of the tutorials (batch to the device, forward,
  loss, backward, step, `loss.item()` for the running loss; validation in batches of 1000);
* engine: `training.get_or_train` (device-resident uint8 data, device-side shuffling and metrics,
  channels_last on the CPU, a captured CUDA graph per step on a GPU).

It reports seconds per epoch (training plus validation; the median of the epochs after the
first when there are several, since the first holds warm-up and graph capture), images per
second, their ratio and the validation accuracy each reaches, which must agree within noise
(3 standard errors of the difference of two accuracies on the same validation set). A study
section trains the five R0 variants with the naive loop one by one, with the engine one by one,
and on Ray (`schedule`: a local instance, or the cluster of `--address`), Ray's start-up
timed apart; a last section times openTSNE on 10k points. Every CPU
measurement records the load average.

Output: a table on screen, `reports/bench/bench-<device>.json` and `.md` (atomically written);
runs go to a temporary store, never to `reports/runs`.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from .. import atomic
from .. import config as cfg
from .. import data as data_mod
from ..errors import ArgumentParser, ConfigError, Error
from ..models import create_model, list_models
from ..studies import get_study
from ..train import engine, runs, schedule
from ..train.stacked import train_stacked
from ..train.store import Store, device_name
from ..train.training import get_or_train
from . import bf16

MODELS = ("lenet5", "r2_base", "cnn_2")
CPU_SUBSET = 12_000  # default on the CPU: 9,600 training / 2,400 validation images (a few minutes in all)
PRECISION_SUBSET = 6_000  # the bf16 comparison on the CPU: 4,800 training images (R4's CNN_2 ~20 s an epoch)


class NaiveFashionMNIST(Dataset):
    """The tutorial way: one uint8 image at a time through torchvision's ToTensor."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        from torchvision.transforms import ToTensor

        self.images = np.require(images, requirements=("C", "W"))  # torch warns on read-only arrays
        self.labels, self.to_tensor = labels, ToTensor()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.to_tensor(self.images[i]), int(self.labels[i])  # (1, 28, 28) float in [0, 1]


def naive_fit(config: runs.RunConfig, device: str, threads: int | None = None) -> list[dict]:
    """Train `config` with the naive loop; returns per-epoch rows (seconds, images/s, val loss/acc).

    `threads`: torch intra-op threads for the loop (None: torch's default, what a tutorial gets).
    """
    with engine.cpu_threads(threads):
        return _naive_fit(config, device)


def _naive_fit(config: runs.RunConfig, device: str) -> list[dict]:
    ds = data_mod.load()
    train_idx, val_idx = runs.split_indices(config)
    train = NaiveFashionMNIST(ds.train_images[train_idx], ds.train_labels[train_idx])
    val = NaiveFashionMNIST(ds.train_images[val_idx], ds.train_labels[val_idx])
    torch.manual_seed(config.seed)
    model = create_model(config.model, **config.model_args).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    loader = DataLoader(
        train, batch_size=config.batch_size, shuffle=True, generator=torch.Generator().manual_seed(config.seed)
    )
    val_loader = DataLoader(val, batch_size=1000)
    history = []
    for epoch in range(config.epochs):
        start = time.perf_counter()
        model.train()
        running = 0.0
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            running += loss.item()
        train_seconds = time.perf_counter() - start
        model.eval()
        correct, val_loss = 0, 0.0
        with torch.no_grad():
            for x, y in val_loader:
                x, y = x.to(device), y.to(device)
                logits = model(x)
                val_loss += F.cross_entropy(logits, y, reduction="sum").item()
                correct += (logits.argmax(1) == y).sum().item()
        history.append(
            {
                "epoch": epoch + 1,
                "train_loss": running / len(loader),
                "val_loss": val_loss / len(val),
                "val_acc": correct / len(val),
                "seconds": time.perf_counter() - start,
                "images_per_s": len(train) / train_seconds,
            }
        )
    return history


def engine_fit(config: runs.RunConfig, store: Store) -> list[dict]:
    """Train `config` with the engine into `store` (a run store, as the report trains); returns its history."""
    return get_or_train(config, store=store, force=True, progress=False).history


def epoch_seconds(history: list[dict]) -> tuple[float, float]:
    """(steady seconds per epoch, first epoch's seconds): the median over epochs after the first, if any."""
    seconds = [row["seconds"] for row in history]
    return (statistics.median(seconds[1:]) if len(seconds) > 1 else seconds[0]), seconds[0]


def agree(acc_a: float, acc_b: float, n_val: int) -> bool:
    """Whether two validation accuracies on the same n_val images differ by at most 3 standard errors."""
    p = (acc_a + acc_b) / 2
    return abs(acc_a - acc_b) <= 3 * (2 * p * (1 - p) / n_val) ** 0.5 + 1e-12


def load_average() -> float:
    """The 1-minute load average (other processes compete for the cores)."""
    return os.getloadavg()[0]


def _measure(fn, repeats: int) -> tuple[list[dict], dict]:
    """Run `fn` `repeats` times; history of the median-time repeat plus its timing summary."""
    trials = []
    for _ in range(repeats):
        before = load_average()
        history = fn()
        steady, first = epoch_seconds(history)
        trials.append((steady, first, history, before, load_average()))
    trials.sort(key=lambda t: t[0])
    steady, first, history, before, after = trials[len(trials) // 2]
    return history, {
        "s_per_epoch": steady,
        "first_epoch_s": first,
        "all_s_per_epoch": [t[0] for t in trials],
        "load_before": before,
        "load_after": after,
    }


def bench_model(
    name: str, base: runs.RunConfig, device: str, repeats: int, store: Store, naive_threads: int | None = None
) -> dict:
    """Naive loop against the engine for one model: timings, throughput, ratio, accuracies."""
    config = base.replace(model=name)
    naive_hist, naive = _measure(lambda: naive_fit(config, device, naive_threads), repeats)
    engine_hist, eng = _measure(lambda: engine_fit(config, store), repeats)
    train_n, n_val = _split_sizes(config)
    row = {
        "model": name,
        "device": device,
        "epochs": config.epochs,
        "train_images": train_n,
        "val_images": n_val,
        "naive_s_per_epoch": naive["s_per_epoch"],
        "engine_s_per_epoch": eng["s_per_epoch"],
        "engine_first_epoch_s": eng["first_epoch_s"],
        "naive_images_per_s": train_n / naive["s_per_epoch"],
        "engine_images_per_s": train_n / eng["s_per_epoch"],
        "speedup": naive["s_per_epoch"] / eng["s_per_epoch"],
        "naive_val_acc": naive_hist[-1]["val_acc"],
        "engine_val_acc": engine_hist[-1]["val_acc"],
        "naive_repeats_s": naive["all_s_per_epoch"],
        "engine_repeats_s": eng["all_s_per_epoch"],
        "load": [naive["load_before"], eng["load_after"]],
    }
    row["acc_agree"] = agree(row["naive_val_acc"], row["engine_val_acc"], n_val)
    return row


def _split_sizes(config: runs.RunConfig) -> tuple[int, int]:
    train, val = runs.split_indices(config)
    return len(train), 0 if val is None else len(val)


def bench_study(
    study_name: str,
    base: runs.RunConfig,
    device: str,
    store: Store,
    engine_sequential: bool = True,
    naive_threads: int | None = None,
) -> dict:
    """A study's models (one seed each) trained naively one by one, by the engine one by one, and on Ray.

    Ray is the local instance (or the cluster of RAY_ADDRESS / `--address`); its start-up is timed on
    its own, before the training, and each run records the node it trained on.
    """
    import ray

    study = get_study(study_name)
    configs = [
        base.replace(model=a.model, label=a.label, **{**study.settings, **a.changes, "epochs": base.epochs})
        for a in study.main
    ]
    out: dict = {
        "study": study_name,
        "runs": len(configs),
        "device": device,
        "epochs": base.epochs,
        "train_images": _split_sizes(configs[0])[0],
        "load_before": load_average(),
    }
    start = time.perf_counter()
    naive_acc = [naive_fit(c, device, naive_threads)[-1]["val_acc"] for c in configs]
    out["naive_sequential_s"] = time.perf_counter() - start
    if engine_sequential:
        start = time.perf_counter()
        out["engine_sequential_val_acc"] = [engine_fit(c, store)[-1]["val_acc"] for c in configs]
        out["engine_sequential_s"] = time.perf_counter() - start
    start = time.perf_counter()
    schedule.connect()
    out["ray_startup_s"] = time.perf_counter() - start
    resources = ray.cluster_resources()
    out["ray_cluster"] = {
        "address": schedule.cluster_address() or "local",
        "nodes": len([n for n in ray.nodes() if n.get("Alive")]),
        "cpus": resources.get("CPU", 0),
        "gpus": resources.get("GPU", 0),
    }
    for when in ("ray_s", "ray_warm_s"):  # Ray's workers start (import torch) in the first pass only
        with tempfile.TemporaryDirectory() as empty:  # an empty store: Ray trains everything
            start = time.perf_counter()
            trained = schedule.get_or_train_many(configs, store=Store(empty), progress=False, local_seconds=0)
            out[when] = time.perf_counter() - start
    out["naive_val_acc"] = naive_acc
    out["ray_val_acc"] = [r.metrics["val_acc"] for r in trained]
    out["trained_on"] = [{"model": r.config.model, **r.provenance["trained_on"]} for r in trained]
    out["speedup_vs_naive"] = out["naive_sequential_s"] / out["ray_s"]
    out["load_after"] = load_average()
    return out


def bench_gpu_variants(
    base: runs.RunConfig, device: str, store: Store, seeds: int = 5, compile: bool = False
) -> list[dict]:
    """GPU step options for LeNet-5: eager, CUDA graph, channels_last, bf16, compile, and K seeds stacked.

    The seed rows give wall seconds per run-epoch (store writes included), the others seconds per epoch.
    """
    config = base.replace(model="lenet5")
    rows = []
    for label, changes in [
        ("eager", {"cuda_graph": False}),
        ("cuda graph (default)", {}),
        ("cuda graph + channels_last", {"channels_last": True}),
        ("cuda graph + bf16 autocast", {"precision": "bf16"}),
        ("eager + channels_last", {"cuda_graph": False, "channels_last": True}),
        *([("cuda graph + torch.compile", {"compile": True})] if compile else []),
    ]:
        precision = changes.pop("precision", config.precision)  # a run's setting, the others the engine's
        with engine.speed(**changes):
            history = engine_fit(config.replace(precision=precision), store)
        steady, first = epoch_seconds(history)
        rows.append(
            {"variant": label, "s_per_epoch": steady, "first_epoch_s": first, "val_acc": history[-1]["val_acc"]}
        )
    configs = [config.replace(seed=s) for s in range(seeds)]
    start = time.perf_counter()
    for c in configs:
        engine_fit(c, store)
    sequential = time.perf_counter() - start
    for c in configs:  # train them again, stacked this time
        store.remove(runs.run_key(c))
    start = time.perf_counter()
    stacked = train_stacked(configs, store, progress=False)
    stacked_s = time.perf_counter() - start
    for c in configs:
        store.remove(runs.run_key(c))
    start = time.perf_counter()
    with engine.speed(cuda_graph=False):
        train_stacked(configs, store, progress=False)
    stacked_eager_s = time.perf_counter() - start
    rows.append(
        {
            "variant": f"{seeds} seeds one by one (graph)",
            "s_per_epoch": sequential / config.epochs / seeds,
            "first_epoch_s": float("nan"),
            "val_acc": float("nan"),
        }
    )
    rows.append(
        {
            "variant": f"{seeds} seeds stacked (vmap)",
            "s_per_epoch": stacked_s / config.epochs / seeds,
            "first_epoch_s": float("nan"),
            "val_acc": float(np.mean([r.metrics["val_acc"] for r in stacked])),
        }
    )
    rows.append(
        {
            "variant": f"{seeds} seeds stacked (vmap), eager",
            "s_per_epoch": stacked_eager_s / config.epochs / seeds,
            "first_epoch_s": float("nan"),
            "val_acc": float("nan"),
        }
    )
    return rows


def bench_tsne(points: int, placed: int = 2000, seed: int = 0) -> dict:
    """Time openTSNE on `points` test images and `transform` of `placed` training images.

    The features are the images' first 84 principal components (84: LeNet-5's penultimate width),
    so the timing needs no trained model; t-SNE's cost depends on the number of points, not on
    what the features mean.
    """
    from sklearn.decomposition import PCA

    from ..analysis import embed

    ds = data_mod.load()
    test = data_mod.subset_indices(ds.test_labels, points)
    pixels = lambda images: images.reshape(len(images), -1).astype(np.float32) / 255
    pca = PCA(84, random_state=seed).fit(pixels(ds.test_images[test]))
    features = pca.transform(pixels(ds.test_images[test]))
    new = pca.transform(pixels(ds.train_images[data_mod.subset_indices(ds.train_labels, placed)]))
    before = load_average()
    started = time.perf_counter()
    embedding = embed.fit(features, seed=seed)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    embed.transform(embedding, new)
    transform_s = time.perf_counter() - started
    row = {
        "points": len(test),
        "features": features.shape[1],
        "fit_s": fit_s,
        "placed": len(new),
        "transform_s": transform_s,
        "n_jobs": embed._jobs(),
        "load": (before, load_average()),
    }
    print(
        f"t-SNE: {row['points']:,} points fit in {fit_s:.1f} s, {row['placed']:,} placed in {transform_s:.1f} s",
        flush=True,
    )
    return row


def markdown(result: dict) -> str:
    """The benchmark as Markdown tables (what the report appendix shows)."""
    lines = [
        f"# Benchmark on {result['device_name']} ({result['device']})",
        "",
        f"{result['when']}, torch {result['torch']}, command `{result['command']}`; torch threads: naive loop "
        f"{result['naive_threads']}, engine {result['engine_threads'] or 'default'} per run. Load: the 1-minute "
        "load average before → after (other processes on the machine).",
        "",
        "| model | train images | epochs | naive s/epoch | engine s/epoch | speed-up | naive img/s | engine img/s "
        "| naive val acc | engine val acc | agree | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in result["models"]:
        lines.append(
            f"| {r['model']} | {r['train_images']:,} | {r['epochs']} | {r['naive_s_per_epoch']:.3f} | "
            f"{r['engine_s_per_epoch']:.3f} | {r['speedup']:.1f}× | {r['naive_images_per_s']:,.0f} | "
            f"{r['engine_images_per_s']:,.0f} | {r['naive_val_acc']:.4f} | {r['engine_val_acc']:.4f} | "
            f"{'yes' if r['acc_agree'] else 'NO'} | {r['load'][0]:.2f}→{r['load'][1]:.2f} |"
        )
    s = result.get("study")
    if s:
        lines += [
            "",
            f"Study {s['study']}: {s['runs']} runs × {s['epochs']} epoch(s) on {s['train_images']:,} images, "
            f"load {s['load_before']:.2f}→{s['load_after']:.2f}",
            "",
            "| way | seconds | speed-up vs naive |",
            "|---|---:|---:|",
            f"| naive loop, one by one | {s['naive_sequential_s']:.1f} | 1.0× |",
        ]
        if "engine_sequential_s" in s:
            lines.append(
                f"| engine, one by one | {s['engine_sequential_s']:.1f} | "
                f"{s['naive_sequential_s'] / s['engine_sequential_s']:.1f}× |"
            )
        c = s["ray_cluster"]
        nodes = sorted({w["host"] + " " + str(w["ray_node"])[:8] for w in s["trained_on"]})
        gpus = f", {c['gpus']:.0f} GPUs" if c["gpus"] else ""
        lines.append(
            f"| engine on Ray ({c['address']}: {c['nodes']} node(s), {c['cpus']:.0f} CPUs{gpus}; start-up "
            f"{s['ray_startup_s']:.1f} s, not counted) | {s['ray_s']:.1f} | {s['speedup_vs_naive']:.1f}× |"
        )
        if "ray_warm_s" in s:
            lines.append(
                f"| engine on Ray again, its workers started | {s['ray_warm_s']:.1f} | "
                f"{s['naive_sequential_s'] / s['ray_warm_s']:.1f}× |"
            )
        lines += [
            "",
            "Where each run trained on Ray: "
            + "; ".join(
                f"{w['model']} on {w['host']} (node {str(w['ray_node'])[:8]}, pid {w['pid']})" for w in s["trained_on"]
            )
            + f" ({len(nodes)} node(s)).",
        ]
    t = result.get("tsne")
    if t:
        lines += [
            "",
            f"t-SNE (openTSNE, {t['n_jobs']} thread(s), load {t['load'][0]:.2f}→{t['load'][1]:.2f}): "
            f"{t['points']:,} test images × {t['features']} features (their first principal components) "
            f"fit in **{t['fit_s']:.1f} s**; {t['placed']:,} training images placed into that embedding "
            f"with `transform` in {t['transform_s']:.1f} s.",
        ]
    if result.get("gpu_variants"):
        lines += ["", "| LeNet-5 step variant | s/epoch | first epoch s | val acc |", "|---|---:|---:|---:|"]
        for v in result["gpu_variants"]:
            cell = lambda x, digits: "–" if x is None or math.isnan(x) else f"{x:.{digits}f}"
            lines.append(
                f"| {v['variant']} | {cell(v['s_per_epoch'], 3)} | {cell(v['first_epoch_s'], 3)} | "
                f"{cell(v['val_acc'], 4)} |"
            )
    lines += bf16.markdown(result.get("precision", []))
    if result.get("precision_skipped"):
        lines += ["", f"bf16 against fp32: skipped ({result['precision_skipped']})."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    """`python -m fashion_cnn bench` from a list of arguments (the tests); returns the result dict."""
    parser = ArgumentParser(prog="python -m fashion_cnn bench", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    try:
        return benchmark(parser.parse_args(argv), "python -m fashion_cnn bench " + " ".join(argv or sys.argv[1:]))
    except Error as err:
        parser.error(str(err))


def run(args) -> int:
    """Run the benchmark (see the module docstring); exit 2 with one line on bad input."""
    try:
        benchmark(args, "python -m fashion_cnn " + " ".join(sys.argv[1:]))
    except Error as err:
        print(f"bench: {err}", file=sys.stderr)
        return 2
    return 0


def add_arguments(parser) -> None:
    """The benchmark's arguments."""
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated model names")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (default: 1 on the CPU, 3 on a GPU)")
    parser.add_argument(
        "--subset",
        default=None,
        help=f"training images drawn before the 80/20 split, or 'full' (default: {CPU_SUBSET} on the CPU, full on a GPU)",
    )
    parser.add_argument("--repeats", type=int, default=1, help="repeat each measurement, report the median")
    parser.add_argument("--study", default="R0", help="study trained one by one and on Ray ('none' to skip)")
    parser.add_argument(
        "--address", default=None, help="the Ray cluster of the study section (default RAY_ADDRESS, else local)"
    )
    parser.add_argument("--study-subset", default="full", help="subset for the study section (default: full 48k)")
    parser.add_argument("--variants", action="store_true", help="also time GPU step options (CUDA only)")
    parser.add_argument(
        "--compile", action="store_true", help="with --variants: also time torch.compile (slow to compile)"
    )
    parser.add_argument(
        "--naive-threads",
        type=int,
        default=None,
        help="torch threads of the naive loop (default: torch's own, as a tutorial runs)",
    )
    parser.add_argument(
        "--tsne", type=int, default=10_000, help="points of the t-SNE timing (0 to skip; default 10000)"
    )
    parser.add_argument(
        "--precision-seeds",
        type=int,
        default=3,
        help="seeds per model and precision of the bf16-against-fp32 comparison (0 to skip; default 3)",
    )
    parser.add_argument("--precision-models", default=",".join(bf16.MODELS), help="models of the bf16 comparison")
    parser.add_argument(
        "--precision-subset",
        default=None,
        help=f"subset of the bf16 comparison (default: {PRECISION_SUBSET} on the CPU, full on a GPU)",
    )
    parser.add_argument("--out", default=None, help="output folder (default: reports/bench)")


def benchmark(args, command: str) -> dict:
    """Time everything `args` asks for and write the tables; raises an `errors.Error` on bad input, before
    any timing."""
    schedule.use_address(args.address)
    device = cfg.resolve_device(args.device)
    on_cpu = torch.device(device).type == "cpu"
    models = [m for m in args.models.split(",") if m]
    unknown = sorted(set(models) - set(list_models()))
    if unknown:
        raise ConfigError(f"unknown model(s) {unknown}: see fashion_cnn.models.list_models()")
    data_mod.load()  # a missing or damaged dataset fails here, before any timing
    epochs = args.epochs or (1 if on_cpu else 3)
    parse_subset = lambda s, default: None if s == "full" else int(s) if s else default
    subset = parse_subset(args.subset, CPU_SUBSET if on_cpu else None)
    base = runs.RunConfig("lenet5", epochs=epochs, subset=subset, device=device)
    out_dir = Path(args.out) if args.out else cfg.REPORTS_DIR / "bench"
    result = {
        "device": device,
        "device_name": device_name(device),
        "torch": torch.__version__,
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "command": command,
        "naive_threads": args.naive_threads or torch.get_num_threads(),
        "engine_threads": engine.SPEED.cpu_threads if on_cpu else None,
        "models": [],
    }
    with tempfile.TemporaryDirectory() as scratch:
        store = Store(scratch)  # the benchmark's runs never mix with the project's
        for name in models:
            row = bench_model(name, base, device, args.repeats, store, args.naive_threads)
            result["models"].append(row)
            print(
                f"{name}: naive {row['naive_s_per_epoch']:.3f} s/epoch, engine {row['engine_s_per_epoch']:.3f} "
                f"s/epoch ({row['speedup']:.1f}×), val acc {row['naive_val_acc']:.4f} / {row['engine_val_acc']:.4f}",
                flush=True,
            )
        if args.study != "none":
            study_base = base.replace(subset=parse_subset(args.study_subset, None))
            result["study"] = bench_study(args.study, study_base, device, store, naive_threads=args.naive_threads)
        if args.tsne > 0:
            result["tsne"] = bench_tsne(args.tsne)
        if args.variants and not on_cpu:
            result["gpu_variants"] = bench_gpu_variants(base, device, store, compile=args.compile)
        if args.precision_seeds > 0:
            if engine.bf16_supported(torch.device(device).type):
                sub = parse_subset(args.precision_subset, PRECISION_SUBSET if on_cpu else None)
                result["precision"] = bf16.compare(
                    base.replace(subset=sub),
                    store,
                    [m for m in args.precision_models.split(",") if m],
                    args.precision_seeds,
                )
            else:
                result["precision_skipped"] = f"no native bf16 on {device_name(device)}"
    text = markdown(result)
    stem = f"bench-{torch.device(device).type}"
    atomic.write_json(out_dir / f"{stem}.json", result)
    atomic.atomic(out_dir / f"{stem}.md", lambda tmp: Path(tmp).write_text(text))
    print(text)
    print(f"wrote {out_dir / (stem + '.json')} and {out_dir / (stem + '.md')}")
    return result
