"""Power and sample size against an independent calculation (integration over the sd's chi law, Monte Carlo), not scipy's noncentral t."""

import itertools
import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import integrate, optimize
from scipy import stats as sps

from fashion_cnn.analysis import power as pw
from fashion_cnn.analysis.power import equivalence_power, min_detectable, paired_t_power, seeds_needed, seeds_to_decide

LEVELS = (0.05 / 2, 0.05 / 4, 0.05 / 7)  # Holm's strictest step over 2, 4 and 7 comparisons


def _chi_pdf(s, df):
    """Density of S = √V, V ~ χ²(df): s^(df−1) e^(−s²/2) / (2^(df/2−1) Γ(df/2))."""
    if s <= 0:
        return 0.0 if df > 1 else math.sqrt(2 / math.pi)
    return math.exp((df - 1) * math.log(s) - s * s / 2 - (df / 2 - 1) * math.log(2) - math.lgamma(df / 2))


def _tail(shift, c, df):
    """P((Z + shift)/√(V/df) > c) = E over S of Φ(shift − c·S/√df), integrated numerically."""

    def f(s):
        return sps.norm.cdf(shift - c * s / math.sqrt(df)) * _chi_pdf(s, df)

    top = math.sqrt(df) + 15  # the chi density beyond is below e^(−100)
    knee = shift * math.sqrt(df) / c  # where Φ(·) turns from 1 to 0
    cuts = [0.0] + ([knee] if 0 < knee < top else []) + [top]
    return sum(integrate.quad(f, a, b, epsabs=1e-13, epsrel=1e-11, limit=200)[0] for a, b in itertools.pairwise(cuts))


def _power_by_integration(effect, n, alpha, two_sided=True):
    """Power of the paired t-test: P(|T| > c) (two-sided) or P(T > c), T = (Z + effect·√n)/√(V/(n−1))."""
    df, nc = n - 1, effect * math.sqrt(n)
    if not two_sided:
        return _tail(nc, sps.t.ppf(1 - alpha, df), df)
    c = sps.t.ppf(1 - alpha / 2, df)
    return _tail(nc, c, df) + _tail(-nc, c, df)  # P(T > c) + P(−T > c)


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("alpha", LEVELS)
def test_power_at_min_detectable_is_the_target_by_integration(n, alpha):
    d = min_detectable(1.0, n, alpha)
    assert _power_by_integration(d, n, alpha) == pytest.approx(0.8, abs=1e-6)
    assert min_detectable(0.004, n, alpha) == pytest.approx(0.004 * d, rel=1e-9)  # in the units of the sd


def test_the_audits_figures():
    # the independent root, by bisection on the integrated power
    def root(n, alpha):
        return optimize.brentq(lambda e: _power_by_integration(e, n, alpha) - 0.8, 0.1, 500, xtol=1e-10)

    r3 = root(3, 0.05 / 4)
    assert r3 == pytest.approx(6.55, abs=0.01)
    assert min_detectable(1.0, 3, 0.05 / 4) == pytest.approx(r3, rel=1e-6)
    assert _power_by_integration(5.00, 3, 0.05 / 4) == pytest.approx(0.61, abs=0.01)  # statsmodels' answer
    r2 = root(2, 0.05 / 7)
    assert r2 == pytest.approx(81, rel=0.01)
    assert min_detectable(1.0, 2, 0.05 / 7) == pytest.approx(r2, rel=1e-6)


@pytest.mark.parametrize(("n", "alpha"), [(2, 0.05 / 7), (3, 0.05 / 4), (4, 0.05 / 2)])
def test_power_at_min_detectable_by_monte_carlo(n, alpha):
    draws = 400_000
    rng = np.random.default_rng(20240611)
    df, nc = n - 1, min_detectable(1.0, n, alpha) * math.sqrt(n)
    t = (rng.standard_normal(draws) + nc) / np.sqrt(rng.chisquare(df, draws) / df)
    hit = np.mean(np.abs(t) > sps.t.ppf(1 - alpha / 2, df))
    assert hit == pytest.approx(0.8, abs=4 * math.sqrt(0.8 * 0.2 / draws))  # 4 Monte Carlo errors: 0.0025


@pytest.mark.parametrize(("effect", "alpha"), [(8.3, 0.05), (2.0, 0.05 / 7), (0.75, 0.05)])
def test_seeds_needed_is_the_first_n_reaching_the_power(effect, alpha):
    n = seeds_needed(effect, 1.0, alpha)
    assert _power_by_integration(effect, n, alpha) >= 0.8
    assert n == 2 or _power_by_integration(effect, n - 1, alpha) < 0.8
    assert seeds_needed(effect * 0.001, 0.001, alpha) == n  # only the ratio counts


def test_seeds_needed_for_the_audits_large_effect():
    # statsmodels' power is NaN at n = 2 … 7 here, so the old search answered 8
    assert _power_by_integration(8.3, 2, 0.05) < 0.8 <= _power_by_integration(8.3, 3, 0.05)
    assert seeds_needed(8.3, 1.0, 0.05) == 3
    assert seeds_to_decide(0.0083, 0.001, 0.005) == 3  # outside the margin: the t-test decides


def test_seeds_needed_edges():
    assert seeds_needed(0.0, 1.0) == math.inf and seeds_needed(float("nan"), 1.0) == math.inf
    assert seeds_needed(0.01, float("nan")) == math.inf
    assert seeds_needed(0.01, 0.0) == 2
    assert seeds_needed(0.05, 1.0, cap=100) == math.inf  # ~3,100 seeds
    assert seeds_needed(0.05, 1.0) == seeds_needed(-0.05, 1.0) < 10_000


def test_min_detectable_edges():
    assert math.isnan(min_detectable(1.0, 1)) and math.isnan(min_detectable(float("nan"), 5))
    assert min_detectable(0.0, 5) == 0.0
    for bad in (0.04, 1.0):  # power at or below α is reached by no effect at all; 1 by none
        with pytest.raises(ValueError, match="power"):
            min_detectable(1.0, 5, alpha=0.05, power=bad)


def test_min_detectable_raises_when_the_root_misses(monkeypatch):
    monkeypatch.setattr(pw, "optimize", SimpleNamespace(brentq=lambda *args, **kwargs: 5.0))
    with pytest.raises(ValueError, match="root finder failed"):
        min_detectable(1.0, 3, 0.05 / 4)  # 5.00·sd: statsmodels' non-root, power 0.61


@pytest.mark.parametrize("alternative", ["two-sided", "larger"])
@pytest.mark.parametrize("alpha", (0.05, *LEVELS, 0.05 / 20))
def test_paired_t_power_is_finite_and_monotone_at_large_effects(alternative, alpha):
    effects = np.geomspace(0.01, 1e4, 400)[:, None]
    ns = np.arange(2, 41)[None, :]
    p = paired_t_power(effects, ns, alpha, alternative)
    assert p.shape == (400, 39) and np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
    assert (np.diff(p, axis=0) >= -1e-12).all()  # more power for a larger effect
    assert (np.diff(p, axis=1) >= -1e-12).all()  # and with more seeds
    assert p[-1] == pytest.approx(1.0)


def test_paired_t_power_small_cases():
    assert paired_t_power(0.0, 5, 0.05) == pytest.approx(0.05)  # no effect: the test's level
    assert paired_t_power(0.0, 5, 0.05, "larger") == pytest.approx(0.05)
    assert paired_t_power(-1.3, 5, 0.01) == paired_t_power(1.3, 5, 0.01)
    assert paired_t_power(-1.3, 5, 0.01, "larger") < 0.01
    assert paired_t_power(1.3, 5, 0.01) == pytest.approx(_power_by_integration(1.3, 5, 0.01), abs=1e-9)
    assert paired_t_power(1.3, 5, 0.01, "larger") == pytest.approx(
        _power_by_integration(1.3, 5, 0.01, two_sided=False), abs=1e-9
    )
    by_hand = [0.0, 0.0] + [_power_by_integration(1.0, n, 0.05) for n in (2, 3)]  # n < 2: no test
    assert list(paired_t_power(1.0, np.arange(4), 0.05)) == pytest.approx(by_hand, abs=1e-9)
    assert isinstance(paired_t_power(1.0, 3, 0.05), float)
    assert math.isnan(paired_t_power(float("nan"), 3, 0.05))
    with pytest.raises(ValueError, match="alternative"):
        paired_t_power(1.0, 3, 0.05, "smaller")


def test_paired_t_power_falls_back_where_scipy_gives_nan(monkeypatch):
    nan_nct = SimpleNamespace(sf=lambda x, df, nc: np.full(np.broadcast(x, df, nc).shape, np.nan))
    monkeypatch.setattr(pw, "sps", SimpleNamespace(t=sps.t, norm=sps.norm, nct=nan_nct))
    assert paired_t_power(8.3, 3, 0.05) == pytest.approx(1.0, abs=1e-6)
    p = paired_t_power(np.geomspace(0.1, 100, 50), 3, 0.05, "larger")
    assert np.isfinite(p).all() and (np.diff(p) >= 0).all()


@pytest.mark.parametrize(
    ("diff", "std", "n", "margin"),
    [(0.0, 0.002, 4, 0.005), (0.002, 0.002, 6, 0.005), (0.0, 0.003, 3, 0.005), (-0.001, 0.001, 2, 0.005)],
)
def test_equivalence_power_bounds_a_simulated_tost(diff, std, n, margin):
    alpha, draws = 0.05, 200_000
    rng = np.random.default_rng(7)
    d = rng.normal(diff, std, size=(draws, n))
    se = d.std(axis=1, ddof=1) / math.sqrt(n)
    crit = sps.t.ppf(1 - alpha, n - 1)
    lower = (d.mean(axis=1) + margin) / se > crit  # rejects mean ≤ −margin
    upper = (d.mean(axis=1) - margin) / se < -crit  # rejects mean ≥ +margin
    both = np.mean(lower & upper)
    mc = 4 * math.sqrt(max(both * (1 - both), 0.01) / draws)
    assert equivalence_power(diff, std, n, margin, alpha) <= both + mc
    # the one-sided powers the bound is built from, against the same simulation
    for rejects, effect in ((lower, (margin + diff) / std), (upper, (margin - diff) / std)):
        p = paired_t_power(effect, n, alpha, "larger")
        assert np.mean(rejects) == pytest.approx(p, abs=4 * math.sqrt(max(p * (1 - p), 0.01) / draws))


def test_equivalence_power_at_large_effects():
    ns = np.arange(2, 101)
    for std in (0.00025, 0.0001, 1e-6):  # (margin ± diff)/std of 20 to 5,000: NaN in statsmodels at some n
        p = equivalence_power(0.0, std, ns, 0.005)
        assert np.isfinite(p).all() and p[4:] == pytest.approx(1.0)
    assert equivalence_power(0.0, 0.00025, 6, 0.005) == pytest.approx(1.0)
    assert equivalence_power(0.006, 0.001, ns, 0.005).max() == 0  # outside the margin
    assert equivalence_power(0.0, 0.0, 3, 0.005) == 1.0 and equivalence_power(0.0, 0.001, 1, 0.005) == 0.0
    assert np.isnan(equivalence_power(0.0, 0.001, 5, float("nan")))  # no margin: no equivalence test
    assert seeds_to_decide(0.01, 0.002, float("nan")) == seeds_needed(0.01, 0.002)


def _section_family(sd_points: float, n: int = 3, k: int = 4):
    """k comparisons of n seeds whose paired differences all have the sample sd `sd_points` (points)."""
    from fashion_cnn.analysis.stats import compare_family

    z = np.array([-1.0, 0.0, 1.0, 0.5, -0.5][:n])
    z = (z - z.mean()) / z.std(ddof=1)
    base = np.full(n, 0.9)
    values = {"a": base, **{f"v{i}": base + 0.001 * (i + 1) + z * sd_points / 100 for i in range(k)}}
    return compare_family(values, [("a", f"v{i}") for i in range(k)], 0.005)


def test_the_power_sentence_states_the_true_detectable_difference():
    """Section 2's sentence at n = 3 over 4 comparisons: the detectable difference is the root of the power
    found by integration (≈ 6.55·sd, where statsmodels' 5.00·sd had 61% power); past 100 points it says
    that no difference can be shown."""
    from fashion_cnn.present import text

    family = _section_family(0.4)
    effect = optimize.brentq(lambda e: _power_by_integration(e, 3, 0.05 / 4) - 0.8, 1.0, 50.0, xtol=1e-10)
    said = text.power(family)
    assert f"a difference of about {effect * 0.4:.2f} points is detected with 80% power at α=0.05/4" in said
    assert "n=3 seeds" in said and "median of 0.40 points" in said
    wide = text.power(_section_family(20.0))  # 20 points of spread at n = 3: 131 points would be needed
    assert "beyond what accuracy can differ by" in wide and "no difference can be shown at this n" in wide
    assert "is detected with" not in wide
