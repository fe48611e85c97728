"""A user's model file (`models.user_files`) and the contract every model meets (`models.contract`): real files
written here, real modules, real training into a temporary store."""

import json
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn

from fashion_cnn import RunConfig, data, get_or_train
from fashion_cnn.errors import ConfigError
from fashion_cnn.models import contract, create_model, list_models, model_info
from fashion_cnn.models import user_files as model_files
from fashion_cnn.train import engine, runs

TINY = '''\
"""A tiny net of a user's own."""
from torch import nn

from fashion_cnn.models import register_model


@register_model(summary="A tiny net: one 3x3 conv of `width` channels, pooled to 7x7, dense 10")
def tiny(width: int = 4) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4), nn.Flatten(), nn.Linear(width * 49, 10)
    )
'''


def write(folder, text, name="my_models.py"):
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_model_file_registers_its_models_with_their_knobs(tmp_path, models_registry):
    loaded = model_files.load(write(tmp_path, TINY))
    assert loaded.models == ("tiny",) and "tiny" in list_models()
    assert model_files.source("tiny") is loaded and model_files.source("lenet5") is None
    assert model_info("tiny").knobs == {"width": 4}
    assert model_files.load(tmp_path / "my_models.py") is loaded  # the same text loads once
    wide = create_model("tiny", width=8)
    assert wide[-1].in_features == 8 * 49
    with pytest.raises(ConfigError, match=r"model 'tiny' has no knob 'depth'; its knobs are width"):
        create_model("tiny", depth=3)


def test_a_user_models_runs_are_keyed_by_its_file_and_record_it(tmp_path, models_registry, store):
    path = write(tmp_path, TINY)
    model_files.load(path)
    config = RunConfig("tiny", epochs=1, subset=600, device="cpu")
    run = get_or_train(config, progress=False)
    assert run.provenance["model_file"] == {"path": str(path), "sha256": model_files.source("tiny").sha256}
    assert json.loads((run.path / "config.json").read_text())["model"] == "tiny"
    edited = model_files.load(write(tmp_path, TINY.replace("MaxPool2d(4)", "AvgPool2d(4)")))
    assert model_files.source("tiny") is edited
    assert runs.run_key(config) != run.key  # an edited model is another run


@pytest.mark.parametrize(
    "text, message",
    [
        ("from torch import nn\ndef f(:\n    pass\n", r"my_models.py:2: invalid syntax"),
        ("import torch\n\nraise RuntimeError('no GPU here')\n", r"my_models.py:3: importing it raised RuntimeError"),
        ("import not_a_module_anywhere\n", r"my_models.py:1: importing it raised ModuleNotFoundError"),
        ("x = 1\n", r"registers no model; a model file holds functions decorated with"),
        (
            "from torch import nn\nfrom fashion_cnn.models import register_model\n\n"
            "@register_model(summary='mine')\ndef lenet5():\n    return nn.Linear(784, 10)\n",
            r"model 'lenet5' is one of the package's models; give yours another name",
        ),
    ],
)
def test_a_model_file_that_cannot_load_stops_in_one_line_and_registers_nothing(
    tmp_path, models_registry, text, message
):
    before = list_models()
    with pytest.raises(ConfigError, match=message) as err:
        model_files.load(write(tmp_path, text))
    assert "\n" not in str(err.value) and list_models() == before
    assert model_info("lenet5").family == "R0" and model_files.source("lenet5") is None  # the package's, untouched


BROKEN = {
    "not a module": ("return 3", r"returned int, not a torch.nn.Module"),
    "wrong input": ("return nn.Sequential(nn.Flatten(), nn.Linear(100, 10))", r"forward fails on a batch of shape"),
    "wrong output": ("return nn.Sequential(nn.Flatten(), nn.Linear(784, 7))", r"forward gives \(2, 7\).*\(B, 10\)"),
    "no head": (
        "return nn.Sequential(nn.Conv2d(1, 10, 28), nn.Flatten())",
        r"no features\(x\) and no last nn.Linear giving the 10 logits",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_model_that_breaks_the_contract_stops_when_first_built(tmp_path, models_registry, case):
    body, message = BROKEN[case]
    text = (
        "from torch import nn\nfrom fashion_cnn.models import register_model\n\n"
        f"@register_model(summary='broken')\ndef broken():\n    {body}\n"
    )
    model_files.load(write(tmp_path, text))
    with pytest.raises(ConfigError, match=r"model 'broken': .*" + message) as err:
        create_model("broken")
    assert "\n" not in str(err.value)


class WithFeatures(nn.Module):
    """Its penultimate features are its own `features(x)`; its last Linear is not the head."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU())
        self.head = nn.Linear(16, 10)
        self.aux = nn.Linear(16, 3)  # registered last: the hook would pick it, features() says otherwise

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.body(x))


def test_penultimate_features_come_from_features_or_the_last_linears_input(tmp_path, models_registry):
    model_files.load(write(tmp_path, TINY))
    test = data.tensors(data.load(), "test", torch.arange(64).numpy(), "cpu")
    plain = create_model("tiny").eval()
    out = engine.predict(plain, test, features=True)
    assert out["features"].shape == (64, 4 * 49)
    torch.testing.assert_close(plain[-1](torch.from_numpy(out["features"])), torch.from_numpy(out["logits"]))
    own = WithFeatures().eval()
    contract.check(own, "with_features")
    logits, feats = contract.forward_with_features(own, torch.rand(5, 1, 28, 28))
    assert feats.shape == (5, 16) and logits.shape == (5, 10)


def test_checking_the_contract_changes_no_number(tmp_path, models_registry):
    model_files.load(write(tmp_path, TINY))
    torch.manual_seed(0)
    first = create_model("tiny", width=6)  # checked now (first build of these knobs)
    after = torch.rand(3)
    torch.manual_seed(0)
    again = create_model("tiny", width=6)  # not checked again
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), again.state_dict().values()))
    assert torch.equal(after, torch.rand(3)) and first.training


def test_a_diverging_user_model_is_named_with_its_file(tmp_path, models_registry, store):
    path = write(tmp_path, TINY.replace("nn.Linear(width * 49, 10)\n    )", "nn.Linear(width * 49, 10), Blow()\n    )"))
    path.write_text(
        path.read_text() + "\n\nclass Blow(nn.Module):\n    def forward(self, x):\n        return x * float('inf')\n"
    )
    model_files.load(path)
    config = RunConfig("tiny", epochs=1, subset=600, device="cpu")
    with pytest.raises(engine.TrainingDiverged) as err:
        get_or_train(config, progress=False)
    assert f"lower the learning rate (lr=0.001) or check the model in {path}" in str(err.value)
    assert not list(store.glob("*/run.json"))
    with pytest.raises(engine.TrainingDiverged, match="or check the inputs$"):  # the package's own model
        engine.check_finite(float("nan"), "lenet5 seed 0", 0, 0.001, "lenet5")


def test_a_user_model_that_raises_while_training_is_named_in_one_line(tmp_path, models_registry, store):
    """The run, the model file and line, and the exception; the whole traceback kept in a log file."""
    raising = TINY.replace(
        "nn.Linear(width * 49, 10)\n    )", "nn.Linear(width * 49, 10), Flaky()\n    )"
    ) + textwrap.dedent(
        """

        class Flaky(nn.Module):
            calls = 0

            def forward(self, x):
                Flaky.calls += 1
                if Flaky.calls > 3:  # past the contract's check, in the first epoch
                    raise ValueError("boom in epoch 1")
                return x
        """
    )
    path = write(tmp_path, raising)
    model_files.load(path)
    line = 1 + next(i for i, t in enumerate(path.read_text().splitlines()) if "raise ValueError" in t)
    with pytest.raises(Exception) as err:
        get_or_train(RunConfig("tiny", epochs=1, subset=600, device="cpu"), progress=False)
    message = str(err.value)
    assert type(err.value).__name__ == "ModelFailed" and "\n" not in message
    assert message.startswith("tiny seed 0: model 'tiny' raised ValueError: boom in epoch 1 at ")
    assert f"{path}:{line} (in forward)" in message
    log = message.rsplit("the traceback is in ", 1)[1].rstrip(")")
    kept = Path(log).read_text()
    assert "Traceback" in kept and "boom in epoch 1" in kept
    assert not list(store.glob("*/run.json"))
