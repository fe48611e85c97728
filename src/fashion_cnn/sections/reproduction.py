"""Section 8, the reproduction: each chosen source report's study trained (or read) with its own
settings, every figure it states beside our interval, and every comparison it drew tested on our runs."""

from __future__ import annotations

from .. import reproduction
from ..reproduction import ALL_REPORTS, NUMERIC_REPORTS, Reproduction
from ..setup import ReportSetup

__all__ = ["ALL_REPORTS", "NUMERIC_REPORTS", "Reproduction", "run"]


def run(setup: ReportSetup, reports: str = "auto", stored_only: bool = False) -> Reproduction:
    """Reproduce `reports` ("R0 R4", "all"; "auto": all five in the full profile on a GPU, R0 alone
    otherwise) under `setup`'s profile, device, precision, seeds, margin and max_seeds; `stored_only`:
    train nothing and measure the runs the store holds."""
    return reproduction.reproduce(
        setup.profile.name,
        setup.seeds,
        setup.device,
        reports,
        stored_only,
        margin=setup.margin,
        max_seeds=setup.max_seeds,
        precision=setup.precision,
    )
