"""Each report section on a tiny setup (three LeNets, 300 images, one epoch), asserted on its Result:
the runs it trained, the seeds and model it took from section 2, and the numbers it reports."""

import dataclasses

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from fashion_cnn import config
from fashion_cnn.analysis import stats
from fashion_cnn.analysis.stats import PILOT_SEEDS, SeedPlan
from fashion_cnn.sections import augmentation, kfold, summary, test_evaluation, tsne, variants
from fashion_cnn.setup import ReportSetup
from fashion_cnn.studies import Study
from fashion_cnn.train.schedule import get_or_train_many
from fashion_cnn.train.store import Store

pytestmark = pytest.mark.slow

TINY = dataclasses.replace(config.get_profile("quick"), epochs=1, subset=300, seeds=2, folds=2, test_subset=300)
STUDY = Study("tiny", "three LeNets", "lenet5", ("lenet5_3x3", "lenet5_3x3_leaky"))


@pytest.fixture()
def runs(tmp_path):
    """This test's own run store: the setup carries it to every section (no global swapped)."""
    return tmp_path / "runs"


@pytest.fixture()
def setup(runs, monkeypatch):
    monkeypatch.setenv("FASHION_CNN_QUIET", "1")
    return ReportSetup(TINY, STUDY, "cpu", seeds=2, margin=0.005, source="tiny", store=Store(runs))


def _mean_val_acc(runs) -> dict[str, float]:
    by_model: dict[str, list[float]] = {}
    for r in runs:
        by_model.setdefault(r.config.name, []).append(r.metrics["val_acc"])
    return {m: float(np.mean(v)) for m, v in by_model.items()}


def test_the_main_view_trains_every_model_and_seed_and_ranks_by_mean_validation_accuracy(setup, runs):
    result = variants.run(setup)
    assert result.plan == SeedPlan((0, 1))
    assert sorted((r.config.name, r.config.seed) for r in result.runs) == sorted(
        (m, s) for m in STUDY.models for s in (0, 1)
    )
    assert len(list(runs.glob("*/run.json"))) == 6
    means = _mean_val_acc(result.runs)
    assert result.order == sorted(means, key=means.get, reverse=True) == variants.ranked(setup)
    assert set(result.families) >= {"val_acc", "train_eval_acc", "gap"} and len(result.families["val_acc"]) == len(
        STUDY.pairs
    )
    pvalues = [c.test.p_value for c in result.families["val_acc"]]
    assert [c.p_holm for c in result.families["val_acc"]] == pytest.approx(
        list(multipletests(pvalues, method="holm")[1]), nan_ok=True
    )
    assert result.val_size == result.runs[0].metrics["val_size"]


def test_auto_seeds_choose_n_from_a_stored_pilot_and_test_fresh_seeds(setup, runs):
    from fashion_cnn.analysis import metrics

    auto = dataclasses.replace(setup, seeds="auto", max_seeds=6)
    plan = variants.seed_plan(auto)
    pilot = get_or_train_many(STUDY.configs(TINY, PILOT_SEEDS, "cpu"), store=setup.store)
    assert len(list(runs.glob("*/run.json"))) == 3 * PILOT_SEEDS  # the pilot, nothing more
    family = stats.compare_family(metrics.values_by(metrics.final_metrics(pilot)), STUDY.pairs, 0.005)
    expected = stats.choose_seeds(family, cap=6)
    assert plan.choice == expected and plan.n == expected.n and PILOT_SEEDS <= plan.n <= 6
    assert plan.pilot_seeds == tuple(range(PILOT_SEEDS))  # the pilot plans ...
    assert plan.seeds == tuple(range(PILOT_SEEDS, PILOT_SEEDS + plan.n))  # ... and n fresh seeds are tested
    assert variants.seed_plan(auto) == plan  # the same seeds for every notebook
    with pytest.raises(ValueError, match="overlap"):
        SeedPlan((2, 3), (0, 1, 2))


def test_the_test_evaluation_pairs_seeds_and_corrects_every_family(setup):
    main = variants.run(setup)
    cmp = test_evaluation.run(setup, top=2, variants=main)
    best, second = cmp.models
    assert [best, second] == main.order[:2]  # the best models come from section 2's ranking
    labels = [f"{best} (train)", f"{best} (train+val)", f"{second} (train+val)"]
    assert list(cmp.runs) == labels and all(len(r) == 2 for r in cmp.runs.values())
    assert cmp.pairs == [(labels[0], labels[1]), (labels[1], labels[2])]
    assert {r.config.split for r in cmp.runs[labels[1]]} == {"trainval"}
    # test accuracy paired over seeds: the family's estimate is the mean of the per-seed differences
    acc = {label: [cmp.results[label][s]["report"]["acc"] for s in (0, 1)] for label in labels}
    first = cmp.families["test_acc"][0]
    assert first.diff.mean == pytest.approx(np.mean(np.subtract(acc[labels[1]], acc[labels[0]])))
    pvalues = [c.test.p_value for c in cmp.families["test_acc"]]
    assert [c.p_holm for c in cmp.families["test_acc"]] == pytest.approx(
        list(multipletests(pvalues, method="holm")[1]), nan_ok=True
    )
    assert set(cmp.families) == {"test_acc", "train_eval_acc", "test_gap"}
    # Cochran's Q over the three models per seed, then McNemar per pair and seed, Holm over all four
    assert sorted(cmp.cochran) == [0, 1] and all(q.n == 3 for q in cmp.cochran.values())
    assert len(cmp.mcnemar) == 4
    assert list(cmp.mcnemar["p_holm"]) == pytest.approx(list(multipletests(cmp.mcnemar["p"], method="holm")[1]))
    ranked, could = cmp.ranking, cmp.could_be_best  # every pair, one family: no model chosen on the data first
    assert [(c.a, c.b) for c in ranked] == stats.all_pairs(cmp.order) and cmp.order[0] == best and could[0] == best
    assert all(c.family == len(ranked) for c in ranked if np.isfinite(c.test.p_value))
    assert not any(c.b in could and c.outcome.startswith("lower") for c in ranked)  # shown below no other model
    assert not any(c.a in could and c.outcome.startswith("higher") for c in ranked)
    truth, pred = cmp.best["labels"], cmp.best["pred"]
    assert cmp.confusion[0].to_numpy().sum() == len(truth) == 300
    assert cmp.confused["count"].sum() <= int((truth != pred).sum())
    images, shown_truth, shown_pred = cmp.misclassified(5)
    assert images.shape == (len(shown_truth), 28, 28) and (shown_truth != shown_pred).all()


def test_the_summary_reads_the_sections_own_runs(setup):
    result = summary.run(setup, top=2)
    assert {r.key for r in result.variants.runs} == {r.key for r in variants.run(setup).runs}
    assert result.test.models == result.variants.order[:2]
    rows = result.key_results
    assert len(rows) == len(STUDY.models) and result.provenance["device"] == "cpu"


def test_kfold_crossvalidates_the_baseline_and_compares_the_best_other_model_on_the_same_folds(setup):
    result = kfold.run(setup)
    assert result.model == STUDY.baseline and result.k == TINY.folds
    assert result.other == next(m for m in variants.ranked(setup) if m != STUDY.baseline)
    assert sorted((r.config.name, r.config.fold) for r in result.runs) == sorted(
        (m, f) for m in (result.model, result.other) for f in range(result.k)
    )
    assert result.holdout.config.split == "holdout" and result.holdout.config.name == STUDY.baseline
    assert len(result.own) == result.k and set(result.families) >= {"val_acc"}
    train, val = result.sizes
    assert train + val == 300  # every fold splits the same subset
    alone = kfold.run(setup, compare="", folds=3)
    assert alone.families is None and alone.k == 3 and len(alone.runs) == 3


def test_augmentation_trains_the_best_model_with_and_without_on_section_2s_seeds(setup):
    result = augmentation.run(setup, augmentations=["flip"])
    assert result.model == variants.ranked(setup)[0] and result.plan == variants.seed_plan(setup)
    assert sorted((r.config.augment, r.config.seed) for r in result.runs) == [
        ((), 0),
        ((), 1),
        (("flip",), 0),
        (("flip",), 1),
    ]
    assert sorted(set(result.final["augment"])) == ["flip", "none"] and result.label == "flip"
    assert result.final["test_acc"].between(0, 1).all()
    assert result.families["val_acc"][0].a == "none" and result.families["val_acc"][0].b == "flip"


def test_tsne_maps_the_best_models_test_features(setup):
    result = tsne.run(setup, held_out=0.2, perplexity=10.0)
    assert result.model == variants.ranked(setup)[0] and result.run.config.seed == 0
    fitted, placed = result.labels
    assert len(fitted) + len(placed) == 300 and len(placed) == pytest.approx(60, abs=1)
    assert result.map.xy.shape == (len(fitted), 2) and result.map.xy_new.shape == (len(placed), 2)
    assert 0 <= result.agreement <= 1 and len(result.wrong) == len(fitted)
