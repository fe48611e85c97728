"""The decision rules of `stats` checked by simulation under the null, and the outcomes they reach on
hand-made data: how n is chosen (`plan_seeds`), which family is corrected (all pairs for a
ranking, one Holm family per kind of claim), what a difference inside the margin is called, and
what degenerate data read as. Each simulation uses a fixed seed and asserts a rate within its
Monte Carlo error of α; each would have failed on the rule it replaces (named in its comment)."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from fashion_cnn.analysis.stats import (
    PILOT_SEEDS,
    SeedPlan,
    all_pairs,
    compare_family,
    family_table,
    not_below,
    plan_seeds,
    posterior,
)
from fashion_cnn.present import text
from fashion_cnn.sections import claims

ALPHA = 0.05


def _bound(rate: float, studies: int, z: float = 3.0) -> float:
    """The largest simulated rate still consistent with `rate`: z Monte Carlo standard errors above it."""
    return rate + z * math.sqrt(rate * (1 - rate) / studies)


def _paired(rng, n_seeds: int, diff_sd: float) -> dict[str, np.ndarray]:
    """Two arms over seeds 0 … n_seeds − 1 under the null: a's accuracy, and b = a + a paired difference
    of mean 0."""
    a = rng.normal(0.9, 0.003, n_seeds)
    return {"a": a, "b": a + rng.normal(0.0, diff_sd, n_seeds)}


def test_auto_seeds_keep_the_false_positive_rate_at_alpha():
    """Under the null a single comparison planned by `seeds="auto"` is called higher or lower with
    probability α. The rule it replaces tested the pilot's seeds again and, keeping n = 3 after a large
    pilot |t|, gave 0.086 at this spread (a paired-difference sd of 0.5 points)."""
    rng = np.random.default_rng(28)
    studies, found = 5000, 0
    cap = 10
    for _ in range(studies):
        arms = _paired(rng, PILOT_SEEDS + cap, 0.005)  # one value per seed, drawn once: a seed reused is the same run
        plan = plan_seeds(
            "auto", lambda seeds, arms=arms: {k: v[list(seeds)] for k, v in arms.items()}, [("a", "b")], 0.005, cap
        )
        assert not set(plan.seeds) & set(plan.pilot_seeds) and plan.pilot_seeds == tuple(range(PILOT_SEEDS))
        tested = {k: v[list(plan.seeds)] for k, v in arms.items()}
        found += compare_family(tested, [("a", "b")], 0.005)[0].outcome.startswith(("higher", "lower"))
    assert found / studies <= _bound(ALPHA, studies)
    assert found / studies >= ALPHA - 3 * math.sqrt(ALPHA * (1 - ALPHA) / studies)  # and not far below it


def test_a_given_number_of_seeds_has_no_pilot():
    plan = plan_seeds(4, lambda seeds: pytest.fail("a given number trains no pilot"), [("a", "b")], 0.005)
    assert plan == SeedPlan((0, 1, 2, 3)) and plan.pilot_seeds == () and plan.choice is None


def test_ranking_all_pairs_keeps_any_false_below_at_alpha():
    """Five equal models: how often is some model shown below another? Comparing the data-chosen best with
    the rest (the rule this replaces) did it 7.0–8.5% of the time at n = 3–10; all pairs in one Holm
    family keep it at most α."""
    rng = np.random.default_rng(5)
    studies, found = 2000, 0
    names = [f"m{i}" for i in range(5)]
    for _ in range(studies):
        shared = rng.normal(0.9, 0.003, 5)  # seed effects every model shares
        values = {m: shared + rng.normal(0, 0.004, 5) for m in names}
        order = sorted(names, key=lambda m: -values[m].mean())
        family = compare_family(values, all_pairs(order), 0.005)
        assert family[0].family == 10
        found += len(not_below(family, order)) < 5
    assert found / studies <= _bound(ALPHA, studies)


def test_each_kind_of_claim_keeps_its_family_wise_rate():
    """Two comparisons in one family, one with no difference (a difference claim would be false) and one
    exactly at the margin (an equivalence claim would be false): each kind of false claim happens with
    probability at most α, as docs/statistics.md states (any false claim of either kind: at most 2α)."""
    rng = np.random.default_rng(7)
    studies, false_difference, false_equivalence = 4000, 0, 0
    margin, sd, n = 0.005, 0.004, 6
    for _ in range(studies):
        a = rng.normal(0.9, 0.003, n)
        values = {"a": a, "null": a + rng.normal(0, sd, n), "edge": a + rng.normal(margin, sd, n)}
        null, edge = compare_family(values, [("a", "null"), ("a", "edge")], margin)
        false_difference += null.outcome.startswith(("higher", "lower"))
        false_equivalence += edge.outcome.endswith(("equivalent", "within margin"))
    assert false_difference / studies <= _bound(ALPHA, studies)
    assert false_equivalence / studies <= _bound(ALPHA, studies)


def _constant(diffs) -> dict[str, np.ndarray]:
    a = np.array([0.90, 0.91, 0.92, 0.905, 0.915, 0.895][: len(diffs)])
    return {"a": a, "b": a + np.asarray(diffs)}


def test_a_difference_inside_the_margin_is_higher_within_margin():
    """+0.20 points, 95% CI about [+0.19, +0.21], margin ±0.5: both tests reject. Before, it read
    "higher", a report's "≈" claim became "contradicted" and bf16 against fp32 "different"."""
    c = compare_family(_constant([0.0019, 0.0021, 0.0020, 0.0019, 0.0021]), [("a", "b")], 0.005)[0]
    assert c.p_holm < ALPHA and c.tost_holm < ALPHA and c.outcome == "higher within margin"
    assert 0.0018 < c.diff.low < c.diff.high < 0.0022
    said = text.comparison(c)
    assert "`b` is higher, by less than ±0.50 points" in said and "90% CI +0.19 to +0.21" in said
    same = claims.verdict("≈", c)
    assert same == "supported"  # "≈" is decided by the equivalence test alone
    assert claims.verdict(">", c) == "supported, by less than ±0.50 points"
    assert claims.verdict("<", c) == "contradicted"


def test_a_claimed_difference_within_the_margin_is_not_supported_not_contradicted():
    c = compare_family(_constant([0.0005, -0.0004, 0.0001, -0.0002, 0.0003]), [("a", "b")], 0.005)[0]
    assert c.outcome == "equivalent"
    assert claims.verdict(">", c) == "not supported: within ±0.50 points"
    assert claims.verdict("<", c) == "not supported: within ±0.50 points"


def test_equivalence_shows_the_90_percent_interval_inside_the_margin():
    c = compare_family(_constant([0.0005, -0.0004, 0.0001, -0.0002, 0.0003]), [("a", "b")], 0.005)[0]
    d = c.diff.mean
    se = c.diff.std / math.sqrt(5)
    half = sps.t.ppf(0.95, 4) * se
    assert (c.diff90.low, c.diff90.high) == pytest.approx((d - half, d + half))
    assert -0.005 < c.diff90.low and c.diff90.high < 0.005  # the TOST at α=0.05 in interval form
    row = family_table([c]).iloc[0]
    assert row["ci90"] == f"[{100 * (d - half):+.2f}, {100 * (d + half):+.2f}]".replace("-", "−")
    assert "90% CI" in text.comparison(c) and "(90% [" in text.cell(c)
    inconclusive = compare_family(_constant([0.01, -0.008, 0.004]), [("a", "b")], 0.005)[0]
    assert "90%" not in text.comparison(inconclusive)  # shown only beside an equivalence


def test_all_differences_equal_is_said_so_not_cannot_be_told_apart():
    c = compare_family(_constant([0.001, 0.001, 0.001]), [("a", "b")], 0.005)[0]
    assert c.outcome == "no test" and c.constant and c.family == 0
    said = text.comparison(c)
    assert "all 3 differences equal +0.10 points" in said and "no t-test" in said
    assert "told apart" not in said and "higher" not in said


def test_a_diverged_seed_is_left_out_with_a_note_and_the_family_stays_honest():
    a = pd.Series([0.90, 0.91, 0.92, 0.905])
    values = {
        "a": a,
        "b": pd.Series([0.93, 0.945, float("nan"), 0.933]),  # seed 2 diverged
        "c": a + pd.Series([0.001, -0.002, 0.0015, 0.0005]),
    }
    b, c = compare_family(values, [("a", "b"), ("a", "c")], 0.005)
    assert b.diff.n == 3 and b.dropped == 1 and b.diff.mean == pytest.approx(0.031)
    assert np.isfinite(b.test.p_value) and b.family == 2 and c.family == 2
    lone = compare_family({"a": a[:2], "b": pd.Series([0.93, float("nan")])}, [("a", "b")], 0.005)[0]
    assert lone.outcome == "no test" and lone.dropped == 1
    said = text.comparison(lone)
    assert "1 seed left out (a value not finite)" in said and "no spread" not in said


def test_wins_and_posterior_beside_the_test():
    """The posterior of the mean difference checked against a Monte Carlo draw from the normal model with
    Jeffreys' prior (σ² from a scaled inverse χ², then μ | σ² normal), not against the t formula."""
    d = np.array([0.004, 0.007, -0.001, 0.006, 0.003])
    c = compare_family({"a": np.zeros(5) + 0.9, "b": 0.9 + d}, [("a", "b")], 0.005)[0]
    row = family_table([c]).iloc[0]
    assert c.wins == 4 and row["wins"] == "4 of 5" and row["posterior"] == " / ".join(f"{x:.2f}" for x in c.posterior)
    rng = np.random.default_rng(1)
    n, draws = len(d), 400_000
    sigma2 = (n - 1) * d.var(ddof=1) / rng.chisquare(n - 1, draws)
    mu = rng.normal(d.mean(), np.sqrt(sigma2 / n))
    expected = [(mu < -0.005).mean(), (abs(mu) <= 0.005).mean(), (mu > 0.005).mean()]
    assert c.posterior == pytest.approx(expected, abs=0.004)
    assert sum(c.posterior) == pytest.approx(1.0)
    said = text.beside(c)
    assert "above `a` in 4 of 5 seeds" in said and f"{c.posterior[2]:.2f}" in said and "benavoli2017" in said
    worse, within, better = posterior(d, float("nan"))  # without a margin: P(< 0) and P(> 0)
    assert within == pytest.approx(0.0, abs=1e-12) and worse + better == pytest.approx(1.0)
    kfold = posterior(d, 0.005, kfold=(48000, 12000))  # the Nadeau–Bengio scale is wider: less sure of "within"
    assert kfold[1] < c.posterior[1] and kfold[0] > c.posterior[0] and sum(kfold) == pytest.approx(1.0)


def test_wording_claims_no_more_than_the_tests():
    """Cochran's Q that does not reject "does not show a difference" (not "do not differ beyond chance"); the
    k-fold spread is not called one split's; a '≈' claim on a loss prints no '±nan' margin."""
    from types import SimpleNamespace

    from fashion_cnn.analysis.stats import TestResult

    quiet = SimpleNamespace(cochran={s: TestResult("Cochran's Q", 1.2, 0.55, 3, float("nan")) for s in (0, 1)})
    said = text.cochran(quiet)
    assert "in none of the 2 seeds does the test show a difference" in said and "beyond chance" not in said
    folds = pd.DataFrame({"val_acc": [0.90, 0.91, 0.905]})
    holdout = SimpleNamespace(metrics={"val_acc": 0.907}, config=SimpleNamespace(name="lenet5", seed=0))
    said = text.kfold_sentence(folds, holdout, 3)
    assert "The folds differ by up to 1.00 points" in said and "one validation split alone" not in said
    loss = compare_family(_constant([0.05, 0.06, 0.055, 0.052]), [("a", "b")], [None])[0]
    assert loss.outcome == "higher"
    assert (
        claims.verdict("≈", loss)
        == "not supported: `b` is higher and equivalence is not tested (no margin for this metric)"
    )
    assert "nan" not in text.comparison(loss, "validation loss", 1.0, "", 4)
