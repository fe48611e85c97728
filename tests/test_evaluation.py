import pytest


@pytest.mark.slow
def test_test_comparison_pairs_seeds_and_corrects_every_family(store, monkeypatch):
    import dataclasses

    import numpy as np

    from fashion_cnn import config, stats, studies
    from fashion_cnn.schedule import get_or_train_many

    monkeypatch.setenv("FASHION_CNN_QUIET", "1")
    tiny = dataclasses.replace(config.get_profile("quick"), epochs=1, subset=300, seeds=2, test_subset=300)
    st = studies.Study("tiny", "three LeNets", "lenet5", ("lenet5_3x3", "lenet5_3x3_leaky"))
    runs = get_or_train_many(st.configs(tiny, 2, "cpu"))
    cmp = studies.compare_on_test(st, runs, tiny, "cpu", top=2, margin=0.005)
    best, second = cmp.models
    labels = [f"{best} (train)", f"{best} (train+val)", f"{second} (train+val)"]
    assert list(cmp.runs) == labels and all(len(r) == 2 for r in cmp.runs.values())
    assert cmp.pairs == [(labels[0], labels[1]), (labels[1], labels[2])]
    assert {r.config.split for r in cmp.runs[labels[1]]} == {"trainval"}
    # test accuracy paired over seeds: the family's estimate is the mean of the per-seed differences
    acc = {label: [cmp.results[label][s]["report"]["acc"] for s in (0, 1)] for label in labels}
    first = cmp.families["test_acc"][0]
    assert first.diff.mean == pytest.approx(np.mean(np.subtract(acc[labels[1]], acc[labels[0]])))
    assert [c.p_holm for c in cmp.families["test_acc"]] == pytest.approx(
        stats.holm([c.test.p_value for c in cmp.families["test_acc"]]), nan_ok=True
    )
    assert set(cmp.families) == {"test_acc", "train_acc", "test_gap"}
    # Cochran's Q over the three models per seed, then McNemar per pair and seed, Holm over all four
    assert sorted(cmp.cochran) == [0, 1] and all(q.n == 3 for q in cmp.cochran.values())
    assert len(cmp.mcnemar) == 4 and list(cmp.mcnemar["p_holm"]) == pytest.approx(stats.holm(cmp.mcnemar["p"]))
    ranked, could = cmp.ranking, cmp.could_be_best  # every pair, one family: no model chosen on the data first
    assert [(c.a, c.b) for c in ranked] == stats.all_pairs(cmp.order) and cmp.order[0] == best and could[0] == best
    assert all(c.family == len(ranked) for c in ranked if np.isfinite(c.test.p_value))
    assert not any(c.b in could and c.outcome.startswith("lower") for c in ranked)  # shown below no other model
    assert not any(c.a in could and c.outcome.startswith("higher") for c in ranked)
    from fashion_cnn import text

    sentences = text.test_discussion(cmp)
    assert sentences[0].startswith(f"`{best}` has the highest mean validation accuracy over 2 seeds")
    assert any(s.startswith("Cochran's Q over the correctness of all 3 evaluated models") for s in sentences)
    assert sum(s.startswith("McNemar's test of") for s in sentences) == 2
