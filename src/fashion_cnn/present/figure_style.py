"""The house style every figure shares: page width, the train and validation colours, rcParams,
and the helpers that make and close a figure. Its own module so that `plots` and `search_plots`
both draw in it without importing each other."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

WIDTH = 7.0  # inches: A4's 180 mm text width
TRAIN, VAL = "#1f77b4", "#d62728"  # train and validation colours, the same in every figure
CLASS_COLOURS = matplotlib.colormaps["tab10"].colors


def style() -> None:
    """The report's look: readable fonts, light grid, sharp PNGs in the HTML and the PDF."""
    plt.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.dpi": 110,
            "font.size": 9,
            "axes.titlesize": 10,
            "axes.labelsize": 9,
            "legend.fontsize": 8,
            "xtick.labelsize": 8,
            "ytick.labelsize": 8,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "figure.constrained_layout.use": True,
        }
    )


def new_figure(rows: int = 1, cols: int = 1, height: float = 2.6, **kw) -> tuple[Figure, np.ndarray]:
    fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, height), squeeze=False, **kw)
    return fig, axes


def closed(fig: Figure) -> Figure:
    plt.close(fig)  # the notebook displays the returned figure once, not twice
    return fig
