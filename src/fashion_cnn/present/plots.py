"""Every figure the notebooks show. Each function takes numbers or tables and returns a matplotlib
Figure sized for an A4 page (at most 7 inches wide), so notebooks hold one call per figure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from .. import config as cfg
from ..data import CLASSES
from .figure_style import CLASS_COLOURS, TRAIN, VAL, WIDTH, style  # noqa: F401  (style: the notebooks call plots.style())
from .figure_style import closed as _close
from .figure_style import new_figure as _figure
from .text.captions import caption

# ----------------------------------------------------------------------------------------------
# Data analysis


def class_counts(counts: pd.DataFrame) -> Figure:
    """Grouped bars of images per class in train and test (`data_stats.class_counts`)."""
    fig, axes = _figure(1, 2, 2.4)
    for ax, part, colour in zip(axes[0], ("train", "test"), (TRAIN, VAL)):
        ax.bar(range(len(counts)), counts[part], color=colour)
        ax.set_xticks(range(len(counts)), counts.index, rotation=45, ha="right")
        ax.set_title(f"{part}: {counts[part].sum():,} images")
        ax.set_ylabel("images")
    return _close(fig)


def sample_grid(images: np.ndarray, labels: np.ndarray, per_class: int = 8, seed: int = 0) -> Figure:
    """`per_class` random images of every class, one class per row."""
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(
        len(CLASSES),
        per_class,
        figsize=(WIDTH * per_class / 12, WIDTH * len(CLASSES) / 12 * 0.95),
        layout="constrained",
    )
    for c, name in enumerate(CLASSES):
        chosen = rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False)
        for ax, i in zip(axes[c], chosen):
            ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=255)
            ax.set_xticks([]), ax.set_yticks([])
            ax.grid(False)
        axes[c, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    return _close(fig)


def pixel_maps(mean: np.ndarray, std: np.ndarray, border: int = 2) -> Figure:
    """Per-pixel mean and std maps with the outer `border`-pixel ring outlined."""
    fig, axes = _figure(1, 2, 3.0)
    fig.suptitle(f"dashed square: where a kernel centres without padding (the outer {border} px excluded)", fontsize=8)
    for ax, values, title in zip(axes[0], (mean, std), ("per-pixel mean", "per-pixel std")):
        im = ax.imshow(values, cmap="viridis")
        ax.add_patch(
            Rectangle(
                (border - 0.5, border - 0.5),
                28 - 2 * border,
                28 - 2 * border,
                fill=False,
                edgecolor="white",
                linestyle="--",
                linewidth=1,
            )
        )
        ax.set_title(title)
        ax.grid(False)
        fig.colorbar(im, ax=ax, shrink=0.8)
    return _close(fig)


def intensity_histogram(images: np.ndarray) -> Figure:
    """Histogram of every pixel's intensity (log count), and of the non-zero ones."""
    fig, axes = _figure(1, 2, 2.3)
    flat = images.ravel()
    axes[0, 0].hist(flat, bins=64, color=TRAIN, log=True)
    axes[0, 0].set_title(f"all pixels ({(flat == 0).mean():.0%} are 0)")
    axes[0, 1].hist(flat[flat > 0], bins=64, color=VAL)
    axes[0, 1].set_title("non-zero pixels")
    for ax in axes[0]:
        ax.set_xlabel("intensity (0–255)")
        ax.set_ylabel("pixels")
    return _close(fig)


# ----------------------------------------------------------------------------------------------
# Training curves


def _band(
    ax, frame: pd.DataFrame, column: str, colour: str, label: str, group: str = "seed", linestyle: str = "-"
) -> None:
    """Mean over `group` (e.g. seeds) as a line, mean ± std as a band when there are several."""
    wide = frame.pivot_table(index="epoch", columns=group, values=column)
    mean, std = wide.mean(axis=1), wide.std(axis=1)
    ax.plot(mean.index, mean, color=colour, label=label, marker="o", markersize=2.5, linestyle=linestyle)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs
    if wide.shape[1] > 1:
        ax.fill_between(mean.index, mean - std, mean + std, color=colour, alpha=0.2, linewidth=0)


def _measured(frame: pd.DataFrame, column: str) -> bool:
    return column in frame and frame[column].notna().any()


def training_curves(
    hist: pd.DataFrame, rows: Sequence[str] | None = None, by: str = "model", group: str = "seed"
) -> Figure:
    """One row per model (or per value of `by`): loss (left) and accuracy (right) per epoch, on the same
    axes in every row so rows compare at a glance. Training in two forms where the run measured both: the
    running mean over the epoch as it trained (dropout active) and, dashed, the model in eval mode on a fixed
    part of the training images after each epoch (`train_eval_*`); validation in red. The line is the mean
    over `group`, the band ± one std (`metrics.history`)."""
    models = list(rows) if rows is not None else list(dict.fromkeys(hist[by]))
    fig, axes = _figure(len(models), 2, 1.85 * len(models) + 0.5, sharex=True, sharey="col")
    for row, model in zip(axes, models):
        frame = hist[hist[by] == model]
        for ax, metric in zip(row, ("loss", "acc")):
            _band(ax, frame, f"train_{metric}", TRAIN, "train, running mean while training", group)
            if _measured(frame, f"train_eval_{metric}"):
                _band(ax, frame, f"train_eval_{metric}", TRAIN, "train, eval mode after the epoch", group, "--")
            _band(ax, frame, f"val_{metric}", VAL, "validation", group)
            ax.set_ylabel("loss" if metric == "loss" else "accuracy")
        row[0].set_title(f"{model}: loss", loc="left")
        row[1].set_title(f"{model}: accuracy", loc="left")
    fig.legend(
        *axes[0, 1].get_legend_handles_labels(),
        loc="outside upper center",
        ncol=3,
        frameon=False,
        title=f"lines: mean over {hist[group].nunique()} {group}s; bands: ± one std",
        title_fontsize=8,
    )
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    return _close(fig)


def ci_bars(
    table: pd.DataFrame, what: str = "validation accuracy (%)", scale: float = 100.0, highlight: str | None = None
) -> Figure:
    """Horizontal bars of each model's mean with its 95% confidence interval (`stats.mean_table`)."""
    fig, axes = _figure(1, 1, 0.35 * len(table) + 0.9)
    ax = axes[0, 0]
    y = np.arange(len(table))[::-1]
    mean = table["mean"] * scale
    low = (table["mean"] - table["ci_low"]).fillna(0) * scale
    high = (table["ci_high"] - table["mean"]).fillna(0) * scale
    colours = [VAL if m == highlight else TRAIN for m in table.index]
    ax.errorbar(mean, y, xerr=[low, high], fmt="none", ecolor="black", capsize=3)
    ax.scatter(mean, y, color=colours, zorder=3)
    ax.set_yticks(y, table.index)
    ax.set_xlabel(f"{what}: mean and 95% CI over n={int(table['n'].iloc[0])}")
    return _close(fig)


def fold_curves(hist: pd.DataFrame) -> Figure:
    """k-fold: every fold's validation loss and accuracy (thin), their mean ± std (thick, band)."""
    fig, axes = _figure(1, 2, 2.6, sharex=True)
    for ax, metric in zip(axes[0], ("loss", "acc")):
        for fold, frame in hist.groupby("fold"):
            ax.plot(frame["epoch"], frame[f"val_{metric}"], linewidth=0.8, alpha=0.6, label=f"fold {int(fold) + 1}")
        _band(ax, hist, f"val_{metric}", VAL, "mean ± std", group="fold")
        _band(ax, hist, f"train_{metric}", TRAIN, "train (mean ± std)", group="fold")
        ax.set_xlabel("epoch")
        ax.set_title(f"validation {'loss' if metric == 'loss' else 'accuracy'} per fold", loc="left")
    axes[0, 1].legend(fontsize=7, loc="lower right")
    return _close(fig)


# ----------------------------------------------------------------------------------------------
# Test evaluation


def confusion_matrices(counts: pd.DataFrame, normalised: pd.DataFrame, title: str = "") -> Figure:
    """Counts (left) and row-normalised (right) confusion matrices (`metrics.confusion`)."""
    import seaborn as sns

    fig, axes = _figure(1, 2, 4.1)
    short = [c.split("/")[0] for c in counts.index]
    for ax, frame, fmt, name in (
        (axes[0, 0], counts, "d", "counts"),
        (axes[0, 1], normalised * 100, ".0f", "% of true class"),
    ):
        sns.heatmap(
            frame.values,
            ax=ax,
            annot=True,
            fmt=fmt,
            cmap="Blues",
            cbar=False,
            square=True,
            annot_kws={"fontsize": 7},
            xticklabels=short,
            yticklabels=short,
        )
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{title}{name}", loc="left")
        ax.tick_params(labelsize=7)
    return _close(fig)


def image_gallery(images: np.ndarray, true: np.ndarray, pred: np.ndarray, cols: int = 10) -> Figure:
    """Images with "true → predicted" captions (e.g. misclassified test images)."""
    rows = max(1, -(-len(images) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, 0.95 * rows + 0.1), squeeze=False, layout="constrained")
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image, t, p in zip(axes.ravel(), images, true, pred):
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=255)
        ax.set_title(f"{CLASSES[t].split('/')[0]}\n→ {CLASSES[p].split('/')[0]}", fontsize=6)
    return _close(fig)


def per_class_bars(tables: Mapping[str, pd.DataFrame], metric: str = "recall") -> Figure:
    """One bar per class and model of a per-class metric (`metrics.per_class` tables by model)."""
    fig, axes = _figure(1, 1, 2.6)
    ax = axes[0, 0]
    width = 0.8 / len(tables)
    for i, (name, table) in enumerate(tables.items()):
        ax.bar(np.arange(len(table)) + i * width, table[metric], width, label=name)
    ax.set_xticks(np.arange(len(CLASSES)) + 0.4 - width / 2, CLASSES, rotation=30, ha="right")
    ax.set_ylabel(f"test {metric}")
    ax.set_ylim(0, 1)
    # above the axes, not over the bars of the first classes
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(tables), fontsize=7, frameon=False)
    return _close(fig)


# ----------------------------------------------------------------------------------------------
# Augmentation and t-SNE


def augmented_grid(rows: Mapping[str, np.ndarray]) -> Figure:
    """One row per augmentation (first row: the originals) of the same images, (N, 28, 28) in [0, 1]."""
    n = len(next(iter(rows.values())))
    fig, axes = plt.subplots(
        len(rows), n, figsize=(WIDTH, WIDTH * len(rows) / n * 0.95), squeeze=False, layout="constrained"
    )
    for r, (name, images) in enumerate(rows.items()):
        for ax, image in zip(axes[r], images):
            ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([]), ax.set_yticks([])
            ax.grid(False)
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    return _close(fig)


def embedding(
    xy: np.ndarray,
    labels: np.ndarray,
    wrong: np.ndarray | None = None,
    xy_new: np.ndarray | None = None,
    labels_new: np.ndarray | None = None,
) -> Figure:
    """A 2-D embedding coloured by class; misclassified points as black crosses; points placed
    afterwards (held out of the fit) as triangles."""
    fig, axes = _figure(1, 1, 5.6)
    ax = axes[0, 0]
    for c, name in enumerate(CLASSES):
        sel = labels == c
        ax.scatter(xy[sel, 0], xy[sel, 1], s=4, color=CLASS_COLOURS[c], label=name, alpha=0.7, linewidths=0)
        if xy_new is not None:
            new = labels_new == c
            ax.scatter(
                xy_new[new, 0],
                xy_new[new, 1],
                s=14,
                marker="^",
                color=CLASS_COLOURS[c],
                edgecolors="white",
                linewidths=0.4,
            )
    if wrong is not None and wrong.any():
        ax.scatter(
            xy[wrong, 0],
            xy[wrong, 1],
            s=6,
            marker="x",
            color="black",
            linewidths=0.4,
            alpha=0.6,
            label=f"misclassified ({int(wrong.sum()):,} of the {len(xy):,} fitted)",
        )
    if xy_new is not None:
        ax.scatter([], [], s=14, marker="^", color="grey", label=f"held out, placed by transform ({len(xy_new)})")
    for c, name in enumerate(CLASSES):
        sel = labels == c
        if sel.any():
            ax.annotate(
                name,
                np.median(xy[sel], axis=0),
                fontsize=8,
                weight="bold",
                ha="center",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.75, "lw": 0},
            )
    ax.set_axis_off()
    ax.legend(markerscale=2.5, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    return _close(fig)


# ----------------------------------------------------------------------------------------------
# Tables


class Captioned:
    """A figure or table shown with its caption: IPython displays the object as usual and puts the caption
    (and a label other text may point at, `[@label]`) into the output's metadata, where the report's
    builder numbers it (`report.document`)."""

    def __init__(self, obj, caption: str, label: str = ""):
        self.obj, self.caption, self.label = obj, caption, label

    def _repr_mimebundle_(self, include=None, exclude=None):
        from IPython.core.interactiveshell import InteractiveShell

        data, metadata = InteractiveShell.instance().display_formatter.format(self.obj, include, exclude)
        meta = {"caption": self.caption, "label": self.label}
        shown = shown_data(self.obj)
        if shown is not None:  # the report writes it beside the figure or table (`report.document`)
            meta["data"] = shown.to_csv(index=False)
        return data, {**metadata, cfg.OUTPUT_META: meta}


def shown_data(obj) -> pd.DataFrame | None:
    """What `obj` shows, as a table: a Figure's drawn values (`figure_data`), an `html_table`'s cells as
    printed (percent columns headed "(%)"); None for anything else."""
    if isinstance(obj, Figure):
        from .figure_data import figure_data

        return figure_data(obj)
    return getattr(obj, "shown", None)


def captioned(obj, caption: str, label: str = "") -> Captioned | None:
    """`obj` (a Figure, an `html_table`) with its one-sentence caption: what is shown and how it was
    measured. `label` ("fig:02-curves") lets generated text refer to it as "Figure N" (`[@fig:02-curves]`).
    None stays None (a figure not drawn shows nothing)."""
    return None if obj is None else Captioned(obj, caption, label)


def figure(label: str, obj, **facts) -> Captioned | None:
    """`obj` captioned with `text.captions.CAPTIONS[label]`, its placeholders filled from `facts`, and
    labelled `label` (placeholders filled too: "tab:08-{report}-claims" with report="R0")."""
    return captioned(obj, caption(label, **facts), label.format(**facts))


LONG_TABLE = 12  # rows: a longer table may break across pages instead of leaving the rest of one empty
_LINK = re.compile(r'<a [^>]*href="([^"]*)"[^>]*>.*?</a>')


def html_table(frame: pd.DataFrame, percent: Sequence[str] = (), digits: int = 4, index: bool = True):
    """A compact HTML table for the report (columns in `percent` shown ×100 with 2 decimals, other
    floats with `digits` decimals, or 3 significant digits in a column holding values too small for
    them, such as weight decays of 1e-5; cells may hold links). Its data file heads the `percent` columns
    and those of `frame.attrs["percent"]` (`tables.mean_std`) "(%)". A frame without rows shows nothing. The
    index's name heads the header row, rather than a header row of its own."""
    from IPython.display import HTML

    if frame.empty:
        return HTML("")
    shown = frame.copy()
    for column in shown.columns:
        if column in percent:
            shown[column] = shown[column].map(lambda v: "–" if pd.isna(v) else f"{v * 100:.2f}")
        elif pd.api.types.is_float_dtype(shown[column]):
            small = ((shown[column].abs() < 10 ** (2 - digits)) & (shown[column] != 0)).any()
            spec = ".3g" if small else f".{digits}f"
            shown[column] = shown[column].map(lambda v, spec=spec: "–" if pd.isna(v) else format(v, spec))
        else:  # whole numbers (nullable too) and text: a missing value is "–", never "None" or "<NA>"
            shown[column] = shown[column].astype(object).map(lambda v: "–" if v is None or v is pd.NA else v)
    in_percent = [*percent, *frame.attrs.get("percent", ())]  # the latter already formatted ("91.20 ± 0.31")
    data = (shown.reset_index() if index else shown).rename(columns={c: f"{c} (%)" for c in in_percent})
    data = data.map(lambda v: _LINK.sub(r"\1", v) if isinstance(v, str) else v)  # a link's target, not its tag
    if index and shown.index.name and shown.columns.name is None and shown.columns.nlevels == 1:
        shown = shown.rename_axis(index=None, columns=shown.index.name)
    classes = "report-table" + (" long-table" if len(shown) > LONG_TABLE else "")  # a long one may span pages
    out = HTML(shown.to_html(escape=False, index=index, classes=classes, border=0, na_rep="–"))
    out.shown = data  # the cells as printed, for the report's CSV beside the table (`shown_data`)
    return out


# ----------------------------------------------------------------------------------------------
# Reproduction (section 8) and hyperparameters (section 7)


def _error_bars(t: pd.DataFrame, low: str, high: str, scale: float) -> np.ndarray:
    """Matplotlib's xerr (distances below and above the mean) of the interval `low`–`high`, clipped
    to 0–100 for percentages and to ≥ 0 for losses."""
    mean = t["mean"].to_numpy(float) * scale
    lo, hi = t[low].to_numpy(float) * scale, t[high].to_numpy(float) * scale
    lo, hi = (np.clip(lo, 0, 100), np.clip(hi, 0, 100)) if scale == 100 else (np.maximum(lo, 0), hi)
    return np.nan_to_num(np.vstack([mean - lo, hi - mean]))


def reproduction(table: pd.DataFrame, title: str = ""):
    """Reported values (red x) against our 95% prediction interval (black bar with caps: where one new
    run would fall) and the 95% confidence interval of our mean (thick blue bar, the dot our mean),
    one row per figure.

    Accuracy-like metrics (in %, intervals clipped to 0–100) and losses get separate panels.
    Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    is_loss = table["metric"].str.endswith("loss")
    panels = [(t, scale, lab) for t, scale, lab in ((table[~is_loss], 100, "%"), (table[is_loss], 1, "loss")) if len(t)]
    heights = [max(len(t), 1) for t, _, _ in panels] or [1]
    fig, axes = plt.subplots(
        len(panels) or 1,
        1,
        figsize=(7.0, 0.22 * sum(heights) + 0.9 * len(heights) + 0.3),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
        layout="constrained",
    )
    for ax, (t, scale, lab) in zip(axes[:, 0], panels):
        y = np.arange(len(t))[::-1]
        names = [f"{r.arm} · {r.metric} · {r.setting}" for r in t.itertuples()]
        mean = t["mean"].to_numpy(float) * scale

        ax.errorbar(
            mean,
            y,
            xerr=_error_bars(t, "pi_low", "pi_high", scale),
            fmt="none",
            ecolor="black",
            elinewidth=1,
            capsize=2,
            label="ours: 95% prediction interval (one new run)",
        )
        ax.errorbar(
            mean,
            y,
            xerr=_error_bars(t, "ci_low", "ci_high", scale),
            fmt="o",
            color="tab:blue",
            ms=3,
            elinewidth=3,
            capsize=0,
            label="ours: mean and 95% CI of the mean",
        )
        ax.scatter(t["reported"].to_numpy(float) * scale, y, marker="x", color="tab:red", zorder=3, label="reported")
        ax.set_yticks(y, names, fontsize=7)
        ax.set_xlabel(lab)
        ax.grid(axis="x", alpha=0.3)
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside upper center", ncol=3, fontsize=7, frameon=False)
    if title:
        axes[0, 0].set_title(title)
    plt.close(fig)  # the notebook displays the returned figure once
    return fig


def search_figures(study) -> dict[str, Figure]:
    """A search's figures by name (`search_plots.search_figures`): history, importances, parallel, intermediate."""
    from .search_plots import search_figures as draw

    return draw(study)


def sweep_figure(result) -> Figure:
    """A sweep's (`tune.SweepResult`) overlaid accuracy and loss curves (train dashed, validation solid)
    and seconds per epoch."""
    fig, axes = plt.subplots(1, 3, figsize=(WIDTH, 2.6), gridspec_kw={"width_ratios": [3, 3, 2]})
    colours = plt.cm.viridis(np.linspace(0, 0.85, len(result.runs)))
    for value, run, colour in zip(result.sweep.values, result.runs, colours):
        frame = run.frame()
        for ax, metric in zip(axes[:2], ("acc", "loss")):
            ax.plot(frame["epoch"], frame[f"val_{metric}"], "-o", ms=2.5, color=colour, label=f"{value}")
            ax.plot(frame["epoch"], frame[f"train_{metric}"], "--", color=colour, alpha=0.7)
    for ax, metric in zip(axes[:2], ("accuracy", "loss")):
        ax.set(xlabel="epoch", ylabel=metric, title=f"{metric} (solid: val, dashed: train)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].legend(title=result.sweep.field, fontsize=7, title_fontsize=7)
    table = result.table()
    axes[2].bar([str(v) for v in table.index], table["s_per_epoch"], color=colours)
    axes[2].set(xlabel=result.sweep.field, ylabel="s / epoch", title="time per epoch")
    plt.close(fig)  # shown once by the notebook
    return fig


def sweep_panel(result, profile=None) -> list:
    """What notebook 07 shows of one sweep (`tune.SweepResult`): its figure and its table (accuracies in %),
    captioned by label, and its sentences (one run per value: ranges, no test)."""
    from IPython.display import Markdown

    from . import text

    sweep = result.sweep
    facts = {"field": sweep.field, "name": sweep.name, "model": sweep.base.model}
    facts["how"] = text.sweep_measured(result, profile)
    table = html_table(result.table(), percent=("train_acc", "val_acc", "best_val_acc"))
    sentences = text.sweep_sentences(result.table(), sweep.field, sweep.base.seed)
    return [
        figure("fig:07-sweep-{field}", sweep_figure(result), **facts),
        figure("tab:07-sweep-{field}", table, **facts),
        Markdown(text.bullets(sentences)),
    ]


def decay(result) -> Figure:
    """The decay study's (`tune.DecayResult`) validation accuracy and loss per epoch (mean ± std over
    seeds) and the learning rate per epoch."""
    fig, axes = plt.subplots(1, 3, figsize=(WIDTH, 2.6))
    for label, runs in result.runs.items():
        epochs = pd.concat([r.frame() for r in runs]).groupby("epoch")
        mean, std = epochs.mean(numeric_only=True), epochs.std(numeric_only=True).fillna(0)
        for ax, col in zip(axes[:2], ("val_acc", "val_loss")):
            (line,) = ax.plot(mean.index, mean[col], "-o", ms=2.5, label=label)
            ax.fill_between(mean.index, mean[col] - std[col], mean[col] + std[col], alpha=0.2, color=line.get_color())
        axes[2].plot(mean.index, mean["lr"], "-o", ms=2.5, drawstyle="steps-mid", label=label)
    axes[0].set(xlabel="epoch", ylabel="validation accuracy", title="validation accuracy")
    axes[1].set(xlabel="epoch", ylabel="validation loss", title="validation loss")
    axes[2].set(xlabel="epoch", ylabel="learning rate", title="rate per epoch", yscale="log")
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].legend(title="schedule", fontsize=7, title_fontsize=7)
    plt.close(fig)
    return fig
