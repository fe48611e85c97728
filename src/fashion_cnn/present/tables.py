"""Tables as the report shows them: numbers formatted for reading ("mean ± std", thousands separators) and
links to the files behind them. `analysis` computes the numbers; these only lay them out."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .. import config as cfg
from ..studies.study import METRICS, SETTINGS
from .text.words import in_percent


def mean_std(
    final: pd.DataFrame, metrics: tuple[str, ...], by: str = "model", percent: tuple[str, ...] = ()
) -> pd.DataFrame:
    """A readable table: "mean ± std" of each metric per group (metrics in `percent` ×100, named in the
    frame's `attrs["percent"]` so that the table's data file heads them "(%)": `plots.html_table`)."""
    grouped = final.groupby(by, sort=False)
    out = {}
    for m in metrics:
        scale = 100.0 if m in percent else 1.0
        mu, sd = grouped[m].mean() * scale, grouped[m].std(ddof=1).fillna(0.0) * scale
        digits = 2 if m in percent else 4
        out[m] = ["–" if pd.isna(a) else f"{a:.{digits}f} ± {b:.{digits}f}" for a, b in zip(mu, sd)]
    table = pd.DataFrame(out, index=mu.index.rename(by))
    table.attrs["percent"] = tuple(m for m in metrics if m in percent)
    return table


def key_results(
    final: pd.DataFrame, facts: pd.DataFrame, tested: pd.DataFrame | None = None, label=None
) -> pd.DataFrame:
    """The summary's table, one row per model: validation accuracy mean ± std (as section 2's table gives it),
    test accuracy where it was evaluated (`tested`: section 3's rows, named `label(model)`), parameters and
    seconds per epoch."""
    table = mean_std(final, ("val_acc",), percent=("val_acc",)).rename(columns={"val_acc": "validation accuracy (%)"})
    if tested is not None:
        test = mean_std(tested, ("test_acc",), percent=("test_acc",))["test_acc"]
        table["test accuracy (%)"] = [test.get(label(m), "–") for m in table.index]
    table["parameters"] = [f"{int(facts.loc[m, 'parameters']):,}" for m in table.index]
    table["seconds per epoch"] = [f"{facts.loc[m, 'epoch_seconds']:.2f}" for m in table.index]
    return table


def weights_table(runs, base=None) -> pd.DataFrame:
    """Model, seed, run key and an HTML link to each run's weights (relative to `base`, the reports folder;
    the link reads "weights": a path is for the browser, not for the reader)."""
    base = cfg.REPORTS_DIR if base is None else base
    rows = []
    for run in runs:
        rel = os.path.relpath(run.weights_path, base)
        rows.append(
            {
                "model": run.config.name,
                "seed": run.config.seed,
                "split": run.config.split,
                "run key": run.key,
                "weights": f'<a href="{rel}">weights</a>',
                "size (kB)": round(run.weights_path.stat().st_size / 1024),
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------
# The reproduction's tables (section 8)

# Which interval a reported figure is judged against (`sections.reproduction.split_images`)
SPLIT_INTERVAL = "training noise + split"
SAME_IMAGES = "training noise (same images)"
NO_BINOMIAL = "training noise (no binomial form)"
SIZE_UNKNOWN = "training noise (split size unknown)"


def fmt(metric: str, x: float) -> str:
    """A value of `metric` for reading, in its unit (`in_percent`)."""
    if not np.isfinite(x):
        return "–"
    return f"{100 * x:.2f}" if in_percent(metric) else f"{x:.4f}"


def metric_label(metric: str) -> str:
    """The metric's name with its unit where it is shown in %."""
    return metric + (" (%)" if in_percent(metric) else "")


def span(metric: str, low: float, high: float) -> str:
    """ "[low, high]" in the metric's unit, clipped to what the metric can take (0–100 % for
    accuracy-like metrics, ≥ 0 for losses and seconds): with few seeds a prediction interval can
    reach past them."""
    if not np.isfinite(low):
        return "–"
    low, high = max(low, 0.0), (min(high, 1.0) if in_percent(metric) else high)
    return f"[{fmt(metric, low)}, {fmt(metric, high)}]"


def p_cell(p: float) -> str:
    """A p-value in a table cell: 3 significant digits, "<0.001" below that, "–" for no test."""
    return "–" if not np.isfinite(p) else "<0.001" if p < 0.001 else f"{p:.3g}"


PI_COLUMN = "95% PI: one new run"
CI_COLUMN = "95% CI: our mean"
INSIDE_COLUMN = "inside PI (p; Holm p)"
SPLIT_MARK = " + split"  # a PI cell that counts each side's split besides the training noise


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The reproduction table for reading: accuracies in %, losses as numbers, the intervals as text.

    The 95% PI is where one new run of ours would fall (what a single-run reported figure is judged
    against: whether it lies inside, with its predictive p and the p Holm-adjusted over the report's
    figures, in one column), counting training noise and, marked "+ split", the sampling error of a split
    of the report's own; the 95% CI is where our mean lies. Eleven columns: the page's width.
    """
    out = []
    for _, r in table.iterrows():
        m = r["metric"]
        out.append(
            {
                "where": r["where"],
                "arm": r["arm"],
                "setting": r["setting"],
                "metric": metric_label(m),
                "reported": fmt(m, r["reported"]),
                "ours mean ± std": "–" if not np.isfinite(r["mean"]) else f"{fmt(m, r['mean'])} ± {fmt(m, r['std'])}",
                PI_COLUMN: span(m, r["pi_low"], r["pi_high"]) + (SPLIT_MARK if r["interval"] == SPLIT_INTERVAL else ""),
                CI_COLUMN: span(m, r["ci_low"], r["ci_high"]),
                "difference": fmt(m, r["difference"]),
                INSIDE_COLUMN: "n/a"
                if r["inside"] is None
                else f"{'yes' if r['inside'] else 'no'} ({p_cell(r['p'])}; {p_cell(r['p_holm'])})",
                "n": int(r["n"]),
            }
        )
    return pd.DataFrame(out)


def definitions(table: pd.DataFrame) -> pd.DataFrame:
    """What each metric and setting in `table` means (the columns' definitions, for the reader)."""
    rows = [{"term": m, "definition": METRICS[m]} for m in dict.fromkeys(table["metric"])]
    rows += [{"term": s, "definition": SETTINGS[s]} for s in dict.fromkeys(table["setting"])]
    return pd.DataFrame(rows)
