"""Statistics that reach conclusions (scipy / statsmodels do the arithmetic).

Every comparison of two configurations over matched seeds leads with the estimated difference and
its interval (`diff_ci`), then decides one of three outcomes (`compare_family`): *higher/lower*
(the paired t-test rejects, Holm-adjusted over the family), *equivalent* within ±margin (the paired
TOST rejects, Holm-adjusted), or *inconclusive* at n. Around that: the power of the design
(`min_detectable`, `seeds_needed`, `choose_seeds`), the Nadeau–Bengio corrected t-test for models
compared over the same folds, the prediction interval of one new run, McNemar's and Cochran's Q
tests on test-set predictions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.optimize import brentq
from statsmodels.stats.contingency_tables import cochrans_q, mcnemar
from statsmodels.stats.weightstats import ttost_paired

from .power import equivalence_power, min_detectable, paired_t_power, seeds_needed, seeds_to_decide  # noqa: F401

OUTCOMES = (
    "higher",  # the adjusted t-test rejects, the TOST does not: b is above a, perhaps by more than the margin
    "lower",
    "higher within margin",  # both reject: b is above a, and by less than the margin
    "lower within margin",
    "equivalent",  # only the adjusted TOST rejects: |b − a| < margin, no direction shown
    "inconclusive",  # neither rejects at this n
    "no test",  # fewer than 2 complete pairs, or differences without spread
)
DIFFERENT = ("higher", "lower", "higher within margin", "lower within margin")  # the t-test rejected
EQUIVALENT = ("equivalent", "higher within margin", "lower within margin")  # the TOST rejected


@dataclass(frozen=True)
class Interval:
    mean: float
    std: float  # sample standard deviation (ddof=1); 0 for one value
    low: float  # lower end of the confidence interval (nan for fewer than 2 values)
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.4f} ± {self.std:.4f}"


def mean_ci(values, confidence: float = 0.95) -> Interval:
    """Mean, sample std and the Student-t confidence interval of the mean."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 0:
        raise ValueError("mean_ci needs at least one value")
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, 0.0, float("nan"), float("nan"), n)
    std = float(x.std(ddof=1))
    half = float(sps.t.ppf(0.5 + confidence / 2, n - 1) * std / np.sqrt(n))
    return Interval(mean, std, mean - half, mean + half, n)


@dataclass(frozen=True)
class TestResult:
    name: str  # which test
    statistic: float
    p_value: float
    n: int  # seeds (paired t) or discordant pairs (McNemar)
    difference: float  # mean of b - a (paired t) or acc(b) - acc(a) (McNemar)

    def significant(self, alpha: float = 0.05) -> bool:
        return bool(np.isfinite(self.p_value) and self.p_value < alpha)


def _paired(a, b, what: str) -> np.ndarray:
    """b − a of matched samples; raises ValueError when their shapes differ."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"{what} needs matched samples, got {a.shape} and {b.shape}")
    return b - a


def _no_variance(d: np.ndarray) -> bool:
    return len(d) < 2 or bool(np.allclose(d, d[0], rtol=0, atol=1e-12))


def paired_t(a, b) -> TestResult:
    """Paired t-test of b against a over matched seeds (nan p-value when n < 2 or no variance)."""
    d = _paired(a, b, "paired_t")
    n = len(d)
    if _no_variance(d):
        return TestResult("paired t", float("nan"), float("nan"), n, float(d.mean()) if n else float("nan"))
    t = float(d.mean() / (d.std(ddof=1) / math.sqrt(n)))  # scipy's ttest_1samp, without its 1 ms of checks
    return TestResult("paired t", t, float(2 * sps.t.sf(abs(t), n - 1)), n, float(d.mean()))


def diff_ci(a, b, confidence: float = 0.95) -> Interval:
    """The mean of the paired differences b − a over matched seeds, with its Student-t interval."""
    return mean_ci(_paired(a, b, "diff_ci"), confidence)


def equivalence(a, b, margin: float) -> TestResult:
    """Paired TOST: two one-sided t-tests of H0 |mean(b − a)| ≥ margin; p is the larger of the two.

    A p below α shows b and a equivalent within ±margin (in the units of the values). nan when
    n < 2 or the differences have no variance.
    """
    if margin <= 0:
        raise ValueError(f"equivalence margin {margin!r} must be positive")
    d = _paired(a, b, "equivalence")
    if _no_variance(d):
        return TestResult("TOST", float("nan"), float("nan"), len(d), float(d.mean()) if len(d) else float("nan"))
    p, lower, upper = ttost_paired(np.asarray(b, float), np.asarray(a, float), -margin, margin)
    # the statistic of the one-sided test that decides (the one with the larger p)
    stat = lower[0] if lower[1] >= upper[1] else upper[0]
    return TestResult("TOST", float(stat), float(p), len(d), float(d.mean()))


def corrected_kfold_t(diffs, n_train: int, n_test: int) -> TestResult:
    """Nadeau–Bengio corrected resampled t-test of per-fold differences (two-sided).

    The folds' training sets overlap, so the plain variance of the k differences understates the
    variance of their mean; the correction replaces var/k by var·(1/k + n_test/n_train), with k − 1
    degrees of freedom (Nadeau & Bengio 2003).
    """
    d = np.asarray(diffs, dtype=float)
    k = len(d)
    if n_train <= 0 or n_test <= 0:
        raise ValueError(f"corrected_kfold_t needs positive sizes, got n_train={n_train}, n_test={n_test}")
    if _no_variance(d):
        return TestResult("corrected k-fold t", float("nan"), float("nan"), k, float(d.mean()) if k else float("nan"))
    se = math.sqrt(d.var(ddof=1) * (1 / k + n_test / n_train))
    t = float(d.mean() / se)
    return TestResult("corrected k-fold t", t, float(2 * sps.t.sf(abs(t), k - 1)), k, float(d.mean()))


def corrected_kfold_ci(diffs, n_train: int, n_test: int, confidence: float = 0.95) -> Interval:
    """The mean per-fold difference with its interval under the Nadeau–Bengio corrected variance."""
    d = np.asarray(diffs, dtype=float)
    k = len(d)
    plain = mean_ci(d, confidence)
    if k < 2:
        return plain
    half = float(sps.t.ppf(0.5 + confidence / 2, k - 1) * math.sqrt(d.var(ddof=1) * (1 / k + n_test / n_train)))
    return Interval(plain.mean, plain.std, plain.mean - half, plain.mean + half, k)


def corrected_kfold_tost(diffs, n_train: int, n_test: int, margin: float) -> TestResult:
    """TOST of per-fold differences within ±margin, with the Nadeau–Bengio corrected variance."""
    d = np.asarray(diffs, dtype=float)
    k = len(d)
    if _no_variance(d):
        return TestResult("corrected TOST", float("nan"), float("nan"), k, float(d.mean()) if k else float("nan"))
    se = math.sqrt(d.var(ddof=1) * (1 / k + n_test / n_train))
    lower, upper = (d.mean() + margin) / se, (d.mean() - margin) / se
    p_lower, p_upper = float(sps.t.sf(lower, k - 1)), float(sps.t.cdf(upper, k - 1))
    stat = lower if p_lower >= p_upper else upper
    return TestResult("corrected TOST", float(stat), max(p_lower, p_upper), k, float(d.mean()))


def prediction_interval(values, confidence: float = 0.95) -> tuple[float, float]:
    """Where one new run of the same configuration falls: mean ± t·s·√(1 + 1/n) (nan for n < 2)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n < 2:
        return float("nan"), float("nan")
    half = float(sps.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) * math.sqrt(1 + 1 / n))
    return float(x.mean() - half), float(x.mean() + half)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values: sorted ascending, the i-th (from 0) times m − i, a running maximum,
    clipped at 1. nan stays nan and is not counted in the family.

    The same numbers as statsmodels' `multipletests(method="holm")` (the tests check it), computed
    here because that call runs a full `gc.collect()` each time: 0.25 s in a process holding torch,
    and a report makes hundreds of these adjustments.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    m = len(order)
    out[order] = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    return out.tolist()


def contingency(labels, pred_a, pred_b) -> np.ndarray:
    """2x2 counts of (a right?, b right?): [[both right, only a right], [only b right, both wrong]]."""
    labels, pred_a, pred_b = map(np.asarray, (labels, pred_a, pred_b))
    if not labels.shape == pred_a.shape == pred_b.shape:
        raise ValueError(
            f"contingency needs predictions of the same samples, got shapes "
            f"{labels.shape}, {pred_a.shape}, {pred_b.shape}"
        )
    ok_a, ok_b = pred_a == labels, pred_b == labels
    return np.array([[np.sum(ok_a & ok_b), np.sum(ok_a & ~ok_b)], [np.sum(~ok_a & ok_b), np.sum(~ok_a & ~ok_b)]])


def mcnemar_test(labels, pred_a, pred_b, exact: bool | None = None) -> TestResult:
    """McNemar's test on two models' predictions of the same samples.

    The exact binomial version is used when fewer than 25 samples are discordant.
    """
    labels, pred_a, pred_b = map(np.asarray, (labels, pred_a, pred_b))
    table = contingency(labels, pred_a, pred_b)
    discordant = int(table[0, 1] + table[1, 0])
    exact = discordant < 25 if exact is None else exact
    res = mcnemar(table, exact=exact, correction=True)
    return TestResult(
        "McNemar exact" if exact else "McNemar χ²",
        float(res.statistic),
        float(res.pvalue),
        discordant,
        float((pred_b == labels).mean() - (pred_a == labels).mean()),
    )


def cochran_q(correct) -> TestResult:
    """Cochran's Q over k ≥ 3 models' correctness on the same samples ((samples, k) of 0/1):
    whether any of them differs from the others, before pairwise McNemar tests (statsmodels)."""
    x = np.asarray(correct, dtype=int)
    if x.ndim != 2 or x.shape[1] < 3:
        raise ValueError(f"cochran_q needs (samples, k ≥ 3) correctness, got shape {x.shape}")
    res = cochrans_q(x)
    return TestResult("Cochran's Q", float(res.statistic), float(res.pvalue), x.shape[1], float("nan"))


def mcnemar_by_seed(a: Mapping[int, dict], b: Mapping[int, dict]) -> dict[int, TestResult]:
    """McNemar's test per seed both sides have: `a[seed]`, `b[seed]` are test predictions (`labels`,
    `pred`) of the same images. Section 3 and the reproduction's claims test pairs this way, then Holm over
    all of a section's McNemar tests."""
    return {s: mcnemar_test(a[s]["labels"], a[s]["pred"], b[s]["pred"]) for s in sorted(set(a) & set(b))}


def cochran_over(predictions: Sequence[dict]) -> TestResult:
    """Cochran's Q over k ≥ 3 models' test predictions (`labels`, `pred`) of the same images: does any of
    them get other images right than the rest? No test (nan Q and p) when they all get the same images
    right."""
    labels = predictions[0]["labels"]
    correct = np.column_stack([p["pred"] == labels for p in predictions])
    if np.all(correct == correct[:, :1]):
        return TestResult("Cochran's Q", float("nan"), float("nan"), len(predictions), float("nan"))
    return cochran_q(correct)


# ----------------------------------------------------------------------------------------------
# Families of comparisons


@dataclass(frozen=True)
class Comparison:
    """b against a on one metric over matched seeds: the estimate, both tests and the outcome.

    `family` t-tests form one Holm family and `tost_family` TOSTs another (each kind of claim has
    its own family-wise error rate ≤ α; docs/statistics.md). `wins` and `posterior` describe the
    same differences two more ways and never change the outcome.
    """

    a: str
    b: str
    diff: Interval  # b − a over the complete pairs, with its 95% confidence interval
    test: TestResult  # paired t (or the corrected k-fold t)
    tost: TestResult  # paired TOST at ±margin
    margin: float  # equivalence margin, in the units of the values (nan: equivalence not tested)
    family: int = 1  # difference tests in the Holm family (those with a p-value)
    tost_family: int = 1  # equivalence tests in the TOSTs' Holm family
    p_holm: float = float("nan")  # the test's p, Holm-adjusted over the family
    tost_holm: float = float("nan")  # the TOST's p, Holm-adjusted over the family
    outcome: str = "no test"  # one of OUTCOMES
    alpha: float = 0.05
    diff90: Interval | None = None  # the 1 − 2α interval: inside ±margin exactly when the unadjusted TOST rejects
    wins: int = 0  # complete pairs in which b is above a
    posterior: tuple[float, float, float] = (float("nan"),) * 3  # P(b − a < −m), P(|b − a| ≤ m), P(b − a > m)
    dropped: int = 0  # seeds both sides have where either value is not finite (a diverged run), left out

    @property
    def decided(self) -> bool:
        return self.outcome in DIFFERENT or self.outcome in EQUIVALENT

    @property
    def constant(self) -> bool:
        """Every complete pair differs by the same amount (no spread, so no t-test)."""
        return self.diff.n >= 2 and self.diff.std == 0


def _decide(c: Comparison) -> str:
    different = np.isfinite(c.p_holm) and c.p_holm < c.alpha
    equivalent = np.isfinite(c.tost_holm) and c.tost_holm < c.alpha
    if different:
        direction = "higher" if c.diff.mean > 0 else "lower"
        return f"{direction} within margin" if equivalent else direction
    if equivalent:
        return "equivalent"
    if not np.isfinite(c.p_holm) and not np.isfinite(c.tost_holm):
        return "no test"
    return "inconclusive"


def posterior(diffs, margin: float = float("nan"), kfold: tuple[int, int] | None = None) -> tuple[float, float, float]:
    """P(mean difference < −margin), P(within ±margin), P(> +margin) under the Student-t posterior
    of the mean difference (flat prior: location the mean, scale s/√n, or the Nadeau–Bengio scale
    s·√(1/k + n_test/n_train) for folds), as Benavoli et al. (2017) and scikit-learn's
    model-comparison example do. Without a margin it is P(< 0), 0, P(> 0). nan for n < 2 or no spread."""
    d = np.asarray(diffs, dtype=float)
    k = len(d)
    nan = float("nan")
    if _no_variance(d):
        return nan, nan, nan
    scale = math.sqrt(d.var(ddof=1) * ((1 / k + kfold[1] / kfold[0]) if kfold else 1 / k))
    m = margin if np.isfinite(margin) else 0.0
    worse = float(sps.t.cdf((-m - d.mean()) / scale, k - 1))
    better = float(sps.t.sf((m - d.mean()) / scale, k - 1))
    return worse, max(0.0, 1.0 - worse - better), better


def _by_seed(values) -> pd.Series:
    return values.astype(float) if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=float))


def compare_family(
    values: Mapping[str, Sequence[float] | pd.Series],
    pairs: Sequence[tuple[str, str]],
    margin: float | Sequence[float | None],
    alpha: float = 0.05,
    confidence: float = 0.95,
    kfold: tuple[int, int] | None = None,
) -> list[Comparison]:
    """Each (a, b) in `pairs` compared over the seeds both have with finite values, as one family.

    `values` maps a name to one value per seed (a Series indexed by seed, or a list in seed order).
    A seed where either side is not finite (a diverged run) is dropped from that pair and counted in
    `Comparison.dropped`. `margin` is the equivalence margin of every pair, or one per pair (None:
    no equivalence test for that pair, e.g. a loss). Decisions use Holm-adjusted p-values over the
    family, one adjustment for the difference tests and one for the equivalence tests, each counting
    only the tests that ran. `kfold=(n_train, n_test)`: the values are per fold of the same folds, so
    the tests, intervals and posterior use the Nadeau–Bengio corrected variance.
    """
    margins = list(margin) if isinstance(margin, (list, tuple)) else [margin] * len(pairs)
    if len(margins) != len(pairs):
        raise ValueError(f"compare_family: {len(margins)} margins for {len(pairs)} pairs; give one or one per pair")
    raw = []
    for (a, b), m in zip(pairs, margins):
        for name in (a, b):
            if name not in values:
                raise ValueError(f"compare_family: {name!r} is not among the compared names {list(values)}")
        va, vb = values[a], values[b]
        if not isinstance(va, pd.Series) and not isinstance(vb, pd.Series):  # lists in seed order
            xa, xb = np.asarray(va, dtype=float), np.asarray(vb, dtype=float)
            xa, xb = xa[: len(xb)], xb[: len(xa)]
        else:
            sa, sb = _by_seed(va), _by_seed(vb)
            seeds = sa.index if sa.index.equals(sb.index) else sa.index.intersection(sb.index)
            xa, xb = sa.reindex(seeds).to_numpy(), sb.reindex(seeds).to_numpy()
        complete = np.isfinite(xa) & np.isfinite(xb)
        xa, xb, dropped = xa[complete], xb[complete], int((~complete).sum())
        nan = float("nan")
        untested = TestResult("TOST", nan, nan, len(xa), nan)
        margin = nan if m is None else float(m)
        if len(xa) == 0:
            empty = Interval(nan, nan, nan, nan, 0)
            test = TestResult("paired t", nan, nan, 0, nan)
            raw.append(Comparison(a, b, empty, test, untested, margin, alpha=alpha, diff90=empty, dropped=dropped))
            continue
        d = xb - xa
        if kfold:
            test, diff = corrected_kfold_t(d, *kfold), corrected_kfold_ci(d, *kfold, confidence)
            diff90 = corrected_kfold_ci(d, *kfold, 1 - 2 * alpha)
            tost = corrected_kfold_tost(d, *kfold, margin) if np.isfinite(margin) else untested
        else:
            test, diff, diff90 = paired_t(xa, xb), diff_ci(xa, xb, confidence), diff_ci(xa, xb, 1 - 2 * alpha)
            tost = equivalence(xa, xb, margin) if np.isfinite(margin) else untested
        raw.append(
            Comparison(
                a,
                b,
                diff,
                test,
                tost,
                margin,
                alpha=alpha,
                diff90=diff90,
                wins=int((d > 0).sum()),
                posterior=posterior(d, margin, kfold),
                dropped=dropped,
            )
        )
    p_holm = holm([c.test.p_value for c in raw])
    tost_holm = holm([c.tost.p_value for c in raw])
    family = int(sum(np.isfinite(c.test.p_value) for c in raw))
    tost_family = int(sum(np.isfinite(c.tost.p_value) for c in raw))
    out = []
    for c, p, q in zip(raw, p_holm, tost_holm):
        c = replace(c, family=family, tost_family=tost_family, p_holm=p, tost_holm=q)
        out.append(replace(c, outcome=_decide(c)))
    return out


def all_pairs(names: Sequence[str]) -> list[tuple[str, str]]:
    """Every unordered pair of `names`, k(k − 1)/2 of them: the family that ranks models without
    choosing one on the data first (a best model picked by its mean and then tested against the
    rest is tested on the data that chose it)."""
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]


def not_below(comparisons: Sequence[Comparison], names: Sequence[str]) -> list[str]:
    """The names no comparison of an all-pairs family shows below another: the models that may be
    the best, in the order of `names`."""
    below = {c.a if c.outcome.startswith("higher") else c.b for c in comparisons if c.outcome in DIFFERENT}
    return [n for n in names if n not in below]


def _span(low: float, high: float, scale: float) -> str:
    return "–" if not np.isfinite(low) else f"[{low * scale:+.2f}, {high * scale:+.2f}]".replace("-", "−")


def family_table(comparisons: Sequence[Comparison], scale: float = 100.0) -> pd.DataFrame:
    """One row per comparison: the difference with its 95% interval (×`scale`), raw and Holm-adjusted p
    of both tests side by side, the outcome; then the 90% interval (inside ±margin exactly when the
    unadjusted TOST rejects), the seeds where b is above a, and the posterior probabilities that b − a
    is below −margin, within ±margin or above +margin (`posterior`), which change no outcome."""
    rows = [
        {
            "comparison": f"{c.b} − {c.a}",
            "n": c.diff.n,
            "difference": c.diff.mean * scale,
            "ci_low": c.diff.low * scale,
            "ci_high": c.diff.high * scale,
            "p": c.test.p_value,
            "p_holm": c.p_holm,
            "p_tost": c.tost.p_value,
            "p_tost_holm": c.tost_holm,
            "outcome": c.outcome,
            "ci90": _span(c.diff90.low, c.diff90.high, scale) if c.diff90 else "–",
            "wins": f"{c.wins} of {c.diff.n}",
            "posterior": " / ".join("–" if not np.isfinite(x) else f"{x:.2f}" for x in c.posterior),
        }
        for c in comparisons
    ]
    return pd.DataFrame(rows, columns=list(rows[0]) if rows else ["comparison"]).set_index("comparison")


def mean_table(values: Mapping[str, Sequence[float]], confidence: float = 0.95) -> pd.DataFrame:
    """One row per name: mean, std, the confidence interval of the mean and n (`plots.ci_bars`)."""
    rows = []
    for name, vals in values.items():
        ci = mean_ci(vals, confidence)
        rows.append({"model": name, "mean": ci.mean, "std": ci.std, "ci_low": ci.low, "ci_high": ci.high, "n": ci.n})
    return pd.DataFrame(rows).set_index("model")


PILOT_SEEDS = 3  # seeds per configuration of the pilot `seeds="auto"` plans n from (seeds 0, 1, 2)


@dataclass(frozen=True)
class SeedChoice:
    """How many fresh seeds a design needs, chosen from a pilot before any of them is trained."""

    pilot: int  # seeds of the pilot
    n: int  # fresh seeds chosen (min(pilot, cap) ≤ n ≤ cap)
    cap: int
    needs: dict[str, float]  # comparison → seeds that decide it at the pilot's estimates (inf: never)
    power: float
    alpha: float  # per-comparison level used (α over the family size: Holm's strictest step)

    @property
    def undecidable(self) -> list[str]:
        """Comparisons that would need more seeds than the cap."""
        return [k for k, v in self.needs.items() if v > self.cap]


def choose_seeds(pilot: Sequence[Comparison], cap: int = 10, power: float = 0.8) -> SeedChoice:
    """The n that decides every comparison of a pilot family with `power`: at least the pilot's
    size (an estimate from 3 seeds is too rough to go below), at most `cap`.

    Uses the pilot's mean difference and its spread as the truth and α/m (m comparisons), the level
    Holm's first step uses, so the choice holds after the correction. The n counts fresh seeds: the
    pilot plans them and is never tested (`plan_seeds`).
    """
    pilot = list(pilot)
    n0 = max((c.diff.n for c in pilot), default=0)
    alpha = (pilot[0].alpha if pilot else 0.05) / max(len(pilot), 1)
    needs = {
        f"{c.b} − {c.a}": seeds_to_decide(c.diff.mean, c.diff.std, c.margin, alpha, power, cap)
        for c in pilot
        if c.diff.n >= 2
    }
    wanted = min(cap, max(needs.values(), default=n0))  # a comparison no n up to the cap decides gets the cap
    return SeedChoice(n0, int(max(min(n0, cap), wanted)), cap, needs, power, alpha)


@dataclass(frozen=True)
class SeedPlan:
    """The seeds every configuration of a design is trained with, and how they were chosen.

    `seeds` are the seeds whose runs are tested. Under `seeds="auto"` a pilot (`pilot_seeds`, seeds
    0 … PILOT_SEEDS − 1) is trained first to choose n, and the tested seeds are n fresh ones after
    it: the pilot's differences decide how many seeds to train, never what the test says. For a
    given number there is no pilot and the seeds are 0 … n − 1.
    """

    seeds: tuple[int, ...]
    pilot_seeds: tuple[int, ...] = ()
    choice: SeedChoice | None = None  # the pilot's choice under seeds="auto"

    def __post_init__(self):
        if set(self.seeds) & set(self.pilot_seeds):
            raise ValueError(f"SeedPlan: tested seeds {self.seeds} overlap the pilot's {self.pilot_seeds}")

    @property
    def n(self) -> int:
        return len(self.seeds)

    @classmethod
    def given(cls, n: int) -> SeedPlan:
        """n seeds, 0 … n − 1, without a pilot."""
        return cls(tuple(range(int(n))))


def plan_seeds(
    resolved: int | str,
    pilot: Callable[[Sequence[int]], Mapping[str, pd.Series]],
    pairs: Sequence[tuple[str, str]],
    margin: float,
    cap: int = 10,
    power: float = 0.8,
) -> SeedPlan:
    """The one rule every section, the decay study and the reproduction choose their seeds by.

    `resolved` is a number of seeds or "auto" (`config.resolve_seeds`). Under "auto", `pilot(seeds)`
    trains (or loads) seeds 0 … PILOT_SEEDS − 1 and returns one value per seed for each name of
    `pairs`; their family (`compare_family`) gives `choose_seeds` the n that decides every pair with
    `power` (at most `cap`), and the plan's tested seeds are the n seeds after the pilot.
    """
    if resolved != "auto":
        return SeedPlan.given(int(resolved))
    pilot_seeds = tuple(range(PILOT_SEEDS))
    choice = choose_seeds(compare_family(pilot(pilot_seeds), pairs, margin), cap, power)
    return SeedPlan(tuple(range(PILOT_SEEDS, PILOT_SEEDS + choice.n)), pilot_seeds, choice)


def class_scores(logits, loss: str = "ce") -> np.ndarray:
    """Per-class scores a Keras head would output: softmax for "ce"/"hinge", one sigmoid per class for "bce"."""
    z = np.asarray(logits, dtype=np.float64)
    if loss == "bce":
        return 1.0 / (1.0 + np.exp(-z))
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def keras_precision_recall(labels, scores, threshold: float = 0.5) -> tuple[float, float]:
    """Precision and recall as Keras's `Precision()` / `Recall()` metrics compute them for one-hot targets.

    Every (sample, class) slot is one binary decision: the one-hot target against the class score
    thresholded at `threshold`, counted over all slots (micro average). With softmax scores a sample
    whose top score is below 0.5 predicts no class at all, so it costs recall but not precision;
    that is why this precision can exceed the accuracy. Returns (precision, recall), 0 where undefined.
    """
    labels = np.asarray(labels)
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2 or len(scores) != len(labels):
        raise ValueError(
            f"keras_precision_recall needs (n, classes) scores for n labels, got {scores.shape} "
            f"for {len(labels)} labels"
        )
    target = np.zeros_like(scores, dtype=bool)
    target[np.arange(len(labels)), labels] = True
    predicted = scores > threshold
    tp = float(np.sum(predicted & target))
    fp = float(np.sum(predicted & ~target))
    fn = float(np.sum(~predicted & target))
    return (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0)


# ----------------------------------------------------------------------------------------------
# One new run against a reported figure (the reproduction, section 8)


def split_variance(p: float, ours: float, theirs: float | None = None) -> float:
    """The binomial variance both sides' own splits add to reported − our mean: p(1 − p)/theirs +
    p(1 − p)/ours, with `theirs` = `ours` (the study's size, which copies the report's split) when the
    report states none; 0 where `ours` is NaN (no split term)."""
    if not np.isfinite(ours):
        return 0.0
    theirs = ours if theirs is None else theirs
    q = min(max(p, 0.0), 1.0)
    return q * (1 - q) / theirs + q * (1 - q) / ours


def _predictive_half_width(s2: float, n: int, split: float, alpha: float) -> float:
    """√(t² · s²(1 + 1/n) + z² · split) at two-sided level `alpha`: t with n − 1 df for the part estimated
    from the seeds, the normal quantile z for the binomial part, which is computed, not estimated."""
    t, z = sps.t.isf(alpha / 2, n - 1), sps.norm.isf(alpha / 2)
    return math.sqrt(t * t * s2 * (1 + 1 / n) + z * z * split)


def prediction_interval_with_split(values, split: float = 0.0, confidence: float = 0.95) -> tuple[float, float]:
    """Where one new run of the same configuration, on a split of its own, falls: mean ±
    √(t² · s²(1 + 1/n) + z² · `split`) (`split_variance`; 0 gives `stats.prediction_interval`); nan for n < 2."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return float("nan"), float("nan")
    half = _predictive_half_width(float(x.var(ddof=1)), len(x), split, 1 - confidence)
    return float(x.mean() - half), float(x.mean() + half)


def predictive_p(values, reported: float, split: float = 0.0) -> float:
    """Two-sided p of `reported` against one new run: the α at which it lies on the edge of the 1 − α
    interval of `prediction_interval_with_split` (p < α exactly when it lies outside). Without a split term
    it is the t-test on (reported − mean)/(s√(1 + 1/n)) with n − 1 df; without spread over seeds, the
    normal test on (reported − mean)/√split. NaN for n < 2 or with neither spread nor split term."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n < 2:
        return float("nan")
    s2, gap = float(x.var(ddof=1)), abs(reported - float(x.mean()))
    total = s2 * (1 + 1 / n) + split
    if total <= 0:
        return float("nan")
    score = gap / math.sqrt(total)
    low, high = 2 * sps.norm.sf(score), 2 * sps.t.sf(score, n - 1)  # the root lies between (z ≤ t)
    if split == 0 or s2 == 0 or low <= 0 or high - low <= 1e-12 * high:
        return float(high if split == 0 else low)
    return float(
        brentq(
            lambda a: _predictive_half_width(s2, n, split, a) - gap, low, high, xtol=max(low * 1e-9, 1e-300), rtol=1e-12
        )
    )
