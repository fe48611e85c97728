"""Study files (TOML): the built-in studies are files, and a bad file stops in one line naming the fix."""

import re

import pytest

from fashion_cnn import RunConfig
from fashion_cnn.cli.studies import main
from fashion_cnn.config import get_profile
from fashion_cnn.errors import ConfigError
from fashion_cnn.studies import get_study, sources
from fashion_cnn.studies import loader as files
from fashion_cnn.train.runs import run_key

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


MODELS = """\
from torch import nn

from fashion_cnn.models import register_model


@register_model(summary="A tiny net: one 3x3 conv of `width` channels, pooled to 7x7, dense 10")
def tiny(width: int = 4) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4), nn.Flatten(), nn.Linear(width * 49, 10)
    )
"""

OWN = """\
name = "activations"
title = "Does the activation matter for LeNet-5?"
question = "Which activation gives the best validation accuracy at LeNet-5's size?"
baseline = "relu"
models = "my_models.py"
[settings]
epochs = 2
[[variants]]
label = "relu"
model = "lenet5"
[[variants]]
label = "gelu"
model = "lenet5"
model_args = { act = "gelu" }
note = "GELU instead of ReLU"
[[variants]]
label = "tiny"
model = "tiny"
[[variants]]
label = "tiny_sgd"
model = "tiny"
model_args = { width = 8 }
changes = { optimizer = "sgd", lr = 0.05 }
[kfold]
relu = 3
"""


def write_study(folder, text=OWN, models=MODELS):
    """The study file and its model file, each saved as Latin-1 where its first line says so."""
    (folder / "my_models.py").write_text(models, encoding="latin-1" if "latin-1" in models else "utf-8")
    path = folder / "mine.toml"
    path.write_text(text, encoding="latin-1" if "latin-1" in text else "utf-8")
    return path


def test_variants_are_labelled_arms_with_their_knobs_settings_and_a_model_file(tmp_path, models_registry):
    study = files.load(write_study(tmp_path)).study
    quick = get_profile("quick")
    assert study.models == ("relu", "gelu", "tiny", "tiny_sgd") and study.question.startswith("Which activation")
    gelu, sgd = study.config("gelu", quick), study.config("tiny_sgd", quick)
    assert (gelu.model, gelu.model_args, gelu.label, gelu.name) == ("lenet5", {"act": "gelu"}, "gelu", "gelu")
    assert (sgd.model, sgd.model_args, sgd.optimizer, sgd.lr) == ("tiny", {"width": 8}, "sgd", 0.05)
    assert study.config("relu", quick).model_args == {} and study.main[1].note == "GELU instead of ReLU"
    keys = {run_key(c) for c in study.configs(quick, 2)}
    assert len(keys) == 8  # four arms × two seeds, each its own run
    assert run_key(study.config("relu", quick)) == run_key(RunConfig("lenet5", **study.settings, subset=quick.subset))


BAD = [
    (lambda s: s.replace("epochs = 2", "epochs = 2 = 4"), r"mine.toml: not valid TOML: .*line 7"),
    (lambda s: 'colour = "red"\n' + s, r"unknown key 'colour'; the valid keys are name, title, question, baseline"),
    (lambda s: s.replace('title = "Does', 'titel = "Does'), r"unknown key 'titel'"),
    (lambda s: s.replace("epochs = 2", "learning_rate = 1e-3"), r"\[settings\]: unknown key 'learning_rate'"),
    (
        lambda s: s.replace('model = "tiny"\n[[', 'model = "lenet9"\n[['),
        r"unknown model 'lenet9': known models are .*lenet5",
    ),
    (
        lambda s: s.replace('{ act = "gelu" }', "{ depth = 3 }"),
        r"model 'lenet5' has no knob 'depth'; its knobs are .*act",
    ),
    (lambda s: s.replace('{ act = "gelu" }', '{ act = "swish" }'), r"act.*'swish'"),
    (lambda s: s.replace("epochs = 2", 'epochs = "three"'), r"epochs='three' must be a int"),
    (lambda s: s.replace("epochs = 2", "epochs = 0"), r"epochs=0 must be positive"),
    (lambda s: s.replace("lr = 0.05", "lr = -0.1"), r"lr=-0.1 must be positive"),
    (lambda s: s.replace("relu = 3", "relu = 1"), r"\[kfold\] relu = 1: k must be a whole number ≥ 2"),
    (lambda s: s.replace('baseline = "relu"', 'baseline = "resnet"'), r"baseline 'resnet' is not among the variants"),
    (lambda s: s.replace('label = "tiny_sgd"', 'label = "gelu"'), r"arm labels \['gelu'\] are used twice"),
    (
        lambda s: s.replace('label = "tiny_sgd"', 'label = "relu"'),
        r"arm labels \['relu'\] are used twice",
    ),  # the baseline
    (
        lambda s: s[: s.index('[[variants]]\nlabel = "gelu"')] + "[kfold]\nrelu = 3\n",
        r"the baseline 'relu' has no variant to be compared with; add at least one",
    ),
    (lambda s: "# coding: latin-1, caf\xe9\n" + s, r"mine.toml: not UTF-8 text \(byte 0xe9 at 22\); save it as UTF-8"),
    (lambda s: s.replace("changes = {", "extra = {"), r"\[\[variants\]\] #4: unknown key 'extra'"),
    (lambda s: "cumulative = 1\n" + s, r"'cumulative' must be a bool, not int"),
    (lambda s: s.replace('"my_models.py"', '"missing.py"'), r"models = 'missing.py': .*missing.py: cannot be read"),
]
BAD_MODELS = [
    ("# coding: latin-1, caf\xe9\n" + MODELS, r"my_models.py: not UTF-8 text \(byte 0xe9 at 22\); save it as UTF-8"),
    (MODELS.replace("def tiny(", "def tiny(:"), r"models = 'my_models.py': .*my_models.py:7: invalid syntax"),
    ("import not_a_module_anywhere\n", r"my_models.py:1: importing it raised ModuleNotFoundError"),
    (MODELS.replace("width * 49, 10", "width * 49, 7"), r"model 'tiny': forward gives \(2, 7\) .* it must give logits"),
]


@pytest.mark.parametrize(
    "text, models, message",
    [(change(OWN), MODELS, message) for change, message in BAD] + [(OWN, m, message) for m, message in BAD_MODELS],
)
def test_a_bad_study_file_stops_in_one_line_and_trains_nothing(
    tmp_path, text, models, message, store, capsys, models_registry
):
    assert text != OWN or models != MODELS
    path = write_study(tmp_path, text, models)
    with pytest.raises(ConfigError, match=message) as err:
        files.load(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)
    assert main(["train", str(path), "--profile", "quick", "--seeds", "1"]) == 2  # the command line: exit 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and re.search(message, lines[0])
    assert not store.exists() or not any(store.iterdir())  # no run folder, no lock


def test_the_documented_study_file_keys_are_the_ones_read():
    documented = set(re.findall(r"^    (\w+) = ", files.__doc__, flags=re.MULTILINE))
    assert documented == set(files.TOP) - {"settings", "kfold"} - {"variants", "arms", "test", "reported", "claims"}


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


def test_a_user_model_raising_while_training_is_one_line_from_studies_train(
    tmp_path, store, capsys, models_registry, registry, monkeypatch
):
    monkeypatch.setenv("FASHION_CNN_QUIET", "1")
    flaky = MODELS.replace("nn.Linear(width * 49, 10)\n    )", "nn.Linear(width * 49, 10), Flaky()\n    )") + (
        "\n\nclass Flaky(nn.Module):\n    calls = 0\n\n    def forward(self, x):\n        Flaky.calls += 1\n"
        '        if Flaky.calls > 3:\n            raise ValueError("boom in training")\n        return x\n'
    )
    text = OWN.replace(
        'label = "gelu"\nmodel = "lenet5"\nmodel_args = { act = "gelu" }', 'label = "gelu"\nmodel = "tiny"'
    )
    text = text.replace('name = "activations"', 'name = "flaky"')  # a study of its own: nothing else registers it
    path = write_study(tmp_path, text.replace("relu = 3", "tiny = 3"), flaky)
    assert main(["train", str(path), "--profile", "quick", "--seeds", "1", "--device", "cpu", "--only", "gelu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        "studies: gelu seed 0: model 'tiny' raised ValueError: boom in training at "
    )
    assert f"{tmp_path / 'my_models.py'}:" in err[0] and "(in forward)" in err[0] and "error.log" in err[0]
