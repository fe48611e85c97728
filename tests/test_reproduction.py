"""The reproduction: figures as data, the table's logic on synthetic runs, and one tiny real measure()."""

import dataclasses
import math
import re

import numpy as np
import pandas as pd
import pytest

from fashion_cnn import reproduction as rep
from fashion_cnn.config import get_profile
from fashion_cnn.metrics import count
from fashion_cnn.runs import get_or_train
from fashion_cnn.stats import mean_ci
from fashion_cnn.studies import Arm, Study, get_study

TINY = dataclasses.replace(get_profile("quick"), epochs=1, subset=300, seeds=2, folds=2, test_subset=200)


def test_every_figure_points_at_something_its_study_measures():
    for fig in rep.FIGURES:
        assert (fig.arm, fig.setting) in rep.available(get_study(fig.report)), fig
        assert fig.metric in rep.METRICS and fig.setting in rep.SETTINGS
        assert 0 < fig.value < 1 or fig.metric.endswith("loss"), fig
    for claim in rep.CLAIMS:
        study = get_study(claim.report)
        for arm, setting in zip((claim.a, claim.b), claim.settings):
            assert (arm, setting) in rep.available(study), claim


def test_figures_cover_the_reports():
    count = lambda report, setting=None, metric=None: sum(  # noqa: E731
        f.report == report and setting in (None, f.setting) and metric in (None, f.metric) for f in rep.FIGURES)
    assert count("R0", "holdout") == 10 and count("R0", metric="test_acc") == 3 and count("R0", "kfold-mean") == 1
    assert count("R1", "kfold-max") == 10 and count("R1", "kfold-mean") == 20 and count("R1", "trainval-test") == 12
    assert count("R2", "holdout") == 12 and count("R2", "holdout-test") == 4 and count("R2", "kfold-mean") == 2
    assert count("R4", "holdout-test", "test_acc") == 21
    assert count("R3") == 0  # another data set: directions only
    tuned = [f for f in rep.FIGURES if f.arm == "cnn_2/tuned"]
    assert len(tuned) == 1 and tuned[0].value == 0.9291
    assert all("Keras" in f.note for f in rep.FIGURES if "keras" in f.metric)


def _values(rows):
    return pd.DataFrame([{"study": s, "arm": a, "setting": st, "metric": m, "seed": i, "value": v}
                         for s, a, st, m, vals in rows for i, v in enumerate(vals)])


FIGS = (
    rep.Figure("R0", "t", "a", "holdout", "val_acc", 0.90),
    rep.Figure("R0", "t", "b", "holdout", "val_acc", 0.90),
    rep.Figure("R0", "t", "c", "holdout", "val_acc", 0.90),
    rep.Figure("R0", "t", "d", "holdout", "val_acc", 0.90),
    rep.Figure("R0", "t", "a", "holdout", "val_loss", 0.30),
)


def test_reproduction_table_on_synthetic_runs():
    values = _values([("R0", "a", "holdout", "val_acc", [0.89, 0.90, 0.91]),
                      ("R0", "b", "holdout", "val_acc", [0.80, 0.81, 0.82]),
                      ("R0", "c", "holdout", "val_acc", [0.70]),
                      ("R0", "a", "holdout", "val_loss", [0.40, 0.42, 0.41]),
                      ("R1", "a", "holdout", "val_acc", [0.10, 0.10])])  # another report: never mixed in
    table = rep.reproduction_table(values, FIGS).set_index(["arm", "metric"])
    a = table.loc[("a", "val_acc")]
    ci = mean_ci([0.89, 0.90, 0.91])
    assert (a["mean"], a["ci_low"], a["ci_high"], a["n"]) == pytest.approx((ci.mean, ci.low, ci.high, 3))
    assert a["inside"] is True and a["difference"] == pytest.approx(0.0)
    b = table.loc[("b", "val_acc")]
    assert b["inside"] is False and b["difference"] == pytest.approx(0.09)
    assert table.loc[("c", "val_acc")]["inside"] is None and table.loc[("c", "val_acc")]["n"] == 1
    d = table.loc[("d", "val_acc")]
    assert d["n"] == 0 and math.isnan(d["mean"]) and d["inside"] is None
    assert table.loc[("a", "val_loss")]["difference"] == pytest.approx(0.30 - 0.41)

    shown = rep.display_table(rep.reproduction_table(values, FIGS))
    assert shown.loc[0, "reported"] == "90.00" and shown.loc[0, "inside"] == "yes" and shown.loc[3, "inside"] == "n/a"
    assert shown.loc[4, "reported"] == "0.3000" and shown.loc[1, "difference"] == "9.00"

    text = rep.commentary(rep.reproduction_table(values, FIGS), profile="quick")
    assert text[0].startswith("1 of the 3 reported figures with an interval lie inside our 95% interval in the quick")
    assert "1 of the 5 figures: not run." in text and "1 of the 5 figures: a single seed, so no interval." in text
    assert any("largest accuracy gap is c val_acc" in t and "+20.00 points" in t for t in text)
    assert any("largest loss gap is a val_loss" in t and "-0.1100" in t for t in text)
    assert {"val_acc", "val_loss", "holdout"} <= set(rep.definitions(rep.reproduction_table(values, FIGS))["term"])


def test_claims_table_tests_direction_and_mcnemar():
    labels = np.zeros(100, dtype=int)
    preds = {}
    for seed in range(3):
        preds[("R9", "a", "holdout-test", seed)] = {"labels": labels, "pred": np.r_[np.zeros(60), np.ones(40)].astype(int)}
        preds[("R9", "b", "holdout-test", seed)] = {"labels": labels, "pred": np.r_[np.zeros(90), np.ones(10)].astype(int)}
    values = _values([("R9", "a", "holdout-test", "test_acc", [0.60, 0.61, 0.59]),
                      ("R9", "b", "holdout-test", "test_acc", [0.90, 0.92, 0.91])])
    claims = (rep.Claim("R9", "t", "a", "b", "holdout-test", "test_acc", ">", "b beats a"),
              rep.Claim("R9", "t", "a", "b", "holdout-test", "test_acc", "<", "b loses to a"),
              rep.Claim("R9", "t", "a", "c", "holdout-test", "test_acc", ">", "c was never run"))
    table = rep.claims_table(rep.Measurements(values, preds), claims)
    assert table["verdict"].tolist() == ["supported", "contradicted", "not run"]
    assert table.loc[0, "difference"] == pytest.approx(0.31)
    p = math.erfc(math.sqrt(((30 - 1) ** 2 / 30) / 2))  # 30 discordant pairs, all for b
    assert table.loc[0, "mcnemar_p"] == pytest.approx((p, p, p)) and table.loc[0, "mcnemar_n"] == 3
    assert table.loc[0, "mcnemar_agree"] == 3 and table.loc[1, "mcnemar_agree"] == 0
    assert pd.isna(table.loc[2, "mcnemar_agree"]) and table.loc[2, "mcnemar_p"] == ()  # never run: not tested
    shown = rep.Reproduction("full", rep.Measurements(values, preds), pd.DataFrame(columns=["report"]), table).claim_rows("R9")
    assert shown.iloc[0][["metric", "ours: a", "ours: b", "difference"]].tolist() == ["test_acc (%)", "60.00", "91.00", "31.00"]
    val_only = rep.claims_table(rep.Measurements(_values([("R9", "a", "holdout", "val_acc", [0.6, 0.61, 0.59]),
                                                          ("R9", "b", "holdout", "val_acc", [0.9, 0.92, 0.91])]), {}),
                                (rep.Claim("R9", "t", "a", "b", "holdout", "val_acc", ">", "b beats a on validation"),))
    val_rows = rep.Reproduction("full", rep.Measurements(values, preds), pd.DataFrame(columns=["report"]), val_only).claim_rows("R9")
    assert list(val_rows.columns)[-1] == "verdict" and "McNemar p per seed" not in val_rows  # no test set, no McNemar columns
    assert shown.iloc[0]["McNemar p per seed"] == ", ".join([f"{p:.3g}"] * 3)
    assert shown.iloc[0]["seeds where McNemar finds the claimed direction"] == "3 of 3"
    assert shown.iloc[1]["… the opposite direction"] == "3 of 3" and shown.iloc[2]["… the opposite direction"] == ""
    text = rep.commentary(pd.DataFrame(), table)
    assert "1 supported" in text[0] and "1 contradicted" in text[0] and "1 not run" in text[0]
    assert any(t.startswith("b beats a: supported (difference +31.00 points, paired t p=") for t in text)  # in points, like the tables

    # Two seeds: the paired t-test cannot tell, McNemar on each seed's predictions can.
    two = rep.Measurements(_values([("R9", "a", "holdout-test", "test_acc", [0.60, 0.61]),
                                    ("R9", "b", "holdout-test", "test_acc", [0.90, 0.62])]), preds)
    table = rep.claims_table(two, claims[:1])
    assert table.loc[0, "verdict"] == "not detectable at n=2" and table.loc[0, "mcnemar_agree"] == 2
    assert any("McNemar" in t and "2 of 2 seeds" in t and "not shown to hold across seeds" in t
               for t in rep.commentary(pd.DataFrame(), table))
    # The same seeds against the opposite claim: McNemar finds it in no seed, so no difference is claimed.
    opposite = rep.claims_table(two, (rep.Claim("R9", "t", "a", "b", "holdout-test", "test_acc", "<", "b loses to a"),))
    assert opposite.loc[0, "verdict"] == "not detectable at n=2" and opposite.loc[0, "mcnemar_agree"] == 0
    assert opposite.loc[0, "mcnemar_against"] == 2
    text = [t for t in rep.commentary(pd.DataFrame(), opposite) if t.startswith("b loses to a")]
    assert text and "none of the seeds (0 of 2) and the opposite direction in 2 of 2." in text[0]
    assert "differ on the test set" not in text[0]
    # Each seed's models differ, in opposite directions: McNemar is significant in both, the winner flips.
    flip = dict(preds)
    flip[("R9", "a", "holdout-test", 1)], flip[("R9", "b", "holdout-test", 1)] = preds[("R9", "b", "holdout-test", 1)], preds[("R9", "a", "holdout-test", 1)]
    mixed = rep.claims_table(rep.Measurements(_values([("R9", "a", "holdout-test", "test_acc", [0.60, 0.90]),
                                                       ("R9", "b", "holdout-test", "test_acc", [0.90, 0.60])]), flip), claims[:1])
    assert (mixed.loc[0, "mcnemar_agree"], mixed.loc[0, "mcnemar_against"]) == (1, 1)
    text = [t for t in rep.commentary(pd.DataFrame(), mixed) if t.startswith("b beats a")]
    assert text and "1 of 2 seeds and the opposite direction in 1 of 2: which trained model is better depends on the seed" in text[0]


def test_claims_pair_seeds_and_drop_a_seed_one_side_lacks():
    # a has seeds 0, 1, 2; b only 1 and 2 (seed 0 not stored): the test pairs seeds 1 and 2
    values = pd.concat([_values([("R9", "a", "holdout", "val_acc", [0.10, 0.60, 0.62])]),
                        _values([("R9", "b", "holdout", "val_acc", [0.0, 0.80, 0.81])]).iloc[1:]])
    claim = rep.Claim("R9", "t", "a", "b", "holdout", "val_acc", ">", "b beats a")
    row = rep.claims_table(rep.Measurements(values), (claim,)).iloc[0]
    assert row["verdict"] == "supported"  # the paired differences 0.20 and 0.19: seed 0's 0.10 would have blurred it
    assert (row["mean_a"], row["mean_b"]) == pytest.approx((0.61, 0.805))  # seed 0 of a left out
    shifted = values.assign(seed=np.where(values["arm"] == "b", values["seed"] + 5, values["seed"]))
    assert rep.claims_table(rep.Measurements(shifted), (claim,)).iloc[0]["verdict"] == "not run"  # no common seed


def test_plot_has_a_panel_per_scale():
    values = _values([("R0", "a", "holdout", "val_acc", [0.89, 0.90, 0.91]),
                      ("R0", "a", "holdout", "val_loss", [0.40, 0.42, 0.41])])
    fig = rep.plot_reproduction(rep.reproduction_table(values, FIGS), "R0")
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "R0"
    assert len(fig.axes[0].get_yticklabels()) == 4 and len(fig.axes[1].get_yticklabels()) == 1


@pytest.mark.slow
def test_measure_a_tiny_study(store, monkeypatch):
    monkeypatch.setenv("FASHION_CNN_QUIET", "1")
    study = Study("R0", "tiny", "lenet5", ("lenet5_3x3",), settings=dict(epochs=1),
                  extra_arms=(Arm("lenet5/decay", "lenet5", {"schedule": "step"}),),
                  kfold=(("lenet5", 5),), test=(("lenet5", "holdout"), ("lenet5_3x3", "trainval")))
    m = rep.measure(study, TINY, device="auto")  # "auto" resolves to this machine's device
    v = m.values
    got = set(zip(v["arm"], v["setting"]))
    assert got == rep.available(study)
    assert set(v["seed"]) == {0, 1}
    fold_acc = [[get_or_train(j.config).metrics["val_acc"] for j in study.plan(TINY, device="auto")
                 if j.part == "fold" and j.config.seed == seed] for seed in (0, 1)]  # stored: loaded, not trained
    assert [len(f) for f in fold_acc] == [TINY.folds, TINY.folds]
    mean = v[(v.setting == "kfold-mean") & (v.metric == "val_acc")].sort_values("seed")["value"].to_numpy()
    high = v[(v.setting == "kfold-max") & (v.metric == "val_acc")].sort_values("seed")["value"].to_numpy()
    assert mean == pytest.approx(np.mean(fold_acc, axis=1)) and high == pytest.approx(np.max(fold_acc, axis=1))
    keras = v[v.metric.isin(["test_keras_precision", "test_keras_recall", "val_keras_precision"])]["value"]
    assert len(keras) and keras.between(0, 1).all()
    assert set(m.predictions) == {("R0", "lenet5", "holdout-test", 0), ("R0", "lenet5", "holdout-test", 1),
                                  ("R0", "lenet5_3x3", "trainval-test", 0), ("R0", "lenet5_3x3", "trainval-test", 1)}
    assert all(len(p["labels"]) == 200 for p in m.predictions.values())
    acc = v[(v.arm == "lenet5") & (v.setting == "holdout-test") & (v.metric == "test_acc") & (v.seed == 0)]["value"].item()
    p = m.predictions[("R0", "lenet5", "holdout-test", 0)]
    assert acc == pytest.approx((p["labels"] == p["pred"]).mean())


@pytest.mark.slow
def test_stored_only_measures_what_the_store_holds_and_trains_nothing(store, monkeypatch):
    monkeypatch.setenv("FASHION_CNN_QUIET", "1")
    study = Study("R0", "tiny", "lenet5", ("lenet5_3x3",), settings=dict(epochs=1),
                  kfold=(("lenet5", 2),), test=(("lenet5", "holdout"),))
    jobs = study.plan(TINY, device="cpu")
    mains = [j for j in jobs if j.label == "lenet5" and j.part == "main"]
    one_fold = next(j for j in jobs if j.part == "fold")
    for job in [*mains, one_fold]:
        get_or_train(job.config)
    before = sorted(p.name for p in store.iterdir())
    m = rep.measure(study, TINY, device="cpu", stored_only=True)
    assert sorted(p.name for p in store.iterdir()) == before  # nothing trained, nothing begun
    v = m.values
    assert set(zip(v["arm"], v["setting"])) == {("lenet5", "holdout"), ("lenet5", "holdout-test")}  # half a k-fold: none
    assert set(v["seed"]) == {0, 1} and set(m.predictions) == {("R0", "lenet5", "holdout-test", s) for s in (0, 1)}
    assert m.planned == {"R0": len(jobs)} and len(m.runs) == 3
    r = rep.Reproduction("full", m, rep.reproduction_table(v, reports=("R0",)), rep.claims_table(m, reports=("R0",)),
                         ("R0",), stored_only=True)
    assert f"Measured from the run store alone: 3 of the {len(jobs)} runs this study plans are stored" in r.section("R0")
    assert set(r.claims["verdict"]) == {"not run"}  # every R0 claim needs a run that is not stored
    figures = len(r.table)
    none_run = rep.commentary(rep.reproduction_table(v.iloc[0:0], reports=("R0",)), r.claims)
    assert figures > 1 and none_run == [f"{figures} of the {figures} figures: not run.",  # nothing said about nothing
                                        f"Of its {count(len(r.claims), 'comparison')}: {len(r.claims)} not run."]
    nothing = rep.measure(study, dataclasses.replace(TINY, subset=200), device="cpu", stored_only=True)  # none stored
    assert nothing.values.empty and nothing.runs.empty and sorted(p.name for p in store.iterdir()) == before
    assert "No runs were measured." == rep.Reproduction("full", nothing, rep.reproduction_table(nothing.values),
                                                        rep.claims_table(nothing)).closing_note()


def test_a_report_left_out_renders_as_skipped():
    values = _values([("R0", "lenet5", "holdout", "val_acc", [0.89, 0.90])])
    empty = rep.Measurements(values)
    r = rep.Reproduction("quick", empty, rep.reproduction_table(values, reports=("R0",)),
                         rep.claims_table(empty, reports=("R0",)), ("R0",))
    assert "Not reproduced in this run" in r.section("R4") and r.plot("R4") is None
    assert 'REPRODUCE="R0 R4"`' in r.section("R4")
    left_out = rep.Reproduction("quick", empty, rep.reproduction_table(values, reports=()), rep.claims_table(empty, reports=()), ())
    assert 'REPRODUCE="R0"`' in left_out.section("R0")  # not "R0 R0"
    # R2 full: 5 models × 3 seeds × 15 epochs × 48k, and its 10 folds × 3 seeds × 15 epochs × 54k
    assert "45 runs over 35.1 M training images" in r.section("R2")
    hours = {name: float(re.search(r"roughly (\d+) h of single-core CPU", r.section(name)).group(1)) for name in ("R2", "R4")}
    assert hours["R4"] > 5 * hours["R2"] > 0  # R4's 4-million-parameter nets against R2's small ones
    assert len(r.figures("R4")) == 0 and len(r.claim_rows("R4")) == 0
    assert r.section("R0").startswith("## R0:") and r.plot("R0") is not None
    with pytest.raises(ValueError, match="unknown study 'R7'"):
        rep.reproduce("quick", studies="R0 R7")


def test_auto_reproduces_all_five_only_in_the_full_profile_on_a_gpu():
    assert rep.default_reports("full", "cuda") == rep.ALL_REPORTS
    assert rep.default_reports("full", "cuda:1") == rep.ALL_REPORTS
    assert rep.default_reports("full", "cpu") == ("R0",)
    assert rep.default_reports("quick", "cuda") == ("R0",)


def test_values_are_shown_in_their_units():
    assert (rep.fmt("test_acc", 0.91234), rep.metric_label("test_acc")) == ("91.23", "test_acc (%)")
    assert (rep.fmt("val_loss", 0.31), rep.metric_label("val_loss")) == ("0.3100", "val_loss")
    assert (rep.fmt("epoch_seconds", 1.5), rep.metric_label("epoch_seconds")) == ("1.5000", "epoch_seconds")  # not %
    assert rep.fmt("val_acc", float("nan")) == "–"
