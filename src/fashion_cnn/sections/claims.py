"""The comparisons the source reports drew (`studies.sources.CLAIMS`), tested on our runs: each report's
claims one Holm family (`stats.compare_family`), a verdict per claim against its direction, McNemar
per seed on test-set claims and Cochran's Q over a report's test-set arms (module `reproduction`'s
docstring gives the verdict rules)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import numpy as np
import pandas as pd

from .. import config as cfg
from ..analysis.stats import (
    DIFFERENT,
    EQUIVALENT,
    Comparison,
    cochran_over,
    compare_family,
    holm,
    mcnemar_by_seed,
)
from ..present.text.words import in_percent, units
from ..studies.sources import CLAIMS
from ..studies.study import Claim
from .measurements import Measurements, _by_seed


def equivalence_tested(metric: str) -> bool:
    """Whether a claim on `metric` gets a TOST at ±margin: accuracy-like metrics (fractions) only.

    The margin is a fraction of the images (±0.5 points by default, `config.MARGIN`); a loss or a
    number of seconds has no such scale, so for those equivalence is not tested and the outcome is
    higher, lower, inconclusive or no test.
    """
    return in_percent(metric)


def verdict(direction: str, c: Comparison) -> str:
    """The verdict on the claim "b `direction` a" from the family's outcome of `c` (module docstring)."""
    if direction not in (">", "<", "≈"):
        raise ValueError(f"direction {direction!r} must be '>', '<' or '≈'")
    n = c.diff.n
    if n == 0:
        return "not run"
    if c.outcome == "no test":
        return f"no test at n={n}"
    scale, unit, digits = units("acc")
    m = f"±{c.margin * scale:.{digits}f}{unit}"
    if direction == "≈":  # decided by the equivalence test alone
        if c.outcome in EQUIVALENT:
            return "supported"
        if c.outcome in DIFFERENT:
            shown = f"within {m} is not shown" if np.isfinite(c.margin) else "is not tested (no margin for this metric)"
            return f"not supported: `{c.b}` is {c.outcome} and equivalence {shown}"
        return f"inconclusive at n={n}" + ("" if np.isfinite(c.margin) else " (equivalence not tested)")
    claimed = "higher" if direction == ">" else "lower"
    if c.outcome == claimed:
        return "supported"
    if c.outcome == f"{claimed} within margin":
        return f"supported, by less than {m}"
    if c.outcome in DIFFERENT:  # the opposite direction
        return "contradicted"
    if c.outcome == "equivalent":
        return f"not supported: within {m}"
    return f"inconclusive at n={n}"


def _name(arm: str, setting: str, other: str) -> str:
    """A side of a claim: the arm, with its setting when the two sides differ only in it."""
    return arm if setting == other else f"{arm} ({setting})"


def compare_claims(
    values: pd.DataFrame, claims: list[Claim], margin: float = cfg.MARGIN, alpha: float = 0.05
) -> list[Comparison]:
    """One report's claims as one family (`stats.compare_family`, Holm over the claims with a test).

    Each side is paired by seed (only the seeds both sides have). Claims on metrics without an
    equivalence margin (`equivalence_tested`) get no TOST, so the TOSTs' Holm adjustment runs over
    the claims that have one. The comparisons' names are the claims' arms (with the setting where
    both sides are the same arm).
    """
    series, pairs = {}, []
    for i, claim in enumerate(claims):
        set_a, set_b = claim.settings
        series[f"{i}:a"] = _by_seed(values, claim.report, claim.a, set_a, claim.metric)
        series[f"{i}:b"] = _by_seed(values, claim.report, claim.b, set_b, claim.metric)
        pairs.append((f"{i}:a", f"{i}:b"))
    margins = [margin if equivalence_tested(claim.metric) else None for claim in claims]
    family = compare_family(series, pairs, margins, alpha)
    return [
        replace(c, a=_name(claim.a, *claim.settings), b=_name(claim.b, *claim.settings[::-1]))
        for c, claim in zip(family, claims)
    ]


_CLAIM_COLUMNS = [
    "report",
    "where",
    "claim",
    "a",
    "b",
    "metric",
    "direction",
    "n",
    "mean_a",
    "mean_b",
    "difference",
    "diff_low",
    "diff_high",
    "p",
    "p_holm",
    "p_tost",
    "p_tost_holm",
    "family",
    "tost_family",
    "margin",
    "outcome",
    "verdict",
    "mcnemar_p",
    "mcnemar_p_holm",
    "mcnemar_diff",
    "mcnemar_family",
    "mcnemar_n",
    "mcnemar_agree",
    "mcnemar_against",
    "comparison",
]


def claims_table(
    measurements: Measurements,
    claims: tuple[Claim, ...] = CLAIMS,
    alpha: float = 0.05,
    reports: tuple[str, ...] | None = None,
    margin: float = cfg.MARGIN,
) -> pd.DataFrame:
    """Each claim tested across seeds, each report's claims as one family, and test-set claims by
    McNemar per seed.

    Columns: `n` the seeds both sides have; `mean_a`, `mean_b` over those seeds; `difference` the
    mean of b − a with its 95% interval `diff_low`/`diff_high`; `p` / `p_holm` the paired t-test's
    raw and Holm-adjusted p (over the `family` claims of the report that have a test); `p_tost` /
    `p_tost_holm` the paired TOST at ±`margin` (a fraction; `margin` nan and no TOST for losses and
    seconds, `equivalence_tested`), adjusted over the report's `tost_family` TOSTs; `outcome` one of
    higher, lower, equivalent, inconclusive, no test or not run; `verdict` against the claim's
    direction (`verdict`); `comparison` the `stats.Comparison` the text is made from.

    McNemar's columns: `mcnemar_p` and `mcnemar_p_holm` the raw and adjusted p-values seed by seed
    (tuples, empty when not tested), adjusted over all `mcnemar_family` McNemar tests of the report;
    `mcnemar_diff` test accuracy b − a per seed; `mcnemar_n` the seeds tested;
    `mcnemar_agree`/`mcnemar_against` how many of them are significant after adjustment in the
    claimed / the opposite direction (NA for an "≈" claim or without test predictions).
    """
    selected = [c for c in claims if reports is None or c.report in reports]
    values = measurements.values
    rows = []
    for report in dict.fromkeys(c.report for c in selected):
        family = [c for c in selected if c.report == report]
        comparisons = compare_claims(values, family, margin, alpha)
        tost_family = comparisons[0].tost_family if comparisons else 0
        mcnemar = []  # per claim: the McNemar tests of its seeds
        for claim in family:
            set_a, set_b = claim.settings
            tests = []
            if set_a.endswith("-test") and set_b.endswith("-test"):
                seeds = _by_seed(values, report, claim.a, set_a, claim.metric).index.intersection(
                    _by_seed(values, report, claim.b, set_b, claim.metric).index
                )
                found = measurements.predictions
                a = {s: found[(report, claim.a, set_a, s)] for s in seeds if (report, claim.a, set_a, s) in found}
                b = {s: found[(report, claim.b, set_b, s)] for s in seeds if (report, claim.b, set_b, s) in found}
                tests = list(mcnemar_by_seed(a, b).values())
            mcnemar.append(tests)
        adjusted = iter(holm([t.p_value for tests in mcnemar for t in tests]))
        mcnemar_family = sum(len(tests) for tests in mcnemar)
        for claim, c, tests in zip(family, comparisons, mcnemar):
            run = c.diff.n > 0
            row = {
                "report": report,
                "where": claim.where,
                "claim": claim.text,
                "a": claim.a,
                "b": claim.b,
                "metric": claim.metric,
                "direction": claim.direction,
                "n": c.diff.n,
                "mean_a": np.nan,
                "mean_b": np.nan,
                "difference": c.diff.mean if run else np.nan,
                "diff_low": c.diff.low,
                "diff_high": c.diff.high,
                "p": c.test.p_value,
                "p_holm": c.p_holm,
                "p_tost": c.tost.p_value,
                "p_tost_holm": c.tost_holm,
                "family": c.family,
                "tost_family": tost_family,
                "margin": c.margin,
                "outcome": c.outcome if run else "not run",
                "verdict": verdict(claim.direction, c),
                "mcnemar_p": tuple(t.p_value for t in tests),
                "mcnemar_p_holm": tuple(next(adjusted) for _ in tests),
                "mcnemar_diff": tuple(t.difference for t in tests),
                "mcnemar_family": mcnemar_family,
                "mcnemar_n": len(tests),
                "mcnemar_agree": pd.NA,
                "mcnemar_against": pd.NA,
                "comparison": c,
            }
            if run:
                set_a, set_b = claim.settings
                a = _by_seed(values, report, claim.a, set_a, claim.metric)
                b = _by_seed(values, report, claim.b, set_b, claim.metric)
                seeds = a.index.intersection(b.index)
                row.update(mean_a=float(a[seeds].mean()), mean_b=float(b[seeds].mean()))
            if tests and claim.direction != "≈":
                significant = [(p < alpha, t.difference > 0) for p, t in zip(row["mcnemar_p_holm"], tests)]
                agree = sum(s and up == (claim.direction == ">") for s, up in significant)
                row.update(mcnemar_agree=agree, mcnemar_against=sum(s for s, _ in significant) - agree)
            rows.append(row)
    table = pd.DataFrame(rows, columns=_CLAIM_COLUMNS)
    return table.astype(
        {
            "n": int,
            "family": int,
            "tost_family": int,
            "mcnemar_family": int,
            "mcnemar_n": int,
            "mcnemar_agree": "Int64",
            "mcnemar_against": "Int64",
        }
    )


_COCHRAN_COLUMNS = ["report", "seed", "arms", "k", "images", "acc_low", "acc_high", "q", "p", "p_holm", "family"]


def cochran_table(measurements: Measurements, reports: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Cochran's Q per report and seed over every arm with test predictions for that seed, where a
    report has three or more (R0's three test evaluations, R1's three retrains, R4's 21 arms): does
    any of them differ from the others in which test images it gets right? It comes before the
    pairwise McNemar tests of `claims_table`.

    One row per (report, seed): the arms (`arms`, "arm (setting)"; `k` of them), the test images,
    the lowest and highest test accuracy among them, Q, its p and the p Holm-adjusted over the
    report's seeds (`family` of them). Correctness is predictions == labels; every arm of a report
    must have been evaluated on the same test images (raises ValueError otherwise). A seed whose arms
    all get the same images right has no test (nan Q and p).
    """
    groups: dict[tuple[str, int], dict[str, dict[str, np.ndarray]]] = defaultdict(dict)
    for (report, arm, setting, seed), pred in measurements.predictions.items():
        if reports is None or report in reports:
            groups[(report, seed)][f"{arm} ({setting})"] = pred
    rows = []
    for (report, seed), arms in sorted(groups.items()):
        if len(arms) < 3:
            continue
        labels = next(iter(arms.values()))["labels"]
        if any(not np.array_equal(p["labels"], labels) for p in arms.values()):
            raise ValueError(f"cochran_table: {report}'s arms of seed {seed} were evaluated on different test images")
        result = cochran_over(list(arms.values()))
        correct = np.column_stack([p["pred"] == labels for p in arms.values()])
        acc = correct.mean(axis=0)
        rows.append(
            {
                "report": report,
                "seed": seed,
                "arms": tuple(arms),
                "k": len(arms),
                "images": len(labels),
                "acc_low": float(acc.min()),
                "acc_high": float(acc.max()),
                "q": result.statistic,
                "p": result.p_value,
            }
        )
    table = pd.DataFrame(rows, columns=_COCHRAN_COLUMNS)
    for report, part in table.groupby("report"):
        table.loc[part.index, "p_holm"] = holm(part["p"].tolist())
        table.loc[part.index, "family"] = int(np.isfinite(part["p"].astype(float)).sum())
    return table.astype({"seed": int, "k": int, "images": int, "family": int})
