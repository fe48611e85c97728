"""`python -m fashion_cnn bundle` (`make bundle`): the last report, its executed notebooks, every figure's
and table's data and the configs and provenance of its runs, in one zip (`report.bundle`)."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import errors
from ..report.bundle import bundle


def add_arguments(parser) -> None:
    parser.add_argument("--reports", type=Path, default=None, help="the reports folder (default reports/)")
    parser.add_argument("--out", type=Path, default=None, help="the archive (default <reports>/report-bundle.zip)")


def run(args) -> int:
    """Write the archive and say where, with its size; exit 2 in one line when there is no report."""
    try:
        path = bundle(args.reports, args.out)
    except errors.Error as err:
        print(f"bundle: {err}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0
