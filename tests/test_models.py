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
    with pytest.raises(ValueError, match="does not take"):
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
