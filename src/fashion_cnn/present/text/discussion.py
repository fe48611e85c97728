"""Section 2's discussion, generated from the numbers: per change, what it does to the model's capacity, what
the curves show and what the tests decide; the pairs that stack several changes in one paragraph; the timings
as timings; and a closing paragraph that says which model to use and why, or that the data cannot choose and
what would.

Sentences vary with what the numbers say (a change that adds parameters reads differently from one that keeps
them; a curve that overfits from one that does not), and a fact shared by every paragraph (how training
accuracy is measured, why timings are noisy) is said once."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from ...analysis.stats import Comparison
from .comparisons import interval, raw_only, verdict
from .tuning import TIMING_NOISE
from .words import and_list, count, p, signed

# A rise of the mean validation loss from its lowest epoch to the last, beyond which the curve "turns up"
LOSS_RISE = 0.01


_SAME_SIZE = (
    "It keeps the {p:,} parameters and the multiply-adds, so any difference comes from the change alone",
    "The size does not move ({p:,} parameters, the same multiply-adds)",
    "Parameters and multiply-adds stay as they were",
    "Nothing is added to the model's size",
)


def _capacity(facts: pd.DataFrame, a: str, b: str, turn: int) -> str:
    pa, pb = int(facts.loc[a, "parameters"]), int(facts.loc[b, "parameters"])
    ma, mb = facts.loc[a, "mult_adds"] / 1e6, facts.loc[b, "mult_adds"] / 1e6
    same_macs = round(mb / ma - 1, 2) == 0
    if pa == pb and same_macs:
        return _SAME_SIZE[turn % len(_SAME_SIZE)].format(p=pa)
    macs = "the same multiply-adds" if same_macs else f"multiply-adds {ma:.2f} → {mb:.2f} M per image"
    if pa == pb:
        return f"The parameters stay at {pa:,}, with {macs}"
    more = "adds" if pb > pa else "removes"
    return f"It {more} {abs(pb - pa):,} parameters ({signed(pb / pa - 1, 100, '%', 0)}), with {macs}"


def curve_facts(history: pd.DataFrame) -> pd.DataFrame:
    """Per model, from the mean curves over seeds: the epoch of best validation accuracy, and the epoch of
    lowest validation loss and how much it rises from there to the last epoch."""
    mean = history.groupby(["model", "epoch"], sort=False)[["val_acc", "val_loss"]].mean()
    rows = {}
    for model, curve in mean.groupby(level="model", sort=False):
        curve = curve.droplevel("model")
        low = curve["val_loss"].idxmin()
        rows[model] = {
            "best_epoch": int(curve["val_acc"].idxmax()),
            "loss_epoch": int(low),
            "loss_rise": float(curve["val_loss"].iloc[-1] - curve["val_loss"].min()),
            "last_epoch": int(curve.index.max()),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _curves(curves: pd.DataFrame, gaps: pd.Series, a: str, b: str, turn: int) -> str:
    ca, cb = curves.loc[a], curves.loc[b]
    turns = [m for m, c in ((a, ca), (b, cb)) if c["loss_rise"] > LOSS_RISE]
    peak = (
        f"both peak in validation accuracy at epoch {int(cb['best_epoch'])}"
        if ca["best_epoch"] == cb["best_epoch"]
        else f"validation accuracy peaks at epoch {int(cb['best_epoch'])} against {int(ca['best_epoch'])}"
    )
    if not turns:
        loss = "neither validation loss has turned up by the last epoch"
    elif len(turns) == 2:
        loss = (
            f"both validation losses turn up, `{a}`'s after epoch {int(ca['loss_epoch'])} and `{b}`'s after "
            f"{int(cb['loss_epoch'])} (by {ca['loss_rise']:.3f} and {cb['loss_rise']:.3f} at the end): both overfit"
        )
    else:
        m = turns[0]
        c = curves.loc[m]
        loss = (
            f"only `{m}`'s validation loss turns up, after epoch {int(c['loss_epoch'])} (by {c['loss_rise']:.3f} at "
            "the end), the overfitting the other avoids"
        )
    gap = f"the train − validation gap after training is {signed(gaps[b])} against {signed(gaps[a])}"
    return f"{_CURVES[turn % len(_CURVES)]}{peak}; {loss}; {gap}"


# Ways of leading into the curves and the change, taken in turn (see `_VALIDATION`)
_CURVES = ("On the curves, ", "Over the epochs, ", "In training, ", "The curves show: ")
_CHANGE = ("The change: {c}.", "This step brings {c}.", "What changes: {c}.", "Here the step is {c}.")


# Ways of stating the validation result, taken in turn so that paragraphs do not repeat one skeleton
_VALIDATION = (
    "On validation accuracy `{b}` − `{a}` is {interval}: {verdict}",
    "The tests read {interval} on validation accuracy: {verdict}",
    "Validation accuracy moves by {interval}, {verdict}",
    "For validation accuracy the difference is {interval}; {verdict}",
)


def _mismatch(c: Comparison) -> str:
    """Where the raw 95% interval excludes zero but the Holm-adjusted test does not reject: say so."""
    if raw_only(c):
        return (
            f" (the raw 95% interval excludes zero, but after Holm over the {count(c.family, 'comparison')} the "
            "test does not reject)"
        )
    return ""


def _gap_word(gap: Comparison) -> str:
    return {"higher": "larger", "lower": "smaller", "equivalent": "the same within the margin"}.get(
        gap.outcome.split(" ")[0], gap.outcome
    )


def _decided(val: Comparison, gap: Comparison, turn: int) -> str:
    said = _VALIDATION[turn % len(_VALIDATION)].format(a=val.a, b=val.b, interval=interval(val), verdict=verdict(val))
    said += _mismatch(val)
    if gap.decided:
        said += f"; its gap is {_gap_word(gap)}: {interval(gap)} ({p(gap.p_holm, 'Holm p')})"
    else:
        said += "; the change in the gap is not settled"
    return said


def _single(val: Comparison, gap: Comparison, facts, curves, gaps, change: str, turn: int) -> str:
    a, b = val.a, val.b
    change = change.rstrip(".")
    if change.split(" ")[0][1:].islower():  # "Dropout 0.5 …" reads "dropout 0.5 …" mid-sentence; "LeakyReLU" stays
        change = change[:1].lower() + change[1:]
    what = _CHANGE[turn % len(_CHANGE)].format(c=change) + " " if change else ""
    return (
        f"**`{b}` against `{a}`.** {what}{_capacity(facts, a, b, turn)}. {_curves(curves, gaps, a, b, turn)}. "
        f"{_decided(val, gap, turn)}."
    )


def _stacked(pairs: Sequence[tuple[Comparison, Comparison]], facts, chains) -> str:
    """The pairs whose sides differ by more than one change, in one paragraph."""
    lines = []
    for val, gap in pairs:
        steps = len(chains[(val.a, val.b)])
        gap_said = f", gap {_gap_word(gap)} ({p(gap.p_holm, 'Holm p')})" if gap.decided else ", gap not settled"
        lines.append(f"`{val.b}` ({steps} changes): {interval(val)}, {verdict(val)}{_mismatch(val)}{gap_said}")
    first = pairs[0][0].a
    return (
        f"**The changes stacked.** Against `{first}`, each later model carries every change before it; on "
        "validation accuracy: " + "; ".join(lines) + "."
    )


def timings(facts: pd.DataFrame) -> str:
    """The seconds per epoch as what they are: times of runs that shared the machine. A model's time is set
    against its multiply-adds; the ones off the median time per multiply-add by more than the timing noise
    are named as outliers, and when most are, the timings are said to measure contention, not the models."""
    seconds = facts["epoch_seconds"].astype(float)
    per_mac = seconds / facts["mult_adds"].astype(float)
    median = float(per_mac.median())
    out = [m for m, r in per_mac.items() if r > median * TIMING_NOISE or r < median / TIMING_NOISE]
    said = (
        f"**On time.** Seconds per epoch ({seconds.min():.2f}–{seconds.max():.2f} s) are wall-clock times of runs "
        f"that trained side by side on the same cores; set against each model's multiply-adds, differences under "
        f"{TIMING_NOISE:g}× are within that noise."
    )
    if len(out) * 2 > len(seconds):
        return said + (
            f" {count(len(out), 'model')} of {len(seconds)} are beyond it, so here the timings measure contention "
            "between runs more than the models and are not read as findings; multiply-adds are the cost that "
            "carries to another machine."
        )
    if out:
        listed = and_list([f"`{m}` ({seconds[m]:.2f} s)" for m in out])
        said += (
            f" {listed} {'is' if len(out) == 1 else 'are'} beyond it: contention with the runs beside "
            f"{'it' if len(out) == 1 else 'them'}, not a property of the model."
        )
    return said


def closing(
    ranking: Sequence[Comparison],
    contenders: Sequence[str],
    facts: pd.DataFrame,
    epochs: int,
    power: float = 0.8,
) -> str:
    """Which model to use and why: the one the tests leave as the best; else the cheapest of those they
    cannot separate, with the seeds (and the time on this machine) that would separate the top two."""
    from ...analysis.stats import seeds_to_decide

    best = contenders[0]
    if len(contenders) == 1:
        return (
            f"**Which to use.** `{best}`: every other model is shown below it on validation accuracy (all pairs, "
            f"Holm), with {int(facts.loc[best, 'parameters']):,} parameters."
        )
    cheapest = min(contenders, key=lambda m: (facts.loc[m, "mult_adds"], facts.loc[m, "parameters"]))
    top = next(c for c in ranking if {c.a, c.b} == {contenders[0], contenders[1]})
    n = top.diff.n
    need = seeds_to_decide(top.diff.mean, top.diff.std, top.margin, top.alpha / max(top.family, 1), power)
    said = (
        "**Which to use.** The data cannot choose: the tests leave "
        + (f"all {len(facts)} models" if len(contenders) == len(facts) else f"{len(contenders)} of {len(facts)} models")
        + f" as possibly the best on validation accuracy ({and_list([f'`{m}`' for m in contenders])}). "
        f"With accuracy undecided, I would use `{cheapest}`, the cheapest of them to run "
        f"({facts.loc[cheapest, 'mult_adds'] / 1e6:.2f} M multiply-adds per image, "
        f"{int(facts.loc[cheapest, 'parameters']):,} parameters). "
    )
    if math.isinf(need) or need > 100:
        return said + (
            f"No practical number of seeds decides between the top two, `{top.a}` and `{top.b}`: at the observed "
            f"difference ({interval(top)}) more than 100 per model would be needed to show either a difference or "
            "equivalence within the margin, so for this purpose they are equally good."
        )
    minutes = facts.loc[[top.a, top.b], "epoch_seconds"].astype(float).sum() * epochs / 60
    hours = max(need - n, 0) * minutes / 60
    return said + (
        f"Deciding between the top two, `{top.a}` and `{top.b}` (a difference, or equivalence within the margin), "
        f"with {power:.0%} power at Holm's strictest step would take about {need} seeds per model if the observed "
        f"difference and spread hold ({need - n} more than the {n} here): about {hours:.1f} h "
        "of training on this machine at the measured times, with both models retrained and the report rebuilt "
        "with that many seeds."
    )


def discussion(
    families: dict[str, Sequence[Comparison]],
    facts: pd.DataFrame,
    history: pd.DataFrame,
    gaps: pd.Series,
    study,
    ranking: Sequence[Comparison],
    contenders: Sequence[str],
    epochs: int,
) -> list[str]:
    """The discussion's paragraphs (markdown): one per single change, one for the stacked changes, one on
    time, one that answers which model to use. `gaps`: each model's mean train − validation gap after training,
    training accuracy in eval mode (`metrics.train_eval_acc`). `study`: its `steps` and `change` say what each pair
    differs by; `ranking`: every pair on validation accuracy (one Holm family) and `contenders` the models
    it leaves as possibly the best."""
    curves = curve_facts(history)
    singles, stacked, chains = [], [], {}
    for val, gap in zip(families["val_acc"], families["gap"]):
        steps = study.steps(val.a, val.b)
        if steps is not None and len(steps) > 1:
            chains[(val.a, val.b)] = steps
            stacked.append((val, gap))
        else:  # one change, or a pair the study does not build by its changes: discussed on its own
            singles.append((val, gap, study.change(val.b) if steps else ""))
    out = [
        "The train − validation gap takes the training accuracy after training, in eval mode (no dropout) on a "
        "fixed subset of the training images, so it compares like with like; the curves' training line is the "
        "running mean over each epoch with dropout active, which understates a dropout model's training "
        "accuracy. Overfitting shows as the validation loss turning up."
    ]
    out += [_single(v, g, facts, curves, gaps, change, i) for i, (v, g, change) in enumerate(singles)]
    if stacked:
        out.append(_stacked(stacked, facts, chains))
    out.append(timings(facts))
    out.append(closing(ranking, contenders, facts, epochs))
    return out
