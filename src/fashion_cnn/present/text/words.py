"""Words every generated sentence uses: counts with their noun, p-values, signed differences in
points, the names of metrics, bullet lists."""

from __future__ import annotations

import numpy as np


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun in the number it needs: count(1, "seed") → "1 seed", count(3, "time") → "3 times"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def seed_span(seeds) -> str:
    """ "seed 0", "seeds 3–7" (consecutive) or "seeds 0, 2 and 5"."""
    seeds = sorted(int(s) for s in seeds)
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    if seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"seeds {seeds[0]}–{seeds[-1]}"
    return "seeds " + and_list([str(s) for s in seeds])


def and_list(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c": items as a sentence lists them."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def p(value: float, name: str = "p") -> str:
    """A p-value for reading: "p=0.0314" to 3 significant digits, "p<0.001" below that."""
    if not np.isfinite(value):
        return f"{name} –"
    return f"{name}<0.001" if value < 0.001 else f"{name}={value:.3g}"


def signed(x: float, scale: float = 100.0, unit: str = " points", digits: int = 2) -> str:
    """+0.42 points (the − sign is a minus, not a hyphen)."""
    if not np.isfinite(x):
        return "–"
    return f"{x * scale:+.{digits}f}".replace("-", "−") + unit


_PARTS = {"train": "training", "val": "validation", "test": "test"}


_KINDS = {
    "acc": "accuracy",
    "loss": "loss",
    "precision": "macro precision",
    "recall": "macro recall",
    "keras_precision": "Keras precision",
    "keras_recall": "Keras recall",
    "eval_acc": "accuracy in eval mode",
    "eval_loss": "loss in eval mode",
}


def metric_words(metric: str) -> str:
    """The metric in words: "test_acc" → "test accuracy", "epoch_seconds" → "seconds per epoch"."""
    if metric == "epoch_seconds":
        return "seconds per epoch"
    part, _, kind = metric.partition("_")
    return f"{_PARTS.get(part, part)} {_KINDS.get(kind, kind)}" if kind else metric


# Training settings in words (RunConfig's and the search space's field names)
SETTING_WORDS = {
    "optimizer": "optimizer",
    "lr": "learning rate",
    "weight_decay": "weight decay",
    "batch_size": "batch size",
    "epochs": "epochs",
    "val_fraction": "validation share",
    "fc_dropout": "dropout before the dense layers",
    "dropout": "dropout",
    "n_base": "width",
    "loss": "loss",
    "augment": "augmentation",
    "schedule": "schedule",
}


def setting(name: str, value) -> str:
    """One training setting in words: setting("lr", 0.00296) → "learning rate 0.00296"."""
    if isinstance(value, (list, tuple)):
        value = ", ".join(map(str, value)) or "none"
    shown = f"{value:.3g}" if isinstance(value, float) else f"{value}"
    return f"{SETTING_WORDS.get(name, name.replace('_', ' '))} {shown}"


def machine(device_names) -> str:
    """Where runs trained, said the same way everywhere: the devices of `device_names` (each as
    `store.device_name` records it, "AMD EPYC (2 threads)" or a GPU's name) and, for CPUs, the threads
    each run used: "AMD EPYC, 1 thread per run"."""
    import re

    names, threads = [], set()
    for name in [device_names] if isinstance(device_names, str) else device_names:
        found = re.fullmatch(r"(.*) \((\d+) threads?\)", str(name))
        base = found.group(1) if found else str(name)
        if found:
            threads.add(int(found.group(2)))
        if base not in names:
            names.append(base)
    said = and_list(names) if names else "an unrecorded device"
    if threads:
        low, high = min(threads), max(threads)
        span = f"{low}" if low == high else f"{low}–{high}"
        said += f", {span} {'thread' if high == 1 else 'threads'} per run"
    return said


def bullets(sentences: list[str]) -> str:
    """Markdown bullet list."""
    return "\n".join(f"- {s}" for s in sentences)


def in_percent(metric: str) -> bool:
    """Accuracies, precision and recall are shown in %; losses and seconds as numbers."""
    return not metric.endswith("loss") and metric != "epoch_seconds"


def units(metric: str) -> tuple[float, str, int]:
    """(scale, unit, digits) of a difference in `metric` in a sentence: points, loss, or seconds."""
    if in_percent(metric):
        return 100.0, " points", 2
    if metric == "epoch_seconds":
        return 1.0, " s", 3
    return 1.0, "", 4
