"""What every model must be, the package's and a user's, checked once when it is first built.

The contract:
- a registered builder returns an `nn.Module` (`create_model(name, **knobs)`);
- the module takes a float batch `(B, 1, 28, 28)` (pixels in 0–1, normalised by the engine) and returns
  logits `(B, 10)`: no softmax, the losses take logits;
- its penultimate features (what t-SNE maps, `embed`) are `model.features(x)`, a `(B, F)` tensor, when
  it defines `features`; otherwise the input of its last `nn.Linear` (in module order), which must then
  be the layer that gives the 10 logits. An ordinary module ending in `nn.Linear(F, 10)` needs nothing more.

A model that breaks it stops in one line (`ConfigError`) naming the model and what is missing, before
anything trains.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError

SHAPE = (2, 1, 28, 28)  # the batch the check passes through
CLASSES = 10


def last_linear(model: nn.Module) -> nn.Linear | None:
    """The model's last `nn.Linear` in module order, or None."""
    found = None
    for module in model.modules():
        if isinstance(module, nn.Linear):
            found = module
    return found


def forward_with_features(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits and penultimate features `(B, F)` of batch `x`: `model.features(x)` where defined, else the
    input of the last `nn.Linear`, captured by a forward hook during the one forward pass."""
    if callable(getattr(model, "features", None)):
        return model(x), model.features(x)
    captured: list[torch.Tensor] = []
    handle = last_linear(model).register_forward_hook(lambda _m, args, _out: captured.append(args[0]))
    try:
        logits = model(x)
    finally:
        handle.remove()
    return logits, captured[-1].flatten(1)


def check(model: object, name: str) -> None:
    """Raise ConfigError in one line unless `model` (built as `name`) meets the contract above. Restores
    the random state and the train/eval mode, so checking changes no number of the run that follows."""
    where = f"model {name!r}"
    if not isinstance(model, nn.Module):
        raise ConfigError(
            f"{where}: its builder returned {type(model).__name__}, not a torch.nn.Module; return the network"
        )
    training = model.training
    x = torch.rand(SHAPE, generator=torch.Generator().manual_seed(0))
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            model.eval()
            try:
                logits = model(x)
            except Exception as err:  # noqa: BLE001 (whatever a forward raises on the contract's input)
                raise ConfigError(
                    f"{where}: its forward fails on a batch of shape {tuple(SHAPE)} "
                    f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); it must take (B, 1, 28, 28)"
                ) from None
            if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (SHAPE[0], CLASSES):
                got = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
                raise ConfigError(
                    f"{where}: forward gives {got} for {tuple(SHAPE)}; it must give logits (B, {CLASSES})"
                )
            if callable(getattr(model, "features", None)):
                f = model.features(x)
                if not isinstance(f, torch.Tensor) or f.dim() != 2 or f.shape[0] != SHAPE[0]:
                    got = tuple(f.shape) if isinstance(f, torch.Tensor) else type(f).__name__
                    raise ConfigError(f"{where}: features(x) gives {got}; it must give the penultimate features (B, F)")
            else:
                head = last_linear(model)
                if head is None or head.out_features != CLASSES:
                    raise ConfigError(
                        f"{where}: no features(x) and no last nn.Linear giving the {CLASSES} logits; "
                        "end the network with nn.Linear(F, 10) or define features(x)"
                    )
    finally:
        model.train(training)
