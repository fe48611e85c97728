"""Generated sentences about comparisons, from the numbers of `stats` only.

Every comparison reads the same way wherever it appears: the estimate and its interval first, then
the tests (raw and Holm-adjusted p), then one of the outcomes of `stats.OUTCOMES` in fixed words:
"higher"/"lower" (a difference the adjusted test supports), "equivalent within ±m" (the adjusted
TOST supports it) or "inconclusive at n=…". No sentence claims a difference or its absence that the
adjusted tests do not support.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .stats import Comparison, SeedChoice, min_detectable

if TYPE_CHECKING:
    import pandas as pd


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun in the number it needs: count(1, "seed") → "1 seed", count(3, "time") → "3 times"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def p(value: float, name: str = "p") -> str:
    """A p-value for reading: "p=0.0314" to 3 significant digits, "p<0.001" below that."""
    if not np.isfinite(value):
        return f"{name} –"
    return f"{name}<0.001" if value < 0.001 else f"{name}={value:.3g}"


def signed(x: float, scale: float = 100.0, unit: str = " points", digits: int = 2) -> str:
    """+0.42 points (the − sign is a minus, not a hyphen)."""
    if not np.isfinite(x):
        return "–"
    return f"{x * scale:+.{digits}f}".replace("-", "−") + unit


def interval(c: Comparison, scale: float = 100.0, unit: str = " points", digits: int = 2) -> str:
    """ "+0.42 points, 95% CI −0.61 to +1.45" (no interval with one seed)."""
    head = signed(c.diff.mean, scale, unit, digits)
    if not np.isfinite(c.diff.low):
        return f"{head}, one seed so no interval"
    low, high = (signed(x, scale, "", digits) for x in (c.diff.low, c.diff.high))
    return f"{head}, 95% CI {low} to {high}"


def outcome(c: Comparison, scale: float = 100.0, unit: str = " points", digits: int = 2) -> str:
    """The outcome in the report's fixed words, with the adjusted p that decided it and the family
    each adjustment ran over."""
    over = f"Holm over {count(c.family, 'comparison')}"
    tost_over = over if c.tost_family == c.family else f"Holm over {count(c.tost_family, 'equivalence test')}"
    m = f"±{c.margin * scale:.{digits}f}{unit}"
    if c.outcome in ("higher", "lower"):
        return f"`{c.b}` is {c.outcome} ({p(c.p_holm, 'adjusted p')}, {over})"
    if c.outcome == "equivalent":
        return f"equivalent within {m} ({p(c.tost_holm, 'TOST adjusted p')}, {tost_over})"
    if c.outcome == "inconclusive":
        if not np.isfinite(c.margin):
            return (
                f"inconclusive at n={c.diff.n}: no difference is shown ({p(c.p_holm, 'adjusted p')}, {over}), and "
                "equivalence is not tested (no margin for this metric)"
            )
        if tost_over == over:
            return (
                f"inconclusive at n={c.diff.n}: neither a difference ({p(c.p_holm, 'adjusted p')}) nor "
                f"equivalence within {m} ({p(c.tost_holm, 'TOST adjusted p')}) is shown, {over}"
            )
        return (
            f"inconclusive at n={c.diff.n}: neither a difference ({p(c.p_holm, 'adjusted p')}, {over}) nor "
            f"equivalence within {m} ({p(c.tost_holm, 'TOST adjusted p')}, {tost_over}) is shown"
        )
    return f"no test at n={c.diff.n}" + (" (the differences have no spread)" if c.diff.n >= 2 else "")


def verdict(c: Comparison, scale: float = 100.0, unit: str = " points", digits: int = 2) -> str:
    """The outcome in a few words with the adjusted p that decided it (the family is stated once
    elsewhere, e.g. by `family_heading`)."""
    if c.outcome in ("higher", "lower"):
        return f"{c.outcome} ({p(c.p_holm, 'Holm p')})"
    if c.outcome == "equivalent":
        return f"equivalent within ±{c.margin * scale:.{digits}f}{unit} ({p(c.tost_holm, 'TOST Holm p')})"
    if c.outcome == "inconclusive" and not np.isfinite(c.margin):
        return f"inconclusive at n={c.diff.n} ({p(c.p_holm, 'Holm p')}; equivalence not tested)"
    if c.outcome == "inconclusive":
        return f"inconclusive at n={c.diff.n} ({p(c.p_holm, 'Holm p')}, {p(c.tost_holm, 'TOST Holm p')})"
    return f"no test at n={c.diff.n}"


def comparison(
    c: Comparison, what: str = "validation accuracy", scale: float = 100.0, unit: str = " points", digits: int = 2
) -> str:
    """One sentence: "b vs a, validation accuracy: +0.42 points (95% CI …, n=3 seeds); outcome."."""
    return (
        f"`{c.b}` vs `{c.a}`, {what}: {interval(c, scale, unit, digits)} (n={count(c.diff.n, 'seed')}); "
        f"{outcome(c, scale, unit, digits)}."
    )


def outcomes_line(comparisons: Sequence[Comparison]) -> str:
    """ "2 higher, 1 equivalent, 1 inconclusive" over a family."""
    counts = {
        o: sum(c.outcome == o for c in comparisons)
        for o in ("higher", "lower", "equivalent", "inconclusive", "no test")
    }
    return ", ".join(f"{n} {o}" for o, n in counts.items() if n)


def margin_reason(margin: float, accuracy: float, images: int, scale: float = 100.0) -> str:
    """Why the equivalence margin is what it is: the binomial standard error of one accuracy."""
    se = math.sqrt(accuracy * (1 - accuracy) / images)
    head = (
        f"Two models count as equivalent when a paired TOST shows their mean accuracies within ±{margin * scale:.2f} "
        f"points. One accuracy near {accuracy * scale:.0f}% measured on {images:,} images has a binomial standard "
        f"error of {se * scale:.2f} points, so the margin is {margin / se:.1f} such errors"
    )
    if margin >= se:
        return head + ": a smaller difference is within what one evaluation on such a set can resolve."
    return head + ": finer than one evaluation on so few images can resolve, so equivalence needs many seeds here."


def power(
    comparisons: Sequence[Comparison],
    alpha: float = 0.05,
    power: float = 0.8,
    scale: float = 100.0,
    unit: str = " points",
    what: str = "",
) -> str:
    """What the design can tell apart at its n, from the observed spread of the paired differences,
    and how many seeds would settle each undecided comparison (`stats.seeds_to_decide`)."""
    from .stats import seeds_to_decide

    tested = [c for c in comparisons if c.diff.n >= 2 and np.isfinite(c.diff.std)]
    if not tested:
        return (
            f"{'On ' + what + ', with' if what else 'With'} one seed per model no comparison can be tested; train "
            "at least 2 (better 3 or more) seeds."
        )
    n = max(c.diff.n for c in tested)
    sd = float(np.median([c.diff.std for c in tested]))
    level = alpha / max(len(comparisons), 1)
    mdd = min_detectable(sd, n, level, power)
    out = (
        f"{'On ' + what + ', at' if what else 'At'} n={count(n, 'seed')} the paired differences vary by a median of {sd * scale:.2f}{unit} (standard "
        f"deviation over seeds), so a difference of about {mdd * scale:.2f}{unit} is detected with "
        f"{power:.0%} power at α={alpha}/{len(comparisons)} (Holm's strictest step)."
    )
    undecided = [c for c in tested if not c.decided]
    if undecided:
        needs = []
        for c in undecided:
            k = seeds_to_decide(c.diff.mean, c.diff.std, c.margin, level, power)
            needs.append(f"`{c.b}` vs `{c.a}` {'more than 100' if math.isinf(k) else k}")
        out += (
            " Seeds that would settle the undecided comparisons with that power, if the observed difference and "
            "spread are the truth: " + "; ".join(needs) + "."
        )
    return out


def seed_choice(choice: SeedChoice) -> str:
    """How `seeds="auto"` chose n: the pilot, the n each comparison needs, the n chosen and the cap."""
    needs = "; ".join(
        f"`{k}` {'more than ' + str(choice.cap) if v > choice.cap else v}" for k, v in choice.needs.items()
    )
    out = (
        f'Seeds chosen from a pilot (`seeds="auto"`): {count(choice.pilot, "seed")} per model first; from the '
        f"pilot's differences and their spread, each comparison needs, for {choice.power:.0%} power at "
        f"α={choice.alpha:.3g} (0.05 over {count(len(choice.needs), 'comparison')}): {needs or 'nothing (no testable comparison)'}. So n={choice.n} (cap {choice.cap}) "
        "was fixed before testing, every model trained to it once, and each comparison tested once at that n: no "
        "seeds were added after a p-value was seen."
    )
    if choice.undecidable:
        out += (
            f" {count(len(choice.undecidable), 'comparison')} would need more than the cap; they may stay inconclusive."
        )
    return out


# ----------------------------------------------------------------------------------------------
# Discussing a family of model comparisons (sections 2, 3 and 5)

WHAT = {
    "val_acc": "validation accuracy",
    "train_acc": "training accuracy",
    "test_acc": "test accuracy",
    "gap": "generalisation gap (train − validation)",
}


_PARTS = {"train": "training", "val": "validation", "test": "test"}
_KINDS = {
    "acc": "accuracy",
    "loss": "loss",
    "precision": "macro precision",
    "recall": "macro recall",
    "keras_precision": "Keras precision",
    "keras_recall": "Keras recall",
}


def metric_words(metric: str) -> str:
    """The metric in words: "test_acc" → "test accuracy", "epoch_seconds" → "seconds per epoch"."""
    if metric == "epoch_seconds":
        return "seconds per epoch"
    part, _, kind = metric.partition("_")
    return f"{_PARTS.get(part, part)} {_KINDS.get(kind, kind)}" if kind else metric


def cell(c: Comparison, scale: float = 100.0) -> str:
    """A table cell: "+0.42 [−0.61, +1.45] inconclusive"."""
    if not np.isfinite(c.diff.low):
        return f"{signed(c.diff.mean, scale, '')} ({c.outcome})"
    low, high = (signed(x, scale, "") for x in (c.diff.low, c.diff.high))
    return f"{signed(c.diff.mean, scale, '')} [{low}, {high}] {c.outcome}"


def outcome_table(families: dict[str, Sequence[Comparison]]) -> pd.DataFrame:
    """One row per comparison, one column per metric: the difference b − a in points, its 95% CI and
    the outcome (families as `metrics.compare_pairs` returns them, all over the same pairs)."""
    import pandas as pd

    first = next(iter(families.values()))
    rows = {
        f"{c.b} − {c.a}": {f"{WHAT.get(m, m)}": cell(fam[i]) for m, fam in families.items()}
        for i, c in enumerate(first)
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("comparison (b − a, points)")


def _change(old: float, new: float) -> str:
    return "the same" if round(new / old - 1, 2) == 0 else signed(new / old - 1, 100, "%", 0)


def _size(facts: pd.DataFrame, a: str, b: str) -> str:
    pa, pb = facts.loc[a, "parameters"], facts.loc[b, "parameters"]
    ma, mb = facts.loc[a, "mult_adds"], facts.loc[b, "mult_adds"]
    return (
        f"{pa:,} → {pb:,} parameters ({_change(pa, pb)}), {ma / 1e6:.2f} → {mb / 1e6:.2f} M multiply-adds per "
        f"image ({_change(ma, mb)})"
    )


_ACCURACY = {
    "higher": "`{b}` is more accurate than `{a}` on validation",
    "lower": "`{b}` is less accurate than `{a}` on validation",
    "equivalent": "`{b}` is as accurate as `{a}` on validation (within ±{m})",
    "inconclusive": "whether `{b}` is more or less accurate than `{a}` is not settled at n={n}",
    "no test": "`{b}` and `{a}` cannot be told apart with n={n}",
}
_GAP = {
    "higher": "its train − validation gap is larger",
    "lower": "its train − validation gap is smaller",
    "equivalent": "its train − validation gap is the same within ±{m}",
    "inconclusive": "the change in its gap is not settled",
    "no test": "its gap cannot be tested",
}


def adds_up(val: Comparison, gap: Comparison, facts: pd.DataFrame) -> str:
    """The plain sentence a comparison adds up to: accuracy outcome, size, gap outcome (no causes)."""
    a, b = val.a, val.b
    ratio = facts.loc[b, "parameters"] / facts.loc[a, "parameters"] - 1
    size = (
        "at the same size"
        if abs(ratio) < 0.01
        else f"with {abs(ratio):.0%} {'more' if ratio > 0 else 'fewer'} parameters"
    )
    m = f"{val.margin * 100:.2f} points"
    accuracy = _ACCURACY[val.outcome].format(a=a, b=b, m=m, n=val.diff.n)
    return f"In short: {accuracy}, {size}; {_GAP[gap.outcome].format(m=m)}."


def discussion(families: dict[str, Sequence[Comparison]], facts: pd.DataFrame) -> list[str]:
    """One bullet per comparison of `metrics.compare_pairs`' families (val_acc, train_acc, gap): the
    estimate, interval and outcome of each metric, parameters and multiply-adds, seconds per epoch and
    the epoch of best validation accuracy, and the sentence they add up to."""
    out = []
    for i, val in enumerate(families["val_acc"]):
        a, b = val.a, val.b
        parts = [f"**`{b}` vs `{a}`.**"]
        for m, fam in families.items():
            c = fam[i]
            parts.append(f"{WHAT.get(m, m).capitalize()}: {interval(c)}: {verdict(c)}.")
        fa, fb = facts.loc[a], facts.loc[b]
        parts.append(
            f"Size: {_size(facts, a, b)}. Time: {fa['epoch_seconds']:.2f} → {fb['epoch_seconds']:.2f} s per "
            f"epoch on this machine. Best validation accuracy at epoch {fa['best_epoch']:.1f} → "
            f"{fb['best_epoch']:.1f} (mean over seeds)."
        )
        parts.append(adds_up(val, families["gap"][i], facts))
        out.append(" ".join(parts))
    return out


def family_heading(comparisons: Sequence[Comparison], what: str = "validation accuracy") -> str:
    """ "Of the 7 comparisons of validation accuracy (Holm over 7): 2 higher, 5 inconclusive."."""
    n = len(comparisons)
    return (
        f"Of the {count(n, 'comparison')} of {what} (Holm over {n}, α={comparisons[0].alpha if n else 0.05}, "
        f"equivalence margin ±{comparisons[0].margin * 100 if n else 0:.2f} points): {outcomes_line(comparisons)}."
    )


FAMILY_COLUMNS = {
    "difference": "difference (points)",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "p": "p (t)",
    "p_holm": "p (t, Holm)",
    "p_tost": "p (TOST)",
    "p_tost_holm": "p (TOST, Holm)",
}


# ----------------------------------------------------------------------------------------------
# The test evaluation (section 3)

WHAT.update(test_gap="train − test gap")


def ranking(cmp) -> str:
    """Which models the validation ranking tells apart from the best, and which it does not."""
    best, top = cmp.models[0], len(cmp.models)
    if not cmp.ranking:
        return f"`{best}` is the only model."
    verdicts = "; ".join(f"`{c.b}` {interval(c)}: {verdict(c)}" for c in cmp.ranking)
    n = cmp.ranking[0].diff.n
    out = (
        f"`{best}` has the highest mean validation accuracy over {count(n, 'seed')}. Against it (Holm over "
        f"{count(len(cmp.ranking), 'comparison')}): {verdicts}."
    )
    tied = cmp.could_be_best
    if len(tied) > top:
        out += (
            f" The ranking is not settled: {count(len(tied), 'model')} are not shown below the best "
            f"({', '.join(f'`{m}`' for m in tied)}), so the best {top} retrained here could equally have been any "
            f"{top} of them."
        )
    elif len(tied) > 1:
        out += f" Only {', '.join(f'`{m}`' for m in tied)} are not shown below the best: the top {top} are these."
    else:
        out += f" Every other model is shown below `{best}`: the ranking's top is settled."
    return out


def cochran(cmp) -> str:
    """Cochran's Q per seed over every evaluated model, Holm over seeds."""
    from .stats import holm

    if not cmp.cochran:
        return ""
    seeds = sorted(cmp.cochran)
    adjusted = holm([cmp.cochran[s].p_value for s in seeds])
    parts = [
        f"seed {s}: Q={cmp.cochran[s].statistic:.2f}, {p(cmp.cochran[s].p_value)}, {p(q, 'Holm p')}"
        for s, q in zip(seeds, adjusted)
    ]
    found = sum(q < 0.05 for q in adjusted)
    k = cmp.cochran[seeds[0]].n
    return (
        f"Cochran's Q over the correctness of all {k} evaluated models on the same test images ({'; '.join(parts)}): "
        + (
            f"in {found} of {len(seeds)} seeds at least one of them differs from the others."
            if found
            else f"in none of the {len(seeds)} seeds do the models' test errors differ beyond chance."
        )
    )


def mcnemar(cmp, alpha: float = 0.05) -> list[str]:
    """Per compared pair: McNemar's test per seed, Holm-adjusted over every McNemar test of the section."""
    out = []
    m = cmp.mcnemar
    for (a, b), rows in m.groupby(["a", "b"], sort=False):
        above = int(((rows["p_holm"] < alpha) & (rows["difference"] > 0)).sum())
        below = int(((rows["p_holm"] < alpha) & (rows["difference"] < 0)).sum())
        per_seed = ", ".join(f"{signed(r.difference)} ({p(r.p)}, {p(r.p_holm, 'Holm p')})" for r in rows.itertuples())
        out.append(
            f"McNemar's test of `{b}` against `{a}` per seed (Holm over {count(len(m), 'test')}): {per_seed}; "
            f"`{b}` is higher on the test images in {above} and lower in {below} of {count(len(rows), 'seed')}."
        )
    return out


def test_discussion(cmp) -> list[str]:
    """Section 3's sentences: the ranking, each paired comparison over seeds, Cochran's Q, McNemar."""
    out = [ranking(cmp)]
    for i, c in enumerate(cmp.families["test_acc"]):
        rest = "; ".join(
            f"{WHAT[m]} {interval(fam[i])}: {verdict(fam[i])}" for m, fam in cmp.families.items() if m != "test_acc"
        )
        out.append(f"{comparison(c, 'test accuracy')} Also {rest}.")
    if q := cochran(cmp):
        out.append(q)
    return out + mcnemar(cmp)


def kfold_comparison(families: dict[str, Sequence[Comparison]], k: int, n_train: int, n_test: int) -> list[str]:
    """Two models over the same k folds: each metric's estimate, interval and corrected-test outcome."""
    c = families["val_acc"][0]
    head = (
        f"`{c.b}` against `{c.a}` over the same {k} folds, with the Nadeau–Bengio corrected t-test: the folds' "
        f"training sets overlap, so the variance of the mean difference is taken as s²·(1/{k} + "
        f"{n_test:,}/{n_train:,}) instead of s²/{k}."
    )
    out = [head]
    for m, fam in families.items():
        out.append(
            f"{WHAT.get(m, m).capitalize()}: {interval(fam[0])} (n={count(fam[0].diff.n, 'fold')}): {verdict(fam[0])}."
        )
    return out
