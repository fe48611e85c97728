"""The dataset's own statistics for the data section (notebook 01): images per class, per-pixel mean
and spread, how much lies in the border a convolution without padding skips, and example images
under each augmentation (`augment.build`, seeded)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .. import augment
from .. import data as data_mod


def class_counts(data: data_mod.FashionMNIST | None = None) -> pd.DataFrame:
    """Images per class in the train and test files, with each class's share of its file."""
    data = data or data_mod.load()
    out = pd.DataFrame(index=list(data_mod.CLASSES))
    for part in ("train", "test"):
        counts = np.bincount(getattr(data, f"{part}_labels"), minlength=len(data_mod.CLASSES))
        out[part] = counts
        out[f"{part}_share"] = counts / counts.sum()
    return out


def pixel_statistics(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel mean and standard deviation (intensities scaled to [0, 1]) over (N, 28, 28) uint8 images."""
    return images.mean(axis=0, dtype=np.float64) / 255.0, images.std(axis=0, dtype=np.float64) / 255.0


def border_signal(images: np.ndarray, widths: tuple[int, ...] = (1, 2, 3, 4)) -> pd.DataFrame:
    """How much of the images' content lies in the outer ring of each width (the padding argument).

    Columns: the ring's share of the pixels, its share of all ink (summed intensity), its share of
    the per-pixel variance, and the share of images with any non-zero pixel in the ring.
    """
    mean, std = pixel_statistics(images)
    rows = []
    for w in widths:
        ring = np.ones(images.shape[1:], dtype=bool)
        ring[w:-w, w:-w] = False
        rows.append(
            {
                "border_px": w,
                "pixel_share": ring.mean(),
                "ink_share": mean[ring].sum() / mean.sum(),
                "variance_share": (std[ring] ** 2).sum() / (std**2).sum(),
                "images_touching": (images[:, ring] > 0).any(axis=1).mean(),
            }
        )
    return pd.DataFrame(rows).set_index("border_px")


def augmentation_examples(names, n: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """`n` training images unchanged, under each augmentation alone, and under all of them together
    (the batch pipeline of `augment.build`, seeded)."""
    ds = data_mod.load()
    idx = data_mod.subset_indices(ds.train_labels, n * 10, seed)[::10][:n]
    x = torch.from_numpy(ds.train_images[idx]).float().div(255.0).unsqueeze(1)
    rows = {"original": x[:, 0].numpy()}
    for label, chosen in [*((name, [name]) for name in names), ("all together", list(names))]:
        torch.manual_seed(seed)
        rows[label] = augment.build(chosen)(x.clone())[:, 0].numpy()
    return rows
