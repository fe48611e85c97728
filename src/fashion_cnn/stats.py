"""Statistics for honest comparisons: mean ± std with a t-interval, a paired test across seeds and
McNemar's test on paired test-set predictions (statsmodels / scipy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar


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


def paired_t(a, b) -> TestResult:
    """Paired t-test of b against a over matched seeds (nan p-value when n < 2 or no variance)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired_t needs matched samples, got {a.shape} and {b.shape}")
    d = b - a
    if len(d) < 2 or np.allclose(d, d[0]):
        return TestResult("paired t", float("nan"), float("nan"), len(d), float(d.mean()) if len(d) else float("nan"))
    res = sps.ttest_rel(b, a)
    return TestResult("paired t", float(res.statistic), float(res.pvalue), len(d), float(d.mean()))


def contingency(labels, pred_a, pred_b) -> np.ndarray:
    """2x2 counts of (a right?, b right?): [[both right, only a right], [only b right, both wrong]]."""
    labels, pred_a, pred_b = map(np.asarray, (labels, pred_a, pred_b))
    if not labels.shape == pred_a.shape == pred_b.shape:
        raise ValueError(f"contingency needs predictions of the same samples, got shapes "
                         f"{labels.shape}, {pred_a.shape}, {pred_b.shape}")
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
    return TestResult("McNemar exact" if exact else "McNemar χ²", float(res.statistic), float(res.pvalue),
                      discordant, float((pred_b == labels).mean() - (pred_a == labels).mean()))


def compare_variants(values: dict[str, list[float]], baseline: str, alpha: float = 0.05,
                     confidence: float = 0.95) -> "pd.DataFrame":
    """One row per model: mean, std, confidence interval, n, and the paired t-test against `baseline`.

    `values` maps model name → one value per seed, seeds in the same order for every model.
    """
    import pandas as pd

    if baseline not in values:
        raise ValueError(f"baseline {baseline!r} is not among the compared models {list(values)}")
    rows = []
    for model, vals in values.items():
        ci = mean_ci(vals, confidence)
        row = {"model": model, "mean": ci.mean, "std": ci.std, "ci_low": ci.low, "ci_high": ci.high, "n": ci.n}
        if model != baseline:
            test = paired_t(values[baseline], vals)
            row.update(diff=test.difference, p_value=test.p_value, significant=test.significant(alpha))
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")


def discussion(table: "pd.DataFrame", baseline: str, what: str = "validation accuracy",
               alpha: float = 0.05, scale: float = 100.0, unit: str = " points") -> list[str]:
    """Sentences comparing every variant with the baseline, generated from `compare_variants`' table.

    A difference is claimed only when the paired test's p-value is below `alpha`; otherwise the
    sentence says no difference was detectable at that n.
    """
    base = table.loc[baseline]
    out = []
    for model, row in table.drop(index=baseline).iterrows():
        diff = row["diff"] * scale
        head = (f"{model} vs {baseline}: mean {what} {row['mean'] * scale:.2f} vs {base['mean'] * scale:.2f} "
                f"(difference {diff:+.2f}{unit}, n={int(row['n'])} seeds")
        if not np.isfinite(row["p_value"]):
            out.append(head + "); too few seeds for a test, so no difference can be claimed.")
        elif row["significant"]:
            word = "higher" if diff > 0 else "lower"
            out.append(head + f", paired t p={row['p_value']:.3f}): {model} is {word}, a difference the test supports at α={alpha}.")
        else:
            out.append(head + f", paired t p={row['p_value']:.3f}): no detectable difference at n={int(row['n'])}.")
    return out


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
        raise ValueError(f"keras_precision_recall needs (n, classes) scores for n labels, got {scores.shape} "
                         f"for {len(labels)} labels")
    target = np.zeros_like(scores, dtype=bool)
    target[np.arange(len(labels)), labels] = True
    predicted = scores > threshold
    tp = float(np.sum(predicted & target))
    fp = float(np.sum(predicted & ~target))
    fn = float(np.sum(~predicted & target))
    return (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0)


def direction_verdict(a, b, direction: str, alpha: float = 0.05) -> tuple[str, TestResult]:
    """Whether matched samples support the claim "b `direction` a" (direction ">", "<" or "≈").

    ">"/"<" is "supported" only when the paired t-test finds a difference in that direction at
    `alpha`, "contradicted" when it finds one the other way, else "not detectable at n=…".
    "≈" is "consistent" when no difference is detectable and "contradicted" when one is. Fewer
    than two seeds (or identical differences) give "no test at n=…".
    """
    if direction not in (">", "<", "≈"):
        raise ValueError(f"direction {direction!r} must be '>', '<' or '≈'")
    test = paired_t(a, b)
    if not np.isfinite(test.p_value):
        return f"no test at n={test.n}", test
    found = test.significant(alpha)
    if direction == "≈":
        return ("contradicted" if found else "consistent"), test
    if not found:
        return f"not detectable at n={test.n}", test
    agrees = (test.difference > 0) == (direction == ">")
    return ("supported" if agrees else "contradicted"), test
