"""The five source reports (R0 … R4), read from their study files (`R0.toml` … `R4.toml` beside this
module): each report's study (the models, the settings it used, the other parts it ran), every figure
it states and every comparison it drew. The facts live in those files and nowhere else; this module
registers the studies and gathers the figures and claims for the reproduction (`reproduction`,
`claims`) and the hyperparameter section (`tune`).
"""

from __future__ import annotations

from pathlib import Path

from ..config import resolve_device
from .loader import StudyFile, get_study, load
from .study import Reported, register_study

NAMES = ("R0", "R1", "R2", "R3", "R4")
ALL_REPORTS = NAMES  # what `reports="all"` reproduces
FILES: tuple[StudyFile, ...] = tuple(load(Path(__file__).with_name(f"{name}.toml")) for name in NAMES)

for _file in FILES:  # each checked as it loads (`loader.load`)
    register_study(_file.study)

REPORTED = tuple(f for file in FILES for f in file.reported)
CLAIMS = tuple(c for file in FILES for c in file.claims)
NUMERIC_REPORTS = tuple(file.study.name for file in FILES if file.numeric)  # R3 ran on another data set


def reported(report: str, arm: str, setting: str, metric: str) -> Reported:
    """The one figure `report` states for `arm` under `setting` on `metric`; raises KeyError if it states none."""
    found = [f for f in REPORTED if (f.report, f.arm, f.setting, f.metric) == (report, arm, setting, metric)]
    if len(found) != 1:
        raise KeyError(f"{report} states {len(found)} figures for {arm} / {setting} / {metric}")
    return found[0]


def default_reports(profile: str, device: str = "auto") -> tuple[str, ...]:
    """The reports `reports="auto"` reproduces: all five in the full profile on a GPU, R0 alone otherwise.

    R0's runs are the ones notebooks 02–05 train anyway. On 2 CPU cores the other four take days
    together in the full profile: R1 and R2 are 75 M and 35 M training images of small nets (R2's 15
    holdout runs, 10.8 M images, took 48 min in two processes), R4 is 31.5 M images through
    4-million-parameter nets (~200 images/s) and R3 has batch-2 to batch-8 sweeps; on one H100 they
    take minutes. Name them to run them anywhere.
    """
    device = resolve_device(device) if device == "auto" else device
    return NAMES if profile == "full" and device.startswith("cuda") else ("R0",)


def report_names(studies: tuple[str, ...] | str, profile: str = "full", device: str = "auto") -> tuple[str, ...]:
    """The reports `studies` names: names, one space-separated string, "all", or "auto" for
    `default_reports(profile, device)`. Raises ValueError listing the studies for an unknown name."""
    if studies == "auto":
        return default_reports(profile, device)
    names = NAMES if studies == "all" else tuple(studies.split()) if isinstance(studies, str) else tuple(studies)
    for name in names:
        get_study(name)
    return names
