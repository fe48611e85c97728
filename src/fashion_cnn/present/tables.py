"""Tables as the report shows them: numbers formatted for reading ("mean ± std", thousands separators) and
links to the files behind them. `analysis` computes the numbers; these only lay them out."""

from __future__ import annotations

import os

import pandas as pd

from .. import config as cfg


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
    """Model, seed, run key and an HTML link to each run's weights (relative to `base`, the reports folder)."""
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
                "weights": f'<a href="{rel}">{rel}</a>',
                "size (kB)": round(run.weights_path.stat().st_size / 1024),
            }
        )
    return pd.DataFrame(rows)
