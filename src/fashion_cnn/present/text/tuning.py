"""The sentences of the hyperparameter section (7): sweeps with one run per value (ranges and timings,
no test claimed) and the search's closing note."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .captions import measured
from .words import machine, setting, signed


def describe_search(summary: dict[str, Any], test: dict[str, float], run, model: str, r4_test: float) -> list[str]:
    """The closing note of the search, generated from its summary (`tune.search_summary`), the retrained
    best run (`run`, of `model`) and its `test` scores, beside R4's reported `r4_test` accuracy."""
    prov = run.provenance
    replaced = f", {summary['fail']} failed and run again" if summary["fail"] else ""
    return [
        f"The search finished {summary['finished']} of its {summary['total']} trials on `{model}` "
        f"({summary['complete']} complete, {summary['pruned']} stopped early by the pruner{replaced}); together "
        f"they trained for {summary['trial_seconds'] / 60:.1f} min, {summary['wall_seconds'] / 60:.1f} min of "
        "wall-clock time with trials training side by side.",
        f"The best trial (#{summary['best_number']}) reached {summary['best_value']:.2%} validation accuracy with "
        + ", ".join(setting(k, v) for k, v in summary["best_params"].items())
        + ".",
        f"Retrained on train + validation ({run.metrics['train_size']:,} images, {run.config.epochs} epochs, "
        f"{'with' if run.config.augment else 'without'} augmentation) on {machine(prov.get('device_name', '?'))}, it scores "
        f"{test['acc']:.2%} on {test['n']:,} test images, {signed(test['acc'] - r4_test)} against R4's "
        f"{r4_test:.2%} (R4: CNN_2 with augmentation, 10 epochs; one run each: no test, so no "
        "difference or equivalence is claimed)"
        + (
            "."
            if run.config.model == "cnn_2"
            else f"; `{run.config.model}` is not CNN_2, so this compares two searches, not one model's settings."
        ),
    ]


# What a sentence comparing single runs says in place of an outcome (`text.outcome` would say "no test at n=1").
NO_TEST = "one run per value: no test, so no difference or equivalence is claimed"


# Epochs of the same arithmetic timed 1.09-1.13x apart in one sweep of the full report (the learning-rate,
# dropout and loss sweeps, trained beside other runs on 2 cores): below this ratio a time is not a finding.
TIMING_NOISE = 1.25


def timing_sentence(seconds: pd.Series, field: str) -> str:
    """The fastest and slowest seconds per epoch over a sweep's values, as a finding only beyond timing noise."""
    slow, fast = seconds.idxmax(), seconds.idxmin()
    ratio = seconds[slow] / seconds[fast]
    if ratio < TIMING_NOISE:
        return (
            f"An epoch takes about as long at every {field} ({seconds[fast]:.2f}–{seconds[slow]:.2f} s): "
            f"differences under {TIMING_NOISE:g}× are within the timing noise of runs sharing a machine."
        )
    return (
        f"An epoch takes {seconds[fast]:.2f} s at {field}={fast} and {seconds[slow]:.2f} s at {field}={slow} "
        f"({ratio:.1f}×)."
    )


def sweep_measured(result, profile=None) -> str:
    """How a sweep (`tune.SweepResult`) was measured, for its captions: its values, one run each, and the rest."""
    sweep = result.sweep
    values = ", ".join(map(str, sweep.values))
    return f"{sweep.field} = {values}, one run each; {measured(sweep.base, profile, varied=(sweep.field,))}"


def sweep_sentences(t: pd.DataFrame, f: str, seed: int) -> list[str]:
    """Sentences generated from the table. One seed per value, so every sentence that compares values
    says that no test was made (`NO_TEST`): ranges, no difference or equivalence claimed."""
    hi, lo = t["val_acc"].idxmax(), t["val_acc"].idxmin()
    gap = (t["train_acc"] - t["val_acc"]) * 100
    out = [
        f"Final validation accuracy ranges from {t.loc[lo, 'val_acc']:.2%} ({f}={lo}) "
        f"to {t.loc[hi, 'val_acc']:.2%} ({f}={hi}), a spread of "
        f"{(t['val_acc'].max() - t['val_acc'].min()) * 100:.1f} points; {NO_TEST}."
    ]
    out.append(
        f"The train − validation accuracy gap is largest at {f}={gap.idxmax()} ({signed(gap.max(), 1, ' points', 1)}) "
        f"and smallest at {f}={gap.idxmin()} ({signed(gap.min(), 1, ' points', 1)}); {NO_TEST}."
    )
    out.append(timing_sentence(t["s_per_epoch"], f))
    out.append(f"Every value is trained once, with seed {seed} and the same split.")
    return out


def search_setup(study_name: str, model: str, subset: int | None, summary: dict[str, Any]) -> str:
    """What the search searched: the study, the model and its data, the trials by state, the objective."""
    data = f"{subset:,} training images" if subset else "all training images"
    return (
        f"Study `{study_name}`: `{model}` on {data}, {summary['finished']} finished trials ({summary['complete']} "
        f"complete, {summary['pruned']} pruned, {summary['fail']} failed), objective: validation accuracy after "
        "the last epoch. Searched space:"
    )


def describe_config(config) -> str:
    """A `RunConfig` in words: its model with its arguments, then every setting that differs from RunConfig's
    defaults (the epochs always) and the training images when a subset: "`lenet5` (width 16), learning rate
    0.01, batch size 32, epochs 15"."""
    defaults = type(config)(config.model).to_dict()
    changed = {
        k: v
        for k, v in config.to_dict().items()
        if k not in ("model", "model_args", "device", "subset") and (v != defaults[k] or k == "epochs")
    }
    args = ", ".join(setting(k, v) for k, v in config.model_args.items())
    words = [f"`{config.model}`" + (f" ({args})" if args else "")] + [setting(k, v) for k, v in changed.items()]
    if config.subset:
        words.append(f"on {config.subset:,} training images")
    return ", ".join(words)


def base_configuration(config) -> str:
    """The sweeps' base configuration, in one sentence."""
    return f"Every sweep starts from {describe_config(config)}, and changes one setting at a time."
