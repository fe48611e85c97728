"""Generated sentences about comparisons, from the numbers of `stats` only.

Every comparison reads the same way wherever it appears: the estimate and its interval first, then
the tests (raw and Holm-adjusted p), then one of the outcomes of `stats.OUTCOMES` in fixed words:
"higher"/"lower" (a difference the adjusted t-test supports), "higher/lower, by less than ±m" (both
the t-test and the TOST reject), "equivalent within ±m" (only the adjusted TOST rejects) or
"inconclusive at n=…"; "no test" says why (too few complete pairs, or differences without spread).
No sentence claims a difference or its absence that the adjusted tests do not support.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ...analysis.stats import EQUIVALENT, OUTCOMES, Comparison, SeedPlan, family_table, min_detectable
from .words import count, p, seed_span, signed

if TYPE_CHECKING:
    import pandas as pd


def interval(c: Comparison, scale: float = 100.0, unit: str = " points", digits: int = 2) -> str:
    """ "+0.42 points, 95% CI −0.61 to +1.45" (no interval with one seed); an equivalence outcome adds
    the 90% interval, the one the TOST at α = 0.05 keeps inside ±margin."""
    head = signed(c.diff.mean, scale, unit, digits)
    if not np.isfinite(c.diff.low):
        return f"{head}, one seed so no interval"
    low, high = (signed(x, scale, "", digits) for x in (c.diff.low, c.diff.high))
    out = f"{head}, 95% CI {low} to {high}"
    if c.outcome in EQUIVALENT and c.diff90 is not None:
        low, high = (signed(x, scale, "", digits) for x in (c.diff90.low, c.diff90.high))
        out += f", {1 - 2 * c.alpha:.0%} CI {low} to {high}"
    return out


def _margin(c: Comparison, scale: float, unit: str, digits: int) -> str:
    return f"±{c.margin * scale:.{digits}f}{unit}"


def _untested(c: Comparison, scale: float = 100.0, unit: str = " points", digits: int = 2) -> str:
    """Why a comparison has no test: too few complete pairs, or every pair differing by the same amount."""
    dropped = f"; {count(c.dropped, 'seed')} left out (a value not finite)" if c.dropped else ""
    if c.constant:
        return (
            f"no t-test: all {c.diff.n} differences equal {signed(c.diff.mean, scale, unit, digits)}, so they have no "
            f"spread to test against{dropped}"
        )
    if c.diff.n == 0:
        return f"not measured on a common seed{dropped}"
    return f"no test at n={c.diff.n}: a test needs at least 2 complete pairs{dropped}"


def _direction(c: Comparison) -> str:
    return "higher" if c.outcome.startswith("higher") else "lower"


def outcome(c: Comparison, scale: float = 100.0, unit: str = " points", digits: int = 2) -> str:
    """The outcome in the report's fixed words, with the adjusted p that decided it and the family
    each adjustment ran over."""
    over = f"Holm over {count(c.family, 'difference test')}"
    tost_over = f"Holm over {count(c.tost_family, 'equivalence test')}"
    m = _margin(c, scale, unit, digits)
    if c.outcome in ("higher", "lower"):
        return f"`{c.b}` is {c.outcome} ({p(c.p_holm, 'adjusted p')}, {over})"
    if c.outcome in ("higher within margin", "lower within margin"):
        return (
            f"`{c.b}` is {_direction(c)}, by less than {m} ({p(c.p_holm, 'adjusted p')}, {over}; "
            f"{p(c.tost_holm, 'TOST adjusted p')}, {tost_over})"
        )
    if c.outcome == "equivalent":
        return f"equivalent within {m} ({p(c.tost_holm, 'TOST adjusted p')}, {tost_over})"
    if c.outcome == "inconclusive":
        if not np.isfinite(c.margin):
            return (
                f"inconclusive at n={c.diff.n}: no difference is shown ({p(c.p_holm, 'adjusted p')}, {over}), and "
                "equivalence is not tested (no margin for this metric)"
            )
        return (
            f"inconclusive at n={c.diff.n}: neither a difference ({p(c.p_holm, 'adjusted p')}, {over}) nor "
            f"equivalence within {m} ({p(c.tost_holm, 'TOST adjusted p')}, {tost_over}) is shown"
        )
    return _untested(c, scale, unit, digits)


def verdict(c: Comparison, scale: float = 100.0, unit: str = " points", digits: int = 2) -> str:
    """The outcome in a few words with the adjusted p that decided it (the family is stated once
    elsewhere, e.g. by `family_heading`)."""
    m = _margin(c, scale, unit, digits)
    if c.outcome in ("higher", "lower"):
        return f"{c.outcome} ({p(c.p_holm, 'Holm p')})"
    if c.outcome in ("higher within margin", "lower within margin"):
        return f"{_direction(c)}, by less than {m} ({p(c.p_holm, 'Holm p')}, {p(c.tost_holm, 'TOST Holm p')})"
    if c.outcome == "equivalent":
        return f"equivalent within {m} ({p(c.tost_holm, 'TOST Holm p')})"
    if c.outcome == "inconclusive" and not np.isfinite(c.margin):
        return f"inconclusive at n={c.diff.n} ({p(c.p_holm, 'Holm p')}; equivalence not tested)"
    if c.outcome == "inconclusive":
        return f"inconclusive at n={c.diff.n} ({p(c.p_holm, 'Holm p')}, {p(c.tost_holm, 'TOST Holm p')})"
    return _untested(c, scale, unit, digits)


def beside(c: Comparison, scale: float = 100.0, unit: str = " points", digits: int = 2) -> str:
    """What the paired seeds and the Bayesian reading add, changing no decision: "`b` is above `a` in
    2 of 3 seeds; posterior P(below −m) 0.04, P(within ±m) 0.71, P(above +m) 0.25" [@benavoli2017]."""
    if c.diff.n < 1:
        return ""
    out = f"`{c.b}` is above `{c.a}` in {c.wins} of {count(c.diff.n, 'seed')}"
    if np.isfinite(c.posterior[0]):
        if np.isfinite(c.margin):
            m = _margin(c, scale, unit, digits)
            out += (
                f"; posterior probability [@benavoli2017] that b − a is below −{m[1:]} {c.posterior[0]:.2f}, "
                f"within {m} {c.posterior[1]:.2f}, above +{m[1:]} {c.posterior[2]:.2f}"
            )
        else:
            out += f"; posterior probability [@benavoli2017] that b − a is above 0 {c.posterior[2]:.2f}"
    return out


def comparison(
    c: Comparison, what: str = "validation accuracy", scale: float = 100.0, unit: str = " points", digits: int = 2
) -> str:
    """One sentence: "b vs a, validation accuracy: +0.42 points (95% CI …, n=3 seeds); outcome."."""
    return (
        f"`{c.b}` vs `{c.a}`, {what}: {interval(c, scale, unit, digits)} (n={count(c.diff.n, 'seed')}); "
        f"{outcome(c, scale, unit, digits)}."
    )


def raw_only(c: Comparison) -> bool:
    """Whether the raw 95% interval excludes zero while the Holm-adjusted test does not reject: a reader
    seeing the interval alone would call it settled, so the text says why it is not."""
    low, high = c.diff.low, c.diff.high
    return c.outcome == "inconclusive" and bool(np.isfinite(low)) and (low > 0 or high < 0)


def outcomes_line(comparisons: Sequence[Comparison]) -> str:
    """ "2 higher, 1 equivalent, 1 inconclusive" over a family."""
    counts = {o: sum(c.outcome == o for c in comparisons) for o in OUTCOMES}
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
    from ...analysis.stats import seeds_to_decide

    tested = [c for c in comparisons if np.isfinite(c.test.p_value)]
    if not tested:
        return (
            f"{'On ' + what + ', with' if what else 'With'} one seed per model no comparison can be tested; train "
            "at least 2 (better 3 or more) seeds."
        )
    n = max(c.diff.n for c in tested)
    sd = float(np.median([c.diff.std for c in tested]))
    level = alpha / len(tested)
    mdd = min_detectable(sd, n, level, power)
    detected = (
        f"a difference of about {mdd * scale:.2f}{unit} is detected with {power:.0%} power"
        if unit != " points" or mdd * scale <= 100
        else f"only a difference of {mdd * scale:.0f}{unit}, beyond what accuracy can differ by, would be detected "
        f"with {power:.0%} power: no difference can be shown at this n"
    )
    out = (
        f"{'On ' + what + ', at' if what else 'At'} n={count(n, 'seed')} the paired differences vary by a median of "
        f"{sd * scale:.2f}{unit} (standard deviation over seeds), so {detected} at α={alpha}/{len(tested)} (Holm's "
        f"strictest step over the {count(len(tested), 'tested comparison')})."
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


def seed_choice(plan: SeedPlan) -> str:
    """How `seeds="auto"` chose n: the pilot's seeds, the n each comparison needs, the n chosen and the
    cap, and that the tested seeds are others than the pilot's."""
    choice = plan.choice
    needs = "; ".join(
        f"`{k}` {'more than ' + str(choice.cap) if v > choice.cap else v}" for k, v in choice.needs.items()
    )
    out = (
        f"Seeds chosen from a pilot: every model was first trained with {seed_span(plan.pilot_seeds)}. "
        f"From the pilot's differences and their spread, each comparison needs, for {choice.power:.0%} power at "
        f"α={choice.alpha:.3g} (0.05 over {count(round(0.05 / choice.alpha), 'comparison')}): "
        f"{needs or 'nothing (no testable comparison)'}. So n={choice.n} (at least the pilot's {choice.pilot}, cap "
        f"{choice.cap}), and every model was trained with {count(plan.n, 'fresh seed')}, {seed_span(plan.seeds)}. "
        "The tests use those seeds only: the pilot chose how many seeds to train and is not part of any test."
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
    "train_acc": "training accuracy (running mean over the epoch)",
    "train_eval_acc": "training accuracy (eval mode)",
    "test_acc": "test accuracy",
    "gap": "generalisation gap (training accuracy in eval mode − validation)",
}


def estimate(c: Comparison, scale: float = 100.0) -> str:
    """ "+0.42 [−0.61, +1.45]": the difference and its 95% interval ("+0.42" alone with one seed)."""
    if not np.isfinite(c.diff.low):
        return signed(c.diff.mean, scale, "")
    low, high = (signed(x, scale, "") for x in (c.diff.low, c.diff.high))
    return f"{signed(c.diff.mean, scale, '')} [{low}, {high}]"


def cell(c: Comparison, scale: float = 100.0) -> str:
    """A table cell: "+0.42 [−0.61, +1.45] inconclusive"; an equivalence outcome adds its 90% interval,
    "+0.10 [−0.20, +0.40] equivalent (90% [−0.12, +0.32])"."""
    if not np.isfinite(c.diff.low):
        return f"{signed(c.diff.mean, scale, '')} ({c.outcome})"
    out = f"{estimate(c, scale)} {c.outcome}"
    if c.outcome in EQUIVALENT and c.diff90 is not None:
        low, high = (signed(x, scale, "") for x in (c.diff90.low, c.diff90.high))
        out += f" ({1 - 2 * c.alpha:.0%} [{low}, {high}])"
    return out


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
    """ "Of the 7 comparisons of validation accuracy: 2 higher, 5 inconclusive.", then the two Holm
    families and what each controls; with `table` (a caption's label) it points at the table that
    lists them ("in Table 5")."""
    n = len(comparisons)
    where = f" in [@{table}]" if table else ""
    if not n:
        return f"No comparison of {what}{where}."
    c0 = comparisons[0]
    return (
        f"Of the {count(n, 'comparison')} of {what}{where}: {outcomes_line(comparisons)}. The "
        f"{count(c0.family, 'difference test')} form one Holm family [@holm1979] and the "
        f"{count(c0.tost_family, 'equivalence test')} (TOST [@schuirmann1987] within ±{c0.margin * 100:.2f} points) "
        f"another, so each kind of claim is wrong somewhere with probability at most α={c0.alpha}."
    )


def _ps(raw: float, adjusted: float) -> str:
    """ "0.0312 / 0.0936": a raw p and its Holm-adjusted p in one cell ("–" for no test)."""
    return "–" if not np.isfinite(raw) else " / ".join("<0.001" if x < 0.001 else f"{x:.3g}" for x in (raw, adjusted))


def family_display(comparisons: Sequence[Comparison], labels: Sequence[str] | None = None, scale: float = 100.0):
    """A comparison table for reading, one row per comparison (`labels`, or "b − a"): the difference
    [95% interval] in points, the t-test's and the TOST's p raw / Holm-adjusted, the outcome, then what
    changes no outcome: the 90% interval, the seeds where b is above a and the posterior probabilities
    of b − a below −m, within ±m and above +m (`stats.family_table` holds the same numbers as columns)."""
    import pandas as pd

    rows = []
    for i, c in enumerate(comparisons):
        table = family_table([c], scale).iloc[0]
        rows.append(
            {
                "comparison (b − a)": labels[i] if labels else f"{c.b} − {c.a}",
                "difference [95% CI] (points)": estimate(c, scale),
                "p t-test (raw / Holm)": _ps(c.test.p_value, c.p_holm),
                "p TOST (raw / Holm)": _ps(c.tost.p_value, c.tost_holm),
                "outcome": c.outcome,
                "90% CI": table["ci90"],
                "b above a": table["wins"],
                "P(< −m / ±m / > +m)": table["posterior"],
            }
        )
    return pd.DataFrame(rows).set_index("comparison (b − a)")


# ----------------------------------------------------------------------------------------------
# The test evaluation (section 3)

WHAT.update(test_gap="train − test gap (training accuracy in eval mode − test accuracy)")
