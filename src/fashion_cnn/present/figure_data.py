"""What a figure draws, as a table a reader can check: read back from the matplotlib Figure itself, so the
CSV beside a figure in the report is exactly what is drawn, whichever function drew it.

One row per drawn value, long form: the panel (the axes' title), the series (a line's or bar set's legend
label), what kind of mark it is (line, points, bar, band, segment, cell, image), its x and y (and for a cell or
an image pixel its row, column and value), the tick label at that position where the axis names categories,
and the axes' labels, which carry the units ("epoch", "validation accuracy (%)").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PathCollection, PolyCollection, QuadMesh
from matplotlib.container import BarContainer

COLUMNS = ["panel", "series", "kind", "x", "y", "x_tick", "y_tick", "row", "col", "value", "x_axis", "y_axis"]


def _label(artist) -> str:
    label = str(artist.get_label() or "")
    return "" if label.startswith("_") else label  # matplotlib's "_child3": no legend entry


def _ticks(ax, axis: str) -> dict[float, str]:
    """Tick position → label, where the axis labels its ticks with words (categories, not numbers)."""
    get = ax.get_xticklabels if axis == "x" else ax.get_yticklabels
    ticks = {}
    for tick in get():
        text = tick.get_text()
        if text and not text.replace("−", "-").replace(".", "", 1).replace("-", "", 1).isdigit():
            ticks[round(float(tick.get_position()[0 if axis == "x" else 1]), 6)] = text
    return ticks


def _rows(ax, panel: str) -> list[dict]:
    xt, yt = _ticks(ax, "x"), _ticks(ax, "y")
    rows: list[dict] = []

    def add(kind, series, x=None, y=None, **more):
        row = {"panel": panel, "series": series, "kind": kind, "x": x, "y": y, **more}
        if x is not None:
            row["x_tick"] = xt.get(round(float(x), 6), "")
        if y is not None:
            row["y_tick"] = yt.get(round(float(y), 6), "")
        rows.append(row)

    for line in ax.lines:
        x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        for a, b in zip(x, y):
            add("line", _label(line), a, b)
    for container in ax.containers:
        if isinstance(container, BarContainer):
            vertical = getattr(container, "orientation", "vertical") == "vertical"
            for p in container.patches:
                if vertical:
                    add("bar", _label(container), p.get_x() + p.get_width() / 2, p.get_height())
                else:
                    add("bar", _label(container), p.get_width(), p.get_y() + p.get_height() / 2)
    for coll in ax.collections:
        if isinstance(coll, PathCollection):
            for a, b in np.asarray(coll.get_offsets(), float):
                add("points", _label(coll), a, b)
        elif isinstance(coll, QuadMesh):
            values = np.asarray(coll.get_array()).reshape(-1)
            cols = coll.get_coordinates().shape[1] - 1  # a mesh of (rows + 1) × (cols + 1) corners
            for i, v in enumerate(values):
                add("cell", _label(coll), row=i // cols, col=i % cols, value=float(v))
        elif isinstance(coll, LineCollection):
            for seg in coll.get_segments():
                for a, b in np.asarray(seg, float):
                    add("segment", _label(coll), a, b)
        elif isinstance(coll, PolyCollection):
            for path in coll.get_paths():
                for a, b in path.vertices:
                    add("band", _label(coll), a, b)
    for n, image in enumerate(ax.images):
        values = np.asarray(image.get_array(), float)
        if values.ndim == 2:
            r, c = np.indices(values.shape)
            for i, j, v in zip(r.ravel(), c.ravel(), values.ravel()):
                series = f"image {n + 1}" if len(ax.images) > 1 else _label(image)
                add("image", series, row=int(i), col=int(j), value=float(v))
    return rows


def figure_data(fig) -> pd.DataFrame:
    """Every value `fig` draws, one row each (`COLUMNS`), panel by panel; a colour bar's axes are left out."""
    rows = []
    for i, ax in enumerate(fig.axes):
        if ax.get_label() == "<colorbar>":
            continue
        panel = ax.get_title(loc="left") or ax.get_title() or ax.get_ylabel() or f"panel {i + 1}"
        found = _rows(ax, panel)
        for row in found:
            row["x_axis"], row["y_axis"] = ax.get_xlabel(), ax.get_ylabel()
        rows += found
    return pd.DataFrame(rows, columns=COLUMNS)
