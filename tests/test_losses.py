import torch
import torch.nn.functional as F

from fashion_cnn.losses import kernel_penalty, make_loss
from fashion_cnn.models import create_model


def test_hinge_matches_the_multiclass_margin_definition():
    logits = torch.tensor([[2.0, 1.5, -1.0], [0.0, 0.2, 3.0]])
    y = torch.tensor([0, 1])
    # sample 0: max(0, 1 - 2 + 1.5) + max(0, 1 - 2 - 1) = 0.5 ; sample 1: 0.8 + 3.8 = 4.6 ; / C=3
    expected = torch.tensor([(0.5) / 3, (0.8 + 3.8) / 3]).mean()
    torch.testing.assert_close(make_loss("hinge")(logits, y), expected)


def test_bce_is_one_vs_rest_sigmoid():
    logits = torch.tensor([[0.0, 0.0]])
    expected = -(torch.log(torch.sigmoid(torch.tensor(0.0))) + torch.log(1 - torch.sigmoid(torch.tensor(0.0)))) / 2
    torch.testing.assert_close(make_loss("bce")(logits, torch.tensor([1])), expected)
    torch.testing.assert_close(make_loss("ce")(logits, torch.tensor([1])), F.cross_entropy(logits, torch.tensor([1])))


def test_kernel_penalty_is_keras_regulariser_on_dense_kernels():
    model = create_model("r2_base")
    dense = [model.body[9].weight, model.head.weight]
    l1 = 0.001 * sum(w.abs().sum() for w in dense)
    l2 = 0.002 * sum(w.square().sum() for w in dense)
    torch.testing.assert_close(kernel_penalty(model, l1=0.001, l2=0.002), l1 + l2)
    assert kernel_penalty(model) is None
    assert create_model("r2_l1").l1 == 0.001 and create_model("r2_l2").l2 == 0.001
