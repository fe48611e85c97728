"""R4 family: CNN_1 … CNN_5 as R4 writes them. The first conv is padded ('same'), the rest are
valid; that is the layout that gives R4's stated flatten sizes (3200 for CNN_1-3, 1024 for CNN_5)."""

from __future__ import annotations

from torch import nn

from ._registry import register_model
from .net import Net, activation, counts, dropout_layers, flat_size, norm, pool, scaled

# (out channels, kernel, padding, max-pool after)
Conv = tuple[int, int, int, bool]
DEEP: list[Conv] = [(32, 3, 1, False), (64, 3, 0, False), (128, 3, 0, True), (128, 3, 0, True)]
WIDE5: list[Conv] = [(32, 3, 1, False), (64, 3, 0, False), (128, 3, 0, True), (128, 5, 0, False), (256, 5, 0, True)]
SMALL: list[Conv] = [(32, 5, 0, True), (64, 5, 0, True), (128, 1, 0, True)]


def _r4(
    *,
    convs: list[Conv] = DEEP,
    dense: tuple[int, ...] = (1024, 512),
    batchnorm: bool = False,
    dropout: float = 0.0,
    act: str = "relu",
    slope: float = 0.01,
    pooling: str = "max",
    width: float = 1.0,
    conv_dropout: float = 0.0,
) -> Net:
    """R4's nets: each of `convs` is conv → [BatchNorm] → act → [Dropout] → [pool], each of `dense` is
    dense → [Dropout] → act, then a linear head.

    Knobs:
        convs=DEEP: the conv layout, (out channels, kernel, padding, pooled after) per conv: the kernels live here
        dense=(1024, 512): the hidden dense layers' units
        batchnorm=False: BatchNorm after each conv, before its activation
        dropout=0.0: Dropout in each hidden dense layer, before its activation (the dense dropout)
        act='relu': relu | leaky | tanh | gelu | silu
        slope=0.01: leaky's negative slope
        pooling='max': 2x2 max | avg, after the convs marked pooled
        width=1.0: multiplies every conv's channels
        conv_dropout=0.0: Dropout after each conv's activation
    """
    counts(dense, "dense", "(1024, 512)")
    layers: list[nn.Module] = []
    channels = 1
    for out, kernel, padding, pooled in convs:
        out = scaled(out, width)
        layers += [nn.Conv2d(channels, out, kernel, padding=padding)]
        layers += norm(out, batchnorm)
        layers += [activation(act, slope), *dropout_layers(conv_dropout, "conv_dropout")]
        layers += [pool(pooling)] if pooled else []
        channels = out
    layers.append(nn.Flatten())
    width_in = flat_size(nn.Sequential(*layers))
    for units in dense:
        layers += [nn.Linear(width_in, units)] + dropout_layers(dropout) + [activation(act, slope)]
        width_in = units
    return Net(nn.Sequential(*layers), nn.Linear(width_in, 10))


R4 = {"family": "R4", "baseline": "cnn_1", "builder": _r4}


@register_model(**R4, summary="Four 3x3 convs 32-64-128-128 (pools after the last two), FC 3200→1024→512→10")
def cnn_1(**kw) -> Net:
    return _r4(**kw)


@register_model(
    **R4,
    summary="CNN_1 with BatchNorm after every conv",
    change="BatchNorm after every conv (704 parameters): faster, steadier training",
)
def cnn_2(batchnorm: bool = True, **kw) -> Net:
    return _r4(batchnorm=batchnorm, **kw)


@register_model(
    **R4,
    summary="CNN_2 with dropout 0.5 in the FC layers",
    change="Dropout 0.5 after each hidden FC layer, on top of BatchNorm: regularises the 3.8M FC weights",
)
def cnn_3(batchnorm: bool = True, dropout: float = 0.5, **kw) -> Net:
    return _r4(batchnorm=batchnorm, dropout=dropout, **kw)


@register_model(
    **R4,
    summary="Small net: 5x5 convs 32, 64 and a 1x1 conv 128, each with BN and pool; one FC 512→10",
    change="Far fewer parameters (~66k): two 5x5 convs, a 1x1 channel expansion and a single FC layer",
)
def cnn_4(convs: list[Conv] = SMALL, dense: tuple[int, ...] = (), batchnorm: bool = True, **kw) -> Net:
    return _r4(convs=convs, dense=dense, batchnorm=batchnorm, **kw)


@register_model(
    **R4,
    summary="Five convs (3x3 ×3, 5x5 ×2) with BN, two pools, FC 1024→512→10",
    change="Deeper conv stack (two extra 5x5 convs up to 256 channels), smaller FC part (~1.85M)",
)
def cnn_5(convs: list[Conv] = WIDE5, dense: tuple[int, ...] = (512,), batchnorm: bool = True, **kw) -> Net:
    return _r4(convs=convs, dense=dense, batchnorm=batchnorm, **kw)
