"""Statistics on inputs whose answers are known by hand (formulas, not the functions under test)."""

import math

import numpy as np
import pytest

from fashion_cnn.stats import (class_scores, compare_variants, contingency, direction_verdict, discussion,
                               keras_precision_recall, mcnemar_test, mean_ci, paired_t)


def test_mean_ci_of_a_known_sample():
    ci = mean_ci([1, 2, 3, 4, 5])
    t_975_4 = 2.7764451051977987  # Student t quantile, 4 degrees of freedom (tables)
    half = t_975_4 * math.sqrt(2.5) / math.sqrt(5)
    assert ci.mean == 3 and ci.std == pytest.approx(math.sqrt(2.5)) and ci.n == 5
    assert (ci.low, ci.high) == pytest.approx((3 - half, 3 + half))
    one = mean_ci([0.9])
    assert one.std == 0 and math.isnan(one.low) and math.isnan(one.high)
    with pytest.raises(ValueError, match="at least one value"):
        mean_ci([])


def test_paired_t_matches_the_hand_formula():
    a = np.array([0.80, 0.82, 0.81])
    b = np.array([0.83, 0.84, 0.85])
    d = b - a  # 0.03, 0.02, 0.04: mean 0.03, sd 0.01
    t = d.mean() / (d.std(ddof=1) / math.sqrt(3))
    p = 1 - t / math.sqrt(2 + t * t)  # two-sided p of Student t with 2 degrees of freedom, closed form
    res = paired_t(a, b)
    assert res.statistic == pytest.approx(t) and res.p_value == pytest.approx(p)
    assert res.difference == pytest.approx(0.03) and res.n == 3 and res.significant(0.05) == (p < 0.05)


def test_paired_t_without_a_test():
    assert math.isnan(paired_t([0.8], [0.9]).p_value)
    assert math.isnan(paired_t([0.8, 0.7], [0.9, 0.8]).p_value)  # identical differences: no variance
    with pytest.raises(ValueError, match="matched samples"):
        paired_t([0.8, 0.7], [0.9])


def _predictions(both: int, only_a: int, only_b: int, neither: int):
    """Labels and two models' predictions with the given 2x2 (right/wrong) counts."""
    n = both + only_a + only_b + neither
    labels = np.zeros(n, dtype=int)
    a_right = np.r_[np.ones(both + only_a), np.zeros(only_b + neither)].astype(bool)
    b_right = np.r_[np.ones(both), np.zeros(only_a), np.ones(only_b), np.zeros(neither)].astype(bool)
    return labels, np.where(a_right, 0, 1), np.where(b_right, 0, 2)


def test_mcnemar_chi2_on_a_hand_made_table():
    labels, pa, pb = _predictions(both=50, only_a=10, only_b=30, neither=10)
    assert contingency(labels, pa, pb).tolist() == [[50, 10], [30, 10]]
    stat = (abs(10 - 30) - 1) ** 2 / (10 + 30)  # continuity-corrected McNemar: 9.025
    p = math.erfc(math.sqrt(stat / 2))  # chi-square(1) survival function
    res = mcnemar_test(labels, pa, pb)
    assert res.name == "McNemar χ²" and res.n == 40
    assert res.statistic == pytest.approx(stat) and res.p_value == pytest.approx(p)
    assert res.difference == pytest.approx((80 - 60) / 100)


def test_mcnemar_exact_on_few_discordant_pairs():
    labels, pa, pb = _predictions(both=20, only_a=2, only_b=8, neither=0)
    p = 2 * sum(math.comb(10, k) for k in range(3)) / 2 ** 10  # two-sided binomial(10, 1/2), k ≤ 2
    res = mcnemar_test(labels, pa, pb)
    assert res.name == "McNemar exact" and res.p_value == pytest.approx(p)
    with pytest.raises(ValueError, match="same samples"):
        contingency(labels, pa, pb[:-1])


def test_keras_precision_recall_on_a_tiny_example():
    labels = np.array([0, 1, 2, 0])
    scores = np.array([
        [0.70, 0.20, 0.10],  # slot 0 above 0.5 and true: TP
        [0.40, 0.35, 0.25],  # nothing above 0.5: the true slot 1 is a FN (argmax is wrong too)
        [0.10, 0.60, 0.30],  # slot 1 above 0.5 but false: FP; the true slot 2: FN
        [0.55, 0.45, 0.00],  # TP
    ])
    precision, recall = keras_precision_recall(labels, scores)
    assert precision == pytest.approx(2 / 3) and recall == pytest.approx(2 / 4)
    accuracy = (scores.argmax(1) == labels).mean()
    assert accuracy == 0.5 < precision  # why R1's precision exceeds its accuracy
    sigmoid = np.array([[0.9, 0.8, 0.1], [0.2, 0.7, 0.6], [0.1, 0.1, 0.9], [0.6, 0.1, 0.1]])  # many slots may fire
    assert keras_precision_recall(labels, sigmoid) == pytest.approx((4 / 6, 4 / 4))
    assert keras_precision_recall(labels, np.zeros((4, 3))) == (0.0, 0.0)
    with pytest.raises(ValueError, match="scores"):
        keras_precision_recall(labels, scores[:3])


def test_class_scores_are_softmax_or_sigmoid():
    logits = np.array([[0.0, math.log(3.0)], [2.0, -2.0]])
    assert class_scores(logits)[0] == pytest.approx([0.25, 0.75])
    assert class_scores(logits).sum(1) == pytest.approx([1, 1])
    assert class_scores(logits, "bce")[1] == pytest.approx([1 / (1 + math.exp(-2)), 1 / (1 + math.exp(2))])


def test_direction_verdict():
    a = np.array([0.80, 0.81, 0.82, 0.80])
    b = a + np.array([0.05, 0.06, 0.05, 0.07])
    assert direction_verdict(a, b, ">")[0] == "supported"
    assert direction_verdict(a, b, "<")[0] == "contradicted"
    assert direction_verdict(a, b, "≈")[0] == "contradicted"
    noisy = a + np.array([0.02, -0.03, 0.01, -0.01])
    assert direction_verdict(a, noisy, ">")[0] == "not detectable at n=4"
    assert direction_verdict(a, noisy, "≈")[0] == "consistent"
    assert direction_verdict([0.8], [0.9], ">")[0] == "no test at n=1"
    with pytest.raises(ValueError, match="direction"):
        direction_verdict(a, b, ">=")


def test_discussion_claims_only_what_the_test_supports():
    values = {"base": [0.80, 0.81, 0.82], "better": [0.85, 0.87, 0.87], "same": [0.81, 0.80, 0.83]}
    table = compare_variants(values, "base")
    assert table.loc["better", "significant"] and not table.loc["same", "significant"]
    better, same = discussion(table, "base")
    assert "better is higher" in better
    assert "no detectable difference at n=3" in same and "higher" not in same
    with pytest.raises(ValueError, match="baseline 'other'"):
        compare_variants(values, "other")
