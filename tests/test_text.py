import pytest

from fashion_cnn import RunConfig, config, studies
from fashion_cnn.analysis import stats
from fashion_cnn.present import text


def test_count_puts_the_noun_in_its_number():
    assert text.count(1, "seed") == "1 seed" and text.count(3, "time") == "3 times"
    assert text.count(0, "pixel") == "0 pixels" and text.count(2, "analysis", "analyses") == "2 analyses"


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


def test_the_sections_setup_sentences_state_their_numbers():
    assert text.kfold_setup("lenet5", 3, 2, 0) == "Model `lenet5`, 3 stratified folds, 2 epochs each, seed 0."
    assert text.kfold_setup("a", 5, 15, 1, "b").endswith("; compared with `b` on the same folds.")
    assert (
        text.augmentation_setup("a", 1, ["flip", "crop"]) == "Model `a`, 1 seed per setting, augmentations: flip, crop."
    )
    line = text.tsne_setup("a", 0, 84, 1600, 400, 0.8912)
    assert "84 features per image, 1,600 test images fitted, 400 placed afterwards; test accuracy 89.12%" in line
    summary = {"finished": 4, "complete": 3, "pruned": 1, "fail": 0}
    assert text.search_setup("s", "cnn_2", None, summary).startswith(
        "Study `s`: `cnn_2` on all training images, 4 finished trials (3 complete, 1 pruned, 0 failed)"
    )
    base = RunConfig("r3_lenet", model_args={"n_base": 8}, lr=1e-4, epochs=2, subset=1000)
    assert (
        text.base_configuration(base) == "Base configuration: `r3_lenet(n_base=8), lr=0.0001, epochs=2, subset=1000`."
    )


def test_a_caption_says_how_its_numbers_were_measured():
    quick = config.get_profile("quick")
    holdout = RunConfig("lenet5", epochs=2, subset=3000)
    assert text.measured(holdout, quick, 2) == (
        "2 seeds, 2,400/600 train/validation images of a stratified 3,000, 2 epochs, quick profile"
    )
    folds = holdout.replace(split="fold", folds=3, seed=1)
    assert text.measured(folds) == "seed 1, 3-fold cross-validation of 3,000 training images, 2 epochs"
    assert text.measured(RunConfig("lenet5", split="trainval", epochs=1), quick, 1).startswith(
        "1 seed, all 60,000 training images (train + validation), 1 epoch"
    )
    assert text.test_images(None) == "10,000 test images" and text.test_images(2000) == "2,000 test images"
    # a sweep over epochs (or a search drawing them) does not claim one number of epochs for all its runs
    assert text.measured(holdout, quick, varied=("epochs",)) == (
        "seed 0, 2,400/600 train/validation images of a stratified 3,000, quick profile"
    )


def test_a_study_caption_names_every_split_its_parts_use():
    full, quick = config.get_profile("full"), config.get_profile("quick")
    r0 = [j.config for j in studies.get_study("R0").plan(full, 3, "cpu")]
    assert text.measured_plan(r0, full, 3, tested=True) == (
        "3 seeds; 48,000/12,000 train/validation images, 5-fold cross-validation of 60,000 training images and all "
        "60,000 training images (train + validation); 15 epochs; tested on 10,000 test images; full profile"
    )
    r3 = [j.config for j in studies.get_study("R3").plan(quick, 1, "cpu")]
    assert text.measured_plan(r3, quick, 1) == (
        "1 seed; 2,400/600 train/validation images of a stratified 3,000; 2 epochs; quick profile"
    )
    assert text.and_list(["a"]) == "a" and text.and_list(["a", "b", "c"]) == "a, b and c"


def test_the_methods_cite_what_they_use_and_the_settings_table_has_every_model():
    study, quick = studies.get_study("R0"), config.get_profile("quick")
    prov = {"device_name": "CPU X", "python": "3.11", "torch": "2.14", "numpy": "2.4", "git_commit": "abc"}
    lines = text.summary.methods(study, quick, stats.SeedPlan.given(3), 0.005, prov)
    joined = " ".join(lines)
    for key in ("xiao2017", "kingma2015", "holm1979", "schuirmann1987", "mcnemar1947", "cochran1950", "nadeau2003"):
        assert f"[@{key}]" in joined, key
    assert "±0.50 points" in joined and "tested seeds 0–2 set" in joined and "CPU X" in joined
    assert "pilot" not in joined and "McNemar's exact test" not in joined and "one family per" not in joined
    auto = " ".join(text.summary.methods(study, quick, stats.SeedPlan((3, 4, 5, 6), (0, 1, 2)), 0.005, prov))
    assert "tested seeds 3–6 set" in auto and "A pilot with seeds 0–2 chose how many seeds" in auto
    table = text.summary.settings_table(study, quick)
    assert list(table.index) == list(study.models) and set(table["epochs"]) == {2}
