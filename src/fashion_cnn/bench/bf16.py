"""bf16 against fp32 for a few models (`make bench`): training images per second in each precision,
and whether the validation accuracy after the same epochs is the same, by the paired equivalence test.

Both precisions train the same configs with the same seeds (same initialisation, data order and
dropout masks), so their difference per seed is what bf16's rounding does. The verdict is the
outcome of `stats.compare_family` at the margin: "equivalent" (TOST within ±margin), "different"
(a difference the test shows) or "inconclusive".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import stats
from ..train.runs import RunConfig
from ..train.store import Store
from ..train.training import get_or_train

MODELS = ("lenet5", "r2_base", "cnn_2")  # a small, a middle and one of R4's 4-million-parameter nets
VERDICTS = {  # else "inconclusive"
    "equivalent": "equivalent",
    "higher within margin": "equivalent (bf16 higher by less than the margin)",
    "lower within margin": "equivalent (bf16 lower by less than the margin)",
    "higher": "different",
    "lower": "different",
}


def compare(
    base: RunConfig, store: Store, models=MODELS, seeds: int = 3, margin: float = 0.005, progress: bool = False
) -> list[dict]:
    """One row per model: images/s (median over seeds) in fp32 and bf16, the mean validation accuracy
    of each, their difference bf16 − fp32 with its 95% CI, and the verdict at ±`margin`."""
    rows = []
    for model in models:
        runs = {
            p: [
                get_or_train(base.replace(model=model, seed=s, precision=p), store=store, force=True, progress=progress)
                for s in range(seeds)
            ]
            for p in ("fp32", "bf16")
        }
        speed = {
            p: float(np.median([np.mean([h["images_per_s"] for h in r.history]) for r in rs])) for p, rs in runs.items()
        }
        acc = {p: pd.Series({r.config.seed: r.metrics["val_acc"] for r in rs}) for p, rs in runs.items()}
        c = stats.compare_family(acc, [("fp32", "bf16")], margin)[0]
        rows.append(
            {
                "model": model,
                "seeds": seeds,
                "epochs": base.epochs,
                "train_images": runs["fp32"][0].metrics["train_size"],
                "fp32_images_per_s": speed["fp32"],
                "bf16_images_per_s": speed["bf16"],
                "speedup": speed["bf16"] / speed["fp32"],
                "fp32_val_acc": float(acc["fp32"].mean()),
                "bf16_val_acc": float(acc["bf16"].mean()),
                "difference": c.diff.mean,
                "ci_low": c.diff.low,
                "ci_high": c.diff.high,
                "p_tost": c.tost.p_value,
                "outcome": c.outcome,
                "verdict": VERDICTS.get(c.outcome, "inconclusive"),
                "margin": margin,
            }
        )
    return rows


def markdown(rows: list[dict]) -> list[str]:
    """The comparison as a Markdown table, with how the verdict was reached."""
    if not rows:
        return []
    r0 = rows[0]
    lines = [
        "",
        f"bf16 against fp32: {r0['seeds']} seeds per model and precision, {r0['epochs']} epoch(s) on "
        f"{r0['train_images']:,} images, the same seeds in both; verdict of the paired equivalence test (TOST) at "
        f"±{r0['margin'] * 100:.1f} points of validation accuracy.",
        "",
        "| model | fp32 img/s | bf16 img/s | speed-up | fp32 val acc | bf16 val acc | bf16 − fp32 (95% CI), points "
        "| TOST p | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        ci = "" if not np.isfinite(r["ci_low"]) else f" ({r['ci_low'] * 100:+.2f} to {r['ci_high'] * 100:+.2f})"
        p = "–" if not np.isfinite(r["p_tost"]) else f"{r['p_tost']:.3g}"
        lines.append(
            f"| {r['model']} | {r['fp32_images_per_s']:,.0f} | {r['bf16_images_per_s']:,.0f} | {r['speedup']:.2f}× | "
            f"{r['fp32_val_acc']:.4f} | {r['bf16_val_acc']:.4f} | {r['difference'] * 100:+.2f}{ci} | {p} | "
            f"{r['verdict']} |"
        )
    return lines
