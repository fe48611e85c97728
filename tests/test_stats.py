"""Statistics on inputs whose answers are known by hand (formulas, not the functions under test)."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from fashion_cnn.analysis.stats import (
    choose_seeds,
    class_scores,
    cochran_q,
    compare_family,
    contingency,
    corrected_kfold_ci,
    corrected_kfold_t,
    corrected_kfold_tost,
    diff_ci,
    equivalence,
    equivalence_power,
    family_table,
    holm,
    keras_precision_recall,
    mcnemar_test,
    mean_ci,
    min_detectable,
    paired_t,
    prediction_interval,
    seeds_needed,
    seeds_to_decide,
)
from fashion_cnn.present import text


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
    p = 2 * sum(math.comb(10, k) for k in range(3)) / 2**10  # two-sided binomial(10, 1/2), k ≤ 2
    res = mcnemar_test(labels, pa, pb)
    assert res.name == "McNemar exact" and res.p_value == pytest.approx(p)
    with pytest.raises(ValueError, match="same samples"):
        contingency(labels, pa, pb[:-1])


def test_keras_precision_recall_on_a_tiny_example():
    labels = np.array([0, 1, 2, 0])
    scores = np.array(
        [
            [0.70, 0.20, 0.10],  # slot 0 above 0.5 and true: TP
            [0.40, 0.35, 0.25],  # nothing above 0.5: the true slot 1 is a FN (argmax is wrong too)
            [0.10, 0.60, 0.30],  # slot 1 above 0.5 but false: FP; the true slot 2: FN
            [0.55, 0.45, 0.00],  # TP
        ]
    )
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


def test_diff_ci_is_the_interval_of_the_paired_differences():
    a, b = [0.80, 0.82, 0.81, 0.79], [0.83, 0.83, 0.84, 0.80]
    d = np.subtract(b, a)  # 0.03, 0.01, 0.03, 0.01: mean 0.02, sd 0.011547
    half = 3.182446305284263 * d.std(ddof=1) / 2  # t(0.975, 3) from tables, √4 = 2
    ci = diff_ci(a, b)
    assert ci.mean == pytest.approx(0.02) and ci.n == 4
    assert (ci.low, ci.high) == pytest.approx((0.02 - half, 0.02 + half))
    with pytest.raises(ValueError, match="matched samples"):
        diff_ci([0.8], [0.8, 0.9])


def test_holm_on_a_fixed_vector():
    # sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → raised to the running max 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.2, 0.9]) == pytest.approx([0.4, 0.9])
    out = holm([0.01, float("nan"), 0.04])  # a comparison without a test is not part of the family
    assert out[0] == pytest.approx(0.02) and math.isnan(out[1]) and out[2] == pytest.approx(0.04)
    assert holm([]) == []
    from statsmodels.stats.multitest import multipletests

    for p in np.random.default_rng(0).uniform(0, 0.2, (20, 6)):  # the same numbers as statsmodels' Holm
        assert holm(p) == pytest.approx(multipletests(p, method="holm")[1].tolist())


def _tost_by_hand(a, b, margin):
    d = np.subtract(b, a)
    n = len(d)
    se = d.std(ddof=1) / math.sqrt(n)
    return max(sps.t.sf((d.mean() + margin) / se, n - 1), sps.t.cdf((d.mean() - margin) / se, n - 1))


def test_equivalence_is_a_paired_tost():
    a = np.array([0.900, 0.905, 0.898, 0.903, 0.901])
    same = a + np.array([0.001, -0.001, 0.0005, -0.0005, 0.0002])  # tiny differences, tight
    shifted = a + np.array([0.010, 0.012, 0.009, 0.011, 0.010])  # 1 point higher: outside ±0.5
    noisy = a + np.array([0.010, -0.012, 0.006, -0.008, 0.003])  # mean ≈ 0 but spread ≈ 1 point
    res = equivalence(a, same, 0.005)
    assert res.p_value == pytest.approx(_tost_by_hand(a, same, 0.005)) and res.p_value < 0.001
    for b, above in ((shifted, 0.5), (noisy, 0.05)):
        p = equivalence(a, b, 0.005).p_value
        assert p == pytest.approx(_tost_by_hand(a, b, 0.005)) and p > above
    assert math.isnan(equivalence([0.9], [0.9], 0.005).p_value)
    with pytest.raises(ValueError, match="margin"):
        equivalence(a, same, 0)


def _power_by_hand(effect, n, alpha):
    """Two-sided one-sample t-test power from the noncentral t (scipy), not statsmodels."""
    crit = sps.t.ppf(1 - alpha / 2, n - 1)
    nc = effect * math.sqrt(n)
    return sps.nct.sf(crit, n - 1, nc) + sps.nct.cdf(-crit, n - 1, nc)


def test_power_functions_against_the_noncentral_t():
    std = 0.004
    for n in (3, 5, 10):
        d = min_detectable(std, n)
        assert _power_by_hand(d / std, n, 0.05) == pytest.approx(0.8, abs=1e-4)
    assert math.isnan(min_detectable(std, 1))
    n = seeds_needed(0.003, 0.004)
    assert _power_by_hand(0.003 / 0.004, n, 0.05) >= 0.8 > _power_by_hand(0.003 / 0.004, n - 1, 0.05)
    assert seeds_needed(0.0, 0.004) == math.inf and seeds_needed(0.01, 0.0) == 2


def test_equivalence_power_and_seeds_to_decide():
    assert equivalence_power(0.006, 0.001, 10, 0.005) == 0  # the truth lies outside the margin
    assert equivalence_power(0.0, 0.0005, 10, 0.005) > 0.99
    assert equivalence_power(0.0, 0.003, 3, 0.005) < equivalence_power(0.0, 0.003, 8, 0.005)
    # a large difference is decided by the t-test, a null one by the TOST, a margin-sized one by neither soon
    assert seeds_to_decide(0.02, 0.004, 0.005) == seeds_needed(0.02, 0.004)
    n0 = seeds_to_decide(0.0, 0.002, 0.005)
    assert equivalence_power(0.0, 0.002, n0, 0.005) >= 0.8 > equivalence_power(0.0, 0.002, n0 - 1, 0.005)
    assert seeds_to_decide(0.003, 0.008, 0.005, cap=20) == math.inf  # needs ~58 for the t-test, ~100 for the TOST


def test_corrected_kfold_t_on_a_worked_example():
    d = np.array([0.010, 0.020, 0.015, 0.005, 0.012])  # mean 0.0124, sample variance 3.13e-05
    var = np.sum((d - 0.0124) ** 2) / 4
    se = math.sqrt(var * (1 / 5 + 12000 / 48000))  # Nadeau–Bengio: 1/k + n_test/n_train = 0.45
    t = 0.0124 / se
    res = corrected_kfold_t(d, 48000, 12000)
    assert res.statistic == pytest.approx(t) and res.p_value == pytest.approx(2 * sps.t.sf(t, 4)) and res.n == 5
    plain = paired_t(np.zeros(5), d)
    assert res.p_value > plain.p_value  # the correction widens the interval: the plain t-test is overconfident
    ci = corrected_kfold_ci(d, 48000, 12000)
    assert ci.high - ci.mean == pytest.approx(sps.t.ppf(0.975, 4) * se)
    tost = corrected_kfold_tost(d, 48000, 12000, 0.05)
    assert tost.p_value == pytest.approx(max(sps.t.sf((0.0124 + 0.05) / se, 4), sps.t.cdf((0.0124 - 0.05) / se, 4)))
    with pytest.raises(ValueError, match="positive sizes"):
        corrected_kfold_t(d, 0, 12000)


def test_prediction_interval_formula():
    values = [0.90, 0.91, 0.92]  # mean 0.91, sd 0.01
    half = 4.302652729911275 * 0.01 * math.sqrt(1 + 1 / 3)  # t(0.975, 2) from tables
    assert prediction_interval(values) == pytest.approx((0.91 - half, 0.91 + half))
    ci = mean_ci(values)
    assert ci.high - ci.mean < half  # one new run spreads wider than the mean
    assert all(math.isnan(x) for x in prediction_interval([0.9]))


def test_cochran_q_on_a_hand_made_table():
    x = np.array([[1, 1, 0], [1, 0, 0], [1, 1, 1], [0, 1, 0], [1, 1, 0], [1, 0, 0], [1, 1, 0], [0, 0, 0]])
    k, col, row = 3, x.sum(0), x.sum(1)  # columns 6, 5, 1; N = 12
    q = (k - 1) * (k * np.sum(col**2) - row.sum() ** 2) / (k * row.sum() - np.sum(row**2))
    res = cochran_q(x)
    assert res.statistic == pytest.approx(q) and res.p_value == pytest.approx(sps.chi2.sf(q, k - 1))
    with pytest.raises(ValueError, match="k ≥ 3"):
        cochran_q(x[:, :2])


def _family():
    a = np.array([0.900, 0.905, 0.898, 0.903, 0.901])
    return {
        "base": a,
        "better": a + np.array([0.020, 0.022, 0.019, 0.021, 0.020]),
        "same": a + np.array([0.001, -0.001, 0.0005, -0.0005, 0.0002]),
        "noisy": a + np.array([0.010, -0.012, 0.006, -0.008, 0.003]),
    }


def test_compare_family_decides_three_outcomes_with_holm():
    values = _family()
    out = compare_family(values, [("base", "better"), ("base", "same"), ("base", "noisy")], 0.005)
    assert [c.outcome for c in out] == ["higher", "equivalent", "inconclusive"]
    raw = [c.test.p_value for c in out]
    assert [c.p_holm for c in out] == pytest.approx(holm(raw)) and all(c.family == 3 for c in out)
    assert all(c.p_holm >= c.test.p_value for c in out)
    assert out[0].diff.mean == pytest.approx(0.0204)
    reverse = compare_family(values, [("better", "base")], 0.005)[0]
    assert reverse.outcome == "lower"
    table = family_table(out)
    assert list(table["outcome"]) == ["higher", "equivalent", "inconclusive"]
    assert table.loc["better − base", "difference"] == pytest.approx(2.04)
    with pytest.raises(ValueError, match="'other'"):
        compare_family(values, [("base", "other")], 0.005)


def test_holm_can_turn_a_raw_rejection_into_inconclusive():
    rng = np.random.default_rng(3)
    base = rng.normal(0.9, 0.002, 4)
    values = {"base": base, "x": base + np.array([0.004, 0.007, 0.001, 0.006])}  # raw p ≈ 0.03
    values.update({f"n{i}": base + rng.normal(0, 0.01, 4) for i in range(6)})
    alone = compare_family(values, [("base", "x")], 0.001)[0]
    family = compare_family(values, [("base", "x")] + [("base", f"n{i}") for i in range(6)], 0.001)[0]
    assert alone.test.p_value < 0.05 and alone.outcome == "higher"
    assert family.p_holm >= 0.05 and family.outcome == "inconclusive"


def test_compare_family_pairs_by_seed():
    import pandas as pd

    a = pd.Series([0.90, 0.91, 0.92, 0.93], index=[0, 1, 2, 3])
    b = pd.Series([0.95, 0.91, 0.93], index=[0, 2, 3])  # seed 1 missing: dropped from the pair
    c = compare_family({"a": a, "b": b}, [("a", "b")], 0.005)[0]
    assert c.diff.n == 3 and c.diff.mean == pytest.approx((0.05 - 0.01 + 0.0) / 3)
    empty = compare_family({"a": a, "b": pd.Series([0.9], index=[9])}, [("a", "b")], 0.005)[0]
    assert empty.diff.n == 0 and empty.outcome == "no test"


def test_kfold_family_uses_the_corrected_test():
    a = np.array([0.90, 0.91, 0.89, 0.90, 0.92])
    b = a + np.array([0.010, 0.020, 0.015, 0.005, 0.012])
    c = compare_family({"a": a, "b": b}, [("a", "b")], 0.005, kfold=(48000, 12000))[0]
    assert c.test.name == "corrected k-fold t"
    assert c.test.p_value == pytest.approx(corrected_kfold_t(b - a, 48000, 12000).p_value)


def test_choose_seeds_from_a_pilot():
    a = np.array([0.900, 0.905, 0.898])
    pilot = compare_family(
        {"a": a, "b": a + np.array([0.006, 0.002, 0.004]), "c": a + np.array([0.03, 0.031, 0.029])},
        [("a", "b"), ("a", "c")],
        0.005,
    )
    choice = choose_seeds(pilot, cap=10)
    b = pilot[0]
    assert choice.pilot == 3 and choice.alpha == pytest.approx(0.025)
    assert choice.needs["b − a"] == seeds_to_decide(b.diff.mean, b.diff.std, 0.005, 0.025, 0.8, 10)
    assert choice.n == min(10, max(choice.needs.values())) and choice.n >= 3
    tight = choose_seeds(compare_family({"a": a, "c": a + np.array([0.03, 0.031, 0.029])}, [("a", "c")], 0.005))
    assert tight.n == 3 and tight.undecidable == []  # the pilot already decides: no extra seeds


def test_sentences_say_only_what_the_tests_support():
    values = _family()
    better, same, noisy = compare_family(values, [("base", "better"), ("base", "same"), ("base", "noisy")], 0.005)
    s = text.comparison(better)
    assert s.startswith("`better` vs `base`, validation accuracy: +2.04 points, 95% CI ")
    assert "`better` is higher" in s and "Holm over 3 difference tests" in s and "equivalent" not in s
    s = text.comparison(same)
    assert "equivalent within ±0.50 points" in s and "higher" not in s and "lower" not in s
    s = text.comparison(noisy)
    assert "inconclusive at n=5" in s and "neither a difference" in s
    assert (
        " is higher" not in s
        and " is lower" not in s
        and "equivalent within" not in s.replace("nor equivalence within", "")
    )
    assert "−" in text.interval(noisy) or "+" in text.interval(noisy)
    assert text.p(0.0004) == "p<0.001" and text.p(0.0312) == "p=0.0312"


def test_mcnemar_per_seed_pairs_only_the_seeds_both_sides_have_and_cochran_needs_a_disagreement():
    from statsmodels.stats.contingency_tables import cochrans_q

    from fashion_cnn.analysis import stats

    rng = np.random.default_rng(7)
    labels = rng.integers(0, 10, 400)

    def guess(right: float) -> dict:
        pred = np.where(rng.random(400) < right, labels, (labels + 1) % 10)
        return {"labels": labels, "pred": pred}

    a = {0: guess(0.9), 1: guess(0.9), 2: guess(0.9)}
    b = {1: guess(0.7), 2: guess(0.7), 5: guess(0.7)}
    tests = stats.mcnemar_by_seed(a, b)
    assert list(tests) == [1, 2]  # seeds 0 and 5 have one side only
    for seed, t in tests.items():
        right_a, right_b = a[seed]["pred"] == labels, b[seed]["pred"] == labels
        assert t.n == int((right_a != right_b).sum()) and t.difference == pytest.approx(right_b.mean() - right_a.mean())
        assert t.p_value < 1e-6  # 90% against 70% right on 400 images
    three = [a[1], b[1], guess(0.8)]
    q = stats.cochran_over(three)
    expected = cochrans_q(np.column_stack([p["pred"] == labels for p in three]).astype(int))
    assert (q.statistic, q.p_value, q.n) == pytest.approx((expected.statistic, expected.pvalue, 3))
    same = stats.cochran_over([a[0], a[0], a[0]])  # every model right on the same images: nothing to test
    assert np.isnan(same.statistic) and np.isnan(same.p_value) and same.n == 3
