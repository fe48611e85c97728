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

from ..stats import Comparison, SeedChoice, min_detectable
from .words import count, p, signed

if TYPE_CHECKING:
    import pandas as pd


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
    from ..stats import seeds_to_decide

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


def family_heading(comparisons: Sequence[Comparison], what: str = "validation accuracy", table: str = "") -> str:
    """ "Of the 7 comparisons of validation accuracy (Holm over 7): 2 higher, 5 inconclusive."; with `table`
    (a caption's label) it points at the table that lists them ("in Table 5")."""
    n = len(comparisons)
    where = f" in [@{table}]" if table else ""
    return (
        f"Of the {count(n, 'comparison')} of {what}{where} (Holm [@holm1979] over {n}, "
        f"α={comparisons[0].alpha if n else 0.05}, equivalence by TOST [@schuirmann1987] within "
        f"±{comparisons[0].margin * 100 if n else 0:.2f} points): {outcomes_line(comparisons)}."
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
