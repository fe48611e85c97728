"""The generated sentences (`present.text`), each tested for the facts it must carry: its numbers as the
report writes them (1,600; 89.12%; +2.04 points; seeds 0–2), its outcome words, and no claim beyond the
test that decided it. Inputs are real `stats.compare_family` results on small hand-made values per seed and
frames shaped as the sections build them; each outcome is checked on the Comparison first, so no test
passes on a comparison that did not reach the outcome it is about. Expected numbers come from the data
(scipy for intervals and p-values), never from the function under test."""

import importlib
import math
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from fashion_cnn import RunConfig, config, studies
from fashion_cnn.analysis import data_stats, metrics, stats
from fashion_cnn.models import count_parameters, create_model
from fashion_cnn.present import text
from fashion_cnn.sections import claims as claims_mod
from fashion_cnn.sections import test_evaluation as evaluation
from fashion_cnn.sections.measurements import Measurements
from fashion_cnn.sections.reproduction import StudySeeds, reproduction_table
from fashion_cnn.studies.study import Claim, Reported
from fashion_cnn.tune.sweeps import Sweep

MARGIN = 0.005  # ±0.50 points
SEEDS = (0, 1, 2, 3, 4)
BASE = pd.Series([0.900, 0.910, 0.920, 0.905, 0.915], index=SEEDS)  # `a`'s accuracy per seed

# b − a per seed, each chosen so its outcome is certain (checked on the Comparison before any sentence is read)
DIFFS = {
    "higher": [0.020, 0.021, 0.019, 0.022, 0.020],  # +2.04 points, sd 0.11: t ≈ 40, far outside the margin
    "lower": [-0.020, -0.021, -0.019, -0.022, -0.020],
    "higher within margin": [0.0019, 0.0021, 0.0020, 0.0019, 0.0021],  # +0.20 points, tight: both tests reject
    "equivalent": [0.0002, 0.0000, 0.0001, 0.0002, 0.0000],  # +0.01 points: TOST p < 0.001, t-test p ≈ 0.09
    "inconclusive": [0.010, -0.008, 0.004],  # 3 seeds, sd 0.9 points: neither test rejects
}

# What a sentence claims, in the words the report uses for each claim (`stats.OUTCOMES`, `sections._ACCURACY`)
_CLAIMS = {
    "higher": re.compile(r"\bis higher\b|(?:^|: |\] )higher\b|\bmore accurate than\b|\bgap is larger\b"),
    "lower": re.compile(r"\bis lower\b|(?:^|: |\] )lower\b|(?<!more or )\bless accurate than\b|\bgap is smaller\b"),
    "equivalent": re.compile(r"\bequivalent within\b|\bas accurate as\b|\bthe same within\b"),
    "no difference": re.compile(r"no difference(?! is shown| or equivalence is claimed)|\bdo(?:es)? not differ\b"),
}


def claimed(sentence: str) -> set[str]:
    """The claims a sentence makes: higher, lower, equivalent, no difference."""
    return {name for name, words in _CLAIMS.items() if words.search(sentence)}


def test_the_claim_reader_finds_each_claim_and_only_claims():
    assert claimed("`b` is higher (adjusted p<0.001)") == {"higher"} and claimed("lower (Holm p=0.01)") == {"lower"}
    assert claimed("+2.04 [+1.90, +2.18] higher") == {"higher"} and claimed("the two do not differ") == {
        "no difference"
    }
    assert claimed("`b` is as accurate as `a` on validation (within ±0.50 points)") == {"equivalent"}
    assert claimed("whether `b` is more or less accurate than `a` is not settled at n=3") == set()
    assert claimed("inconclusive at n=3: no difference is shown (adjusted p=0.742)") == set()
    assert claimed("neither a difference nor equivalence within ±0.50 points is shown") == set()


# the claims each outcome allows a sentence to make
ALLOWED = {
    "higher": {"higher"},
    "lower": {"lower"},
    "higher within margin": {"higher"},
    "lower within margin": {"lower"},
    "equivalent": {"equivalent"},
    "inconclusive": set(),
    "no test": set(),
}


def compare(diffs, margin=MARGIN, name: str = "b") -> stats.Comparison:
    """`name` (= a + diffs) against `a` over the first len(diffs) seeds, a family of one."""
    a = BASE.iloc[: len(diffs)]
    (c,) = stats.compare_family({"a": a, name: a + np.asarray(diffs)}, [("a", name)], margin)
    return c


def pts(x: float, digits: int = 2) -> str:
    """A difference as the report writes it: sign always, the minus a minus (−), not a hyphen."""
    return f"{x * 100:+.{digits}f}".replace("-", "−")


def ci(diffs, confidence: float = 0.95, corrected: tuple[int, int] | None = None) -> tuple[float, float]:
    """The Student-t interval of the mean difference (Nadeau–Bengio variance for `corrected`=(n_train, n_test))."""
    d = np.asarray(diffs, dtype=float)
    k = len(d)
    var = d.var(ddof=1) * ((1 / k + corrected[1] / corrected[0]) if corrected else 1 / k)
    half = sps.t.ppf(0.5 + confidence / 2, k - 1) * math.sqrt(var)
    return d.mean() - half, d.mean() + half


def span(low: float, high: float) -> str:
    return f"{pts(low)} to {pts(high)}"


def fmt_p(value: float, name: str = "p") -> str:
    return f"{name}<0.001" if value < 0.001 else f"{name}={value:.3g}"


def t_p(diffs) -> float:
    return float(sps.ttest_1samp(diffs, 0.0).pvalue)


def tost_p(diffs, margin=MARGIN) -> float:
    d = np.asarray(diffs, dtype=float)
    se = d.std(ddof=1) / math.sqrt(len(d))
    return max(sps.t.sf((d.mean() + margin) / se, len(d) - 1), sps.t.cdf((d.mean() - margin) / se, len(d) - 1))


@pytest.fixture(scope="module")
def family():
    """One Holm family of three: `up` higher, `same` equivalent, `noisy` inconclusive."""
    values = {"a": BASE}
    for name, kind in (("up", "higher"), ("same", "equivalent"), ("noisy", "inconclusive")):
        values[name] = BASE.iloc[: len(DIFFS[kind])] + np.asarray(DIFFS[kind])
    fam = stats.compare_family(values, [("a", "up"), ("a", "same"), ("a", "noisy")], MARGIN)
    assert [c.outcome for c in fam] == ["higher", "equivalent", "inconclusive"]
    return fam


# ----------------------------------------------------------------------------------------------
# words


def test_count_puts_the_noun_in_its_number():
    assert text.count(1, "seed") == "1 seed" and text.count(3, "time") == "3 times"
    assert text.count(0, "pixel") == "0 pixels" and text.count(2, "analysis", "analyses") == "2 analyses"


def test_p_values_differences_and_metric_names_read_as_the_report_writes_them():
    assert text.p(0.0004) == "p<0.001" and text.p(0.0312) == "p=0.0312" and text.p(0.74180) == "p=0.742"
    assert text.p(0.0123, "Holm p") == "Holm p=0.0123" and text.p(float("nan")) == "p –"
    assert text.signed(0.0042) == "+0.42 points" and text.signed(-0.0123) == "−1.23 points"  # a minus, not "-"
    assert text.signed(0.05, 1.0, "", 4) == "+0.0500" and text.signed(float("nan")) == "–"
    assert text.metric_words("test_acc") == "test accuracy" and text.metric_words("val_loss") == "validation loss"
    assert text.metric_words("epoch_seconds") == "seconds per epoch"
    assert text.metric_words("train_keras_precision") == "training Keras precision"
    assert text.units("val_acc") == (100.0, " points", 2) and text.units("val_loss") == (1.0, "", 4)
    assert text.units("epoch_seconds") == (1.0, " s", 3)
    assert text.in_percent("test_recall") and not text.in_percent("test_loss")
    assert text.bullets(["a", "b"]) == "- a\n- b"
    assert text.and_list(["a"]) == "a" and text.and_list(["a", "b", "c"]) == "a, b and c"


# ----------------------------------------------------------------------------------------------
# captions and setup lines


@pytest.mark.parametrize(
    "seeds, says",
    [
        ((0,), "trained once, with seed 0, on"),
        ((0, 1, 2), "trained 3 times, with seeds 0–2, on"),
        ((3, 4, 5, 6), "trained 4 times, with seeds 3–6, on"),
    ],
)
def test_study_text_says_how_often_each_model_is_trained(seeds, says):
    described = text.study_markdown(studies.get_study("R0"), config.get_profile("quick"), seeds)
    assert says in described and "(s)" not in described


def test_the_study_text_states_its_split_and_settings():
    described = text.study_markdown(studies.get_study("R0"), config.get_profile("quick"), (0, 1))
    for fact in ("**R0:", "Baseline `lenet5`", "`lenet5_3x3`", "(cumulative", "a stratified subset of 3,000"):
        assert fact in described, fact
    assert "split 80%/20% into train/validation" in described and "2 epochs" in described
    assert "Adam [@kingma2015] with learning rate 0.001" in described and "batch 64" in described
    assert "Profile `quick`" in described


def test_the_sections_setup_sentences_state_their_numbers():
    line = text.kfold_setup("lenet5", 3, 2, 0)
    assert all(f in line for f in ("`lenet5`", "3 stratified folds", "2 epochs each", "seed 0"))
    assert "compared" not in line
    line = text.kfold_setup("a", 5, 15, 1, "b")
    assert all(f in line for f in ("`a`", "5 stratified folds", "15 epochs each", "seed 1"))
    assert "compared with `b` on the same folds" in line

    line = text.augmentation_setup("a", 1, ["flip", "crop"])
    assert "`a`" in line and "1 seed per setting" in line and "best by mean validation accuracy" in line
    assert "a horizontal flip (half the images) and a random 28x28 crop after padding by 2 pixels" in line
    three = text.augmentation_setup("a", 3, ["flip"], best=False)
    assert "3 seeds per setting" in three and "crop" not in three and "best" not in three

    wrong = np.arange(1600) < 173
    line = text.tsne_setup("a", 0, 84, 1600, 400, 0.8912, wrong)
    assert "`a`" in line and "seed 0" in line
    assert "84 features per image, 1,600 test images fitted, 400 placed afterwards" in line
    assert "test accuracy 89.12% on all 2,000" in line and "misclassifies 173 (10.8%)" in line

    summary = {"finished": 4, "complete": 3, "pruned": 1, "fail": 0}
    line = text.search_setup("s", "cnn_2", None, summary)
    assert "Study `s`" in line and "`cnn_2`" in line and "all training images" in line
    assert "4 finished trials (3 complete, 1 pruned, 0 failed)" in line and "validation accuracy" in line
    assert "3,000 training images" in text.search_setup("s", "cnn_2", 3000, summary)

    base = RunConfig("r3_lenet", model_args={"n_base": 8}, lr=1e-4, epochs=2, subset=1000)
    line = text.base_configuration(base)
    assert "`r3_lenet` (width 8)" in line and "one setting at a time" in line
    assert all(f in line for f in ("learning rate 0.0001", "epochs 2", "1,000 training images"))
    assert "batch size" not in line and "optimizer" not in line  # settings at their default are not named
    assert "=" not in line and "(n_base" not in line  # words, not code


def test_a_config_is_described_by_what_differs_from_the_defaults():
    plain = text.describe_config(RunConfig("lenet5"))
    assert plain == "`lenet5`, epochs 15"  # the epochs always, defaults or not; nothing else at its default
    tuned = text.describe_config(RunConfig("lenet5", lr=0.01, batch_size=32, model_args={"n_base": 16}))
    assert tuned.startswith("`lenet5` (width 16)") and "learning rate 0.01" in tuned and "batch size 32" in tuned


def test_a_caption_says_how_its_numbers_were_measured():
    quick = config.get_profile("quick")
    holdout = RunConfig("lenet5", epochs=2, subset=3000)
    line = text.measured(holdout, quick, 2)
    for fact in ("2 seeds", "2,400/600 train/validation images", "of a stratified 3,000", "2 epochs", "quick profile"):
        assert fact in line, fact
    folds = holdout.replace(split="fold", folds=3, seed=1)
    line = text.measured(folds)
    assert "seed 1" in line and "3-fold cross-validation of 3,000 training images" in line and "2 epochs" in line
    assert "profile" not in line and "train/validation" not in line
    line = text.measured(RunConfig("lenet5", split="trainval", epochs=1), quick, 1)
    assert line.startswith("1 seed, ") and "all 60,000 training images (train + validation)" in line
    assert "1 epoch" in line and "1 epochs" not in line and "stratified" not in line
    assert text.test_images(None) == "10,000 test images" and text.test_images(2000) == "2,000 test images"
    # a sweep over epochs (or a search drawing them) does not claim one number of epochs for all its runs
    line = text.measured(holdout, quick, varied=("epochs",))
    assert "seed 0" in line and "2,400/600 train/validation images of a stratified 3,000" in line
    assert "epoch" not in line and "quick profile" in line


def test_a_study_caption_names_every_split_its_parts_use():
    full, quick = config.get_profile("full"), config.get_profile("quick")
    r0 = [j.config for j in studies.get_study("R0").plan(full, 3, "cpu")]
    line = text.measured_plan(r0, full, 3, tested=True)
    assert line.startswith("3 seeds; ") and line.endswith("; full profile")
    assert (
        "48,000/12,000 train/validation images, 5-fold cross-validation of 60,000 training images and all 60,000 "
        "training images (train + validation)"
    ) in line
    assert "; 15 epochs;" in line and "tested on 10,000 test images" in line
    r3 = [j.config for j in studies.get_study("R3").plan(quick, 1, "cpu")]
    line = text.measured_plan(r3, quick, 1)
    assert line.startswith("1 seed; ") and "2,400/600 train/validation images of a stratified 3,000" in line
    assert "; 2 epochs;" in line and line.endswith("quick profile") and "tested" not in line


def test_a_sweep_caption_names_its_values_and_leaves_the_varied_field_to_the_figure():
    base = RunConfig("lenet5", epochs=2, subset=3000)
    said = text.sweep_measured(SimpleNamespace(sweep=Sweep("learning rate", "lr", (1e-4, 1e-3), base)))
    assert said.startswith("lr = 0.0001, 0.001, one run each; ") and "2 epochs" in said and "seed 0" in said
    epochs = text.sweep_measured(SimpleNamespace(sweep=Sweep("epochs", "epochs", (1, 2), base)))
    assert "epochs = 1, 2, one run each" in epochs and "2 epochs" not in epochs


# ----------------------------------------------------------------------------------------------
# one comparison: interval, outcome, verdict, cell, beside


@pytest.mark.parametrize("kind", list(DIFFS))
def test_a_comparison_states_its_estimate_interval_tests_and_outcome(kind):
    d = DIFFS[kind]
    c = compare(d)
    assert c.outcome == kind
    n = len(d)
    said = text.comparison(c)
    assert said.startswith(f"`b` vs `a`, validation accuracy: {pts(np.mean(d))} points, 95% CI {span(*ci(d))}")
    assert f"(n={n} seeds)" in said
    assert claimed(said) == ALLOWED[kind], said
    if kind in ("higher", "lower"):
        assert f"`b` is {kind} ({fmt_p(t_p(d), 'adjusted p')}, Holm over 1 difference test)" in said
        assert "90% CI" not in said  # the 90% interval is shown only beside an equivalence
    elif kind == "higher within margin":
        assert "`b` is higher, by less than ±0.50 points" in said and "Holm over 1 difference test" in said
        assert fmt_p(t_p(d), "adjusted p") in said and fmt_p(tost_p(d), "TOST adjusted p") in said
        assert "Holm over 1 equivalence test" in said and f"90% CI {span(*ci(d, 0.90))}" in said
    elif kind == "equivalent":
        assert f"equivalent within ±0.50 points ({fmt_p(tost_p(d), 'TOST adjusted p')}" in said
        assert f"90% CI {span(*ci(d, 0.90))}" in said and "Holm over 1 equivalence test" in said
    else:
        assert f"inconclusive at n={n}: neither a difference ({fmt_p(t_p(d), 'adjusted p')}" in said
        assert "Holm over 1 difference test" in said and "Holm over 1 equivalence test" in said
        assert f"nor equivalence within ±0.50 points ({fmt_p(tost_p(d), 'TOST adjusted p')}" in said
        assert "90% CI" not in said  # the 90% interval is shown only beside an equivalence


@pytest.mark.parametrize("kind", list(DIFFS))
def test_a_verdict_and_a_cell_say_the_outcome_and_nothing_more(kind):
    d = DIFFS[kind]
    c = compare(d)
    assert c.outcome == kind
    said = text.verdict(c)
    assert claimed(said) == ALLOWED[kind], said
    cell = text.cell(c)
    low, high = ci(d)
    assert cell.startswith(f"{pts(np.mean(d))} [{pts(low)}, {pts(high)}] {kind}")
    assert claimed(cell) == ALLOWED[kind] - {"equivalent"}  # a cell names the outcome as `stats` spells it
    if kind in ("higher", "lower"):
        assert said == f"{kind} ({fmt_p(t_p(d), 'Holm p')})"
    elif kind == "higher within margin":
        assert said.startswith("higher, by less than ±0.50 points (") and fmt_p(tost_p(d), "TOST Holm p") in said
    elif kind == "equivalent":
        assert said.startswith("equivalent within ±0.50 points (") and fmt_p(tost_p(d), "TOST Holm p") in said
    else:
        assert said.startswith(f"inconclusive at n={len(d)} (") and fmt_p(t_p(d), "Holm p") in said
    if kind in ("equivalent", "higher within margin"):
        low90, high90 = ci(d, 0.90)
        assert cell.endswith(f" (90% [{pts(low90)}, {pts(high90)}])")
    else:
        assert "90%" not in cell


def test_without_a_margin_an_inconclusive_comparison_says_equivalence_was_not_tested():
    d = DIFFS["inconclusive"]
    c = compare(d, margin=[None])
    assert c.outcome == "inconclusive" and math.isnan(c.margin)
    said = text.comparison(c)
    assert f"inconclusive at n=3: no difference is shown ({fmt_p(t_p(d), 'adjusted p')}" in said
    assert "equivalence is not tested (no margin for this metric)" in said
    assert "nan" not in said and "±" not in said and claimed(said) == set()
    assert text.verdict(c) == f"inconclusive at n=3 ({fmt_p(t_p(d), 'Holm p')}; equivalence not tested)"
    beside = text.beside(c)
    assert "above `a` in 2 of 3 seeds" in beside and f"above 0 {c.posterior[2]:.2f}" in beside
    assert "within" not in beside


def test_a_comparison_without_a_test_says_why():
    constant = compare([0.001, 0.001, 0.001])
    assert constant.outcome == "no test" and constant.constant
    said = text.comparison(constant)
    assert "all 3 differences equal +0.10 points" in said and "no spread to test against" in said
    assert claimed(said) == set() and "inconclusive" not in said
    one = compare([0.01])
    assert one.outcome == "no test" and one.diff.n == 1
    said = text.comparison(one)
    assert "+1.00 points, one seed so no interval (n=1 seed)" in said
    assert "no test at n=1: a test needs at least 2 complete pairs" in said and "CI" not in said
    assert text.cell(one) == "+1.00 (no test)" and claimed(said) == set()
    (none,) = stats.compare_family({"a": BASE.iloc[:2], "b": pd.Series([0.9, 0.9], index=[7, 8])}, [("a", "b")], MARGIN)
    assert none.diff.n == 0 and "not measured on a common seed" in text.verdict(none)
    assert text.beside(none) == ""


def test_beside_the_test_the_seeds_above_and_the_posterior_change_no_outcome():
    d = [0.004, 0.007, -0.001, 0.006, 0.003]
    c = compare(d)
    said = text.beside(c)
    assert "`b` is above `a` in 4 of 5 seeds" in said and "[@benavoli2017]" in said
    worse, within, better = c.posterior
    assert f"below −0.50 points {worse:.2f}" in said and f"within ±0.50 points {within:.2f}" in said
    assert f"above +0.50 points {better:.2f}" in said
    assert claimed(said) == set()


def test_a_loss_is_compared_in_its_own_units():
    d = [0.050, 0.060, 0.054, 0.052]
    c = compare(d, margin=[None])
    assert c.outcome == "higher"
    said = text.comparison(c, "validation loss", 1.0, "", 4)
    assert said.startswith(f"`b` vs `a`, validation loss: +{np.mean(d):.4f}, 95% CI ")
    assert "points" not in said and "nan" not in said and "`b` is higher" in said


# ----------------------------------------------------------------------------------------------
# a family: heading, outcome counts, tables, power


def test_a_family_heading_counts_its_outcomes_and_names_both_holm_families(family):
    said = text.family_heading(family, table="tab:02-comparisons")
    assert said.startswith("Of the 3 comparisons of validation accuracy in [@tab:02-comparisons]: ")
    assert "1 higher, 1 equivalent, 1 inconclusive." in said
    assert "The 3 difference tests form one Holm family [@holm1979]" in said
    assert "3 equivalence tests (TOST [@schuirmann1987] within ±0.50 points)" in said and "α=0.05" in said
    assert text.family_heading([], "test accuracy") == "No comparison of test accuracy."
    assert text.outcomes_line(family) == "1 higher, 1 equivalent, 1 inconclusive"


def test_a_family_without_a_test_counts_only_the_tests_that_ran():
    values = {"a": BASE, "b": BASE + np.asarray(DIFFS["higher"]), "c": BASE.iloc[:3] + 0.001}
    fam = stats.compare_family(values, [("a", "b"), ("a", "c")], MARGIN)
    assert [c.outcome for c in fam] == ["higher", "no test"]
    said = text.family_heading(fam)
    assert "2 comparisons" in said and "1 higher, 1 no test" in said
    assert "The 1 difference test" in said and "the 1 equivalence test (TOST" in said


def test_the_family_display_shows_raw_and_holm_p_beside_each_outcome(family):
    shown = text.family_display(family)
    assert list(shown.index) == ["up − a", "same − a", "noisy − a"]
    assert shown["outcome"].tolist() == ["higher", "equivalent", "inconclusive"]
    raw = [t_p(DIFFS[k]) for k in ("higher", "equivalent", "inconclusive")]
    holm = multipletests(raw, method="holm")[1]
    assert shown.loc["noisy − a", "p t-test (raw / Holm)"] == f"{raw[2]:.3g} / {holm[2]:.3g}"
    assert shown.loc["up − a", "p t-test (raw / Holm)"] == "<0.001 / <0.001"
    assert shown.loc["same − a", "p TOST (raw / Holm)"] == "<0.001 / <0.001"
    low, high = ci(DIFFS["higher"])
    assert (
        shown.loc["up − a", "difference [95% CI] (points)"]
        == f"{pts(np.mean(DIFFS['higher']))} [{pts(low)}, {pts(high)}]"
    )
    assert shown.loc["up − a", "b above a"] == "5 of 5" and shown.loc["noisy − a", "b above a"] == "2 of 3"
    low, high = ci(DIFFS["equivalent"], 0.90)
    assert shown.loc["same − a", "90% CI"] == f"[{pts(low)}, {pts(high)}]"
    untested = text.family_display([compare([0.001, 0.001, 0.001])], labels=["constant"])
    assert untested.loc["constant", "p t-test (raw / Holm)"] == "–" and untested.loc["constant", "outcome"] == "no test"


def test_the_outcome_table_has_one_column_per_metric_and_one_row_per_pair(family):
    gap = stats.compare_family(
        {"a": BASE, "up": BASE, "same": BASE + 0.01 * np.arange(5), "noisy": BASE.iloc[:3]},
        [("a", "up"), ("a", "same"), ("a", "noisy")],
        MARGIN,
    )
    table = text.outcome_table({"val_acc": family, "gap": gap})
    assert table.index.name == "comparison (b − a, points)"
    assert list(table.index) == ["up − a", "same − a", "noisy − a"]
    gap_name = "generalisation gap (training accuracy in eval mode − validation)"
    assert list(table.columns) == ["validation accuracy", gap_name]
    assert table.loc["up − a", "validation accuracy"].endswith("] higher")
    assert "] equivalent (90% [" in table.loc["same − a", "validation accuracy"]
    assert table.loc["noisy − a", "validation accuracy"].endswith("] inconclusive")
    for i, row in enumerate(table.index):
        assert gap[i].outcome in table.loc[row, gap_name]
    assert gap[0].outcome == "no test" and table.loc["up − a", gap_name].endswith("] no test")


def test_power_states_what_the_design_can_detect_and_the_seeds_that_would_settle_the_rest(family):
    said = text.power(family)
    sd = float(np.median([np.std(DIFFS[k], ddof=1) for k in ("higher", "equivalent", "inconclusive")]))
    mdd = stats.min_detectable(sd, 5, 0.05 / 3, 0.8)
    assert said.startswith(f"At n=5 seeds the paired differences vary by a median of {sd * 100:.2f} points")
    assert f"a difference of about {mdd * 100:.2f} points is detected with 80% power at α=0.05/3" in said
    assert "3 tested comparisons" in said
    settle = said.split("Seeds that would settle the undecided comparisons")[1]
    assert "`noisy` vs `a`" in settle and "`up`" not in settle and "`same`" not in settle  # decided ones need none
    assert text.power(family[:1]).count("Seeds that would settle") == 0  # nothing undecided
    alone = text.power([compare([0.01])], what="test accuracy")
    assert alone.startswith("On test accuracy, with one seed per model no comparison can be tested")
    wide = text.power([compare([0.5, -0.4, 0.3])])
    assert "no difference can be shown at this n" in wide and "beyond what accuracy can differ by" in wide


def test_the_margin_is_explained_by_the_binomial_error_of_one_accuracy():
    said = text.margin_reason(0.005, 0.9, 10_000)  # se = √(0.9 · 0.1 / 10,000) = 0.30 points
    assert "within ±0.50 points" in said and "near 90% measured on 10,000 images" in said
    assert "standard error of 0.30 points, so the margin is 1.7 such errors" in said
    assert "within what one evaluation on such a set can resolve" in said
    small = text.margin_reason(0.005, 0.9, 1000)  # se = 0.95 points: the margin is finer than one evaluation
    assert "1,000 images" in small and "0.95 points" in small and "0.5 such errors" in small
    assert "equivalence needs many seeds here" in small


def _pilot_plan(cap: int = 10) -> stats.SeedPlan:
    """A real `seeds="auto"` plan: `c` is 3 points above `a` (the pilot decides it), `b` 0.4 points with noise."""
    a = np.full(20, 0.9) + np.resize([0.0, 0.004, -0.003, 0.002, -0.001], 20)
    arms = {
        "a": a,
        "b": a + np.resize([0.006, 0.002, 0.004, 0.003, 0.005, 0.004], 20),
        "c": a + np.resize([0.030, 0.031, 0.029, 0.030], 20),
    }
    return stats.plan_seeds(
        "auto", lambda seeds: {k: v[list(seeds)] for k, v in arms.items()}, [("a", "b"), ("a", "c")], MARGIN, cap
    )


@pytest.mark.parametrize("cap", [10, 4])
def test_the_seed_choice_names_the_pilot_the_n_chosen_and_the_fresh_seeds(cap):
    plan = _pilot_plan(cap)
    choice = plan.choice
    assert plan.pilot_seeds == (0, 1, 2) and plan.seeds == tuple(range(3, 3 + choice.n))
    said = text.seed_choice(plan)
    assert "every model was first trained with seeds 0–2" in said
    assert "for 80% power at α=0.025 (0.05 over 2 comparisons)" in said
    assert f"So n={choice.n} (at least the pilot's 3, cap {cap})" in said
    assert f"{choice.n} fresh seeds, seeds 3–{2 + choice.n}" in said and "not part of any test" in said
    for name, need in choice.needs.items():
        assert f"`{name}` {need if need <= cap else f'more than {cap}'}" in said
    undecidable = [k for k, v in choice.needs.items() if v > cap]
    if undecidable:
        assert f" {text.count(len(undecidable), 'comparison')} would need more than the cap" in said
    else:
        assert "more than the cap" not in said
    assert cap == 10 or undecidable  # the cap of 4 leaves `b` undecidable: both branches are read


def test_the_seed_choice_states_the_family_its_alpha_was_divided_by():
    a = np.array([0.900, 0.905, 0.898])
    diverged = np.array([0.93, np.nan, np.nan])  # `c`'s pilot kept one seed: no estimate of its spread
    pilot = stats.compare_family(
        {"a": a, "b": a + [0.006, 0.002, 0.004], "c": diverged}, [("a", "b"), ("a", "c")], MARGIN
    )
    choice = stats.choose_seeds(pilot)
    assert choice.alpha == pytest.approx(0.025) and list(choice.needs) == ["b − a"]
    said = text.seed_choice(stats.SeedPlan(tuple(range(3, 3 + choice.n)), (0, 1, 2), choice))
    assert "α=0.025 (0.05 over 2 comparisons)" in said


# ----------------------------------------------------------------------------------------------
# section 2: the discussion of each comparison


def _section_frame(b_val, b_train) -> pd.DataFrame:
    """One row per model and seed as `metrics.final_metrics` gives them: val_acc, train_acc and gap."""
    rows = []
    for model, val, train in (("a", BASE, BASE + 0.05), ("b", BASE + b_val, BASE + 0.05 + b_train)):
        for s in SEEDS:
            rows.append(
                {"model": model, "seed": s, "val_acc": val[s], "train_eval_acc": train[s], "gap": train[s] - val[s]}
            )
    return pd.DataFrame(rows)


FACTS = pd.DataFrame(
    {
        "parameters": [61_706, 81_194],
        "mult_adds": [416_520, 656_000],
        "epoch_seconds": [1.5, 2.25],
        "best_epoch": [4.0, 5.2],
    },
    index=["a", "b"],
)


DISCUSSION = importlib.import_module("fashion_cnn.present.text.discussion")  # the module, not its function
R0_THREE = ("lenet5", "lenet5_3x3", "lenet5_3x3_leaky")  # R0's first two changes, cumulative


def _curves(turns_up: str, epochs: int = 6) -> pd.DataFrame:
    """Every epoch of every run of `R0_THREE` as `metrics.history` gives them: validation loss falls, except
    `turns_up`'s, which bottoms out at epoch 3 and rises by 0.05 by the last epoch."""
    rows = []
    for model in R0_THREE:
        for s in SEEDS:
            for e in range(1, epochs + 1):
                loss = 0.5 - 0.03 * e if model != turns_up else 0.5 - 0.03 * min(e, 3) + 0.01 * max(e - 3, 0) * 5 / 3
                rows.append(
                    {
                        "model": model,
                        "seed": s,
                        "epoch": e,
                        "val_loss": loss,
                        "val_acc": 0.8 + 0.01 * e,
                        "train_acc": 0.82 + 0.012 * e,
                    }
                )
    return pd.DataFrame(rows)


def _three(b_diff, c_diff, seconds=(1.5, 1.6, 1.55)):
    """`R0_THREE` compared as section 2 compares them: families, facts, curves, all-pairs ranking."""
    study = studies.get_study("R0")
    base = BASE
    vals = {
        "lenet5": base,
        "lenet5_3x3": base + np.asarray(b_diff),
        "lenet5_3x3_leaky": base + np.asarray(b_diff) + c_diff,
    }
    rows = [
        {"model": m, "seed": s, "val_acc": v[s], "train_eval_acc": v[s] + 0.02, "gap": 0.02}
        for m, v in vals.items()
        for s in SEEDS
    ]
    pairs = [p for p in study.pairs if set(p) <= set(R0_THREE)]
    families = metrics.compare_pairs(pd.DataFrame(rows), pairs, MARGIN)
    facts = pd.DataFrame(
        {
            "parameters": [61_706, 81_194, 81_194],
            "mult_adds": [416_520, 246_000, 246_000],
            "epoch_seconds": list(seconds),
            "best_epoch": [6.0, 6.0, 6.0],
        },
        index=list(R0_THREE),
    )
    order = sorted(vals, key=lambda m: -vals[m].mean())
    ranking = stats.compare_family(vals, stats.all_pairs(order), MARGIN)
    return study, families, facts, ranking, stats.not_below(ranking, order)


def _skeletons(paragraph: str) -> set[str]:
    """A paragraph's sentences with numbers and model names blanked: what repeats when a template does."""
    plain = re.sub(r"`[^`]+`", "M", re.sub(r"[−+]?\d[\d,.]*", "#", paragraph))
    return {s.strip() for s in plain.split(". ") if len(s.strip()) > 20}


def test_the_discussion_says_per_change_what_it_does_what_the_curves_show_and_what_is_decided():
    up = np.asarray(DIFFS["higher"])
    noise = np.array([0.010, -0.008, 0.004, -0.006, 0.002])
    study, families, facts, ranking, contenders = _three(up, noise)
    gaps = pd.Series({"lenet5": 0.031, "lenet5_3x3": 0.027, "lenet5_3x3_leaky": 0.035})
    said = text.discussion(families, facts, _curves("lenet5_3x3_leaky"), gaps, study, ranking, contenders, 6)
    first, second = (p for p in said if p.startswith("**`lenet5_3x3"))
    assert first.startswith("**`lenet5_3x3` against `lenet5`.**") and "3x3 instead of 5x5 kernels" in first
    assert "adds 19,488 parameters (+32%)" in first and "0.42 → 0.25 M per image" in first
    assert f"{pts(up.mean())} points, 95% CI {span(*ci(up))}" in first and claimed(first) == {"higher"}
    assert second.startswith("**`lenet5_3x3_leaky` against `lenet5_3x3`.**") and "LeakyReLU" in second
    assert "only `lenet5_3x3_leaky`'s validation loss turns up, after epoch 3 (by 0.050" in second
    assert f"{pts(noise.mean())} points" in second and "inconclusive at n=5" in second and claimed(second) == set()
    assert not _skeletons(first) & _skeletons(second), "no sentence skeleton repeated across paragraphs"
    (stacked,) = (p for p in said if p.startswith("**The changes stacked.**"))
    assert "`lenet5_3x3_leaky` (2 changes)" in stacked and "higher" in stacked
    assert "+3.50 points against +2.70 points" in second  # the gaps after training, eval mode
    assert "eval mode" in said[0] and sum("running mean" in p for p in said) == 1  # how it is measured, said once
    (close,) = (p for p in said if p.startswith("**Which to use.**"))
    assert contenders == ["lenet5_3x3_leaky", "lenet5_3x3"]
    assert "The data cannot choose" in close and "I would use `lenet5_3x3_leaky`, the cheapest" in close
    assert re.search(r"about (\d+) seeds per model", close) or "No practical number of seeds" in close


def test_the_closing_paragraph_names_the_one_model_the_tests_leave():
    up = np.asarray(DIFFS["higher"])
    study, families, facts, ranking, contenders = _three(up, up)
    assert contenders == ["lenet5_3x3_leaky"]
    gaps = pd.Series(0.03, index=list(R0_THREE))
    close = text.discussion(families, facts, _curves(""), gaps, study, ranking, contenders, 6)[-1]
    assert close.startswith("**Which to use.** `lenet5_3x3_leaky`: every other model is shown below it")
    assert "cannot choose" not in close


def test_an_interval_that_excludes_zero_beside_an_inconclusive_holm_outcome_is_marked():
    a = BASE.iloc[:3]
    values = {"a": a, "b": a + [0.010, 0.013, 0.007], "c": a + [0.01, -0.01, 0.0], "d": a + [0.0, 0.01, -0.01]}
    fam = stats.compare_family(values, [("a", "b"), ("a", "c"), ("a", "d")], MARGIN)
    assert fam[0].test.p_value < 0.05 and fam[0].diff.low > 0 and fam[0].outcome == "inconclusive"
    said = DISCUSSION._decided(fam[0], fam[1], 0)
    assert "the raw 95% interval excludes zero, but after Holm over the 3 comparisons the test does not reject" in said
    assert "excludes zero" not in DISCUSSION._decided(fam[1], fam[1], 0)


@pytest.mark.parametrize("seconds, outliers", [((1.5, 0.9, 0.95), []), ((1.5, 2.9, 0.95), ["lenet5_3x3"])])
def test_timings_are_read_against_multiply_adds_and_outliers_named_as_contention(seconds, outliers):
    facts = _three(DIFFS["higher"], 0.0)[2].assign(epoch_seconds=list(seconds))
    said = DISCUSSION.timings(facts)
    assert "side by side" in said and "1.25×" in said
    named = [m for m in R0_THREE if f"`{m}` (" in said]
    assert named == outliers and ("contention" in said) == bool(outliers)
    worst = DISCUSSION.timings(facts.assign(epoch_seconds=[5.0, 0.5, 1.0]))
    assert "measure contention between runs more than the models" in worst


# ----------------------------------------------------------------------------------------------
# section 3: the ranking, the test comparisons, Cochran's Q and McNemar


def _ranking(val: dict[str, list[float]]) -> tuple[list[str], list[stats.Comparison]]:
    """All pairs of models by mean validation accuracy, one Holm family, as section 3 ranks them."""
    values = {m: pd.Series(v, index=range(len(v))) for m, v in val.items()}
    order = sorted(values, key=lambda m: -values[m].mean())
    return order, stats.compare_family(values, stats.all_pairs(order), MARGIN)


CLEAR = {  # best > mid > low, every pair shown
    "best": [0.930, 0.941, 0.952],
    "mid": [0.915, 0.925, 0.935],
    "low": [0.900, 0.909, 0.921],
}
OPEN = {  # best and mid not told apart, low below best
    "best": [0.930, 0.941, 0.952],
    "mid": [0.935, 0.930, 0.944],
    "low": [0.900, 0.909, 0.921],
}
TIED = {  # nothing shown at all
    "best": [0.930, 0.921, 0.926],
    "mid": [0.920, 0.931, 0.923],
    "low": [0.925, 0.922, 0.924],
}


def _correct_first(n_right: int, n: int = 1000) -> dict[str, np.ndarray]:
    """Test predictions right on the first `n_right` of `n` images (ten classes, wrong ones moved one class on)."""
    labels = np.arange(n) % 10
    return {"labels": labels, "pred": np.where(np.arange(n) < n_right, labels, (labels + 1) % 10)}


def _test_comparison(val: dict[str, list[float]], right=None) -> evaluation.TestComparison:
    """Section 3's comparison as `test_evaluation.run` builds it for the top 2 models, from validation accuracies
    and test predictions (`right`: label → images right per seed) instead of trained runs."""
    order, ranking = _ranking(val)
    models = order[:2]
    seeds = range(len(val[models[0]]))
    labels = [evaluation.TestComparison.label(models[0], "holdout")] + [
        evaluation.TestComparison.label(m) for m in models
    ]
    right = right or {labels[0]: [800, 807, 814], labels[1]: [900, 905, 910], labels[2]: [850, 853, 856]}
    results = {label: {s: _correct_first(right[label][s]) for s in seeds} for label in labels}
    rows = [
        {"model": label, "seed": s, "train_eval_acc": 0.95 + 0.002 * s + 0.001 * j, "val_acc": np.nan}
        | {"test_acc": right[label][s] / 1000}
        for j, label in enumerate(labels)
        for s in seeds
    ]
    final = pd.DataFrame(rows).assign(test_gap=lambda f: f["train_eval_acc"] - f["test_acc"])
    families, pairs, cochran, mcnemar = evaluation.compare(final, results, labels, MARGIN)
    return evaluation.TestComparison(models, ranking, {}, results, final, families, pairs, cochran, mcnemar, order)


def test_the_ranking_states_each_comparison_with_the_best_and_who_may_be_the_best():
    cmp = _test_comparison(CLEAR)
    assert [c.outcome for c in cmp.ranking] == ["lower", "lower", "lower"] and cmp.could_be_best == ["best"]
    said = text.ranking(cmp)
    assert said.startswith("`best` has the highest mean validation accuracy over 3 seeds.")
    assert "All 3 pairs of models are compared as one family (Holm over the 3 difference tests)" in said
    for other in ("mid", "low"):
        d = np.subtract(CLEAR[other], CLEAR["best"])
        assert f"`{other}` {pts(d.mean())} points, 95% CI {span(*ci(d))}: lower (Holm p" in said
    assert "Every other model is shown below `best`" in said and "higher" not in said

    cmp = _test_comparison(OPEN)
    best_mid = cmp.ranking[0]
    assert (best_mid.a, best_mid.b, best_mid.outcome) == ("best", "mid", "inconclusive")
    assert cmp.could_be_best == ["best", "mid"]
    said = text.ranking(cmp)
    assert f"`mid` {pts(best_mid.diff.mean)} points" in said and "inconclusive at n=3" in said
    assert "Besides `best`, only `mid` is shown below no other model" in said and "Every other model" not in said

    cmp = _test_comparison(TIED)
    assert all(c.outcome == "inconclusive" for c in cmp.ranking) and len(cmp.could_be_best) == 3
    said = text.ranking(cmp)
    assert "Besides `best`, 2 models are shown below no other model (`mid`, `low`)" in said
    assert "the 2 retrained here, picked by their means, could equally have been any 2 of these 3" in said
    assert claimed(said) == set()

    alone = SimpleNamespace(models=["best"], ranking=[], could_be_best=["best"])
    assert text.ranking(alone) == "`best` is the only model."


def test_the_summary_names_the_best_model_and_how_sure_the_ranking_is():
    cmp = _test_comparison(CLEAR)
    said = text.summary.best(cmp)
    assert said.startswith("The highest mean validation accuracy is `best`'s")
    assert "retrained on train + validation it reaches 90.50% on the test images" in said  # (900 + 905 + 910) / 3000
    assert "every other model is shown below it" in said and "could be the best" not in said
    said = text.summary.best(_test_comparison(OPEN))
    assert "but the tests do not settle the top: `mid` is shown below no other model" in said
    assert "so it could be the best as well" in said
    said = text.summary.best(_test_comparison(TIED))
    assert "`mid`, `low` are shown below no other model" in said and "any of them could be the best" in said
    untested = _test_comparison(CLEAR)
    untested.final = untested.final[untested.final["model"] != evaluation.TestComparison.label("best")]
    assert "retrained" not in text.summary.best(untested)


def test_the_test_discussion_states_each_comparison_then_cochran_then_mcnemar():
    cmp = _test_comparison(CLEAR)
    train, trainval, mid = cmp.families["test_acc"][0].a, cmp.families["test_acc"][0].b, "mid (train+val)"
    assert [c.outcome for c in cmp.families["test_acc"]] == ["higher", "lower"]
    lines = text.test_discussion(cmp)
    assert len(lines) == 1 + 2 + 1 + 2  # ranking, two comparisons, Cochran's Q, McNemar per pair
    assert lines[0].startswith("`best` has the highest mean validation accuracy")
    d = (np.array([900, 905, 910]) - np.array([800, 807, 814])) / 1000
    assert lines[1].startswith(
        f"`{trainval}` vs `{train}`, test accuracy: {pts(d.mean())} points, 95% CI {span(*ci(d))}"
    )
    assert f"`{trainval}` is higher (" in lines[1] and "Holm over 2 difference tests" in lines[1]
    assert "Also training accuracy " in lines[1] and "; train − test gap " in lines[1]
    d = (np.array([850, 853, 856]) - np.array([900, 905, 910])) / 1000
    assert lines[2].startswith(f"`{mid}` vs `{trainval}`, test accuracy: {pts(d.mean())} points")
    assert f"`{mid}` is lower (" in lines[2]

    cochran = lines[3]
    assert cochran.startswith("Cochran's Q over the correctness of all 3 evaluated models on the same test images")
    for s in range(3):
        assert f"seed {s}: Q={cmp.cochran[s].statistic:.2f}, p<0.001, Holm p<0.001" in cochran
    assert cochran.endswith("in 3 of 3 seeds at least one of them differs from the others.")

    mcnemar = lines[4]
    assert mcnemar.startswith(f"McNemar's test of `{trainval}` against `{train}` per seed (Holm over 6 tests): ")
    assert "+10.00 points (p<0.001, Holm p<0.001), +9.80 points" in mcnemar and "+9.60 points" in mcnemar
    assert mcnemar.endswith(f"`{trainval}` is higher on the test images in 3 and lower in 0 of 3 seeds.")
    assert lines[5].endswith(f"`{mid}` is higher on the test images in 0 and lower in 3 of 3 seeds.")


def test_mcnemar_counts_a_seed_only_where_its_adjusted_test_rejects():
    right = {"best (train)": [800, 899, 800], "best (train+val)": [900, 900, 899], "mid (train+val)": [850, 850, 850]}
    cmp = _test_comparison(CLEAR, right=right)
    first = cmp.mcnemar[cmp.mcnemar["a"] == "best (train)"]
    assert (first["p_holm"] < 0.05).tolist() == [True, False, True]  # seed 1 differs by one image
    said = text.mcnemar(cmp)[0]
    assert "+10.00 points (p<0.001, Holm p<0.001), +0.10 points (p=1, Holm p=1)" in said
    assert said.endswith("is higher on the test images in 2 and lower in 0 of 3 seeds.")


def test_cochran_that_does_not_reject_shows_no_difference_and_claims_no_sameness():
    right = {"best (train)": [900, 900, 900], "best (train+val)": [901, 902, 900], "mid (train+val)": [902, 900, 901]}
    cmp = _test_comparison(CLEAR, right=right)
    assert all(cmp.cochran[s].p_value > 0.05 for s in range(3))
    said = text.cochran(cmp)
    assert "in none of the 3 seeds does the test show a difference, which does not show them equal" in said
    assert claimed(said) == set()
    assert text.cochran(SimpleNamespace(cochran={})) == ""


def test_cochran_says_no_test_for_a_seed_where_every_model_is_right_on_the_same_images():
    right = {"best (train)": [900, 800, 800], "best (train+val)": [900, 900, 900], "mid (train+val)": [900, 850, 850]}
    cmp = _test_comparison(CLEAR, right=right)
    assert math.isnan(cmp.cochran[0].p_value) and cmp.cochran[1].p_value < 0.001
    said = text.cochran(cmp)
    assert "in 2 of 3 seeds" in said or "in 2 of 2 tested seeds" in said
    assert "nan" not in said and "no test" in said


# ----------------------------------------------------------------------------------------------
# section 4: k-fold


def _folds(val_jitter, train_diff) -> pd.DataFrame:
    """Two models on the same 5 folds of 60,000 images, as `metrics.kfold_compare` reads them."""
    rows = []
    for model in ("a", "b"):
        for f in range(5):
            val = 0.90 + (0.02 + val_jitter[f] if model == "b" else 0.0) + 0.001 * f
            train = 0.95 + (train_diff[f] if model == "b" else 0.0) + 0.001 * f
            rows.append({"model": model, "fold": f, "val_acc": val, "train_eval_acc": train, "gap": train - val})
    return pd.DataFrame(rows).assign(train_size=48_000, val_size=12_000)


def test_kfold_comparison_uses_the_corrected_interval_and_says_so():
    jitter = [0.001, -0.002, 0.0, 0.002, -0.001]
    train = [0.005, -0.003, 0.004, -0.003, 0.002]
    families = metrics.kfold_compare(_folds(jitter, train), ("a", "b"), MARGIN)
    assert families["val_acc"][0].outcome == "higher" and families["train_eval_acc"][0].outcome == "inconclusive"
    lines = text.kfold_comparison(families, 5, 48_000, 12_000)
    assert lines[0].startswith("`b` against `a` over the same 5 folds, with the Nadeau–Bengio corrected t-test")
    assert "s²·(1/5 + 12,000/48,000) instead of s²/5" in lines[0]
    d = 0.02 + np.asarray(jitter)
    assert lines[1].startswith(
        f"Validation accuracy: {pts(d.mean())} points, 95% CI {span(*ci(d, corrected=(48_000, 12_000)))}"
    )
    assert span(*ci(d)) not in lines[1]  # the plain interval is narrower and wrong for folds
    assert "(n=5 folds): higher (Holm p" in lines[1]
    assert lines[2].startswith("Training accuracy (eval mode): ") and "(n=5 folds): inconclusive at n=5" in lines[2]
    assert claimed(lines[2]) == set() and lines[3].startswith(
        "Generalisation gap (training accuracy in eval mode − validation): "
    )


def test_kfold_sentence_puts_the_holdout_run_inside_or_outside_the_prediction_interval():
    val = [0.90, 0.91, 0.905, 0.915, 0.895]
    x = np.asarray(val)
    low, high = ci(val)
    half = sps.t.ppf(0.975, 4) * x.std(ddof=1) * math.sqrt(1 + 1 / 5)
    for hold, where in ((0.907, "inside"), (0.95, "outside")):
        run = SimpleNamespace(metrics={"val_acc": hold}, config=SimpleNamespace(name="lenet5", seed=0))
        said = text.kfold_sentence(pd.DataFrame({"val_acc": val}), run, 5)
        assert said.startswith("Over 5 folds `lenet5` reaches a mean validation accuracy of 90.50%")
        assert f"std {x.std(ddof=1) * 100:.2f} points, 95% CI of the mean {low:.2%} to {high:.2%}" in said
        assert f"prediction interval {x.mean() - half:.2%} to {x.mean() + half:.2%}" in said
        assert f"on the hold-out split gave {hold:.2%}, {where} it (a single run" in said
        assert "The folds differ by up to 2.00 points" in said


# ----------------------------------------------------------------------------------------------
# sections 1, 3 and 6: data, errors, the map


def test_the_balance_sentence_states_the_counts_and_only_then_calls_them_balanced():
    classes = ["T-shirt/top", "Trouser"]
    balanced = text.balance_sentence(pd.DataFrame({"train": [6000, 6000], "test": [1000, 1000]}, index=classes))
    assert "the train file has 12,000 images, 6,000 to 6,000 per class (largest/smallest = 1.000)" in balanced
    assert "the test file has 2,000 images, 1,000 to 1,000 per class" in balanced
    assert "The classes are balanced" in balanced and "imbalanced" not in balanced
    skewed = text.balance_sentence(pd.DataFrame({"train": [6000, 3000], "test": [1000, 1000]}, index=classes))
    assert "3,000 to 6,000 per class (largest/smallest = 2.000)" in skewed
    assert "The classes are imbalanced (ratio 2.00)" in skewed and "are balanced" not in skewed


def test_the_border_sentence_states_the_rings_share_of_pixels_ink_and_variance():
    images = np.zeros((10, 28, 28), np.uint8)
    for i in range(10):
        images[i, 9:19, 9:19] = 100 + 10 * i  # a centre block of 100 pixels, 100 … 190
    images[:5, 0, 10:18] = 200  # half the images have 8 pixels of ink in the top row
    table = data_stats.border_signal(images)
    said = text.border_sentence(table, 5)
    assert "A 5x5 convolution without padding never centres on the outer 2 pixels" in said
    assert "That ring is 26.5% of the pixels" in said  # (784 − 576) / 784
    assert "holds 5.2% of the ink" in said  # 8 · 100 / (8 · 100 + 100 · 145)
    assert "49.2% of the pixel variance" in said  # 8 · 100² / (8 · 100² + 100 · 28.72²)
    assert "50.0% of the training images have a non-zero pixel in it" in said
    assert "Padding by 2 keeps the output 28x28" in said
    three = text.border_sentence(table, 3)
    assert "A 3x3 convolution" in three and "outer 1 pixel of" in three and "13.8% of the pixels" in three


def test_the_confusion_sentence_names_each_pair_with_its_count_and_share():
    labels = np.repeat(np.arange(10), 100)
    pred = labels.copy()
    pred[600:630] = 0  # 30 shirts taken for T-shirts
    pred[200:210] = 4  # 10 pullovers taken for coats
    said = text.confusion_sentence(metrics.most_confused(labels, pred, top=2))
    assert said.startswith(
        "The most frequent errors: Shirt taken for T-shirt/top (30 times, 30.0% of the Shirt images)"
    )
    assert "; Pullover taken for Coat (10 times, 10.0% of the Pullover images)." in said


def test_the_overlap_sentence_says_which_overlapping_pairs_are_also_confused():
    overlap = pd.DataFrame(
        {
            "class_a": ["T-shirt/top", "Pullover", "Sandal"],
            "class_b": ["Shirt", "Coat", "Sneaker"],
            "overlap": [0.2345, 0.1, 0.05],
        }
    )
    confused = pd.DataFrame({"true": ["Shirt", "Bag"], "predicted": ["T-shirt/top", "Trouser"]})
    said = text.overlap_sentence(overlap, confused, 0.873)
    assert "mean share of a point's 10 nearest neighbours" in said
    assert "T-shirt/top / Shirt (23.4% of neighbours); Pullover / Coat (10.0% of neighbours)" in said
    assert "Of these, T-shirt/top / Shirt is also among this run's most confused pairs" in said
    assert "not those of section 3's model" in said  # the map's own run, not the confusion matrix's
    assert "Pullover / Coat is" not in said and "for 87.3% of them" in said
    both = text.overlap_sentence(
        overlap, pd.concat([confused, pd.DataFrame({"true": ["Coat"], "predicted": ["Pullover"]})]), 0.5
    )
    assert "T-shirt/top / Shirt, Pullover / Coat are also among" in both
    none = text.overlap_sentence(overlap.iloc[2:], confused, 0.5, k=5)
    assert "None of them is among this run's most confused pairs" in none and "5 nearest" in none


# ----------------------------------------------------------------------------------------------
# the summary and "How this was measured"


def test_the_decisions_list_each_comparison_with_its_interval_and_outcome(family):
    said = text.summary.decisions(family, "tab:02-comparisons")
    lead, bullets = said.split("\n\n")
    assert lead.startswith("What the 3 comparisons of validation accuracy decided (in full in [@tab:02-comparisons])")
    assert "Holm over the 3 difference tests and over the 3 equivalence tests within ±0.50 points" in lead
    lines = bullets.split("\n")
    low, high = ci(DIFFS["higher"])
    assert lines[0] == f"- `up` − `a`: {pts(np.mean(DIFFS['higher']))} [{pts(low)}, {pts(high)}] higher"
    assert lines[1].startswith("- `same` − `a`: ")
    assert "] equivalent (90% [" in lines[1] and lines[2].endswith("] inconclusive")
    assert text.summary.decisions([]) == "The study has one model: nothing is compared."


def test_the_decisions_do_not_state_one_comparisons_n_for_all():
    up = BASE + np.asarray(DIFFS["higher"])
    values = {"a": BASE, "b": up.mask(BASE.index == 2), "c": up}  # b's seed 2 diverged
    fam = stats.compare_family(values, [("a", "b"), ("a", "c")], MARGIN)
    assert [c.diff.n for c in fam] == [4, 5] and fam[0].dropped == 1
    assert [c.outcome for c in fam] == ["higher", "higher"]
    said = text.summary.decisions(fam)
    assert "5 seeds" in said or "n=5" in said


def test_a_finding_line_names_the_pair_and_each_metrics_outcome():
    higher, same = compare(DIFFS["higher"]), compare(DIFFS["equivalent"])
    found = text.summary.finding(
        "Data augmentation", {"val_acc": higher, "test_acc": same}, "tab:05-comparisons", "5 seeds"
    )
    line = found.line
    assert line.startswith("**Data augmentation** ([@tab:05-comparisons], 5 seeds): `b` − `a`: validation accuracy ")
    assert "] higher; test accuracy " in line and "] equivalent (90% [" in line
    assert text.summary.findings().role == "findings"


def test_the_machine_is_said_the_same_way_wherever_runs_are_described():
    assert text.words.machine("AMD EPYC (2 threads)") == "AMD EPYC, 2 threads per run"
    assert text.words.machine(["AMD EPYC (1 threads)", "AMD EPYC (1 threads)"]) == "AMD EPYC, 1 thread per run"
    assert text.words.machine(["AMD EPYC (2 threads)", "AMD EPYC (1 threads)"]) == "AMD EPYC, 1–2 threads per run"
    assert text.words.machine(["NVIDIA H200", "NVIDIA H200"]) == "NVIDIA H200"


def test_where_and_the_question_state_their_numbers():
    runs = [
        SimpleNamespace(
            history=[{"seconds": 30.0}, {"seconds": 30.0}], provenance={"device_name": "CPU X (1 threads)"}
        ),
        SimpleNamespace(history=[{"seconds": 30.0}], provenance={"device_name": "CPU X (2 threads)"}),
    ]
    said = text.summary.where(runs)
    assert said.startswith("Ran on CPU X, 1–2 threads per run: the 2 runs summarised here trained for 1.5 minutes")
    assert text.summary.WALL_TIME in said
    study = studies.get_study("R0")
    asked = text.summary.question(study)
    assert f"Study R0 compares {len(study.models)} models" in asked and "[@xiao2017]" in asked
    assert "baseline `lenet5`" in asked


def test_the_methods_cite_what_they_use_and_the_settings_table_has_every_model():
    study, quick = studies.get_study("R0"), config.get_profile("quick")
    prov = {"device_name": "CPU X", "python": "3.11", "torch": "2.14", "numpy": "2.4", "git_commit": "abc"}
    lines = text.summary.methods(study, quick, stats.SeedPlan.given(3), 0.005, prov)
    joined = " ".join(lines)
    for key in ("xiao2017", "kingma2015", "holm1979", "schuirmann1987", "mcnemar1947", "cochran1950", "nadeau2003"):
        assert f"[@{key}]" in joined, key
    assert "±0.50 points" in joined and "tested seeds 0–2 set" in joined and "CPU X" in joined
    assert "3 seeds, 2,400/600 train/validation images" in joined and "`abc`" in joined
    assert "pilot" not in joined and "McNemar's exact test" not in joined and "one family per" not in joined
    auto = " ".join(text.summary.methods(study, quick, stats.SeedPlan((3, 4, 5, 6), (0, 1, 2)), 0.005, prov))
    assert "tested seeds 3–6 set" in auto and "A pilot with seeds 0–2 chose how many seeds" in auto
    assert "±1.00 points" in " ".join(text.summary.methods(study, quick, stats.SeedPlan.given(3), 0.01, prov))
    table = text.summary.settings_table(study, quick)
    assert list(table.index) == list(study.models) and set(table["epochs"]) == {2}


def test_each_model_is_described_with_its_parameter_count_and_citations():
    study = studies.get_study("R0")
    said = text.describe_models(study.main)
    for i, arm in enumerate(study.main):
        role = "baseline" if i == 0 else "variant of `lenet5`"
        params = count_parameters(create_model(arm.model))
        assert f"### {i + 1}. `{arm.label}` ({role}, {params:,} parameters)" in said, arm.label
    assert "[@lecun1998]" in said and "[@srivastava2014]" in said  # LeNet-5, and the dropout variants


# ----------------------------------------------------------------------------------------------
# section 7: sweeps and the search


def test_sweep_sentences_give_ranges_and_claim_no_difference():
    t = pd.DataFrame(
        {"val_acc": [0.85, 0.90, 0.88], "train_acc": [0.86, 0.95, 0.99], "s_per_epoch": [5.0, 5.1, 5.2]},
        index=pd.Index([0.1, 0.001, 0.0001], name="lr"),
    )
    lines = text.sweep_sentences(t, "lr", 0)
    assert "ranges from 85.00% (lr=0.1) to 90.00% (lr=0.001), a spread of 5.0 points" in lines[0]
    assert "largest at lr=0.0001 (+11.0 points) and smallest at lr=0.1 (+1.0 points)" in lines[1]
    assert all(line.endswith(f"; {text.NO_TEST}.") for line in lines[:2])
    assert "about as long at every lr (5.00–5.20 s)" in lines[2] and "seed 0 and the same split" in lines[3]
    assert all(claimed(line) == set() for line in lines)


def _search():
    summary = {
        "finished": 12,
        "complete": 10,
        "pruned": 2,
        "fail": 0,
        "total": 12,
        "best_value": 0.915,
        "best_params": {"lr": 0.00123456, "n_base": 16},
        "best_number": 7,
        "trial_seconds": 1800.0,
        "wall_seconds": 1200.0,
        "workers": [1, 2],
        "devices": ["cpu"],
    }
    config_ = RunConfig("cnn_2", epochs=10, augment=("flip",), split="trainval")
    run = SimpleNamespace(provenance={"device_name": "CPU X"}, metrics={"train_size": 60_000}, config=config_)
    return summary, {"acc": 0.9123, "n": 10_000}, run


def test_the_search_note_states_its_trials_its_best_and_claims_nothing_against_r4():
    summary, test, run = _search()
    lines = text.describe_search(summary, test, run, "cnn_2", 0.9208)
    assert "finished 12 of its 12 trials on `cnn_2` (10 complete, 2 stopped early by the pruner)" in lines[0]
    assert "30.0 min" in lines[0] and "20.0 min of wall-clock time" in lines[0] and "worker" not in lines[0]
    assert lines[1] == "The best trial (#7) reached 91.50% validation accuracy with learning rate 0.00123, width 16."
    assert "10 epochs, with augmentation) on CPU X, it scores 91.23%" in lines[2]
    assert "0.85 points against R4's 92.08%" in lines[2] and "no difference or equivalence is claimed" in lines[2]
    assert claimed(lines[2]) == set() and "CNN_2, so this compares" not in lines[2]
    other = RunConfig("lenet5", epochs=10, split="trainval")
    lines = text.describe_search(summary, test, SimpleNamespace(**{**vars(run), "config": other}), "lenet5", 0.9208)
    assert "without augmentation" in lines[2] and "`lenet5` is not CNN_2, so this compares two searches" in lines[2]


def test_the_search_note_writes_counts_as_the_report_does():
    summary, test, run = _search()
    said = text.describe_search(summary, test, run, "cnn_2", 0.9208)[2]
    assert "60,000 images" in said and "10,000 test images" in said


@pytest.mark.parametrize("where", ["search", "sweep", "commentary"])
def test_a_negative_difference_is_written_with_a_minus_sign(where):
    if where == "search":
        summary, test, run = _search()
        said = text.describe_search(summary, test, run, "cnn_2", 0.9208)[2]  # 91.23% − 92.08%
        assert "−0.85 points" in said
    elif where == "sweep":
        t = pd.DataFrame(
            {"val_acc": [0.90, 0.91], "train_acc": [0.89, 0.92], "s_per_epoch": [5.0, 5.0]}, index=pd.Index([0.1, 0.5])
        )
        said = text.sweep_sentences(t, "dropout", 0)[1]  # gap −1.0 at dropout=0.1
        assert "(−1.0 points)" in said
    else:
        values = _values([("R9", "a", "holdout", "val_acc", [0.90, 0.91, 0.92])])
        table = reproduction_table(values, (Reported("R9", "t", "a", "holdout", "val_acc", 0.85),))
        said = " ".join(text.commentary(table))
        assert "(−6.00 points)" in said


# ----------------------------------------------------------------------------------------------
# section 8: the reproduction


def _values(rows) -> pd.DataFrame:
    """Our per-seed values as `Measurements.values` holds them: study, arm, setting, metric, seed, value."""
    return pd.DataFrame(
        [
            {"study": s, "arm": a, "setting": st, "metric": m, "seed": i, "value": v}
            for s, a, st, m, vals in rows
            for i, v in enumerate(vals)
        ]
    )


def _claims():
    """Three claims of one report tested by `claims.claims_table`: one supported, one inconclusive over seeds
    with McNemar split by seed, one on a loss. Returns the table."""
    preds = {}
    for s, (ra, rb) in enumerate(((600, 900), (600, 900), (900, 600))):
        preds[("R9", "a", "holdout-test", s)] = _correct_first(ra, 1000)
        preds[("R9", "b", "holdout-test", s)] = _correct_first(rb, 1000)
    base = [0.900, 0.910, 0.920]
    values = _values(
        [
            ("R9", "a", "holdout", "val_acc", base),
            ("R9", "b", "holdout", "val_acc", list(np.add(base, [0.020, 0.021, 0.019]))),
            ("R9", "a", "holdout-test", "test_acc", [0.6, 0.6, 0.9]),
            ("R9", "b", "holdout-test", "test_acc", [0.9, 0.9, 0.6]),
            ("R9", "a", "holdout", "val_loss", [0.30, 0.31, 0.32]),
            ("R9", "b", "holdout", "val_loss", [0.35, 0.365, 0.372]),
        ]
    )
    claims = (
        Claim("R9", "t", "a", "b", "holdout", "val_acc", ">", "b beats a"),
        Claim("R9", "t", "a", "b", "holdout-test", "test_acc", ">", "b beats a on test"),
        Claim("R9", "t", "a", "b", "holdout", "val_loss", ">", "b's loss is higher"),
    )
    return claims_mod.claims_table(Measurements(values, preds), claims)


def test_a_claim_sentence_states_the_estimate_the_tests_the_outcome_and_the_verdict():
    table = _claims()
    assert table["outcome"].tolist() == ["higher", "inconclusive", "higher"]
    assert table["verdict"].tolist()[0] == "supported"
    said = text.claim_sentence(table.iloc[0])
    d = [0.020, 0.021, 0.019]
    assert said.startswith(
        f"b beats a: `b` vs `a`, validation accuracy: {pts(np.mean(d))} points, 95% CI {span(*ci(d))}"
    )
    assert f"(n=3 seeds), {fmt_p(t_p(d), 'paired t p')}; `b` is higher (adjusted p=" in said
    assert "Holm over 3 difference tests" in said and said.endswith("Verdict: supported.") and "McNemar" not in said
    loss = text.claim_sentence(table.iloc[2])
    assert "validation loss: +0.0523, 95% CI " in loss and "points" not in loss and "nan" not in loss


def test_an_undecided_test_set_claim_adds_what_mcnemar_found_seed_by_seed():
    row = _claims().iloc[1]
    assert row["outcome"] == "inconclusive" and (row["mcnemar_agree"], row["mcnemar_against"]) == (2, 1)
    said = text.claim_sentence(row)
    assert "inconclusive at n=3" in said and claimed(said.split("McNemar")[0]) == set()
    assert "test accuracy b − a per seed: +30.00 points (p<0.001, Holm p<0.001)" in said
    assert "−30.00 points (p<0.001, Holm p<0.001)" in said and "Holm over 3 McNemar tests of R9" in said
    assert (
        "in 2 of 3 seeds and the opposite direction in 1 of 3: which trained model is better depends on the seed"
        in said
    )


@pytest.mark.parametrize(
    "agree, against, says",
    [
        (0, 0, "finds the claimed direction in none of the seeds (0 of 3)."),
        (0, 2, "finds the claimed direction in none of the seeds (0 of 3) and the opposite direction in 2 of 3."),
        (3, 0, "in 3 of 3 seeds: those trained models differ on the test set, but the difference is not shown to hold"),
    ],
)
def test_the_mcnemar_sentence_counts_each_direction(agree, against, says):
    row = _claims().iloc[1].copy()
    row["mcnemar_agree"], row["mcnemar_against"] = agree, against
    said = text.mcnemar_sentence(row)
    assert says in said and said.startswith("McNemar's test on each seed's test predictions")


def test_cochran_per_seed_says_how_many_seeds_show_a_difference_and_which_had_no_test():
    preds = {}
    for s, rights in enumerate(((700, 800, 900), (800, 801, 802), (900, 900, 900))):
        for arm, right in zip(("x", "y", "z"), rights):
            preds[("R9", arm, "holdout-test", s)] = _correct_first(right)
    rows = claims_mod.cochran_table(Measurements(_values([]), preds))
    assert rows["p"].isna().tolist() == [False, False, True] and rows["p_holm"].iloc[0] < 0.05 < rows["p_holm"].iloc[1]
    said = text.cochran_sentence(rows)
    assert "whether any of the 3 arms evaluated on the test set (x (holdout-test), y (holdout-test)" in said
    assert "(Holm over 2 seeds)" in said  # the seed without a test is not in the family
    assert "seed 0: test accuracy 70.00–90.00% across arms, Q=" in said
    assert "seed 2: test accuracy 90.00–90.00% across arms, every arm right on the same images, no test" in said
    assert (
        "shown to differ in 1 of 2 seeds; in the others the test does not reject, which does not show them equal"
        in said
    )
    every = text.cochran_sentence(rows.iloc[:1])
    assert every.endswith("The arms differ on the test set in every tested seed (1 of 1).")


def test_the_commentary_counts_figures_and_claims_and_lists_each_claim():
    values = _values(
        [
            ("R9", "a", "holdout", "val_acc", [0.89, 0.90, 0.91]),
            ("R9", "b", "holdout", "val_acc", [0.80, 0.81, 0.82]),
            ("R9", "c", "holdout", "val_acc", [0.70]),
        ]
    )
    figures = tuple(
        Reported("R9", "t", arm, "holdout", "val_acc", v)
        for arm, v in (("a", 0.905), ("b", 0.90), ("c", 0.7), ("d", 0.7))
    )
    table = reproduction_table(values, figures)
    claims = _claims()
    lines = text.commentary(table, claims, "quick")
    joined = " ".join(lines)
    assert lines[0].startswith("1 of the 2 reported figures with an interval lie outside our 95% prediction interval")
    assert "in the quick profile, n = 3 seeds per configuration" in lines[0]
    assert "1 of the 4 figures: not run." in lines and "1 of the 4 figures: a single seed, so no interval." in lines
    assert "The reported value is above our mean in 2 of 3 figures and below it in 1." in joined
    assert "The largest accuracy gap is b val_acc (holdout): reported 90.00, ours 81.00 (+9.00 points)." in joined
    assert (
        "Of its 3 comparisons, tested as two Holm families, one per kind of claim (Holm over the 3 difference tests"
        in joined
    )
    assert "Holm over the 2 equivalence tests at ±0.50 points on accuracy-like metrics" in joined
    assert "outcomes of those run: 2 higher, 1 inconclusive." in joined
    assert sum(line.startswith(("b beats a", "b's loss")) for line in lines) == 3
    assert text.commentary(table.iloc[0:0]) == []


def test_the_seeds_sentence_says_where_the_number_of_seeds_came_from():
    assert text.seeds_sentence(StudySeeds(stats.SeedPlan.given(3), "profile"), "quick", 3) == (
        "Seeds: 3 seeds per configuration (the quick profile's)."
    )
    assert "4 seeds per configuration (given)" in text.seeds_sentence(
        StudySeeds(stats.SeedPlan.given(4), "given"), "quick", 3
    )
    stored = text.seeds_sentence(StudySeeds(stats.SeedPlan.given(5), "store", 10), "quick", 3)
    assert "trains nothing" in stored and "3-seed pilot" in stored and "seeds 0–4 (at most 10)" in stored
    assert "`" not in stored and "stored_only" not in stored
    pilot = text.seeds_sentence(StudySeeds(_pilot_plan(), "pilot"), "quick", 3)
    assert "first trained with seeds 0–2" in pilot and "fresh seeds" in pilot


def test_the_method_states_margin_and_alpha_and_why_the_margin():
    said = text.method(0.005, 0.05)
    assert "paired TOST at ±0.50 points" in said and "α=0.05" in said and "equivalence within ±0.50 points" in said
    assert "binomial standard error" not in said
    assert "±1.00 points" in text.method(0.01, 0.01) and "α=0.01" in text.method(0.01, 0.01)
    explained = text.method(0.005, 0.05, 0.9, 10_000)
    assert "near 90% measured on 10,000 images has a binomial standard error of 0.30 points" in explained


def test_a_reproduced_reports_head_states_settings_profile_and_store():
    study, quick = studies.get_study("R1"), config.get_profile("quick")
    lines = text.section_head("R1", study, "Seeds: 3 seeds.", quick, (5, 12), False)
    joined = "\n".join(lines)
    assert lines[0] == f"## R1: {study.title}" and "Seeds: 3 seeds." in lines
    assert "learning rate 0.001" in joined and "batch size 32" in joined and "=" not in joined
    assert (
        "Profile `quick` trains at most 2 epochs on 3,000 training images" in joined and "does not reproduce" in joined
    )
    assert "5 of the 12 runs this study plans are stored" in joined and "python -m" not in joined
    assert "R1 ran on another data set" in joined
    full = "\n".join(text.section_head("R1", study, "", config.get_profile("full"), None, True))
    assert "Profile `" not in full and "run store" not in full and "another data set" not in full


def test_the_reports_not_reproduced_are_named_once_with_their_cost_and_no_command():
    said = text.reproduced_overview(["R0"], [("R1", 102, 4.2), ("R4", 63, 48.6)])
    assert said.startswith("This report reproduces R0. R1 and R4 are not reproduced here")
    assert "R1: 102 runs, about 4 h; R4: 63 runs, about 49 h" in said and "README" in said
    assert "make " not in said and "REPRODUCE" not in said
    assert text.reproduced_overview(["R0", "R1"], []) == "This report reproduces R0 and R1."
    alone = text.not_reproduced("R3", "AlexNet-style")
    assert alone.startswith("## R3: AlexNet-style") and alone.count("\n") == 2 and "h " not in alone


def test_the_closing_note_sums_the_training_time_of_each_run_once():
    runs = pd.DataFrame(
        {
            "key": ["k1", "k2", "k2", "k3"],  # k2 listed twice: counted once
            "study": ["R0", "R0", "R0", "R1"],
            "device": ["cpu", "cpu", "cpu", "cuda"],
            "train_seconds": [1800.0, 900.0, 900.0, 900.0],
            "finished": [3600.0, 5400.0, 5400.0, 7200.0],
        }
    )
    said = text.closing_note(runs, "quick")
    assert said.startswith("Profile `quick`: 3 runs on cpu and cuda; their training took 1.00 h summed over runs")
    assert "(R0 45.0 min, R1 15.0 min)" in said and "spanned 1.50 h of wall-clock time" in said
    assert "spanned" not in text.closing_note(runs.drop(columns="finished"), "quick")
    assert text.closing_note(runs.iloc[0:0], "quick") == "No runs were measured."


def test_r1s_decay_figures_stand_beside_ours_and_are_not_compared():
    said = text.r1_decay(0.9012, 0.9105, RunConfig("lenet5", subset=3000, batch_size=64))
    assert "R1 reported 90.12% with a constant rate and 91.05% with the decay (+0.93 points, one run each)" in said
    assert "batch 64 on 3,000 training images" in said and "are not compared with them" in said
    assert claimed(said) == set()
    assert "the 48k training split" in text.r1_decay(0.9, 0.9, RunConfig("lenet5"))


def test_a_reproduced_kfold_is_introduced_as_its_own_experiment():
    line = text.kfold_repeated([("lenet5", 5)], 3)
    assert "`lenet5` (5 folds)" in line and "3 seeds" in line and "mean of these over the seeds" in line
    assert "Section 4" in line and "another experiment" in line  # not taken for section 4's single run
    assert text.kfold_repeated([], 3) == ""


def test_an_interval_that_excludes_zero_beside_a_holm_inconclusive_is_marked():
    rng = np.random.default_rng(3)
    shift = pd.Series([0.0050, 0.0010, 0.0030, 0.0045, 0.0015], index=BASE.index)  # raw p < 0.05, not after Holm
    values = {"a": BASE, "b": BASE + shift, "c": BASE + rng.normal(0, 0.01, 5), "d": BASE + rng.normal(0, 0.01, 5)}
    fam = stats.compare_family(values, [("a", "b"), ("a", "c"), ("a", "d")], MARGIN)
    assert fam[0].diff.low > 0 and fam[0].outcome == "inconclusive"  # the case itself
    lines = text.summary.decisions(fam).split("\n\n")[1].split("\n")
    assert lines[0].endswith("inconclusive (the raw interval excludes zero; Holm's test does not reject)")
    assert not any("raw interval" in line for line in lines[1:])
