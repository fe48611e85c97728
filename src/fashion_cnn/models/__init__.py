"""Model zoo: one registry for every architecture of the source reports (R0–R4) and a user's model files."""

from __future__ import annotations

import functools

import torch
from torch import nn

from . import _registry, lenet, r2, r3, r4  # noqa: F401  (importing registers the models)
from ._registry import ModelInfo, create_model, list_models, model_info, register_model
from .net import Net
from .user_files import load_all as load_model_files


def layer_table(model: nn.Module) -> str:
    """The model's layers as plain text, one line per leaf layer (its name in the model, type, output
    shape for one image, trainable parameters), then the totals: what a reader needs of torchinfo's
    summary, without its memory estimates and its unit enums."""
    stats = summary(model)
    rows = [("layer", "type", "output shape", "parameters")]
    for layer in stats.summary_list:
        if layer.is_leaf_layer:
            path = ".".join(str(p.var_name) for p in _ancestors(layer)[1:])
            shape = "×".join(str(d) for d in layer.output_size[1:])
            rows.append(
                (path, layer.class_name, shape, f"{layer.trainable_params:,}" if layer.trainable_params else "–")
            )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append("-" * len(lines[0]))
    lines.append(f"{count_parameters(model):,} parameters, {stats.total_mult_adds / 1e6:.2f} M multiply-adds per image")
    return "\n".join(lines)


def _ancestors(layer) -> list:
    chain = [layer]
    while chain[-1].parent_info is not None:
        chain.append(chain[-1].parent_info)
    return chain[::-1]


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (BatchNorm's running statistics are buffers, not counted)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def summary(model: nn.Module, batch_size: int = 1):
    """Keras-like summary (layer, output shape, parameters) from torchinfo."""
    from torchinfo import summary as _summary

    return _summary(
        model,
        input_size=(batch_size, 1, 28, 28),
        col_names=("output_size", "num_params"),
        row_settings=("var_names",),
        verbose=0,
        device=torch.device("cpu"),
    )


@functools.cache
def _mult_adds(builder, name: str, overrides: tuple) -> int:
    return int(summary(create_model(name, **dict(overrides))).total_mult_adds)


def mult_adds(name: str, **overrides) -> int:
    """Multiply-adds of one forward pass of one image through the registered model (torchinfo; cached
    per builder, so a user's edited model file is measured again)."""
    return _mult_adds(_registry._MODELS.get(name), name, tuple(sorted(overrides.items())))


__all__ = [
    "ModelInfo",
    "Net",
    "count_parameters",
    "create_model",
    "layer_table",
    "list_models",
    "load_model_files",
    "model_info",
    "mult_adds",
    "register_model",
    "summary",
]
