"""Section 1, the data: class balance, pixel statistics and how much a kernel without padding misses at
the border, from the 60,000 training and 10,000 test images."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import data
from ..analysis import data_stats


@dataclass
class DataAnalysis:
    """Section 1's result."""

    dataset: data.FashionMNIST
    counts: pd.DataFrame  # images per class in each set, and each class's share
    mean: np.ndarray  # per-pixel mean of the training images
    std: np.ndarray  # per-pixel standard deviation
    border: pd.DataFrame  # per border width: its share of the pixels, ink and variance, images with ink in it


def run() -> DataAnalysis:
    """The dataset (checked against upstream's checksums) and its statistics."""
    ds = data.load()
    mean, std = data_stats.pixel_statistics(ds.train_images)
    return DataAnalysis(ds, data_stats.class_counts(ds), mean, std, data_stats.border_signal(ds.train_images))
