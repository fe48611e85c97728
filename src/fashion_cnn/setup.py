"""The report's options as one object: `ReportSetup`, built and checked in one place.

A notebook's parameters cell stays flat and typed (papermill and JupyterLab set it); its next cell
builds the setup with `ReportSetup.from_notebook(globals())`, and the command lines build it with
`from_parameters`. Units are converted here once (the margin is given in accuracy points and kept as
a fraction) and every option is checked here once, so a bad value fails in one line before anything
trains. Each option, its default and its help are written once, in `OPTIONS`.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import config as cfg
from .config import Profile
from .errors import ConfigError
from .models import user_files as model_files
from .studies.loader import get_study, is_path
from .studies.study import Study
from .train.engine import check_precision
from .train.runs import RunConfig
from .train.store import Store


@dataclass(frozen=True)
class Option:
    """One option of the report: its default, in the units people give it, and its one-line help."""

    default: Any
    help: str
    type: type = str
    choices: tuple[str, ...] | None = None  # the values the command line accepts (None: any, checked later)
    many: bool = False  # the command line takes several values (model files)


# Every option a notebook or a command line may set: the notebooks' parameters cells declare the ones they
# use with these defaults (a test checks), and the command lines add them all (`add_arguments`).
OPTIONS: dict[str, Option] = {
    "profile": Option("full", "full (default) or quick: epochs, data size, seeds and folds (config.PROFILES)"),
    "device": Option("auto", "auto (default), cpu or cuda"),
    "precision": Option(
        "fp32",
        "fp32 (default) or bf16: autocast of forward and loss, where the hardware has it",
        choices=("fp32", "bf16"),
    ),
    "study": Option("R0", "the study compared: R0 … R4 or a study file (.toml; default R0)"),
    "models": Option("", "model files (.py of @register_model functions) the study's models come from", many=True),
    "seeds": Option(
        "default",
        'seeds per model: a number, "auto" (a 3-seed pilot chooses n, up to --max-seeds) or "default" '
        "(the profile's; auto in the full profile on a GPU)",
    ),
    "margin": Option(
        0.5,
        "equivalence margin in accuracy points (default 0.5): closer means count as equivalent only where a "
        "TOST shows it",
        float,
    ),
    "max_seeds": Option(cfg.AUTO_SEEDS_CAP, f"the most seeds auto may choose (default {cfg.AUTO_SEEDS_CAP})", int),
}
PARAMETERS: dict[str, Any] = {name: option.default for name, option in OPTIONS.items()}


def add_arguments(parser, exclude: tuple[str, ...] = (), only: tuple[str, ...] = ()) -> None:
    """Add `--name` for each option (`only` these, or all but `exclude`) to an argparse parser, with its
    default; `ReportSetup.from_parameters` checks the values."""
    for name, option in OPTIONS.items():
        if name not in exclude and (not only or name in only):
            flag = "--" + name.replace("_", "-")
            extra = (
                {"nargs": "+", "metavar": "FILE"} if option.many else {"type": option.type, "choices": option.choices}
            )
            parser.add_argument(flag, default=option.default, help=option.help, **extra)


POINT = 0.01  # one accuracy point, as the fraction of the images code uses
PAPERMILL_MARK = "# Parameters"  # the first line of the cell papermill injects after a notebook's parameters cell


@dataclass(frozen=True)
class ReportSetup:
    """What every section of the report is run with: checked, resolved, in the units code uses.

    `seeds` is a number or "auto" ("default" resolved against the profile and device); `margin` is a
    fraction of the images (0.005 = ±0.5 points); `study` is at `precision` already; `source` is the
    study as given (a name, or a study file's full path) and `models` the model files' full paths, as
    the notebooks' kernels need them. `store` is where every section reads and keeps its runs (the
    project's, `Store.default()`, unless given).
    """

    profile: Profile
    study: Study
    device: str = "auto"
    precision: str = "fp32"
    seeds: int | str = 3
    margin: float = cfg.MARGIN
    max_seeds: int = cfg.AUTO_SEEDS_CAP
    source: str = "R0"
    models: tuple[str, ...] = ()
    store: Store = field(default_factory=Store.default, compare=False)  # where the sections' runs are read and kept

    @classmethod
    def from_parameters(cls, **given: Any) -> ReportSetup:
        """The setup from parameters as people give them (`PARAMETERS`' names and units; a missing one
        takes its default). Raises ConfigError naming the bad value and the fix."""
        unknown = sorted(set(given) - set(PARAMETERS))
        if unknown:
            raise ConfigError(f"unknown parameter {unknown[0]!r}: use {', '.join(PARAMETERS)}")
        p = {**PARAMETERS, **{k: v for k, v in given.items() if v is not None}}
        profile = cfg.get_profile(p["profile"])
        device = p["device"]
        resolved = cfg.resolve_device(device)  # an unknown device, or cuda without a GPU
        if p["precision"] not in OPTIONS["precision"].choices:
            raise ConfigError(f"precision {p['precision']!r}: use 'fp32' or 'bf16'")
        check_precision(p["precision"], resolved)  # no bf16 on this machine
        margin = float(p["margin"])
        if not 0 < margin < 100:
            raise ConfigError(f"margin {margin:g}: give the equivalence margin in accuracy points, above 0 (e.g. 0.5)")
        max_seeds = int(p["max_seeds"])
        if max_seeds < 3:
            raise ConfigError(f"max_seeds {max_seeds}: give at least 3 (the pilot of seeds=auto trains 3 seeds)")
        seeds = cfg.resolve_seeds(p["seeds"], profile, device)
        models = p["models"].split() if isinstance(p["models"], str) else list(p["models"])
        models = tuple(f.path for f in model_files.load_all(models))  # full paths: the kernels run in notebooks/
        source = str(Path(p["study"]).resolve()) if is_path(p["study"]) else p["study"]
        study = get_study(source, list(models), register=False).at_precision(p["precision"])
        return cls(
            profile=profile,
            study=study,
            device=device,
            precision=p["precision"],
            seeds=seeds,
            margin=margin * POINT,
            max_seeds=max_seeds,
            source=source,
            models=models,
        )

    @classmethod
    def from_notebook(cls, namespace: Mapping[str, Any]) -> ReportSetup:
        """The setup from a notebook's parameters (the names of `PARAMETERS` it declares; the others take
        their defaults). Under papermill, a parameter the notebook does not declare (a typo such as
        `-p sedds 5`) raises ConfigError instead of being ignored."""
        declared, injected = _parameters_in(namespace.get("In", ()))
        unknown = sorted(injected - declared)
        if unknown and declared:
            raise ConfigError(
                f"this notebook has no parameter {unknown[0]!r}: its parameters are {', '.join(sorted(declared))}"
            )
        return cls.from_parameters(**{k: namespace[k] for k in PARAMETERS if k in namespace})

    @property
    def resolved(self) -> str:
        """The device runs train on ("auto" resolved)."""
        return cfg.resolve_device(self.device)

    @property
    def margin_points(self) -> float:
        return self.margin / POINT

    def config(self, label: str, seed: int = 0, **changes) -> RunConfig:
        """The RunConfig of the study's arm `label` under this setup's profile and device."""
        return self.study.config(label, self.profile, seed, self.device, **changes)

    def with_study(self, study: Study) -> ReportSetup:
        """This setup for another study (the reproduction's R1 … R4), at the same precision."""
        return dataclasses.replace(self, study=study.at_precision(self.precision), source=study.name)

    def parameters(self) -> dict[str, Any]:
        """This setup as parameters (`PARAMETERS`' names and units): what a notebook is given."""
        return {
            "profile": self.profile.name,
            "device": self.device,
            "precision": self.precision,
            "study": self.source,
            "models": " ".join(self.models),
            "seeds": str(self.seeds),
            "margin": round(self.margin_points, 10),
            "max_seeds": self.max_seeds,
        }


def _parameters_in(cells) -> tuple[set[str], set[str]]:
    """The names a kernel's executed cells (IPython's `In`) assign: in the cells papermill injected,
    and in the others before them (the parameters cell)."""
    declared: set[str] = set()
    injected: set[str] = set()
    for source in cells:
        names = _assigned(source)
        if source.lstrip().startswith(PAPERMILL_MARK):
            injected |= names
        elif not injected:
            declared |= names
    return declared, injected


def _assigned(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: not a parameters cell
        return set()
    names = set()
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names
