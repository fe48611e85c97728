"""Study files (TOML): the built-in studies are files, and a bad file stops in one line naming the fix."""

import pytest

from fashion_cnn.config import get_profile
from fashion_cnn.errors import ConfigError
from fashion_cnn.studies import files, get_study, main, sources

GOOD = """\
name = "mine"
title = "Does the kernel size matter for LeNet-5?"
baseline = "lenet5"
[settings]
optimizer = "adam"
lr = 1e-3
epochs = 3
[[variants]]
label = "lenet5"
model = "lenet5"
[[variants]]
label = "lenet5_3x3"
model = "lenet5_3x3"
[[arms]]
label = "lenet5/decay"
model = "lenet5"
changes = { schedule = "step", augment = ["flip"] }
[kfold]
lenet5 = 3
[[test]]
arm = "lenet5_3x3"
split = "trainval"
"""


def test_a_study_file_gives_the_study_it_describes(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    study = files.load(path).study
    assert (study.baseline, study.variants, study.settings["epochs"]) == ("lenet5", ("lenet5_3x3",), 3)
    parts = {(j.label, j.part) for j in study.plan(get_profile("quick"), 1)}
    assert {("lenet5/decay", "extra"), ("lenet5", "fold"), ("lenet5_3x3", "trainval")} <= parts
    assert study.config("lenet5/decay", get_profile("quick")).augment == ("flip",)


def test_the_built_in_studies_are_their_files():
    assert [f.study.name for f in sources.FILES] == ["R0", "R1", "R2", "R3", "R4"]
    assert all(get_study(f.study.name) is f.study for f in sources.FILES)
    assert {f.path.name for f in sources.FILES} == {f"R{i}.toml" for i in range(5)}
    assert sources.NUMERIC_REPORTS == ("R0", "R1", "R2", "R4")  # R3.toml says numeric = false
    assert len(sources.REPORTED) == sum(len(f.reported) for f in sources.FILES)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s.replace("epochs = 3", "epochs = 3 = 4"), r"mine.toml: not valid TOML: .*line 7"),
        (lambda s: 'colour = "red"\n' + s, r"unknown key 'colour'; the valid keys are name, title, baseline"),
        (lambda s: s.replace('baseline = "lenet5"', 'baseline = "resnet"'), r"baseline 'resnet' is not among"),
        (lambda s: s.replace('title = "Does', 'titel = "Does'), r"unknown key 'titel'"),
        (lambda s: s.replace("lr = 1e-3", "learning_rate = 1e-3"), r"\[settings\]: unknown key 'learning_rate'"),
        (lambda s: s.replace("epochs = 3", 'epochs = "three"'), r"epochs='three' must be a int"),
        (lambda s: s.replace('label = "lenet5/decay"', 'label = "lenet5_3x3"'), r"used twice"),
        (lambda s: s.replace('split = "trainval"', 'split = "fold"'), r"must be 'holdout' or 'trainval'"),
        (lambda s: "cumulative = 1\n" + s, r"'cumulative' must be a bool, not int"),
        (lambda s: s.replace('[[test]]\narm = "lenet5_3x3"\n', "[[test]]\n"), r"\[\[test\]\] #1: 'arm' is missing"),
    ],
)
def test_a_bad_study_file_stops_in_one_line(tmp_path, change, message):
    path = tmp_path / "mine.toml"
    path.write_text(change(GOOD))
    with pytest.raises(ConfigError, match=message) as err:
        study = files.load(path).study
        study.plan(get_profile("quick"), 1)  # a value of the wrong type shows when a config is made
    assert "\n" not in str(err.value)


@pytest.fixture()
def registry(monkeypatch):
    """The study registry as it is, restored after the test (a study file registers its study)."""
    from fashion_cnn.studies import study

    monkeypatch.setattr(study, "_STUDIES", dict(study._STUDIES))


def test_a_study_is_named_by_its_file_path_and_a_name_taken_by_another_study_is_refused(tmp_path, registry):
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    study = get_study(str(path))
    assert study.name == "mine" and get_study("mine") is study and get_study(str(path)) == study
    other = tmp_path / "other.toml"
    other.write_text(GOOD.replace("epochs = 3", "epochs = 4"))
    with pytest.raises(ConfigError, match=r"other.toml: a study named 'mine' is registered already"):
        get_study(str(other))
    with pytest.raises(ConfigError, match=r"unknown study 'R9': use one of R0, R1, R2, R3, R4, mine, or the path"):
        get_study("R9")


def test_check_prints_the_plan_trains_nothing_and_a_bad_file_exits_2(tmp_path, registry, store, capsys):
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    assert main(["check", str(path), "--profile", "quick", "--seeds", "1"]) == 0
    out = capsys.readouterr().out
    assert "study 'mine'" in out and "1 study file(s) checked: nothing trained" in out
    assert not store.exists() or not any(store.iterdir())
    path.write_text(GOOD.replace("lenet5_3x3", "lenet9"))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown model 'lenet9'" in err[0] and str(path) in err[0]
