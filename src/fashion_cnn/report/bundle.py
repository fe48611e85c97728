"""One archive a reader can check the report with, without the project installed.

`make bundle` zips the last report of a reports folder: `report.html` and `report.pdf`, the executed
notebooks, every figure's and table's data with their index (`data/`), and for every run the report read
(`data/runs.csv`, written by the build) its small files from the run store: config, seed, history and
provenance (versions, device, data checksums, speed settings), not its weights. The archive is written
beside the report under a temporary name and renamed when complete, so a stopped bundle leaves no half
archive.
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path

from .. import config as cfg
from ..errors import Error
from .document import DATA_DIR

NAME = "report-bundle.zip"
RUNS = "runs.csv"  # in DATA_DIR: notebook, run key and run name of every run the report read


class NoReport(Error, FileNotFoundError):
    """The reports folder holds no finished report to bundle."""


def write_runs(results, folder: Path) -> Path:
    """`folder`/runs.csv: every run each notebook of `results` read (notebook, key, name)."""
    path = folder / RUNS
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["notebook", "key", "name"])
        for r in results:
            for k in r.run_keys:
                writer.writerow([r.name, k["key"], k.get("name", "")])
    return path


def bundle(reports_dir: Path | str | None = None, out: Path | str | None = None) -> Path:
    """Zip the report in `reports_dir` (default the project's) into `out` (default `reports_dir`/NAME).
    Raises NoReport naming what is missing and how to make it."""
    folder = Path(reports_dir or cfg.REPORTS_DIR)
    needed = [folder / "report.html", folder / "notebooks", folder / DATA_DIR / "index.csv"]
    missing = [p for p in needed if not p.exists()]
    if missing:
        raise NoReport(
            f"{missing[0]} is missing: build the report first (make report, or PROFILE=quick for a quick one)"
        )
    target = Path(out or folder / NAME)
    files = [folder / "report.html", *([folder / "report.pdf"] if (folder / "report.pdf").is_file() else [])]
    files += sorted((folder / "notebooks").glob("*.ipynb")) + sorted((folder / DATA_DIR).glob("*.csv"))
    keys = []
    if (folder / DATA_DIR / RUNS).is_file():
        with open(folder / DATA_DIR / RUNS, encoding="utf-8") as f:
            keys = list(dict.fromkeys(row["key"] for row in csv.DictReader(f)))
    runs = folder / "runs"
    for key in keys:
        files += sorted((runs / key).glob("*.json"))  # config, history, metrics, provenance: not the weights
    partial = target.with_name(f".{target.name}.partial")
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.relative_to(folder).as_posix())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target
