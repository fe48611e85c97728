"""Evaluation helpers over scikit-learn: predictions on any split, per-class and macro metrics,
confusion matrices and the most-confused class pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy.special import log_softmax
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from . import data as data_mod
from .config import resolve_device
from .engine import predict


def predictions(model: torch.nn.Module, part: str = "test", indices: np.ndarray | None = None,
                device: str = "auto", features: bool = False) -> dict[str, np.ndarray]:
    """Logits, predictions, labels (and penultimate features) of `model` on "train" or "test"."""
    device = resolve_device(device)
    tensors = data_mod.tensors(data_mod.load(), part, indices, device)
    return predict(model.to(device), tensors, features=features)


def classification_report(labels: np.ndarray, pred: np.ndarray, logits: np.ndarray | None = None) -> dict[str, float]:
    """Accuracy, macro precision/recall/F1 and (with logits) the cross-entropy loss."""
    p, r, f, _ = precision_recall_fscore_support(labels, pred, average="macro", zero_division=0)
    out = {"acc": accuracy_score(labels, pred), "precision": p, "recall": r, "f1": f}
    if logits is not None:
        out["loss"] = float(-log_softmax(logits.astype(np.float64), axis=1)[np.arange(len(labels)), labels].mean())
    return out


def per_class(labels: np.ndarray, pred: np.ndarray) -> pd.DataFrame:
    """Precision, recall, F1 and support for each of the 10 classes."""
    p, r, f, s = precision_recall_fscore_support(labels, pred, labels=range(10), zero_division=0)
    return pd.DataFrame({"precision": p, "recall": r, "f1": f, "support": s}, index=list(data_mod.CLASSES))


def confusion(labels: np.ndarray, pred: np.ndarray, normalize: bool = False) -> pd.DataFrame:
    """10x10 confusion matrix (rows: true class, columns: predicted), counts or row-normalised."""
    m = confusion_matrix(labels, pred, labels=range(10), normalize="true" if normalize else None)
    return pd.DataFrame(m, index=list(data_mod.CLASSES), columns=list(data_mod.CLASSES))


def most_confused(labels: np.ndarray, pred: np.ndarray, top: int = 5) -> pd.DataFrame:
    """The `top` (true → predicted) pairs with the most errors."""
    m = confusion_matrix(labels, pred, labels=range(10))
    np.fill_diagonal(m, 0)
    order = np.argsort(m, axis=None)[::-1][:top]
    rows = [(data_mod.CLASSES[i], data_mod.CLASSES[j], int(m[i, j]), m[i, j] / max((labels == i).sum(), 1))
            for i, j in zip(*np.unravel_index(order, m.shape))]
    return pd.DataFrame(rows, columns=["true", "predicted", "count", "share_of_true"])
