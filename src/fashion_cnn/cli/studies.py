"""The command line of the studies (`make plan`, `make train`): list the studies with what their runs
cost, show one study's plan against the run store, and train the runs a report will read ahead of
it (resumable: stop it any time and run it again):

    python -m fashion_cnn list
    python -m fashion_cnn plan R3 --seeds 3
    python -m fashion_cnn train R3 R4 --profile full --seeds 3
    python -m fashion_cnn train R4 --only "cnn_4*" cnn_2/tuned   # a part of a study
    python -m fashion_cnn check my_study.toml [--models my_models.py]  # a study file: its plan, no training
"""

from __future__ import annotations

import fnmatch
import signal
import sys
import time

import pandas as pd

from .. import config as cfg
from ..analysis.stats import PILOT_SEEDS, SeedPlan
from ..errors import ArgumentParser, ConfigError, Error, disk_full
from ..sections.variants import seed_plan
from ..setup import OPTIONS, ReportSetup
from ..setup import add_arguments as add_setup_arguments
from ..studies.loader import get_study as study_at
from ..studies.study import Job, list_studies
from ..train.runs import estimated_cpu_seconds, run_key, training_images
from ..train.schedule import get_or_train_many, use_address
from ..train.store import Store

# ----------------------------------------------------------------------------------------------
# What a plan needs from the run store, and the command line

PARTS = ("main", "extra", "fold", "trainval")


def plan_table(jobs: list[Job], store: Store | None = None) -> pd.DataFrame:
    """Per part of a plan, and in all: runs, how many the store holds finished, how many a process is
    training now, how many it can resume (a checkpoint, nobody training it), the training images
    (millions) and the estimated single-core CPU hours left (`runs.estimated_cpu_seconds`; a run
    begun counts in full). Only parts the plan has appear."""
    store = store or Store.default()
    rows = []
    for job in jobs:
        key = run_key(job.config)
        stored = store.has(key)
        training = not stored and store.busy(key)
        rows.append(
            {
                "part": job.part,
                "runs": 1,
                "stored": int(stored),
                "training": int(training),
                "resumable": int(not stored and not training and store.checkpoint(key).is_file()),
                "images_M": training_images([job.config]) / 1e6,
                "cpu_hours_left": 0.0 if stored else estimated_cpu_seconds(job.config) / 3600,
            }
        )
    columns = ["runs", "stored", "training", "resumable", "images_M", "cpu_hours_left"]
    frame = pd.DataFrame(rows, columns=["part", *columns])
    table = frame.groupby("part").sum().reindex([p for p in PARTS if p in set(frame["part"])])
    table.loc["all"] = frame[columns].sum()
    return table.astype({c: int for c in ("runs", "stored", "training", "resumable")})


def select(jobs: list[Job], patterns: list[str] | None) -> list[Job]:
    """The jobs whose arm label matches one of the shell-style `patterns` (all jobs for none); raises
    ValueError naming the labels when a pattern matches nothing, so a typo never trains nothing quietly."""
    if not patterns:
        return jobs
    labels = list(dict.fromkeys(j.label for j in jobs))
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(label, pattern) for label in labels):
            raise ConfigError(f"--only {pattern!r} matches no arm; the arms are: {', '.join(labels)}")
    return [j for j in jobs if any(fnmatch.fnmatchcase(j.label, p) for p in patterns)]


def _names(names: list[str], models: list[str]) -> list[str]:
    """Study names from the command line ("all" for every one); raises ConfigError naming the known ones."""
    names = list_studies() if names == ["all"] else names
    for name in names:
        study_at(name, models)  # an unknown name fails here
    return names


def _seeds(setup: ReportSetup, train: bool) -> SeedPlan:
    """Seeds per configuration: under "auto" the pilot's plan (`sections.variants.seed_plan`), training
    the pilot only for `train`; without a stored pilot, `plan` and `list` show the pilot itself."""
    pilot = setup.study.configs(setup.profile, PILOT_SEEDS, setup.device)
    if setup.seeds == "auto" and not train and not all(map(Store.default().has, pilot)):
        return SeedPlan((), tuple(range(PILOT_SEEDS)))  # n is chosen after the pilot: plan the pilot
    return seed_plan(setup)


def _print(table: pd.DataFrame) -> None:
    print(table.to_string(float_format=lambda x: f"{x:.2f}"), flush=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


COMMANDS = {
    "list": "every study: title, runs, images and estimated CPU hours left",
    "plan": "one study's runs per part against the run store",
    "train": "train the runs the store lacks (stop any time; run again to go on)",
    "check": "read and check study files and print their plans; trains nothing",
}


def add_arguments(parser, command: str) -> None:
    """The arguments of one of `COMMANDS`: the setup's options but the study (`setup.OPTIONS`), then the
    studies (names, or files for `check`), `--only` and, for `train`, `--address`."""
    add_setup_arguments(parser, exclude=("study",))
    if command == "check":
        parser.add_argument("files", nargs="+", help="study files (.toml)")
    if command in ("plan", "train"):
        parser.add_argument("studies", nargs="+", help="study names (R0 … R4), or all")
        parser.add_argument(
            "--only",
            nargs="+",
            metavar="ARM",
            default=None,
            help="only the arms whose label matches one of these shell patterns, e.g. 'cnn_4*'",
        )
    if command == "train":
        parser.add_argument(
            "--address",
            default=None,
            help="a Ray cluster to train on (host:port of `ray start --head`; default RAY_ADDRESS, "
            "else a local Ray on this machine's cores)",
        )


def main(argv: list[str] | None = None) -> int:
    """`python -m fashion_cnn list|plan|train|check`: `python -m fashion_cnn list|plan|train|check`."""
    parser = ArgumentParser(
        prog="python -m fashion_cnn studies",
        description="The named studies: what their runs cost, and training them ahead of the report (resumable).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command, help in COMMANDS.items():
        add_arguments(commands.add_parser(command, help=help), command)
    if argv is None:  # the command line: a `kill` stops like Ctrl-C (tasks cancelled, checkpoints kept)
        signal.signal(signal.SIGTERM, _interrupt)
    return run(parser.parse_args(argv))


def run(args) -> int:
    """`list`, `plan`, `train` or `check` (`args.command`); exit 2 with a one-line cause on bad input."""
    cfg.show_log(sys.stderr)  # warnings, e.g. a run another process trains
    try:
        use_address(getattr(args, "address", None))
        options = {name: getattr(args, name) for name in OPTIONS if name != "study"}
        names = _names(getattr(args, "studies", None) or getattr(args, "files", None) or ["all"], args.models or [])
        # each study at the chosen precision; a bad option fails here, before any training
        setups = {name: ReportSetup.from_parameters(study=name, **options) for name in names}
        first = next(iter(setups.values()))
        profile, auto = first.profile, first.seeds == "auto"

        def chosen(name: str):  # the study, at the chosen precision
            return setups[name].study

        print(
            f"profile {profile.name}, seeds {first.seeds}, precision {first.precision}, run store {Store.default()}",
            flush=True,
        )
        plans = {name: _seeds(setups[name], train=args.command == "train") for name in names}
        seeds = {name: plan.pilot_seeds + plan.seeds for name, plan in plans.items()}  # every seed trained
        if args.command == "check":
            for name in names:
                study = chosen(name)
                print(
                    f"\n{name}: study {study.name!r}, {study.title}; baseline {study.baseline}, variants "
                    f"{', '.join(study.variants)}",
                    flush=True,
                )
                _print(plan_table(study.plan(profile, seeds[name], first.device)))
            print(f"\n{len(names)} study file(s) checked: nothing trained", flush=True)
            return 0
        if args.command == "list":
            rows = {
                name: plan_table(chosen(name).plan(profile, seeds[name], first.device)).loc["all"] for name in names
            }
            table = pd.DataFrame(rows).T.astype({c: int for c in ("runs", "stored", "training", "resumable")})
            table.insert(0, "title", [chosen(n).title for n in names])
            _print(table)
            return 0
        for name in names:
            if auto:
                plan = plans[name]
                chosen_n = f"n={plan.n}, tested seeds {list(plan.seeds)}" if plan.seeds else "n is chosen after it"
                print(f"{name}: seeds=auto: pilot seeds {list(plan.pilot_seeds)} (not tested); {chosen_n}", flush=True)
            jobs = select(chosen(name).plan(profile, seeds[name], first.device), args.only)
            before = plan_table(jobs)
            part = f" (only {' '.join(args.only)}: {len(jobs)} runs)" if args.only else ""
            print(f"\n{name}: {chosen(name).title}{part}", flush=True)
            _print(before)
            if args.command == "train":
                started = time.perf_counter()
                get_or_train_many([j.config for j in jobs])
                left = before.loc["all", "runs"] - before.loc["all", "stored"]
                print(
                    f"{name}: {left} run(s) trained or resumed in {time.perf_counter() - started:.0f} s; "
                    f"all {len(jobs)} stored",
                    flush=True,
                )
    except Error as err:
        print(f"studies: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a full disk: one line; anything else is a bug and keeps its traceback
        line = disk_full(err, "finished runs are stored and an unfinished one keeps its last checkpoint", cfg.RUNS_DIR)
        if line is None:
            raise
        print(f"studies: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "\nstudies: interrupted; finished runs are stored and an unfinished one resumes from its last "
            "epoch: run the same command again to go on",
            file=sys.stderr,
        )
        return 130
    return 0
