"""The search's figures (section 7.3), drawn in the report's style from an Optuna study's trials rather than
with Optuna's own plotting (its ggplot look clashes with the other figures)."""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .figure_style import TRAIN, VAL
from .figure_style import closed as _close
from .figure_style import new_figure as _figure


def _search_history(complete) -> Figure:
    fig, axes = _figure(1, 1, 3.0)
    ax = axes[0, 0]
    done = sorted(complete, key=lambda t: t.datetime_complete)
    x, y = np.arange(1, len(done) + 1), np.array([t.value for t in done])
    ax.scatter(x, y, color=TRAIN, s=14, label="trial", zorder=3)
    ax.step(x, np.maximum.accumulate(y), where="post", color=VAL, label="best so far")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("trials completed")
    ax.set_ylabel("validation accuracy")
    ax.legend(loc="lower right")
    return _close(fig)


def _search_importances(study) -> Figure:
    import warnings

    from optuna.importance import get_param_importances

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        importances = get_param_importances(study)
    names = list(importances)[::-1]
    fig, axes = _figure(1, 1, 0.35 * len(names) + 0.9)
    ax = axes[0, 0]
    ax.barh(names, [importances[n] for n in names], color=TRAIN)
    ax.set_xlabel("share of the variance of validation accuracy (fANOVA)")
    ax.grid(axis="y", visible=False)
    return _close(fig)


def _axis_positions(values: list, distribution) -> tuple[np.ndarray, list[str]]:
    """Values of one parameter mapped to 0…1 (on a log scale where it was searched on one) and the
    labels of both ends of its axis."""
    from optuna.distributions import CategoricalDistribution

    if isinstance(distribution, CategoricalDistribution):
        choices = [str(c) for c in distribution.choices]
        pos = np.array([choices.index(str(v)) for v in values], float) / max(len(choices) - 1, 1)
        return pos, [choices[0], choices[-1]]
    low, high = float(distribution.low), float(distribution.high)
    log = getattr(distribution, "log", False)
    f = np.log10 if log else (lambda v: v)
    pos = (f(np.asarray(values, float)) - f(low)) / ((f(high) - f(low)) or 1.0)
    return pos, [f"{low:.3g}", f"{high:.3g}"]


def _search_parallel(complete) -> Figure:
    params = sorted({p for t in complete for p in t.params})
    rows = [t for t in complete if all(p in t.params for p in params)]
    values = np.array([t.value for t in rows])
    fig, axes = _figure(1, 1, 3.2)
    ax = axes[0, 0]
    colours = matplotlib.colormaps["viridis"]
    scale = matplotlib.colors.Normalize(values.min(), values.max()) if len(values) else None
    columns, ends = [], []
    for p in params:
        pos, labels = _axis_positions([t.params[p] for t in rows], rows[0].distributions[p])
        columns.append(pos)
        ends.append(labels)
    grid = np.array(columns).T if columns else np.empty((0, 0))
    for line, value in sorted(zip(grid, values), key=lambda lv: lv[1]):  # the best drawn last, on top
        ax.plot(range(len(params)), line, color=colours(scale(value)), linewidth=1.2, alpha=0.85)
    for i, (p, (low, high)) in enumerate(zip(params, ends)):
        ax.axvline(i, color="black", linewidth=0.6)
        for end, label in ((0, low), (1, high)):
            ax.annotate(label, (i, end), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)
    ax.set_xticks(range(len(params)), params)
    ax.set_yticks([])
    ax.set_ylim(-0.05, 1.05)
    ax.grid(False)
    ax.spines[["left", "bottom"]].set_visible(False)
    if scale is not None:
        bar = fig.colorbar(matplotlib.cm.ScalarMappable(scale, colours), ax=ax, pad=0.01)
        bar.set_label("validation accuracy")
    return _close(fig)


def _search_epochs(trials) -> Figure:
    from optuna.trial import TrialState

    fig, axes = _figure(1, 1, 3.0)
    ax = axes[0, 0]
    for t in trials:
        if not t.intermediate_values:
            continue
        steps = sorted(t.intermediate_values)
        pruned = t.state == TrialState.PRUNED
        ax.plot(
            [s + 1 for s in steps],
            [t.intermediate_values[s] for s in steps],
            color="grey" if pruned else TRAIN,
            linestyle="--" if pruned else "-",
            linewidth=0.9,
            alpha=0.7,
        )
    ax.plot([], [], color=TRAIN, label="complete")
    ax.plot([], [], color="grey", linestyle="--", label="pruned")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy")
    ax.legend(loc="lower right")
    return _close(fig)


def search_figures(study) -> dict[str, Figure]:
    """The figures of a search's Optuna `study`, drawn in the report's style from its trials: the
    validation accuracy of each complete trial in the order they finished with the best so far
    ("history"), fANOVA parameter importances ("importances", from Optuna; needs 2+ complete trials),
    parallel coordinates coloured by validation accuracy ("parallel") and every trial's validation
    accuracy per epoch, pruned ones dashed ("intermediate")."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    figures = {"history": _search_history(complete), "parallel": _search_parallel(complete)}
    if len(complete) >= 2:
        figures["importances"] = _search_importances(study)
    figures["intermediate"] = _search_epochs(trials)
    return figures
