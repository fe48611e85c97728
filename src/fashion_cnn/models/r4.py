"""R4 family: CNN_1 … CNN_5 as R4 writes them. The first conv is padded ('same'), the rest are
valid; that is the layout that gives R4's stated flatten sizes (3200 for CNN_1-3, 1024 for CNN_5)."""

from __future__ import annotations

from torch import nn

from ._registry import register_model
from .net import Net, dropout_layers, flat_size

# (out channels, kernel, padding, max-pool after)
Conv = tuple[int, int, int, bool]
DEEP: list[Conv] = [(32, 3, 1, False), (64, 3, 0, False), (128, 3, 0, True), (128, 3, 0, True)]
WIDE5: list[Conv] = [(32, 3, 1, False), (64, 3, 0, False), (128, 3, 0, True), (128, 5, 0, False), (256, 5, 0, True)]
SMALL: list[Conv] = [(32, 5, 0, True), (64, 5, 0, True), (128, 1, 0, True)]


def _r4(
    *, convs: list[Conv] = DEEP, dense: tuple[int, ...] = (1024, 512), batchnorm: bool = False, dropout: float = 0.0
) -> Net:
    layers: list[nn.Module] = []
    channels = 1
    for out, kernel, padding, pooled in convs:
        layers += [nn.Conv2d(channels, out, kernel, padding=padding)]
        layers += [nn.BatchNorm2d(out)] if batchnorm else []
        layers += [nn.ReLU()] + ([nn.MaxPool2d(2)] if pooled else [])
        channels = out
    layers.append(nn.Flatten())
    width = flat_size(nn.Sequential(*layers))
    for units in dense:
        layers += [nn.Linear(width, units)] + dropout_layers(dropout) + [nn.ReLU()]
        width = units
    return Net(nn.Sequential(*layers), nn.Linear(width, 10))


R4 = {"family": "R4", "baseline": "cnn_1"}


@register_model(**R4, summary="Four 3x3 convs 32-64-128-128 (pools after the last two), FC 3200→1024→512→10")
def cnn_1(**kw) -> Net:
    return _r4(**kw)


@register_model(
    **R4,
    summary="CNN_1 with BatchNorm after every conv",
    change="BatchNorm after every conv (704 parameters): faster, steadier training",
)
def cnn_2(**kw) -> Net:
    return _r4(**{"batchnorm": True, **kw})


@register_model(
    **R4,
    summary="CNN_2 with dropout 0.5 in the FC layers",
    change="Dropout 0.5 after each hidden FC layer, on top of BatchNorm: regularises the 3.8M FC weights",
)
def cnn_3(**kw) -> Net:
    return _r4(**{"batchnorm": True, "dropout": 0.5, **kw})


@register_model(
    **R4,
    summary="Small net: 5x5 convs 32, 64 and a 1x1 conv 128, each with BN and pool; one FC 512→10",
    change="Far fewer parameters (~66k): two 5x5 convs, a 1x1 channel expansion and a single FC layer",
)
def cnn_4(**kw) -> Net:
    return _r4(**{"convs": SMALL, "dense": (), "batchnorm": True, **kw})


@register_model(
    **R4,
    summary="Five convs (3x3 ×3, 5x5 ×2) with BN, two pools, FC 1024→512→10",
    change="Deeper conv stack (two extra 5x5 convs up to 256 channels), smaller FC part (~1.85M)",
)
def cnn_5(**kw) -> Net:
    return _r4(**{"convs": WIDE5, "dense": (512,), "batchnorm": True, **kw})
