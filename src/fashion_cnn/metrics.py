"""Evaluation helpers over scikit-learn: predictions on any split, per-class and macro metrics,
confusion matrices and the most-confused class pairs; the dataset statistics, run tables and
test comparisons the notebooks show, and the sentences generated from those numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy.special import log_softmax
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from . import data as data_mod
from .config import resolve_device
from .engine import predict
from .models import count_parameters, create_model, model_info, summary
from .text import count


def predictions(
    model: torch.nn.Module,
    part: str = "test",
    indices: np.ndarray | None = None,
    device: str = "auto",
    features: bool = False,
) -> dict[str, np.ndarray]:
    """Logits, predictions, labels (and penultimate features) of `model` on "train" or "test"."""
    device = resolve_device(device)
    tensors = data_mod.tensors(data_mod.load(), part, indices, device)
    return predict(model.to(device), tensors, features=features)


def classification_report(labels: np.ndarray, pred: np.ndarray, logits: np.ndarray | None = None) -> dict[str, float]:
    """Accuracy, macro precision/recall/F1 and (with logits) the cross-entropy loss."""
    p, r, f, _ = precision_recall_fscore_support(labels, pred, average="macro", zero_division=0)
    out = {"acc": accuracy_score(labels, pred), "precision": p, "recall": r, "f1": f}
    if logits is not None:
        out["loss"] = float(-log_softmax(logits.astype(np.float64), axis=1)[np.arange(len(labels)), labels].mean())
    return out


def per_class(labels: np.ndarray, pred: np.ndarray) -> pd.DataFrame:
    """Precision, recall, F1 and support for each of the 10 classes."""
    p, r, f, s = precision_recall_fscore_support(labels, pred, labels=range(10), zero_division=0)
    return pd.DataFrame({"precision": p, "recall": r, "f1": f, "support": s}, index=list(data_mod.CLASSES))


def confusion(labels: np.ndarray, pred: np.ndarray, normalize: bool = False) -> pd.DataFrame:
    """10x10 confusion matrix (rows: true class, columns: predicted), counts or row-normalised."""
    m = confusion_matrix(labels, pred, labels=range(10), normalize="true" if normalize else None)
    return pd.DataFrame(m, index=list(data_mod.CLASSES), columns=list(data_mod.CLASSES))


def most_confused(labels: np.ndarray, pred: np.ndarray, top: int = 5) -> pd.DataFrame:
    """The `top` (true → predicted) pairs with the most errors."""
    m = confusion_matrix(labels, pred, labels=range(10))
    np.fill_diagonal(m, 0)
    order = np.argsort(m, axis=None)[::-1][:top]
    rows = [
        (data_mod.CLASSES[i], data_mod.CLASSES[j], int(m[i, j]), m[i, j] / max((labels == i).sum(), 1))
        for i, j in zip(*np.unravel_index(order, m.shape))
    ]
    return pd.DataFrame(rows, columns=["true", "predicted", "count", "share_of_true"])


# ----------------------------------------------------------------------------------------------
# The dataset itself (notebook 01)


def class_counts(data: data_mod.FashionMNIST | None = None) -> pd.DataFrame:
    """Images per class in the train and test files, with each class's share of its file."""
    data = data or data_mod.load()
    out = pd.DataFrame(index=list(data_mod.CLASSES))
    for part in ("train", "test"):
        counts = np.bincount(getattr(data, f"{part}_labels"), minlength=len(data_mod.CLASSES))
        out[part] = counts
        out[f"{part}_share"] = counts / counts.sum()
    return out


def balance_sentence(counts: pd.DataFrame) -> str:
    """One generated sentence: how balanced the classes are, and what that means for accuracy."""
    parts = []
    for part in ("train", "test"):
        c = counts[part]
        parts.append(
            f"the {part} file has {c.sum():,} images, {c.min():,} to {c.max():,} per class "
            f"(largest/smallest = {c.max() / c.min():.3f})"
        )
    ratio = max(counts[p].max() / counts[p].min() for p in ("train", "test"))
    if ratio <= 1.05:
        verdict = (
            "The classes are balanced, so top-1 accuracy equals the mean of the per-class recalls: no "
            "class can dominate the score and accuracy is a fair single summary; macro precision and "
            "recall are reported beside it."
        )
    else:
        verdict = (
            f"The classes are imbalanced (ratio {ratio:.2f}), so accuracy favours the large classes; "
            "macro precision and recall weight every class equally and should be read first."
        )
    return "In numbers: " + "; ".join(parts) + ". " + verdict


def pixel_statistics(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel mean and standard deviation (intensities scaled to [0, 1]) over (N, 28, 28) uint8 images."""
    return images.mean(axis=0, dtype=np.float64) / 255.0, images.std(axis=0, dtype=np.float64) / 255.0


def border_signal(images: np.ndarray, widths: tuple[int, ...] = (1, 2, 3, 4)) -> pd.DataFrame:
    """How much of the images' content lies in the outer ring of each width (the padding argument).

    Columns: the ring's share of the pixels, its share of all ink (summed intensity), its share of
    the per-pixel variance, and the share of images with any non-zero pixel in the ring.
    """
    mean, std = pixel_statistics(images)
    rows = []
    for w in widths:
        ring = np.ones(images.shape[1:], dtype=bool)
        ring[w:-w, w:-w] = False
        rows.append(
            {
                "border_px": w,
                "pixel_share": ring.mean(),
                "ink_share": mean[ring].sum() / mean.sum(),
                "variance_share": (std[ring] ** 2).sum() / (std**2).sum(),
                "images_touching": (images[:, ring] > 0).any(axis=1).mean(),
            }
        )
    return pd.DataFrame(rows).set_index("border_px")


def border_sentence(table: pd.DataFrame, kernel: int = 5) -> str:
    """Generated sentences on the padding argument from `border_signal`'s table."""
    w = kernel // 2
    row = table.loc[w]
    return (
        f"A {kernel}x{kernel} convolution without padding never centres on the outer {count(w, 'pixel')} of the image. "
        f"That ring is {row.pixel_share:.1%} of the pixels and holds {row.ink_share:.1%} of the ink and "
        f"{row.variance_share:.1%} of the pixel variance; {row.images_touching:.1%} of the training images have "
        f"a non-zero pixel in it. Padding by {w} keeps the output 28x28 and lets the kernels centre on those pixels."
    )


# ----------------------------------------------------------------------------------------------
# Runs of a study (notebooks 02–05)


def _label(run) -> dict:
    c = run.config
    return {
        "model": c.model,
        "seed": c.seed,
        "split": c.split,
        "fold": c.fold if c.split == "fold" else None,
        "augment": "+".join(c.augment) or "none",
        "key": run.key,
    }


def history(runs) -> pd.DataFrame:
    """Every epoch of every run in one long table (model, seed, fold, augment, key + the history columns)."""
    return pd.concat([run.frame().assign(**_label(run)) for run in runs], ignore_index=True)


def _from_history(run) -> dict:
    """The generalisation gap (train − validation accuracy at the last epoch), the epoch of best
    validation accuracy and the mean seconds per epoch."""
    frame = run.frame()
    best = int(frame.loc[frame["val_acc"].idxmax(), "epoch"]) if frame["val_acc"].notna().any() else np.nan
    return {
        "gap": run.metrics["train_acc"] - run.metrics["val_acc"],
        "best_epoch": best,
        "epoch_seconds": float(frame["seconds"].mean()),
    }


def final_metrics(runs, test: np.ndarray | None | bool = False, device: str = "auto") -> pd.DataFrame:
    """One row per run: its labels and the metrics of its last epoch.

    With `test` (test indices, or None for all 10k) the test accuracy, precision, recall and loss
    are added as `test_*` columns (the default False reads no test image).
    """
    rows = []
    for run in runs:
        row = {**_label(run), **run.metrics, **_from_history(run)}
        if test is not False:
            row.update({f"test_{k}": v for k, v in evaluate_test(run, test, device)["report"].items()})
        rows.append(row)
    return pd.DataFrame(rows)


def values_by(final: pd.DataFrame, metric: str = "val_acc", by: str = "model") -> dict[str, pd.Series]:
    """`metric` per group as a Series indexed by seed (the input of `stats.compare_family`, which
    pairs values by seed)."""
    return {
        name: group.set_index("seed")[metric].sort_index().astype(float)
        for name, group in final.groupby(by, sort=False)
    }


COMPARED = ("val_acc", "train_acc", "gap")  # what every comparison of models reports (each its own family)


def compare_pairs(
    final: pd.DataFrame, pairs, margin: float, by: str = "model", compared=COMPARED, alpha: float = 0.05
) -> dict[str, list]:
    """Each (a, b) of `pairs` compared over matched seeds on each metric of `compared`, one Holm
    family per metric (`stats.compare_family`): metric → comparisons in the order of `pairs`."""
    from . import stats

    return {m: stats.compare_family(values_by(final, m, by), pairs, margin, alpha) for m in compared}


def model_facts(final: pd.DataFrame) -> pd.DataFrame:
    """Per model of `final`: trainable parameters, multiply-adds per image (torchinfo), mean seconds
    per epoch and mean epoch of best validation accuracy over its runs."""
    from .models import mult_adds

    g = final.groupby("model", sort=False)[["epoch_seconds", "best_epoch"]].mean()
    g.insert(0, "mult_adds", [mult_adds(m) for m in g.index])
    g.insert(0, "parameters", [count_parameters(create_model(m)) for m in g.index])
    return g


def mean_std(
    final: pd.DataFrame, metrics: tuple[str, ...], by: str = "model", percent: tuple[str, ...] = ()
) -> pd.DataFrame:
    """A readable table: "mean ± std" of each metric per group (metrics in `percent` ×100)."""
    grouped = final.groupby(by, sort=False)
    out = {}
    for m in metrics:
        scale = 100.0 if m in percent else 1.0
        mu, sd = grouped[m].mean() * scale, grouped[m].std(ddof=1).fillna(0.0) * scale
        digits = 2 if m in percent else 4
        out[m] = ["–" if pd.isna(a) else f"{a:.{digits}f} ± {b:.{digits}f}" for a, b in zip(mu, sd)]
    return pd.DataFrame(out, index=mu.index.rename(by))


def rank_models(final: pd.DataFrame, metric: str = "val_acc") -> list[str]:
    """Models ordered by their mean `metric` over seeds, best first."""
    return final.groupby("model")[metric].mean().sort_values(ascending=False).index.tolist()


def gap_sentences(final: pd.DataFrame) -> list[str]:
    """Per model: the train − validation accuracy gap (overfitting), generated from the numbers."""
    g = final.groupby("model", sort=False)[["train_acc", "val_acc"]].mean()
    gap = (g.train_acc - g.val_acc) * 100
    out = [
        f"{m}: train {g.train_acc[m] * 100:.2f}%, validation {g.val_acc[m] * 100:.2f}%, gap {gap[m]:+.2f} points."
        for m in g.index
    ]
    over, under = gap[gap > 0], gap[gap <= 0]
    if len(over):
        out.append(
            f"Train accuracy exceeds validation accuracy for {', '.join(over.index)}; the widest gap is "
            f"{over.idxmax()} ({over.max():+.2f} points): that model fits its training images more closely "
            "than it generalises to the validation images."
        )
    if len(under):
        out.append(
            f"Validation accuracy is at or above train accuracy for {', '.join(under.index)}: no sign of "
            "overfitting there (train accuracy is a running mean over each epoch, with dropout active, so "
            "it lags behind a model that is still improving)."
        )
    return out


# ----------------------------------------------------------------------------------------------
# Test evaluation (notebooks 03, 05, 06): the only place the test set is read.


def test_indices(n: int | None, seed: int = 0) -> np.ndarray | None:
    """A stratified subset of `n` test images (None: all 10k), the same for every model."""
    if n is None:
        return None
    return data_mod.subset_indices(data_mod.load().test_labels, n, seed)


def evaluate_test(run, indices: np.ndarray | None = None, device: str = "auto", features: bool = False) -> dict:
    """A stored run's predictions on the test images `indices` and its report (acc, precision, recall, f1, loss)."""
    pred = predictions(run.model(resolve_device(device)), "test", indices, device, features=features)
    pred["report"] = classification_report(pred["labels"], pred["pred"], pred["logits"])
    pred["indices"] = np.arange(len(data_mod.load().test_labels)) if indices is None else np.asarray(indices)
    return pred


def misclassified(labels: np.ndarray, pred: np.ndarray, n: int = 20, seed: int = 0) -> np.ndarray:
    """Positions of up to `n` misclassified samples, drawn at random (seeded) so every class can appear."""
    wrong = np.flatnonzero(labels != pred)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(wrong, size=min(n, len(wrong)), replace=False))


def bullets(sentences: list[str]) -> str:
    """Markdown bullet list."""
    return "\n".join(f"- {s}" for s in sentences)


# ----------------------------------------------------------------------------------------------
# Describing a study (notebook 02)


def study_markdown(study, profile, seeds: int) -> str:
    """What the study compares and how it was trained (generated from the study and profile)."""
    c = study.config(study.baseline, profile)
    data = f"a stratified subset of {c.subset:,} training images" if c.subset else "all 60,000 training images"
    trained = "once, with seed 0," if seeds == 1 else f"{seeds} times with seeds 0…{seeds - 1}"
    return (
        f"**{study.name}: {study.title}.** Baseline `{study.baseline}`; variants "
        + ", ".join(f"`{v}`" for v in study.variants)
        + (" (cumulative: each variant adds one change to the previous one)" if study.cumulative else "")
        + f".\n\nEvery model is trained {trained} on {data}, "
        f"split {1 - c.val_fraction:.0%}/{c.val_fraction:.0%} into train/validation (the same split for every "
        f"model and seed), {c.epochs} epochs, optimizer {c.optimizer} with learning rate {c.lr:g}, batch "
        f"{c.batch_size}, loss `{c.loss}`. Profile `{profile.name}`. {study.notes}"
    )


def describe_models(models) -> str:
    """Markdown: for each model its one-line summary, what differs from its baseline, its parameter
    count and its layer table (torchinfo)."""
    parts = []
    for i, name in enumerate(models):
        info = model_info(name)
        model = create_model(name)
        role = "baseline" if info.baseline == name else f"variant of `{info.baseline}`"
        text = [f"### {i + 1}. `{name}` ({role}, {count_parameters(model):,} parameters)", "", info.summary + "."]
        if info.change:
            text += ["", f"*What differs from the baseline:* {info.change}."]
        text += ["", "```", str(summary(model)), "```"]
        parts.append("\n".join(text))
    return "\n\n".join(parts)


def weights_table(runs, base=None) -> pd.DataFrame:
    """Model, seed, run key and an HTML link to each run's weights (relative to `base`, the reports folder)."""
    import os

    from . import config as cfg

    base = cfg.REPORTS_DIR if base is None else base
    rows = []
    for run in runs:
        rel = os.path.relpath(run.weights_path, base)
        rows.append(
            {
                "model": run.config.model,
                "seed": run.config.seed,
                "split": run.config.split,
                "run key": run.key,
                "weights": f'<a href="{rel}">{rel}</a>',
                "size (kB)": round(run.weights_path.stat().st_size / 1024),
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------
# Test comparison of the best models (notebook 03)

TEST_COMPARED = ("test_acc", "train_acc", "test_gap")  # section 3's families (test_gap: train − test accuracy)


@dataclass
class TestComparison:
    """The best models retrained on train + validation with every seed of section 2 and evaluated
    on test, beside the best model's train-only runs, compared paired over seeds."""

    models: list[str]  # the `top` models by mean validation accuracy, best first
    ranking: list  # stats.Comparison: the best against every other model on validation accuracy (one family)
    runs: dict[str, list]  # label → one Run per seed: "<best> (train)" and "<model> (train+val)" per model
    results: dict[str, dict[int, dict]]  # label → seed → evaluate_test output
    final: pd.DataFrame  # one row per (label, seed): train/val/test metrics
    families: dict[str, list]  # metric of TEST_COMPARED → stats.Comparison per pair of `pairs`
    pairs: list[tuple[str, str]]  # (a, b) labels compared
    cochran: dict[int, object]  # seed → stats.TestResult of Cochran's Q over every label (≥ 3 labels)
    mcnemar: pd.DataFrame  # one row per (pair, seed): McNemar's p, its Holm-adjusted p, b − a on test

    @staticmethod
    def label(model: str, split: str = "trainval") -> str:
        return f"{model} ({'train+val' if split == 'trainval' else 'train'})"

    @property
    def could_be_best(self) -> list[str]:
        """The best model and every model not shown below it on validation accuracy (Holm over the
        comparisons with the best): the models the ranking does not tell apart from the top."""
        return [self.models[0]] + [c.b for c in self.ranking if c.outcome != "lower"]

    @property
    def table(self) -> pd.DataFrame:
        """One row per label: mean ± std over seeds of the train, validation and test metrics."""
        return mean_std(
            self.final,
            ("train_acc", "val_acc", "test_acc", "test_precision", "test_recall", "test_loss"),
            by="model",
            percent=("train_acc", "val_acc", "test_acc", "test_precision", "test_recall"),
        )

    @property
    def best(self) -> dict:
        """Test predictions of the best model retrained on train + validation, seed 0."""
        runs = self.results[self.label(self.models[0])]
        return runs[min(runs)]


def compare_on_test(
    study, study_runs, profile, device: str = "auto", top: int = 2, margin: float = 0.005, alpha: float = 0.05
) -> TestComparison:
    """Retrain the `top` models (by mean validation accuracy of `study_runs`) on train + validation
    with every seed `study_runs` has, and evaluate them and the best model's train-only runs on the
    profile's test images. Compared paired over seeds (test accuracy, training accuracy, train − test
    gap; one Holm family each), Cochran's Q over all of them per seed, then McNemar per pair and seed
    (Holm over all McNemar tests)."""
    from . import stats
    from .schedule import get_or_train_many

    final = final_metrics(study_runs)
    order = rank_models(final)
    models = order[:top]
    seeds = sorted(set(final["seed"]))
    values = values_by(final, "val_acc")
    ranking = stats.compare_family(values, [(order[0], m) for m in order[1:]], margin, alpha)
    trainval = get_or_train_many(
        [study.config(m, profile, s, device).replace(split="trainval") for m in models for s in seeds]
    )
    runs = {TestComparison.label(models[0], "holdout"): [r for r in study_runs if r.config.model == models[0]]}
    runs.update({TestComparison.label(m): [r for r in trainval if r.config.model == m] for m in models})
    indices = test_indices(profile.test_subset)
    results = {label: {r.config.seed: evaluate_test(r, indices, device) for r in rs} for label, rs in runs.items()}
    rows = []
    for label, rs in runs.items():
        for r in rs:
            rep = results[label][r.config.seed]["report"]
            rows.append(
                {
                    "model": label,
                    "seed": r.config.seed,
                    "train images": r.metrics["train_size"],
                    "train_acc": r.metrics["train_acc"],
                    "val_acc": r.metrics.get("val_acc", float("nan")),
                    "test_acc": rep["acc"],
                    "test_precision": rep["precision"],
                    "test_recall": rep["recall"],
                    "test_loss": rep["loss"],
                    "test_gap": r.metrics["train_acc"] - rep["acc"],
                }
            )
    table = pd.DataFrame(rows)
    labels = list(runs)
    pairs = [(labels[0], labels[1])] + [(labels[1], label) for label in labels[2:]]
    families = {m: stats.compare_family(values_by(table, m), pairs, margin, alpha) for m in TEST_COMPARED}
    cochran = {}
    if len(labels) >= 3:
        for seed in seeds:
            if all(seed in results[label] for label in labels):
                truth = results[labels[0]][seed]["labels"]
                cochran[seed] = stats.cochran_q(
                    np.column_stack([results[label][seed]["pred"] == truth for label in labels])
                )
    tests = []
    for a, b in pairs:
        for seed in seeds:
            if seed in results[a] and seed in results[b]:
                ra, rb = results[a][seed], results[b][seed]
                t = stats.mcnemar_test(ra["labels"], ra["pred"], rb["pred"])
                tests.append(
                    {
                        "a": a,
                        "b": b,
                        "seed": seed,
                        "test": t.name,
                        "discordant": t.n,
                        "difference": t.difference,
                        "p": t.p_value,
                    }
                )
    mcnemar = pd.DataFrame(tests, columns=["a", "b", "seed", "test", "discordant", "difference", "p"])
    mcnemar["p_holm"] = stats.holm(mcnemar["p"].tolist())
    return TestComparison(models, ranking, runs, results, table, families, pairs, cochran, mcnemar)


def confusion_sentence(pairs: pd.DataFrame) -> str:
    """Names the most-confused class pairs of `most_confused`'s table."""
    named = [
        f"{r.true} taken for {r.predicted} ({r['count']} times, {r.share_of_true:.1%} of the {r.true} images)"
        for _, r in pairs.iterrows()
    ]
    return "The most frequent errors: " + "; ".join(named) + "."


# ----------------------------------------------------------------------------------------------
# k-fold (notebook 04) and augmentation (notebook 05)


def fold_configs(config, k: int) -> list:
    """The k RunConfigs of stratified k-fold cross-validation of `config` (same subset and split seed)."""
    return [config.replace(split="fold", fold=i, folds=k) for i in range(k)]


def kfold_table(
    final: pd.DataFrame, columns=("train_acc", "val_acc", "val_precision", "val_recall", "val_loss")
) -> pd.DataFrame:
    """Per-fold metrics with the mean and std over folds as the last two rows."""
    table = final.assign(fold=final["fold"].astype(int) + 1).set_index("fold")[list(columns)]
    table.index = table.index.map(lambda f: f"fold {f}")
    return pd.concat([table, table.mean().to_frame("mean").T, table.std(ddof=1).to_frame("std").T])


def kfold_sentence(final: pd.DataFrame, holdout_run, k: int) -> str:
    """The k-fold mean with its 95% t-interval, and whether the single hold-out split falls inside the
    folds' 95% prediction interval (where one more split's run would fall; the interval of the mean
    is the wrong yardstick for a single run)."""
    from . import stats

    ci = stats.mean_ci(final["val_acc"])
    low, high = stats.prediction_interval(final["val_acc"])
    hold = holdout_run.metrics["val_acc"]
    where = "inside" if low <= hold <= high else "outside"
    return (
        f"Over {k} folds `{holdout_run.config.model}` reaches a mean validation accuracy of {ci.mean:.2%} "
        f"(std {ci.std * 100:.2f} points, 95% CI of the mean {ci.low:.2%} to {ci.high:.2%}). One more split's run "
        f"would fall in the 95% prediction interval {low:.2%} to {high:.2%}; the single hold-out split gave "
        f"{hold:.2%}, {where} it. The folds differ by up to "
        f"{(final['val_acc'].max() - final['val_acc'].min()) * 100:.2f} points, which is how much one "
        f"validation split alone can move the estimate."
    )


def kfold_compare(
    final: pd.DataFrame, pair: tuple[str, str], margin: float, compared=COMPARED, alpha: float = 0.05
) -> dict[str, list]:
    """Two models cross-validated on the same folds, compared fold by fold with the Nadeau–Bengio
    corrected t-test (and TOST): metric → [stats.Comparison] (`final`: one row per model and fold)."""
    from . import stats

    sizes = (int(final["train_size"].iloc[0]), int(final["val_size"].iloc[0]))
    out = {}
    for m in compared:
        values = {name: g.set_index("fold")[m].astype(float) for name, g in final.groupby("model", sort=False)}
        out[m] = stats.compare_family(values, [pair], margin, alpha, kfold=sizes)
    return out


def augmentation_examples(names, n: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """`n` training images unchanged, under each augmentation alone, and under all of them together
    (the batch pipeline of `augment.build`, seeded)."""
    from . import augment

    ds = data_mod.load()
    idx = data_mod.subset_indices(ds.train_labels, n * 10, seed)[::10][:n]
    x = torch.from_numpy(ds.train_images[idx]).float().div(255.0).unsqueeze(1)
    rows = {"original": x[:, 0].numpy()}
    for label, chosen in [*((name, [name]) for name in names), ("all together", list(names))]:
        torch.manual_seed(seed)
        rows[label] = augment.build(chosen)(x.clone())[:, 0].numpy()
    return rows
