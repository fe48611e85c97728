"""Power and sample size of the paired t-test and the paired TOST, computed from the noncentral t ourselves.

Why not statsmodels' `TTestPower`: its solver fails silently at n = 2–4 and Holm levels (n = 3 at
α = 0.05/4 it returns 5.00·sd, which has 61% power; 6.55·sd has 80%), and its power is NaN at large
effects (8.3·sd at n = 2–7 with scipy 1.17: it takes both tails from `special.nctdtr`, the CDF, which
NaNs deep in a tail), so `seeds_needed` skipped to a larger n. Here both tails are scipy's `nct.sf`,
the detectable difference is a bracketed root that is checked, and no power is NaN for finite inputs.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize
from scipy import stats as sps

_ROOT_TOL = 1e-6  # how far from the target power `min_detectable`'s answer may be


def paired_t_power(effect, n, alpha: float, alternative: str = "two-sided"):
    """Power of the paired (one-sample) t-test over `n` pairs at level `alpha`.

    `effect` is mean difference / sd of the differences; `effect` and `n` may be numbers or arrays
    (they broadcast). "two-sided" uses |effect|; "larger" is the one-sided test of a positive mean,
    so a negative effect has power below α. n < 2 has power 0. Returns a float or an array, never
    NaN for finite inputs (NaN in, NaN out).
    """
    if alternative not in ("two-sided", "larger"):
        raise ValueError(f"alternative {alternative!r} must be 'two-sided' or 'larger'")
    effect = np.asarray(effect, dtype=float)
    n = np.asarray(n, dtype=float)
    testable = n >= 2
    df = np.where(testable, n - 1, 1.0)  # any valid df where n < 2; masked to 0 below
    nc = (np.abs(effect) if alternative == "two-sided" else effect) * np.sqrt(np.where(testable, n, 2.0))
    with np.errstate(all="ignore"):
        if alternative == "two-sided":
            c = sps.t.ppf(1 - alpha / 2, df)
            # P(T < −c) as the upper tail of −T: scipy's nct.cdf returns NaN deep in the lower tail
            power = sps.nct.sf(c, df, nc) + sps.nct.sf(c, df, -nc)
            approx = sps.norm.sf(c - nc) + sps.norm.sf(c + nc)
        else:
            c = sps.t.ppf(1 - alpha, df)
            power = sps.nct.sf(c, df, nc)
            approx = sps.norm.sf(c - nc)
    # a safety net for scipy versions whose nct still NaNs somewhere: T ≈ N(nc, 1) where nc is huge
    power = np.where(np.isnan(power) & np.isfinite(nc), approx, power)
    power = np.where(testable, np.clip(power, 0.0, 1.0), 0.0)
    return power if power.ndim else float(power)


def min_detectable(std: float, n: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest mean paired difference the two-sided paired t-test over `n` seeds detects with
    `power` at level `alpha`, given the standard deviation `std` of the differences.

    Returns effect·std, the effect being the root of paired_t_power(effect, n, alpha) = power; nan for
    n < 2 or a non-finite std, 0 for std == 0. Raises ValueError when `power` is not in (α, 1) or the
    root misses the target by more than 1e-6 (the check statsmodels lacked).
    """
    if n < 2 or not np.isfinite(std):
        return float("nan")
    if not alpha < power < 1:
        raise ValueError(f"min_detectable: power {power!r} must lie between alpha {alpha!r} and 1")
    if std == 0:
        return 0.0

    def gap(effect: float) -> float:
        return paired_t_power(effect, n, alpha) - power

    hi = 1.0
    while gap(hi) <= 0:  # grow the bracket: at n = 2 and α = 0.05/7 the root is near 81
        hi *= 2
        if hi > 1e12:
            raise ValueError(f"min_detectable: no effect reaches power {power} at n={n}, alpha={alpha}")
    effect = optimize.brentq(gap, 0.0, hi, xtol=1e-12, rtol=1e-14, maxiter=500)
    miss = gap(effect)
    if abs(miss) > _ROOT_TOL:
        raise ValueError(
            f"min_detectable: the solved effect {effect:.6g} gives power {power + miss:.6f}, not {power} "
            f"(n={n}, alpha={alpha}); the root finder failed"
        )
    return float(effect * abs(std))


def seeds_needed(diff: float, std: float, alpha: float = 0.05, power: float = 0.8, cap: int = 10_000) -> float:
    """The fewest seeds (n ≥ 2) with which the two-sided paired t-test detects a true difference
    `diff` with `power`, given the sd `std` of the differences.

    2 when std <= 0; inf for no difference, a non-finite diff or std, or beyond `cap` seeds.
    """
    if diff == 0 or not np.isfinite(diff) or np.isnan(std):
        return math.inf
    if std <= 0:
        return 2
    ns = np.arange(2, int(cap) + 1)
    reached = paired_t_power(abs(diff) / std, ns, alpha) >= power
    return int(ns[reached.argmax()]) if reached.any() else math.inf


def equivalence_power(diff: float, std: float, n, margin: float, alpha: float = 0.05):
    """Lower bound on the power of the paired TOST at ±margin with n seeds (a number or an array)
    when the true difference is `diff`: P(both one-sided tests reject) ≥ P(lower) + P(upper) − 1.

    0 when |diff| ≥ margin or n < 2, 1 when std <= 0; nan for a nan margin (no equivalence test).
    """
    n = np.asarray(n)
    if abs(diff) >= margin:
        return np.zeros(n.shape) if n.ndim else 0.0
    if std <= 0:
        return np.ones(n.shape) if n.ndim else 1.0
    lower = paired_t_power((margin + diff) / std, n, alpha, alternative="larger")  # rejects mean ≤ −margin
    upper = paired_t_power((margin - diff) / std, n, alpha, alternative="larger")  # rejects mean ≥ +margin
    bound = np.clip(np.asarray(lower) + np.asarray(upper) - 1, 0.0, 1.0)
    bound = np.where(n >= 2, bound, 0.0)
    return bound if bound.ndim else float(bound)


def seeds_to_decide(
    diff: float, std: float, margin: float, alpha: float = 0.05, power: float = 0.8, cap: int = 100
) -> float:
    """The fewest seeds that decide a comparison with `power` if `diff` and `std` are the truth:
    the paired t-test's n for a difference, or the TOST's n for equivalence, whichever is smaller
    (inf when neither decides within `cap` seeds)."""
    ns = np.arange(2, cap + 1)
    reached = equivalence_power(diff, std, ns, margin, alpha) >= power
    equivalent = int(ns[reached.argmax()]) if reached.any() else math.inf
    detect = seeds_needed(diff, std, alpha, power, cap)
    best = min(detect, equivalent)
    return best if best <= cap else math.inf
