"""The five source reports (R0 … R4), read from their study files (`R0.toml` … `R4.toml` beside this
module): each report's study (the models, the settings it used, the other parts it ran), every figure
it states and every comparison it drew. The facts live in those files and nowhere else; this module
registers the studies and gathers the figures and claims for the reproduction (`reproduction`,
`claims`) and the hyperparameter section (`tune`).
"""

from __future__ import annotations

from pathlib import Path

from .files import StudyFile, load
from .study import Reported, register_study

NAMES = ("R0", "R1", "R2", "R3", "R4")
FILES: tuple[StudyFile, ...] = tuple(load(Path(__file__).with_name(f"{name}.toml")) for name in NAMES)

for _file in FILES:  # each checked as it loads (`files.load`)
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
