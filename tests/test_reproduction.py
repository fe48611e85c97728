"""The reproduction: figures as data, the table's logic on synthetic runs, and one tiny real measure()."""

import dataclasses
import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from fashion_cnn.analysis import stats
from fashion_cnn.analysis.stats import SeedPlan, cochran_q, diff_ci, holm, mean_ci, paired_t, prediction_interval
from fashion_cnn.config import get_profile
from fashion_cnn.present import plots, tables
from fashion_cnn.present import text as wording
from fashion_cnn.present.text import count
from fashion_cnn.sections import claims as claim_tests
from fashion_cnn.sections import reproduction as rep
from fashion_cnn.sections import variants as variants_section
from fashion_cnn.studies import Arm, Study, get_study, sources
from fashion_cnn.studies.study import check
from fashion_cnn.train.training import get_or_train

R0_BEST = get_study("R0").variants[-1]  # R0's model 5
TINY = dataclasses.replace(get_profile("quick"), epochs=1, subset=300, seeds=2, folds=2, test_subset=200)


def test_a_figure_or_claim_naming_what_its_study_does_not_measure_is_refused_when_the_facts_load():
    r0 = get_study("R0")
    check(r0, [rep.Reported("R0", "t", "lenet5", "holdout", "val_acc", 0.9)], [])  # measured: fine
    with pytest.raises(ValueError, match=r"R0 \(t\): no arm 'lenet6'"):
        check(r0, [rep.Reported("R0", "t", "lenet6", "holdout", "val_acc", 0.9)], [])
    with pytest.raises(ValueError, match=r"R0 \(t\): lenet5_3x3 is never evaluated under 'trainval-test'"):
        check(r0, [rep.Reported("R0", "t", "lenet5_3x3", "trainval-test", "test_acc", 0.9)], [])
    with pytest.raises(ValueError, match=r"R0 \(t\): unknown metric 'val_f2'"):
        check(r0, [rep.Reported("R0", "t", "lenet5", "holdout", "val_f2", 0.9)], [])
    bad = rep.Claim("R0", "t", "lenet5", "lenet5_3x3", "kfold-mean", "val_acc", ">", "x")
    with pytest.raises(ValueError, match=r"R0 \(t\): lenet5_3x3 is never evaluated under 'kfold-mean'"):
        check(r0, [], [bad])


def _values(rows):
    return pd.DataFrame(
        [
            {"study": s, "arm": a, "setting": st, "metric": m, "seed": i, "value": v}
            for s, a, st, m, vals in rows
            for i, v in enumerate(vals)
        ]
    )


FIGS = (
    rep.Reported("R0", "t", "a", "holdout", "val_acc", 0.90),
    rep.Reported("R0", "t", "b", "holdout", "val_acc", 0.90),
    rep.Reported("R0", "t", "c", "holdout", "val_acc", 0.90),
    rep.Reported("R0", "t", "d", "holdout", "val_acc", 0.90),
    rep.Reported("R0", "t", "a", "holdout", "val_loss", 0.30),
)


def test_reproduction_table_on_synthetic_runs():
    values = _values(
        [
            ("R0", "a", "holdout", "val_acc", [0.89, 0.90, 0.91]),
            ("R0", "b", "holdout", "val_acc", [0.80, 0.81, 0.82]),
            ("R0", "c", "holdout", "val_acc", [0.70]),
            ("R0", "a", "holdout", "val_loss", [0.40, 0.42, 0.41]),
            ("R1", "a", "holdout", "val_acc", [0.10, 0.10]),
        ]
    )  # another report: never mixed in
    table = rep.reproduction_table(values, FIGS).set_index(["arm", "metric"])
    a = table.loc[("a", "val_acc")]
    ci = mean_ci([0.89, 0.90, 0.91])
    pi = prediction_interval([0.89, 0.90, 0.91])
    assert (a["mean"], a["ci_low"], a["ci_high"], a["n"]) == pytest.approx((ci.mean, ci.low, ci.high, 3))
    assert (a["pi_low"], a["pi_high"]) == pytest.approx(pi) and a["pi_low"] < a["ci_low"] < a["ci_high"] < a["pi_high"]
    assert a["inside"] is True and a["difference"] == pytest.approx(0.0)
    b = table.loc[("b", "val_acc")]
    assert b["inside"] is False and b["difference"] == pytest.approx(0.09)
    assert table.loc[("c", "val_acc")]["inside"] is None and table.loc[("c", "val_acc")]["n"] == 1
    assert math.isnan(table.loc[("c", "val_acc")]["pi_low"])
    d = table.loc[("d", "val_acc")]
    assert d["n"] == 0 and math.isnan(d["mean"]) and d["inside"] is None
    assert table.loc[("a", "val_loss")]["difference"] == pytest.approx(0.30 - 0.41)

    shown = tables.display_table(rep.reproduction_table(values, FIGS))
    assert (
        shown.loc[0, "reported"] == "90.00"
        and shown.loc[0, tables.INSIDE_COLUMN].startswith("yes (")
        and shown.loc[3, tables.INSIDE_COLUMN] == "n/a"
    )
    assert shown.loc[4, "reported"] == "0.3000" and shown.loc[1, "difference"] == "9.00"
    assert shown.loc[0, tables.PI_COLUMN].startswith(f"[{pi[0] * 100:.2f}, {pi[1] * 100:.2f}]")
    assert shown.loc[0, tables.CI_COLUMN] == f"[{ci.low * 100:.2f}, {ci.high * 100:.2f}]"

    text = wording.commentary(rep.reproduction_table(values, FIGS), profile="quick")
    assert text[0].startswith("2 of the 3 reported figures with an interval lie outside our 95% prediction interval")
    assert "in the quick profile, n = 3 seeds per configuration" in text[0]
    assert "1 of the 3 lie inside the narrower 95% confidence interval of our mean" in text[0]
    assert "1 of the 5 figures: not run." in text and "1 of the 5 figures: a single seed, so no interval." in text
    assert any("largest accuracy gap is c val_acc" in t and "+20.00 points" in t for t in text)
    assert any("largest loss gap is a val_loss" in t and "−0.1100" in t for t in text)
    assert {"val_acc", "val_loss", "holdout"} <= set(tables.definitions(rep.reproduction_table(values, FIGS))["term"])


def test_inside_means_inside_the_prediction_interval_not_the_ci_of_the_mean():
    runs = [0.89, 0.90, 0.91]  # mean 0.90, s 0.01: CI ±2.48 points, PI ±4.97 points
    ci, (low, high) = mean_ci(runs), prediction_interval(runs)
    figs = (
        rep.Reported("R0", "t", "a", "holdout", "val_acc", 0.93),  # outside the CI, inside the PI
        rep.Reported("R0", "t", "a", "holdout", "val_acc", 0.96),  # outside both
        rep.Reported("R0", "t", "a", "holdout", "val_acc", 0.87),
    )  # outside the CI below, inside the PI
    assert ci.high < 0.93 < high and 0.96 > high and low < 0.87 < ci.low
    table = rep.reproduction_table(_values([("R0", "a", "holdout", "val_acc", runs)]), figs)
    assert table["inside"].tolist() == [True, False, True]
    assert wording.commentary(table)[0].startswith(
        "1 of the 3 reported figures with an interval lie outside our 95% prediction interval"
    )
    assert "0 of the 3 lie inside the narrower 95% confidence interval of our mean" in wording.commentary(table)[0]
    # a prediction interval reaching past 100 % is shown clipped to what an accuracy can be
    wide = rep.reproduction_table(_values([("R0", "a", "holdout", "val_acc", [0.95, 0.99])]), figs[:1])
    assert wide.loc[0, "pi_high"] > 1 and tables.display_table(wide).loc[0, tables.PI_COLUMN].endswith(", 100.00]")


def _sized(rows, train_size=48_000, val_size=12_000):
    """`_values` with the images of each run's parts, as `measure` records them."""
    return _values(rows).assign(train_size=float(train_size), val_size=float(val_size))


def _half(runs, split, confidence=0.95):
    """The widened half-width, computed here from its definition: √(t² s²(1 + 1/n) + z² split)."""
    n, s2 = len(runs), np.var(runs, ddof=1)
    t, z = sps.t.ppf(0.5 + confidence / 2, n - 1), sps.norm.ppf(0.5 + confidence / 2)
    return math.sqrt(t**2 * s2 * (1 + 1 / n) + z**2 * split)


RUNS = [0.899, 0.900, 0.901]  # mean 0.90, s = 0.1 points: the narrow PI is ±0.50 points


def test_a_holdout_figure_is_judged_with_both_splits_binomial_variance():
    # 0.8 points off: outside the training-noise-only interval; each split of 12,000 validation images
    # at p = 0.9 has a binomial sd of 0.27 points, which puts it inside
    figs = (
        rep.Reported("R0", "t", "a", "holdout", "val_acc", 0.908),
        rep.Reported("R0", "t", "a", "holdout", "train_acc", 0.908),
        rep.Reported("R0", "t", "a", "kfold-mean", "val_acc", 0.908),
        rep.Reported("R0", "t", "a", "kfold-max", "val_acc", 0.908),
    )
    values = _sized(
        [
            ("R0", "a", "holdout", "val_acc", RUNS),
            ("R0", "a", "holdout", "train_acc", RUNS),
            ("R0", "a", "kfold-mean", "val_acc", RUNS),
            ("R0", "a", "kfold-max", "val_acc", RUNS),
        ]
    )
    narrow = prediction_interval(RUNS)
    assert not narrow[0] <= 0.908 <= narrow[1]  # what the table said before the split was counted
    table = rep.reproduction_table(values, figs).set_index(["setting", "metric"])
    # hold-out validation: 12,000 images each side; hold-out training: 48,000; k-fold mean: the pool of
    # 60,000 (every image validated once); k-fold max: one fold's 12,000
    for key, images in (
        (("holdout", "val_acc"), 12_000),
        (("holdout", "train_acc"), 48_000),
        (("kfold-mean", "val_acc"), 60_000),
        (("kfold-max", "val_acc"), 12_000),
    ):
        row, split = table.loc[key], 2 * 0.9 * 0.1 / images
        assert row["interval"] == tables.SPLIT_INTERVAL and row["split_images"] == images
        assert row["split_sd"] == pytest.approx(math.sqrt(split))
        half = _half(RUNS, split)
        assert (row["pi_low"], row["pi_high"]) == pytest.approx((0.9 - half, 0.9 + half))
    assert table.loc[("holdout", "val_acc"), "inside"] is True  # ±0.91 points now
    assert table.loc[("kfold-mean", "val_acc"), "inside"] is False  # 60,000 images: ±0.62 points
    # a report that states its own split size: each side's term with its own n
    assert stats.split_variance(0.9, 12_000, 6_000) == pytest.approx(0.09 / 12_000 + 0.09 / 6_000)


def test_test_set_losses_and_unrecorded_sizes_keep_the_training_noise_interval():
    figs = (
        rep.Reported("R0", "t", "a", "holdout-test", "test_acc", 0.908),  # the same test images on both sides
        rep.Reported("R0", "t", "a", "trainval", "train_acc", 0.908),  # all training images on both sides
        rep.Reported("R0", "t", "a", "holdout", "val_loss", 0.908),  # no binomial form
        rep.Reported("R0", "t", "a", "holdout", "epoch_seconds", 0.908),
    )
    rows = [("R0", "a", f.setting, f.metric, RUNS) for f in figs]
    table = rep.reproduction_table(_sized(rows), figs)
    assert table["interval"].tolist() == [
        tables.SAME_IMAGES,
        tables.SAME_IMAGES,
        tables.NO_BINOMIAL,
        tables.NO_BINOMIAL,
    ]
    narrow = prediction_interval(RUNS)
    for _, row in table.iterrows():
        assert (row["pi_low"], row["pi_high"]) == pytest.approx(narrow)
        assert row["split_sd"] == 0 and math.isnan(row["split_images"]) and row["inside"] is False
    not_run = rep.reproduction_table(_sized(rows), FIGS[3:4])  # arm d has no runs: no interval to name
    assert not_run.loc[0, "interval"] == "" and not_run.loc[0, "inside"] is None
    # values without the parts' sizes: no split term, and the table says so
    unknown = rep.reproduction_table(
        _values([("R0", "a", "holdout", "val_acc", RUNS)]), (rep.Reported("R0", "t", "a", "holdout", "val_acc", 0.9),)
    )
    assert unknown.loc[0, "interval"] == tables.SIZE_UNKNOWN and (
        unknown.loc[0, "pi_low"],
        unknown.loc[0, "pi_high"],
    ) == (pytest.approx(narrow))
    shown = tables.display_table(table)
    assert not any(cell.endswith(tables.SPLIT_MARK) for cell in shown[tables.PI_COLUMN])  # no split term in these four
    assert len(shown.columns) == 11  # what the page's width holds


def test_the_predictive_p_is_the_level_at_which_the_figure_meets_the_interval():
    split = 2 * 0.9 * 0.1 / 12_000
    low, high = stats.prediction_interval_with_split(RUNS, split)
    assert stats.predictive_p(RUNS, high, split) == pytest.approx(0.05, rel=1e-6)
    assert stats.predictive_p(RUNS, low, split) == pytest.approx(0.05, rel=1e-6)
    low99, _ = stats.prediction_interval_with_split(RUNS, split, 0.99)
    assert stats.predictive_p(RUNS, low99, split) == pytest.approx(0.01, rel=1e-6)
    assert stats.predictive_p(RUNS, 0.9, split) == pytest.approx(1.0)
    # no split term: the t-test with n − 1 df on the standardised difference
    s = np.std(RUNS, ddof=1)
    t = 0.008 / (s * math.sqrt(1 + 1 / 3))
    assert stats.predictive_p(RUNS, 0.908) == pytest.approx(2 * sps.t.sf(t, 2))
    # no spread over seeds: the normal test on the split's binomial error alone
    assert stats.predictive_p([0.9] * 3, 0.908, split) == pytest.approx(2 * sps.norm.sf(0.008 / math.sqrt(split)))
    assert math.isnan(stats.predictive_p([0.9] * 3, 0.908)) and math.isnan(stats.predictive_p([0.9], 0.908, split))
    farther = [stats.predictive_p(RUNS, x, split) for x in (0.911, 0.93, 0.95)]
    assert 0.05 > farther[0] > farther[1] > farther[2] > 0


def test_outside_is_decided_by_holm_over_each_reports_figures():
    figs = (
        rep.Reported("R0", "t", "a", "holdout", "val_acc", 0.900),  # on our mean
        rep.Reported("R0", "t", "b", "holdout", "val_acc", 0.911),  # outside the PI, p ≈ 0.03: not after Holm
        rep.Reported("R0", "t", "c", "holdout", "val_acc", 0.940),  # far off
        rep.Reported("R0", "t", "d", "holdout", "val_acc", 0.900),  # not run: no p, not in the family
        rep.Reported("R1", "t", "b", "holdout", "val_acc", 0.911),  # another report, its own family
    )
    values = _sized(
        [(r, arm, "holdout", "val_acc", RUNS) for r, arm in (("R0", "a"), ("R0", "b"), ("R0", "c"), ("R1", "b"))]
    )
    table = rep.reproduction_table(values, figs)
    r0 = table[table["report"] == "R0"]
    assert r0["p_holm"].tolist()[:3] == pytest.approx(holm(r0["p"].tolist()[:3]))  # d's nan left out
    assert math.isnan(r0["p"].iloc[3]) and math.isnan(r0["p_holm"].iloc[3])
    assert r0["p_holm"].iloc[1] == pytest.approx(min(1.0, max(2 * r0["p"].iloc[1], r0["p_holm"].iloc[2])))
    r1 = table[table["report"] == "R1"].iloc[0]
    assert r1["p_holm"] == pytest.approx(r1["p"]) == pytest.approx(r0["p"].iloc[1])  # a family of one
    assert table["inside"].tolist() == [True, False, False, None, False]
    assert table["outside"].tolist() == [False, False, True, None, True]
    assert 0.01 < r0["p"].iloc[1] < 0.05 < r0["p_holm"].iloc[1]

    chance = rep.expected_outside(table).set_index("report")
    assert chance.loc["R0"].tolist() == pytest.approx([3, 2, 0.15, 1]) and chance.loc["R1"].tolist() == pytest.approx(
        [1, 1, 0.05, 1]
    )
    (sentence,) = [t for t in wording.commentary(r0) if "prediction interval" in t]
    assert sentence.startswith("2 of the 3 reported figures with an interval lie outside our 95% prediction interval")
    assert "chance alone would put about 0.15 of 3 outside" in sentence
    assert (
        "After Holm over the report's 3 figures, 1 differs from ours (Holm p < 0.05): c val_acc (holdout, Holm p"
        in sentence
    )
    shown = tables.display_table(table)
    assert shown.loc[2, tables.INSIDE_COLUMN] == f"no (<0.001; {r0['p_holm'].iloc[2]:.3g})"
    assert shown.loc[3, tables.INSIDE_COLUMN] == "n/a" and shown.loc[1, tables.INSIDE_COLUMN].startswith("no (")


def test_the_widened_interval_covers_an_independent_reports_run_by_simulation():
    # a true accuracy p; every run of ours shares one split (its binomial offset), each seed adds training
    # noise σ; the report's run has a split of its own and its own training noise
    rng = np.random.default_rng(0)
    p, images, sigma, n, reports = 0.9, 12_000, 0.001, 3, 2_000
    split = 2 * p * (1 - p) / images
    wide = narrow = 0
    for _ in range(reports):
        ours = rng.binomial(images, p) / images + rng.normal(0, sigma, n)
        theirs = rng.binomial(images, p) / images + rng.normal(0, sigma)
        low, high = stats.prediction_interval_with_split(ours, stats.split_variance(ours.mean(), images))
        wide += low <= theirs <= high
        low, high = prediction_interval(ours)
        narrow += low <= theirs <= high
    assert 0.93 <= wide / reports <= 0.99  # not the 100% of t with n − 1 df on the binomial part too
    assert narrow / reports < 0.75
    assert stats.split_variance(p, images) == pytest.approx(split)


def _preds(correct: int, n: int = 100) -> dict[str, np.ndarray]:
    """Predictions right on the first `correct` of `n` images of class 0."""
    return {"labels": np.zeros(n, dtype=int), "pred": np.r_[np.zeros(correct), np.ones(n - correct)].astype(int)}


def test_claims_table_tests_direction_and_mcnemar():
    preds = {}
    for seed in range(3):
        preds[("R9", "a", "holdout-test", seed)] = _preds(60)
        preds[("R9", "b", "holdout-test", seed)] = _preds(90)
    values = _values(
        [
            ("R9", "a", "holdout-test", "test_acc", [0.60, 0.61, 0.59]),
            ("R9", "b", "holdout-test", "test_acc", [0.90, 0.92, 0.91]),
        ]
    )
    claims = (
        rep.Claim("R9", "t", "a", "b", "holdout-test", "test_acc", ">", "b beats a"),
        rep.Claim("R9", "t", "a", "b", "holdout-test", "test_acc", "<", "b loses to a"),
        rep.Claim("R9", "t", "a", "c", "holdout-test", "test_acc", ">", "c was never run"),
    )
    table = rep.claims_table(rep.Measurements(values, preds), claims)
    assert table["verdict"].tolist() == ["supported", "contradicted", "not run"]
    assert table["outcome"].tolist() == ["higher", "higher", "not run"]
    diff = diff_ci([0.60, 0.61, 0.59], [0.90, 0.92, 0.91])
    row = table.loc[0]
    assert (row["difference"], row["diff_low"], row["diff_high"], row["n"]) == pytest.approx(
        (0.31, diff.low, diff.high, 3)
    )
    assert row["p"] == pytest.approx(paired_t([0.60, 0.61, 0.59], [0.90, 0.92, 0.91]).p_value)
    assert row["family"] == 2 and row["p_holm"] == pytest.approx(2 * row["p"])  # Holm over the two claims run
    p = math.erfc(math.sqrt(((30 - 1) ** 2 / 30) / 2))  # 30 discordant pairs, all for b
    assert table.loc[0, "mcnemar_p"] == pytest.approx((p, p, p)) and table.loc[0, "mcnemar_n"] == 3
    assert table.loc[0, "mcnemar_p_holm"] == pytest.approx((6 * p,) * 3)  # Holm over the report's 6 McNemar tests
    assert table.loc[0, "mcnemar_family"] == 6 and table.loc[0, "mcnemar_diff"] == pytest.approx((0.3,) * 3)
    assert table.loc[0, "mcnemar_agree"] == 3 and table.loc[1, "mcnemar_agree"] == 0
    assert pd.isna(table.loc[2, "mcnemar_agree"]) and table.loc[2, "mcnemar_p"] == ()  # never run: not tested
    shown = rep.Reproduction(
        "full", rep.Measurements(values, preds), pd.DataFrame(columns=["report"]), table
    ).claim_rows("R9")
    assert (table.loc[0, "mean_a"], table.loc[0, "mean_b"]) == pytest.approx((0.60, 0.91))
    assert "metric" not in shown and shown.iloc[0][["claim", "claimed"]].tolist() == ["t: b beats a", "b > a"]
    assert shown.iloc[0]["b − a, test_acc (%) [95% CI]"] == f"31.00 [{diff.low * 100:.2f}, {diff.high * 100:.2f}]"
    assert row["p"] < row["p_holm"] < 0.001  # shown as "<0.001" both
    assert shown.iloc[0][["p", "p Holm", "TOST p", "outcome", "verdict"]].tolist() == [
        "<0.001",
        "<0.001",
        f"{row['p_tost']:.3g}",
        "higher",
        "supported",
    ]
    at = list(shown.columns).index("p")
    assert list(shown.columns[at : at + 4]) == ["p", "p Holm", "TOST p", "TOST p Holm"]  # raw and adjusted side by side
    val_only = rep.claims_table(
        rep.Measurements(
            _values(
                [
                    ("R9", "a", "holdout", "val_acc", [0.6, 0.61, 0.59]),
                    ("R9", "b", "holdout", "val_acc", [0.9, 0.92, 0.91]),
                ]
            ),
            {},
        ),
        (rep.Claim("R9", "t", "a", "b", "holdout", "val_acc", ">", "b beats a on validation"),),
    )
    val_rows = rep.Reproduction(
        "full", rep.Measurements(values, preds), pd.DataFrame(columns=["report"]), val_only
    ).claim_rows("R9")
    assert (
        list(val_rows.columns)[-1] == "verdict" and "McNemar p Holm per seed" not in val_rows
    )  # no test set, no McNemar
    assert shown.iloc[0]["McNemar p Holm per seed"] == ", ".join(["<0.001"] * 3)
    assert shown.iloc[0]["McNemar seeds: claimed / opposite"] == "3 / 0 of 3"
    assert shown.iloc[1]["McNemar seeds: claimed / opposite"] == "0 / 3 of 3"
    assert shown.iloc[2]["McNemar seeds: claimed / opposite"] == ""
    text = wording.commentary(pd.DataFrame(), table)
    assert text[0].startswith(
        "Of its 3 comparisons, tested as two Holm families, one per kind of claim (Holm over the 2 difference "
        "tests, Holm over the 2 equivalence tests at ±0.50 points on accuracy-like metrics): 1 supported, "
        "1 contradicted, 1 not run"
    )
    beats = next(t for t in text if t.startswith("b beats a:"))
    # the estimate and its interval first, then the test, then the outcome, then the verdict
    order = [
        beats.index(k)
        for k in (
            "+31.00 points, 95% CI",
            "paired t p",
            "is higher (adjusted p",
            "Holm over 2 difference tests",
            "Verdict: supported.",
        )
    ]
    assert order == sorted(order)
    assert not any(t.startswith("c was never run") for t in text)

    # Two seeds: the paired t-test cannot tell, McNemar on each seed's predictions can.
    two = rep.Measurements(
        _values(
            [
                ("R9", "a", "holdout-test", "test_acc", [0.60, 0.61]),
                ("R9", "b", "holdout-test", "test_acc", [0.90, 0.62]),
            ]
        ),
        preds,
    )
    table = rep.claims_table(two, claims[:1])
    assert table.loc[0, "verdict"] == "inconclusive at n=2" and table.loc[0, "mcnemar_agree"] == 2
    assert any(
        "McNemar" in t
        and "Holm over 2 McNemar tests of R9" in t
        and "claimed direction in 2 of 2 seeds" in t
        and "not shown to hold across seeds" in t
        for t in wording.commentary(pd.DataFrame(), table)
    )
    # The same seeds against the opposite claim: McNemar finds it in no seed, so no difference is claimed.
    opposite = rep.claims_table(two, (rep.Claim("R9", "t", "a", "b", "holdout-test", "test_acc", "<", "b loses to a"),))
    assert opposite.loc[0, "verdict"] == "inconclusive at n=2" and opposite.loc[0, "mcnemar_agree"] == 0
    assert opposite.loc[0, "mcnemar_against"] == 2
    text = [t for t in wording.commentary(pd.DataFrame(), opposite) if t.startswith("b loses to a")]
    assert text and "none of the seeds (0 of 2) and the opposite direction in 2 of 2." in text[0]
    assert "differ on the test set" not in text[0]
    # Each seed's models differ, in opposite directions: McNemar is significant in both, the winner flips.
    flip = dict(preds)
    flip[("R9", "a", "holdout-test", 1)], flip[("R9", "b", "holdout-test", 1)] = (
        preds[("R9", "b", "holdout-test", 1)],
        preds[("R9", "a", "holdout-test", 1)],
    )
    mixed = rep.claims_table(
        rep.Measurements(
            _values(
                [
                    ("R9", "a", "holdout-test", "test_acc", [0.60, 0.90]),
                    ("R9", "b", "holdout-test", "test_acc", [0.90, 0.60]),
                ]
            ),
            flip,
        ),
        claims[:1],
    )
    assert (mixed.loc[0, "mcnemar_agree"], mixed.loc[0, "mcnemar_against"]) == (1, 1)
    text = [t for t in wording.commentary(pd.DataFrame(), mixed) if t.startswith("b beats a")]
    assert (
        text
        and "1 of 2 seeds and the opposite direction in 1 of 2: which trained model is better depends on the seed"
        in text[0]
    )


def test_mcnemar_counts_use_the_holm_adjusted_p():
    # every seed: b right on 12 more images and wrong on 3: exact McNemar p = 0.035 alone, 0.21 after Holm over 6
    better = _preds(50)
    better["pred"] = better["pred"].copy()
    better["pred"][50:62], better["pred"][0:3] = 0, 1
    preds = {}
    for seed in range(3):
        preds[("R9", "a", "holdout-test", seed)] = _preds(50)
        preds[("R9", "b", "holdout-test", seed)] = better
    values = _values(
        [
            ("R9", "a", "holdout-test", "test_acc", [0.50, 0.50, 0.50]),
            ("R9", "b", "holdout-test", "test_acc", [0.59, 0.60, 0.58]),
        ]
    )
    claims = (
        rep.Claim("R9", "t", "a", "b", "holdout-test", "test_acc", ">", "b beats a"),
        rep.Claim("R9", "t", "a", "b", "holdout-test", "test_acc", "≈", "b is like a"),
    )
    table = rep.claims_table(rep.Measurements(values, preds), claims)
    raw = table.loc[0, "mcnemar_p"]
    assert raw == pytest.approx((0.03515625,) * 3) and all(p < 0.05 for p in raw)  # significant one by one
    flat = [p for ps in table["mcnemar_p"] for p in ps]
    assert [p for ps in table["mcnemar_p_holm"] for p in ps] == pytest.approx(holm(flat))
    assert table.loc[0, "mcnemar_agree"] == 0 and table.loc[0, "mcnemar_against"] == 0  # but not after adjustment
    assert pd.isna(table.loc[1, "mcnemar_agree"])  # "≈": tested (and in the family), no direction to count


def _family(rows, claims, margin=0.005):
    return rep.claims_table(rep.Measurements(_values(rows)), claims, margin=margin)


EQUIVALENT = [0.900, 0.910, 0.905, 0.895], [0.901, 0.911, 0.904, 0.896]  # differences +0.05 ± 0.1 points
NOISY = [0.90, 0.92], [0.88, 0.95]  # two seeds that disagree: neither shown
DIFFERENT = [0.80, 0.81, 0.82], [0.90, 0.915, 0.925]  # +10 points


def test_an_approximately_equal_claim_is_supported_only_by_equivalence():
    rows = [
        ("R9", arm, "holdout", "val_acc", v)
        for arms, vals in ((("e1", "e2"), EQUIVALENT), (("n1", "n2"), NOISY), (("d1", "d2"), DIFFERENT))
        for arm, v in zip(arms, vals)
    ]
    claims = tuple(
        rep.Claim("R9", "t", a, b, "holdout", "val_acc", "≈", f"{a} ≈ {b}")
        for a, b in (("e1", "e2"), ("n1", "n2"), ("d1", "d2"))
    )
    table = _family(rows, claims)
    assert table["outcome"].tolist() == ["equivalent", "inconclusive", "higher"]
    assert table["verdict"].tolist() == [
        "supported",
        "inconclusive at n=2",
        "not supported: `d2` is higher and equivalence within ±0.50 points is not shown",
    ]
    assert table.loc[1, "p_holm"] > 0.05  # the noisy pair's t-test does not reject: that is no support for "≈"
    assert table.loc[0, "p_tost_holm"] < 0.05 <= table.loc[1, "p_tost_holm"]
    # a narrower margin than the differences' spread can show: the same pair is no longer equivalent
    assert _family(rows, claims[:1], margin=0.0001).loc[0, "verdict"] == "inconclusive at n=4"
    # a claimed difference where equivalence is shown is not supported, and says within what margin;
    # "contradicted" is kept for the opposite direction
    other = tuple(rep.Claim("R9", "t", c.a, c.b, "holdout", "val_acc", ">", c.text) for c in claims)
    assert _family(rows, other)["verdict"].tolist() == [
        "not supported: within ±0.50 points",
        "inconclusive at n=2",
        "supported",
    ]
    lower = tuple(rep.Claim("R9", "t", c.a, c.b, "holdout", "val_acc", "<", c.text) for c in claims)
    assert _family(rows, lower)["verdict"].tolist() == [
        "not supported: within ±0.50 points",
        "inconclusive at n=2",
        "contradicted",
    ]
    text = wording.commentary(pd.DataFrame(), table)
    assert any(
        t.startswith("e1 ≈ e2:") and "equivalent within ±0.50 points" in t and t.endswith("Verdict: supported.")
        for t in text
    )
    noisy = next(t for t in text if t.startswith("n1 ≈ n2:"))
    assert "inconclusive at n=2" in noisy and "consistent" not in noisy and "equivalent within" not in noisy
    with pytest.raises(ValueError, match="direction"):
        claim_tests.verdict(">=", table.loc[0, "comparison"])


def test_holm_runs_over_each_reports_claims_as_one_family():
    rows = [
        ("R9", arm, "holdout", "val_acc", v)
        for arms, vals in ((("e1", "e2"), EQUIVALENT), (("n1", "n2"), NOISY), (("d1", "d2"), DIFFERENT))
        for arm, v in zip(arms, vals)
    ]
    rows += [("R8", "d1", "holdout", "val_acc", DIFFERENT[0]), ("R8", "d2", "holdout", "val_acc", DIFFERENT[1])]
    claims = (
        *(
            rep.Claim("R9", "t", a, b, "holdout", "val_acc", ">", f"{b} beats {a}")
            for a, b in (("e1", "e2"), ("n1", "n2"), ("d1", "d2"), ("d1", "x"))
        ),
        rep.Claim("R8", "t", "d1", "d2", "holdout", "val_acc", ">", "R8's only claim"),
    )
    table = _family(rows, claims)
    r9, r8 = table[table["report"] == "R9"], table[table["report"] == "R8"]
    tested = r9[r9["outcome"] != "not run"]
    assert (tested["p_holm"] >= tested["p"]).all() and (tested["p_tost_holm"] >= tested["p_tost"]).all()
    assert tested["p_holm"].tolist() == pytest.approx(holm(tested["p"].tolist()))
    assert tested["p_tost_holm"].tolist() == pytest.approx(holm(tested["p_tost"].tolist()))
    assert set(r9["family"]) == {3}  # the claim never run is not in the family
    assert r8["p_holm"].tolist() == pytest.approx(r8["p"].tolist()) and set(r8["family"]) == {1}  # its own family
    text = wording.commentary(pd.DataFrame(), r9)
    assert (
        "Holm over the 3 difference tests" in text[0]
        and "outcomes of those run: 1 higher, 1 equivalent, 1 inconclusive" in text[0]
    )
    assert sum("Holm over 3 difference tests" in t or "Holm over 3 equivalence tests" in t for t in text[1:]) == 3


def test_losses_and_seconds_get_no_equivalence_test():
    same = [1.000, 1.100, 1.050, 1.020], [1.0001, 1.1000, 1.0502, 1.0201]  # within 0.005 s: "equivalent" at ±0.5 points
    rows = [
        ("R9", "a", "holdout", "epoch_seconds", same[0]),
        ("R9", "b", "holdout", "epoch_seconds", same[1]),
        ("R9", "a", "holdout", "val_acc", EQUIVALENT[0]),
        ("R9", "b", "holdout", "val_acc", EQUIVALENT[1]),
    ]
    claims = (
        rep.Claim("R9", "t", "a", "b", "holdout", "epoch_seconds", "≈", "as fast"),
        rep.Claim("R9", "t", "a", "b", "holdout", "epoch_seconds", ">", "slower"),
        rep.Claim("R9", "t", "a", "b", "holdout", "val_acc", "≈", "as accurate"),
    )
    table = _family(rows, claims)
    assert table.loc[0, "outcome"] == "inconclusive" and math.isnan(table.loc[0, "p_tost"])
    assert math.isnan(table.loc[0, "margin"]) and table.loc[2, "margin"] == 0.005
    assert table["verdict"].tolist() == [
        "inconclusive at n=4 (equivalence not tested)",
        "inconclusive at n=4",
        "supported",
    ]
    assert set(table["tost_family"]) == {1} and set(table["family"]) == {3}
    assert table.loc[2, "p_tost_holm"] == pytest.approx(table.loc[2, "p_tost"])  # the only TOST: nothing to adjust
    shown = rep.Reproduction(
        "full", rep.Measurements(_values(rows)), pd.DataFrame(columns=["report"]), table
    ).claim_rows("R9")
    assert shown["metric"].tolist() == ["epoch_seconds", "epoch_seconds", "val_acc (%)"] and "b − a [95% CI]" in shown
    assert shown["TOST p"].tolist()[:2] == ["–", "–"] and shown.iloc[0]["b − a [95% CI]"].startswith("0.0001 [")
    text = wording.commentary(pd.DataFrame(), table)
    fast = next(t for t in text if t.startswith("as fast:"))
    assert " s, 95% CI " in fast and "equivalence is not tested (no margin for this metric)" in fast
    assert "Holm over 1 equivalence test)" in next(t for t in text if t.startswith("as accurate:"))


def test_claims_pair_seeds_and_drop_a_seed_one_side_lacks():
    # a has seeds 0, 1, 2; b only 1 and 2 (seed 0 not stored): the test pairs seeds 1 and 2
    values = pd.concat(
        [
            _values([("R9", "a", "holdout", "val_acc", [0.10, 0.60, 0.62])]),
            _values([("R9", "b", "holdout", "val_acc", [0.0, 0.80, 0.81])]).iloc[1:],
        ]
    )
    claim = rep.Claim("R9", "t", "a", "b", "holdout", "val_acc", ">", "b beats a")
    row = rep.claims_table(rep.Measurements(values), (claim,)).iloc[0]
    assert row["verdict"] == "supported" and row["n"] == 2  # differences 0.20 and 0.19: seed 0's 0.10 would blur it
    assert (row["mean_a"], row["mean_b"]) == pytest.approx((0.61, 0.805))  # seed 0 of a left out
    shifted = values.assign(seed=np.where(values["arm"] == "b", values["seed"] + 5, values["seed"]))
    assert rep.claims_table(rep.Measurements(shifted), (claim,)).iloc[0]["verdict"] == "not run"  # no common seed
    # one family may pair different seeds per claim: c has seeds 1 and 2 only, d all three
    more = pd.concat(
        [
            values,
            _values(
                [
                    ("R9", "c", "holdout", "val_acc", [0.5, 0.5, 0.5]),
                    ("R9", "d", "holdout", "val_acc", [0.7, 0.71, 0.72]),
                ]
            ),
        ]
    )
    both = rep.claims_table(
        rep.Measurements(more), (claim, rep.Claim("R9", "t", "c", "d", "holdout", "val_acc", ">", "d"))
    )
    assert both["n"].tolist() == [2, 3] and set(both["family"]) == {2}


def _cochran(correct: np.ndarray) -> float:
    """Cochran's Q by its formula: (k − 1)(k Σ C_j² − N²) / (k N − Σ R_i²)."""
    k = correct.shape[1]
    cols, rows, total = correct.sum(axis=0), correct.sum(axis=1), correct.sum()
    return (k - 1) * (k * (cols**2).sum() - total**2) / (k * total - (rows**2).sum())


def test_cochran_q_per_seed_over_a_reports_test_arms():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 200)
    preds, correct = {}, {}
    for seed in range(3):
        right = rng.random((200, 3)) < [0.6, 0.7, 0.8 - 0.1 * seed]  # the third arm's edge shrinks with the seed
        correct[seed] = right
        for j, arm in enumerate(("x", "y", "z")):
            preds[("R9", arm, "holdout-test", seed)] = {
                "labels": labels,
                "pred": np.where(right[:, j], labels, (labels + 1) % 10),
            }
        preds[("R8", "x", "holdout-test", seed)] = preds[("R9", "x", "holdout-test", seed)]  # R8: two arms only
        preds[("R8", "y", "holdout-test", seed)] = preds[("R9", "y", "holdout-test", seed)]
    m = rep.Measurements(_values([]), preds)
    table = rep.cochran_table(m)
    assert table["report"].tolist() == ["R9"] * 3 and table["seed"].tolist() == [0, 1, 2]  # R8 has no Q
    assert table["q"].tolist() == pytest.approx([_cochran(correct[s].astype(int)) for s in range(3)])
    assert table["p"].tolist() == pytest.approx([cochran_q(correct[s]).p_value for s in range(3)])
    assert table["p_holm"].tolist() == pytest.approx(holm(table["p"].tolist())) and set(table["family"]) == {3}
    assert set(table["k"]) == {3} and set(table["images"]) == {200}
    assert table.loc[0, "acc_low"] == pytest.approx(correct[0].mean(axis=0).min())
    text = wording.cochran_sentence(table)
    assert text.startswith("Before the pairwise McNemar tests, Cochran's Q") and "Holm over 3 seeds" in text
    assert f"seed 0: test accuracy {correct[0].mean(axis=0).min() * 100:.2f}–" in text and "Q=" in text
    # the same images right in every arm: nothing to test
    same = {k: preds[("R9", "x", "holdout-test", 0)] for k in preds if k[0] == "R9" and k[3] == 0}
    assert rep.cochran_table(rep.Measurements(_values([]), same))["p"].isna().all()
    shuffled = dict(same)
    shuffled[("R9", "z", "holdout-test", 0)] = {"labels": labels[::-1], "pred": labels[::-1]}
    with pytest.raises(ValueError, match="different test images"):
        rep.cochran_table(rep.Measurements(_values([]), shuffled))


def test_reproduce_resolves_seeds_per_study_and_passes_the_margin(monkeypatch):
    calls = []

    def fake_measure(study, profile, seeds, device, stored_only):  # the study at the chosen precision
        name = study.name
        calls.append((name, seeds, stored_only))
        rows = [
            ("R0", R0_BEST, "holdout-test", "test_acc", [0.90, 0.91]),
            ("R0", R0_BEST, "trainval-test", "test_acc", [0.901, 0.911]),
        ]
        preds = {
            ("R0", arm, setting, s): _preds(60 + 10 * j + s)
            for s in range(2)
            for j, (arm, setting) in enumerate(
                ((R0_BEST, "holdout-test"), (R0_BEST, "trainval-test"), (f"{R0_BEST}/augment", "holdout-test"))
            )
        }
        return rep.Measurements(_values(rows), preds, pd.DataFrame(columns=["study", "key"]), {name: 1})

    monkeypatch.setattr(rep, "measure", fake_measure)
    r = rep.reproduce("quick", 2, "cpu", "R0", margin=0.01)
    assert calls == [("R0", (0, 1), False)] and r.seeds["R0"].n == 2 and r.seeds["R0"].source == "given"
    assert set(r.claims["margin"]) == {0.01} and r.margin == 0.01
    assert len(r.cochran) == 2 and set(r.cochran["k"]) == {3}  # R0's three test-set arms, per seed
    section = r.section("R0")
    assert "Seeds: 2 seeds per configuration (given)." in section
    assert section.index("Cochran's Q") < section.index("retraining model 5")  # Q before the pairwise claims
    assert "±1.00 points" in r.method()
    assert rep.reproduce("quick", "default", "cpu", "R0").seeds["R0"].source == "profile"
    with pytest.raises(ValueError, match="seeds="):
        rep.reproduce("quick", "many", "cpu", "R0")


def test_auto_seeds_with_stored_only_train_no_pilot(monkeypatch):
    study, quick = get_study("R0"), get_profile("quick")
    trained = []
    monkeypatch.setattr(variants_section, "get_or_train_many", lambda configs, **k: trained.append(configs) or [])
    # the pilot is incomplete in the store: use the seeds the store holds (here 0 and 4 of one model: n = 5)
    monkeypatch.setattr(rep.Store, "has", lambda self, c: c.model == "lenet5_3x3" and c.seed in (0, 4))
    seeds = rep.study_seeds(study, quick, "auto", "cpu", 0.005, 10, stored_only=True)
    assert (seeds.n, seeds.source) == (5, "store") and not trained
    assert "uses the seeds stored: seeds 0–4 (at most 10)" in wording.seeds_sentence(seeds, "quick", 3)
    monkeypatch.setattr(rep.Store, "has", lambda self, c: False)  # nothing stored: the pilot's size
    assert rep.study_seeds(study, quick, "auto", "cpu", stored_only=True).n == 3 and not trained
    # the whole pilot stored: its choice, the same n a training run would get
    monkeypatch.setattr(rep.Store, "has", lambda self, c: True)
    asked = []
    monkeypatch.setattr(rep, "seed_plan", lambda setup: asked.append(setup) or SeedPlan.given(7))
    seeds = rep.study_seeds(study, quick, "auto", "cpu", 0.004, 8, stored_only=True)
    assert (seeds.n, seeds.source) == (7, "pilot") and len(asked) == 1
    assert (asked[0].study, asked[0].profile, asked[0].seeds, asked[0].margin, asked[0].max_seeds) == (
        study,
        quick,
        "auto",
        0.004,
        8,
    )
    assert rep.study_seeds(study, quick, 4, "cpu").source == "given"


def test_plot_has_a_panel_per_scale_and_draws_the_prediction_interval():
    values = _values(
        [("R0", "a", "holdout", "val_acc", [0.89, 0.90, 0.91]), ("R0", "a", "holdout", "val_loss", [0.40, 0.42, 0.41])]
    )
    fig = plots.reproduction(rep.reproduction_table(values, FIGS), "R0")
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "R0"
    assert len(fig.axes[0].get_yticklabels()) == 4 and len(fig.axes[1].get_yticklabels()) == 1
    (legend,) = fig.legends  # outside every panel: it covers no row of data
    labels = [t.get_text() for t in legend.get_texts()]
    fig.canvas.draw()
    box = legend.get_window_extent()
    assert not any(box.overlaps(ax.get_window_extent()) for ax in fig.axes)
    assert sorted(labels) == [
        "ours: 95% prediction interval (one new run)",
        "ours: mean and 95% CI of the mean",
        "reported",
    ]
    pi = prediction_interval([0.89, 0.90, 0.91])
    bars = fig.axes[0].containers[0]  # the prediction interval's error bars
    segments = bars.lines[2][0].get_segments()
    assert segments[0][:, 0] == pytest.approx([pi[0] * 100, pi[1] * 100])  # row a, the top one


@pytest.mark.slow
def test_measure_a_tiny_study(store, monkeypatch):
    monkeypatch.setenv("FASHION_CNN_QUIET", "1")
    study = Study(
        "R0",
        "tiny",
        "lenet5",
        ("lenet5_3x3",),
        settings={"epochs": 1},
        extra_arms=(Arm("lenet5/decay", "lenet5", {"schedule": "step"}),),
        kfold=(("lenet5", 5),),
        test=(("lenet5", "holdout"), ("lenet5_3x3", "trainval")),
    )
    m = rep.measure(study, TINY, device="auto")  # "auto" resolves to this machine's device
    v = m.values
    got = set(zip(v["arm"], v["setting"]))
    assert got == {
        *((arm, "holdout") for arm in ("lenet5", "lenet5_3x3", "lenet5/decay")),
        ("lenet5", "kfold-mean"),
        ("lenet5", "kfold-max"),
        ("lenet5", "holdout-test"),
        ("lenet5_3x3", "trainval"),
        ("lenet5_3x3", "trainval-test"),
    }
    assert set(v["seed"]) == {0, 1}
    sizes = v.groupby("setting")[["train_size", "val_size"]].max()  # the images of each run's parts
    assert sizes.loc["holdout"].sum() == sizes.loc["kfold-mean"].sum() == sizes.loc["trainval", "train_size"] == 300
    assert sizes.loc["trainval", "val_size"] == 0 and sizes.loc["kfold-max", "val_size"] == 300 / TINY.folds
    fold_acc = [
        [
            get_or_train(j.config).metrics["val_acc"]
            for j in study.plan(TINY, device="auto")
            if j.part == "fold" and j.config.seed == seed
        ]
        for seed in (0, 1)
    ]  # stored: loaded, not trained
    assert [len(f) for f in fold_acc] == [TINY.folds, TINY.folds]
    mean = v[(v.setting == "kfold-mean") & (v.metric == "val_acc")].sort_values("seed")["value"].to_numpy()
    high = v[(v.setting == "kfold-max") & (v.metric == "val_acc")].sort_values("seed")["value"].to_numpy()
    assert mean == pytest.approx(np.mean(fold_acc, axis=1)) and high == pytest.approx(np.max(fold_acc, axis=1))
    keras = v[v.metric.isin(["test_keras_precision", "test_keras_recall", "val_keras_precision"])]["value"]
    assert len(keras) and keras.between(0, 1).all()
    assert set(m.predictions) == {
        ("R0", "lenet5", "holdout-test", 0),
        ("R0", "lenet5", "holdout-test", 1),
        ("R0", "lenet5_3x3", "trainval-test", 0),
        ("R0", "lenet5_3x3", "trainval-test", 1),
    }
    assert all(len(p["labels"]) == 200 for p in m.predictions.values())
    acc = v[(v.arm == "lenet5") & (v.setting == "holdout-test") & (v.metric == "test_acc") & (v.seed == 0)][
        "value"
    ].item()
    p = m.predictions[("R0", "lenet5", "holdout-test", 0)]
    assert acc == pytest.approx((p["labels"] == p["pred"]).mean())


@pytest.mark.slow
def test_stored_only_measures_what_the_store_holds_and_trains_nothing(store, monkeypatch):
    monkeypatch.setenv("FASHION_CNN_QUIET", "1")
    study = Study(
        "R0",
        "tiny",
        "lenet5",
        ("lenet5_3x3",),
        settings={"epochs": 1},
        kfold=(("lenet5", 2),),
        test=(("lenet5", "holdout"),),
    )
    jobs = study.plan(TINY, device="cpu")
    mains = [j for j in jobs if j.label == "lenet5" and j.part == "main"]
    one_fold = next(j for j in jobs if j.part == "fold")
    for job in [*mains, one_fold]:
        get_or_train(job.config)
    before = sorted(p.name for p in store.iterdir())
    m = rep.measure(study, TINY, device="cpu", stored_only=True)
    assert sorted(p.name for p in store.iterdir()) == before  # nothing trained, nothing begun
    v = m.values
    assert set(zip(v["arm"], v["setting"])) == {
        ("lenet5", "holdout"),
        ("lenet5", "holdout-test"),
    }  # half a k-fold: none
    assert set(v["seed"]) == {0, 1} and set(m.predictions) == {("R0", "lenet5", "holdout-test", s) for s in (0, 1)}
    assert m.planned == {"R0": len(jobs)} and len(m.runs) == 3
    r = rep.Reproduction(
        "full",
        m,
        rep.reproduction_table(v, reports=("R0",)),
        rep.claims_table(m, reports=("R0",)),
        ("R0",),
        stored_only=True,
    )
    assert f"Measured from the run store alone: 3 of the {len(jobs)} runs this study plans are stored" in r.section(
        "R0"
    )
    assert set(r.claims["verdict"]) == {"not run"}  # every R0 claim needs a run that is not stored
    figures = len(r.table)
    none_run = wording.commentary(rep.reproduction_table(v.iloc[0:0], reports=("R0",)), r.claims)
    assert figures > 1 and none_run == [
        f"{figures} of the {figures} figures: not run.",  # nothing said about nothing
        f"Of its {count(len(r.claims), 'comparison')}: {len(r.claims)} not run.",
    ]
    nothing = rep.measure(study, dataclasses.replace(TINY, subset=200), device="cpu", stored_only=True)  # none stored
    assert nothing.values.empty and nothing.runs.empty and sorted(p.name for p in store.iterdir()) == before
    assert (
        "No runs were measured."
        == rep.Reproduction(
            "full", nothing, rep.reproduction_table(nothing.values), rep.claims_table(nothing)
        ).closing_note()
    )


def test_a_report_left_out_renders_as_skipped():
    values = _values([("R0", "lenet5", "holdout", "val_acc", [0.89, 0.90])])
    empty = rep.Measurements(values)
    r = rep.Reproduction(
        "quick",
        empty,
        rep.reproduction_table(values, reports=("R0",)),
        rep.claims_table(empty, reports=("R0",)),
        ("R0",),
    )
    assert "Not reproduced in this report" in r.section("R4") and r.plot("R4") is None
    overview = r.overview()
    assert overview.startswith("This report reproduces R0. R1, R2, R3 and R4 are not reproduced here")
    left_out = rep.Reproduction(
        "quick", empty, rep.reproduction_table(values, reports=()), rep.claims_table(empty, reports=()), ()
    )
    assert "Not reproduced in this report" in left_out.section("R0") and "reproduces none" in left_out.overview()
    # R2 full: 5 models × 3 seeds × 15 epochs × 48k, and its 10 folds × 3 seeds × 15 epochs × 54k = 45 runs
    assert "R2: 45 runs" in overview
    hours = {name: float(re.search(rf"{name}: \d+ runs, about (\d+) h", overview).group(1)) for name in ("R2", "R4")}
    assert hours["R4"] > 5 * hours["R2"] > 0  # R4's 4-million-parameter nets against R2's small ones
    assert len(r.figures("R4")) == 0 and len(r.claim_rows("R4")) == 0
    assert r.section("R0").startswith("## R0:") and r.plot("R0") is not None
    assert r.finding("R4") is None  # the summary's line of a reproduced report, pointing at its tables
    assert r.finding("R0").line == (
        "**Reproducing R0** ([@tab:08-R0-figures], [@tab:08-R0-claims], quick profile): 0 of 1 reported figures lie "
        "outside our 95% prediction interval (about 0.1 by chance alone), 0 after Holm over them; of its 1 claim, "
        "1 not run."
    )
    with pytest.raises(ValueError, match="unknown study 'R7'"):
        rep.reproduce("quick", studies="R0 R7")


def test_auto_reproduces_all_five_only_in_the_full_profile_on_a_gpu():
    assert sources.default_reports("full", "cuda") == sources.ALL_REPORTS
    assert sources.default_reports("full", "cuda:1") == sources.ALL_REPORTS
    assert sources.default_reports("full", "cpu") == ("R0",)
    assert sources.default_reports("quick", "cuda") == ("R0",)


def test_values_are_shown_in_their_units():
    assert (tables.fmt("test_acc", 0.91234), tables.metric_label("test_acc")) == ("91.23", "test_acc (%)")
    assert (tables.fmt("val_loss", 0.31), tables.metric_label("val_loss")) == ("0.3100", "val_loss")
    assert (tables.fmt("epoch_seconds", 1.5), tables.metric_label("epoch_seconds")) == (
        "1.5000",
        "epoch_seconds",
    )  # not %
    assert tables.fmt("val_acc", float("nan")) == "–"
