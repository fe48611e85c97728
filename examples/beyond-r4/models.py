"""Three block designs R4 points to after stacking plain convolutions stopped helping (residual, inception,
dense), each at LeNet-5's budget (60–100k parameters), for `study.toml` beside this file.

Each is an ordinary `nn.Module` ending in `nn.Linear(F, 10)` after global average pooling, so its
penultimate features are the input of that layer (the contract of `fashion_cnn.models.contract`).
"""

from __future__ import annotations

import torch
from torch import nn

from fashion_cnn.models import register_model


def conv_bn(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> nn.Sequential:
    """Conv → BatchNorm → ReLU, padded to keep the size (at stride 1)."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
    )


class Residual(nn.Module):
    """Two 3x3 conv-BN layers plus the input (He et al. 2016); a 1x1 projection when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            conv_bn(cin, cout, 3, stride),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
        )
        self.skip = (
            nn.Identity()
            if stride == 1 and cin == cout
            else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


class Inception(nn.Module):
    """Parallel 1x1, 3x3, two-3x3 (a 5x5's field) and pool→1x1 branches, concatenated (Szegedy et al. 2015)."""

    def __init__(self, cin: int, b1: int, b3: int, b5: int, bp: int):
        super().__init__()
        self.branches = nn.ModuleList(
            [
                conv_bn(cin, b1, 1),
                nn.Sequential(conv_bn(cin, b3 // 2, 1), conv_bn(b3 // 2, b3, 3)),
                nn.Sequential(conv_bn(cin, b5 // 2, 1), conv_bn(b5 // 2, b5, 3), conv_bn(b5, b5, 3)),
                nn.Sequential(nn.MaxPool2d(3, 1, padding=1), conv_bn(cin, bp, 1)),
            ]
        )
        self.channels = b1 + b3 + b5 + bp

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)


class Dense(nn.Module):
    """`layers` BN-ReLU-conv layers, each seeing every earlier output (Huang et al. 2017), `growth` channels each."""

    def __init__(self, cin: int, layers: int, growth: int):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Sequential(
                nn.BatchNorm2d(cin + i * growth), nn.ReLU(), nn.Conv2d(cin + i * growth, growth, 3, padding=1)
            )
            for i in range(layers)
        )
        self.channels = cin + layers * growth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.cat([x, layer(x)], dim=1)
        return x


def _head(channels: int) -> list[nn.Module]:
    return [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 10)]  # (B, channels) → (B, 10)


@register_model(summary="Residual net: 3x3 stem, residual blocks of w, 2w, 3w channels (w = 18), global pool, dense 10")
def resnet_small(width: int = 18) -> nn.Module:
    """`width`: w, the channels of the stem and the first block (71,020 parameters at 18)."""
    w = width
    return nn.Sequential(
        conv_bn(1, w),  # (B, w, 28, 28)
        Residual(w, w),
        Residual(w, 2 * w, stride=2),  # (B, 2w, 14, 14)
        Residual(2 * w, 3 * w, stride=2),  # (B, 3w, 7, 7)
        *_head(3 * w),
    )


@register_model(summary="Inception net: 3x3 stem, two inception blocks (1x1, 3x3, 5x5 field, pool; w = 20), dense 10")
def inception_small(width: int = 20) -> nn.Module:
    """`width`: w, the channels of the narrowest branch (68,670 parameters at 20)."""
    w = width
    first = Inception(3 * w, w, 2 * w, w, w)  # 5w channels
    second = Inception(first.channels, 2 * w, 3 * w, 2 * w, w)  # 8w channels
    return nn.Sequential(
        conv_bn(1, 3 * w),
        nn.MaxPool2d(2),  # (B, 3w, 14, 14)
        first,
        nn.MaxPool2d(2),  # (B, 5w, 7, 7)
        second,
        *_head(second.channels),
    )


@register_model(summary="Dense net: 3x3 stem, two dense blocks of 4 layers (growth 16), a 1x1 transition, dense 10")
def densenet_small(growth: int = 16, layers: int = 4) -> nn.Module:
    """`growth`: channels each layer adds; `layers`: layers per block (65,698 parameters at 16 and 4)."""
    first = Dense(16, layers, growth)
    squeeze = first.channels // 2
    second = Dense(squeeze, layers, growth)
    return nn.Sequential(
        conv_bn(1, 16),
        nn.MaxPool2d(2),  # (B, 16, 14, 14)
        first,
        nn.BatchNorm2d(first.channels),
        nn.ReLU(),
        nn.Conv2d(first.channels, squeeze, 1),
        nn.AvgPool2d(2),  # (B, squeeze, 7, 7)
        second,
        nn.BatchNorm2d(second.channels),
        nn.ReLU(),
        *_head(second.channels),
    )
