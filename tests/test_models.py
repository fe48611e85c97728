import subprocess
import sys

import pytest
import torch
from torch import nn

from fashion_cnn.cli import models as cli
from fashion_cnn.errors import ConfigError
from fashion_cnn.models import (
    _registry,
    count_parameters,
    create_model,
    layer_table,
    lenet,
    list_models,
    model_info,
    mult_adds,
    net,
    r2,
    r3,
    r4,
    register_model,
)

# Counts stated by the source reports, and exact counts derived from their layer lists otherwise.
EXPECTED = {
    "lenet5": 61_706,  # R0
    "lenet5_3x3": 81_194,  # R0
    "lenet5_3x3_leaky": 81_194,
    "lenet5_3x3_leaky_dropout": 81_194,
    "lenet5_3x3_leaky_dropout_avgpool": 81_194,
    "r1_tanh_avgpool": 61_706,  # R1
    "r1_relu": 61_706,
    "r1_maxpool": 61_706,
    "r1_dropout": 61_706,
    "r1_leaky": 61_706,
    "r2_base": 93_322,  # R2
    "r2_dropout": 93_322,
    "r2_l1": 93_322,
    "r2_l2": 93_322,
    "r2_batchnorm": 93_322 + 2 * 32,  # gamma and beta of 32 channels
    "r3_lenet": 220_234,  # n_base=32
    "r3_alexnet": 33_850,  # n_base=8
    "r3_mlp": 235_146,
    "cnn_1": 4_048_010,  # R4: 240,256 conv + 3,807,754 FC
    "cnn_2": 4_048_010 + 704,  # + BN: (32 + 64 + 128 + 128) * 2
    "cnn_3": 4_048_010 + 704,
    "cnn_4": 65_994,  # R4: "~65k"
    "cnn_5": 1_853_002,  # R4: "~1.8M"
}


def test_registry_lists_every_model_of_the_source_reports():
    assert list_models() == list(EXPECTED)
    assert list_models("cnn_*") == ["cnn_1", "cnn_2", "cnn_3", "cnn_4", "cnn_5"]
    assert list_models(family="R2")[0] == "r2_base"


@pytest.mark.parametrize("name", list(EXPECTED))
def test_forward_shape_features_and_parameter_count(name):
    torch.manual_seed(0)
    model = create_model(name).eval()
    x = torch.rand(3, 1, 28, 28)
    logits = model(x)
    assert logits.shape == (3, 10)
    assert torch.isfinite(logits).all()
    feats = model.features(x)
    assert feats.shape == (3, model.head.in_features)
    torch.testing.assert_close(model.head(feats), logits)
    assert count_parameters(model) == EXPECTED[name]


def test_variants_describe_their_difference_from_the_baseline():
    for name in list_models():
        info = model_info(name)
        assert info.baseline in list_models()
        assert (info.change == "") == (name == info.baseline), name


def test_unknown_model_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown model 'lenet6'.*lenet5"):
        create_model("lenet6")


def test_overrides_reach_the_builder():
    assert count_parameters(create_model("r3_alexnet", n_base=16)) > count_parameters(create_model("r3_alexnet"))
    dropout = create_model("r3_alexnet", dropout=0.4)
    assert any(isinstance(m, torch.nn.Dropout) and m.p == 0.4 for m in dropout.modules())
    with pytest.raises(ValueError, match="has no knob .n_base.; its knobs are act, batchnorm"):
        create_model("lenet5", n_base=3)


def test_leaky_slopes_follow_each_source_framework():
    r0 = [m for m in create_model("lenet5_3x3_leaky").modules() if isinstance(m, torch.nn.LeakyReLU)]
    r1 = [m for m in create_model("r1_leaky").modules() if isinstance(m, torch.nn.LeakyReLU)]
    assert {m.negative_slope for m in r0} == {0.01}  # PyTorch default (R0)
    assert {m.negative_slope for m in r1} == {0.3}  # Keras default (R1)


def test_the_layer_table_lists_each_layer_with_its_shape_and_parameters_and_no_tooling_words():
    model = create_model("lenet5")
    text = layer_table(model)
    rows = [line.split() for line in text.splitlines()[2:-2]]
    assert [r[1] for r in rows if r[1] in ("Conv2d", "Linear")] == ["Conv2d", "Conv2d", "Linear", "Linear", "Linear"]
    assert ["body.5", "MaxPool2d", "16×5×5", "–"] in rows  # the map the first dense layer flattens
    counted = sum(int(r[3].replace(",", "")) for r in rows if r[3] != "–")
    assert counted == count_parameters(model) == 61_706
    assert text.splitlines()[-1] == f"61,706 parameters, {mult_adds('lenet5') / 1e6:.2f} M multiply-adds per image"
    assert "Units" not in text and "MB" not in text


# Values to try for each knob (the first that is not the model's default), and what the module must then show
# (None: for width, n_base, hidden, dense and convs the parameter count changes; the rest are checked in the test).
def _has(kind, **attrs):
    return lambda m: any(isinstance(x, kind) and all(getattr(x, a) == v for a, v in attrs.items()) for x in m.modules())


def _pools(m):
    return {type(x) for x in m.modules() if isinstance(x, (nn.MaxPool2d, nn.AvgPool2d))}


KNOB_EFFECTS = {
    "act": (("gelu",), lambda m, v: _has(nn.GELU)(m)),
    "pooling": (("avg", "max"), lambda m, v: _pools(m) == {net.POOLS[v]}),
    "batchnorm": ((True, False), lambda m, v: _has(nn.BatchNorm2d)(m) == v),
    "conv_dropout": ((0.3,), lambda m, v: _has(nn.Dropout, p=v)(m)),
    "fc_dropout": ((0.3,), lambda m, v: _has(nn.Dropout, p=v)(m)),
    "dropout": ((0.3,), lambda m, v: _has(nn.Dropout, p=v)(m)),
    "kernel": ((3, 5), None),  # every conv takes it
    "slope": ((0.2,), None),  # with act=leaky: every LeakyReLU takes it
    "width": ((2.0,), None),
    "n_base": ((4,), None),
    "l1": ((0.01,), lambda m, v: m.l1 == v),
    "l2": ((0.01,), lambda m, v: m.l2 == v),
    "hidden": (((64,),), None),
    "dense": (((256,),), None),
    "convs": (([(16, 3, 1, True), (32, 3, 0, True)],), None),
}
BUILDERS = [lenet._lenet5, lenet._r1_lenet, r2._r2, r3.r3_lenet, r3.r3_alexnet, r3.r3_mlp, r4._r4]


def _knob_cases():
    for name in list_models():
        for knob, default in model_info(name).knobs.items():
            if name == "cnn_4" and knob == "dropout":
                continue  # CNN_4 has no hidden dense layer to drop
            yield name, knob, next(v for v in KNOB_EFFECTS[knob][0] if v != default)


def test_every_knob_has_a_value_to_test_and_a_documented_meaning():
    for name in list_models():
        info = model_info(name)
        assert set(info.knobs) <= set(KNOB_EFFECTS), name
        assert set(info.knob_help) == set(info.knobs), name  # `show` prints each one's meaning
    for builder in BUILDERS:
        doc = builder.__doc__
        for knob, default in _registry._defaults(builder)[0].items():
            line = f"{knob}={default!r}:" if not isinstance(default, list) else f"{knob}="
            assert f"\n        {line}" in doc, (builder.__name__, knob)


@pytest.mark.parametrize("name", list_models())
def test_the_listed_knobs_are_what_the_builder_uses(name):
    torch.manual_seed(0)
    default = create_model(name)
    torch.manual_seed(0)
    explicit = create_model(name, **model_info(name).knobs)
    assert str(explicit) == str(default)
    for (k, a), (k2, b) in zip(default.state_dict().items(), explicit.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(a, b), (name, k)


@pytest.mark.parametrize("name, knob, value", list(_knob_cases()))
def test_every_knob_of_every_model_changes_what_it_says_and_still_gives_logits(name, knob, value):
    _, effect = KNOB_EFFECTS[knob]
    changes = {knob: value, **({"act": "leaky"} if knob == "slope" else {})}
    default, model = create_model(name), create_model(name, **changes)
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    if effect is not None:
        assert effect(model, value) and not effect(default, value)
    elif knob == "slope":
        assert {x.negative_slope for x in model.modules() if isinstance(x, nn.LeakyReLU)} == {0.2}
    elif knob == "kernel":
        assert {x.kernel_size for x in model.modules() if isinstance(x, nn.Conv2d)} == {(value, value)}
    else:
        assert count_parameters(model) != count_parameters(default)


def test_knobs_are_the_builders_arguments_as_each_model_has_them():
    assert model_info("lenet5").knobs["kernel"] == 5 and model_info("lenet5_3x3").knobs["kernel"] == 3
    assert model_info("lenet5_3x3_leaky_dropout_avgpool").knobs == {
        **model_info("lenet5").knobs,
        "kernel": 3,
        "act": "leaky",
        "fc_dropout": 0.5,
        "pooling": "avg",
    }
    assert model_info("r1_leaky").knobs["slope"] == 0.3 and model_info("cnn_3").knobs["dropout"] == 0.5
    assert {"act", "pooling", "kernel", "width", "batchnorm"} <= set(model_info("r2_base").knobs)


@pytest.mark.parametrize(
    "name, knobs, message",
    [
        ("lenet5", {"act": "swish"}, r"model 'lenet5': knob act='swish': use one of relu, tanh, leaky, gelu, silu"),
        ("r2_base", {"pooling": "min"}, r"model 'r2_base': knob pooling='min': use one of max, avg"),
        ("lenet5", {"fc_dropout": 1.2}, r"knob fc_dropout=1.2: a dropout probability lies in \[0, 1\)"),
        ("r1_dropout", {"conv_dropout": -0.1}, r"knob conv_dropout=-0.1: a dropout probability lies in \[0, 1\)"),
        ("r2_base", {"dropout": "a"}, r"knob dropout='a': a dropout probability lies in \[0, 1\)"),
        ("cnn_4", {"width": 0}, r"knob width=0: a channel multiplier must be positive"),
        ("r3_lenet", {"n_base": 0}, r"model 'r3_lenet': knob n_base=0: use whole numbers ≥ 1, e.g. 8, 16, 32"),
        ("r3_alexnet", {"n_base": 2.5}, r"knob n_base=2.5: use whole numbers ≥ 1"),
        ("r3_mlp", {"hidden": (64, 0)}, r"knob hidden=\(64, 0\): use whole numbers ≥ 1"),
        ("cnn_2", {"batchnorm": "false"}, r"knob batchnorm='false': use true or false"),
        ("lenet5", {"act": "leaky", "slope": "x"}, r"knob slope='x': leaky's negative slope is a number"),
        ("lenet5", {"kernel": 4}, r"knob kernel=4: use a positive odd size"),
        ("r3_lenet", {"kernel": 0}, r"knob kernel=0: use a positive odd size"),
        ("r1_relu", {"kernel": 7}, r"knob kernel=7: too large"),
        ("cnn_1", {"n_base": 4}, r"model 'cnn_1' has no knob 'n_base'; its knobs are act, batchnorm, conv_dropout"),
    ],
)
def test_a_bad_knob_stops_in_one_line(name, knobs, message):
    with pytest.raises(ConfigError, match=message) as err:
        create_model(name, **knobs)
    assert "\n" not in str(err.value)


@pytest.fixture()
def registry(monkeypatch):
    """The model registry as it is, restored after the test."""
    monkeypatch.setattr(_registry, "_MODELS", dict(_registry._MODELS))
    monkeypatch.setattr(_registry, "_INFO", dict(_registry._INFO))


def test_a_users_function_registers_with_its_signatures_knobs(registry):
    @register_model
    def tiny(width: int = 8, act: str = "relu") -> nn.Module:
        """A tiny net: one 3x3 conv, pooled to 7x7, dense 10.

        Knobs:
            width=8: the conv's channels
        """
        return nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.MaxPool2d(4), nn.Flatten(), nn.Linear(width * 49, 10)
        )

    info = model_info("tiny")
    assert (info.family, info.baseline, info.change) == ("user", "tiny", "")
    assert info.summary == "A tiny net: one 3x3 conv, pooled to 7x7, dense 10."
    assert info.knobs == {"width": 8, "act": "relu"} and info.knob_help == {"width": "the conv's channels"}
    assert list_models(family="user") == ["tiny"] and "tiny" not in list_models(family="R0")
    assert count_parameters(create_model("tiny", width=2)) < count_parameters(create_model("tiny"))
    with pytest.raises(ConfigError, match=r"^model 'tiny' has no knob 'depth'; its knobs are act, width$"):
        create_model("tiny", depth=2)
    with pytest.warns(UserWarning, match="model 'tiny' registered twice"):

        @register_model(family="mine", baseline="lenet5", summary="the same, once more")
        def tiny(width: int = 4) -> nn.Module:
            return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))

    assert (model_info("tiny").family, model_info("tiny").baseline) == ("mine", "lenet5")

    @register_model()
    def bare() -> nn.Module:
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))

    assert (model_info("bare").summary, model_info("bare").knobs) == ("bare", {})


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "fashion_cnn", "models", *args], capture_output=True, text=True)


def test_the_command_line_lists_the_models(capsys):
    r1 = _cli("list", "r1_*", "--family", "R1")
    assert r1.returncode == 0
    assert [line.split()[:3] for line in r1.stdout.splitlines()] == [
        [n, "R1", "61,706"] for n in EXPECTED if "r1_" in n
    ]
    assert cli.main(["list"]) == 0  # the same in this process, faster than another torch import
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in lines] == [[n, model_info(n).family, f"{c:,}"] for n, c in EXPECTED.items()]
    assert lines[0].endswith(model_info("lenet5").summary)
    assert cli.main(["list", "--family", "R9"]) == 2
    assert capsys.readouterr().err == "models: no model matches '*' in family 'R9'; families are R0, R1, R2, R3, R4\n"


def test_the_command_line_shows_a_model_and_refuses_an_unknown_one():
    shown = _cli("show", "r1_leaky")
    assert shown.returncode == 0
    out = shown.stdout
    assert out.startswith("r1_leaky (R1): R1 LeNet-5 with LeakyReLU\ndiffers from r1_tanh_avgpool: LeakyReLU")
    assert "parameters 61,706, multiply-adds per image 423,038" in out
    assert "knobs (a study variant's model_args; * differs from r1_tanh_avgpool):" in out
    assert "  act           * 'leaky'  tanh | relu | leaky | gelu | silu" in out
    assert (
        "  slope           0.3      leaky's negative slope" in out
        and "61,706 parameters, 0.42 M multiply-adds per image" in out
    )
    unknown = _cli("show", "lenet6")
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1 and "unknown model 'lenet6'" in unknown.stderr
