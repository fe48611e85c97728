import pytest
import torch

from fashion_cnn.models import count_parameters, create_model, list_models, model_info, summary

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


def test_keras_like_summary():
    text = str(summary(create_model("lenet5")))
    assert "Total params: 61,706" in text
    assert "[1, 16, 5, 5]" in text


# A non-default value of each knob and what it must do to the module (every model that takes the knob).
KNOB_EFFECTS = {
    "act": ("gelu", lambda m: any(isinstance(x, torch.nn.GELU) for x in m.modules())),
    "pooling": ("avg", lambda m: any(isinstance(x, torch.nn.AvgPool2d) for x in m.modules())),
    "batchnorm": (True, lambda m: any(isinstance(x, torch.nn.BatchNorm2d) for x in m.modules())),
    "conv_dropout": (0.3, lambda m: any(isinstance(x, torch.nn.Dropout) and x.p == 0.3 for x in m.modules())),
    "fc_dropout": (0.3, lambda m: any(isinstance(x, torch.nn.Dropout) and x.p == 0.3 for x in m.modules())),
    "dropout": (0.3, lambda m: any(isinstance(x, torch.nn.Dropout) and x.p == 0.3 for x in m.modules())),
    "kernel": (7, lambda m: any(isinstance(x, torch.nn.Conv2d) and x.kernel_size == (7, 7) for x in m.modules())),
    "width": (2.0, None),  # more parameters
    "n_base": (4, None),  # fewer parameters
    "slope": (0.2, None),  # with act=leaky below
}


def _knob_cases():
    for name in list_models():
        for knob in model_info(name).knobs:
            if knob in KNOB_EFFECTS and model_info(name).knobs[knob] != KNOB_EFFECTS[knob][0]:
                if (name.startswith("r1_") and knob == "kernel") or (name == "cnn_4" and knob == "dropout"):
                    continue  # R1's third conv leaves no map at 7; CNN_4 has no hidden dense layer to drop
                yield name, knob


@pytest.mark.parametrize("name, knob", list(_knob_cases()))
def test_every_knob_of_every_model_changes_what_it_says_and_still_gives_logits(name, knob):
    value, effect = KNOB_EFFECTS[knob]
    changes = {knob: value, **({"act": "leaky"} if knob == "slope" else {})}
    default, model = create_model(name), create_model(name, **changes)
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    if effect is not None:
        assert effect(model) and not effect(default)
    elif knob == "slope":
        assert {x.negative_slope for x in model.modules() if isinstance(x, torch.nn.LeakyReLU)} == {0.2}
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
        ("lenet5", {"act": "swish"}, r"knob act='swish': use one of relu, tanh, leaky, gelu, silu"),
        ("r2_base", {"pooling": "min"}, r"knob pooling='min': use one of max, avg"),
        ("lenet5", {"fc_dropout": 1.2}, r"knob fc_dropout=1.2: a dropout probability lies in \[0, 1\)"),
        ("cnn_4", {"width": 0}, r"knob width=0: a channel multiplier must be positive"),
        ("lenet5", {"kernel": 4}, r"knob kernel=4: use a positive odd size"),
        ("r1_relu", {"kernel": 7}, r"knob kernel=7: too large"),
        ("cnn_1", {"n_base": 4}, r"model 'cnn_1' has no knob 'n_base'; its knobs are act, batchnorm, conv_dropout"),
    ],
)
def test_a_bad_knob_stops_in_one_line(name, knobs, message):
    with pytest.raises(ValueError, match=message) as err:
        create_model(name, **knobs)
    assert "\n" not in str(err.value)


def test_the_command_line_lists_and_shows_models_and_refuses_an_unknown_one():
    import subprocess
    import sys

    def run(*args):
        return subprocess.run([sys.executable, "-m", "fashion_cnn.models", *args], capture_output=True, text=True)

    listing = run("list", "cnn_*")
    assert listing.returncode == 0 and len(listing.stdout.splitlines()) == 5
    assert "cnn_4" in listing.stdout and "65,994" in listing.stdout
    shown = run("show", "r1_leaky")
    assert shown.returncode == 0 and "parameters 61,706" in shown.stdout
    assert "slope         0.3" in shown.stdout and "Total params: 61,706" in shown.stdout
    unknown = run("show", "lenet6")
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1 and "unknown model 'lenet6'" in unknown.stderr
