"""The report: every notebook run headless (papermill, the project kernel), then one combined,
self-contained `report.html` and its `report.pdf` (Chromium headless, A4).

The command line (`python -m fashion_cnn report`): checks the arguments and the dataset before anything
runs, then builds one report, or one per study. Exit 2 for bad input, 1 when a notebook or Chromium failed.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

from .. import config as cfg
from .. import errors
from .. import setup as setup_options
from ..report.build import build, check_reproduce, timings
from ..report.notebooks import NotebookFailed, discover
from ..report.render import RenderFailed
from ..sections.plan import DAY, Estimate, estimate, report_plan
from ..setup import OPTIONS, ReportSetup
from ..train.store import Store, device_name


def add_arguments(parser) -> None:
    """The report's arguments: the setup's options (`setup.OPTIONS`) and how the report is built."""
    setup_options.add_arguments(parser)
    parser.add_argument(
        "--all-studies", action="store_true", help="one report per named study under reports/studies/<name>/"
    )
    parser.add_argument("--notebooks", type=Path, default=None, help="notebooks folder (default notebooks/)")
    parser.add_argument("--no-pdf", action="store_true", help="render the HTML only")
    parser.add_argument(
        "--reproduce",
        default=None,
        help='source reports notebook 08 reproduces: "all", or names such as "R0 R4" '
        "(default: all five in the full profile on a GPU, R0 alone otherwise)",
    )
    parser.add_argument(
        "--stored-only",
        action="store_true",
        help="notebook 08 trains nothing and measures the runs the store holds (a study trained in "
        "part with `studies train --only`); the other figures show as not run",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="go on when the estimate passes a day on this machine, without asking (YES=1 in make)",
    )
    parser.add_argument(
        "--address",
        default=None,
        help="a Ray cluster the notebooks train on (host:port; default RAY_ADDRESS, else a local Ray)",
    )


def duration(seconds: float) -> str:
    """A planned time in words: "~2 min", "about 62 min", "about 3.4 h", "about 9,131,000 h"."""
    if seconds < 90:
        return f"~{max(1, round(seconds / 60))} min"
    if seconds < 2 * 3600:
        return f"about {round(seconds / 60)} min"
    hours = seconds / 3600
    return f"about {hours:.1f} h" if hours < 100 else f"about {float(f'{hours:.3g}'):,.0f} h"


def estimate_line(est: Estimate, quick: Estimate | None = None) -> str:
    """What the report will cost here, before it starts: the time, the runs to train and stored, the cores,
    and what the quick profile would take instead."""
    cores = f"{est.workers} core{'s' * (est.workers != 1)}"
    line = f"estimate: {duration(est.seconds)} here on {cores} ({est.to_train:,} runs to train, {est.stored:,} stored)"
    return line + (f"; PROFILE=quick takes {duration(quick.seconds)}" if quick is not None else "")


def too_long(est: Estimate, yes: bool) -> str | None:
    """None when the report may start; else the one line that stops it: beyond a day here, asked when
    interactive, refused otherwise unless `yes`."""
    if est.seconds <= DAY or yes:
        return None
    what = (
        f"this report needs {duration(est.seconds)} on this machine: check the plan with make plan, try "
        "PROFILE=quick, train on a cluster (ADDRESS=host:port) or a GPU"
    )
    if sys.stdin.isatty():
        answer = input(f"report: {what}. Go on anyway? [y/N] ").strip().lower()
        return None if answer in ("y", "yes") else "stopped before training anything"
    return f"{what}; or run it with YES=1 (--yes) to go on anyway"


def main(argv: list[str] | None = None) -> int:
    """`python -m fashion_cnn report`: `python -m fashion_cnn report`."""
    parser = errors.ArgumentParser(prog="python -m fashion_cnn report", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


def run(args) -> int:
    """Run the notebooks and render the report(s); exit 1 naming a failing notebook, 2 on bad input.

    Only the project's errors (`errors.Error`) become that one line; anything else is a bug and keeps its traceback.
    """
    from .. import data as data_mod
    from .. import studies
    from ..train import schedule

    # A SIGTERM (a killed `make`, a CI timeout) unwinds like Ctrl-C, so the staging folder is removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:  # bad input fails here, before anything runs
        schedule.use_address(args.address)  # the notebooks' kernels inherit it
        setup = ReportSetup.from_parameters(**{name: getattr(args, name) for name in OPTIONS})
        check_reproduce(args.reproduce)  # a typo fails before anything runs
    except errors.Error as err:  # nothing else runs in this block
        print(f"report: {err}", file=sys.stderr)
        return 2
    try:
        data_mod.load()  # so does a missing or damaged dataset (DataError says how to install it)
        Store.default().check()  # and a damaged run the notebooks would read minutes in
        names = studies.list_studies() if args.all_studies else [args.study]
        started = time.perf_counter()
        for name in names:
            out = cfg.REPORTS_DIR / "studies" / name if args.all_studies else cfg.REPORTS_DIR
            print(
                f"report: profile {args.profile}, study {name}, {len(discover(args.notebooks))} notebooks → {out}",
                flush=True,
            )
            chosen = setup.with_study(studies.get_study(name)) if args.all_studies else setup
            est = estimate(report_plan(chosen, args.reproduce), chosen.profile.name)
            quick = None
            if chosen.profile.name != "quick":
                given = {name: getattr(args, name) for name in OPTIONS} | {"study": chosen.source, "profile": "quick"}
                fast = ReportSetup.from_parameters(**given)
                quick = estimate(report_plan(fast, args.reproduce), "quick")
            print(estimate_line(est, quick), flush=True)
            stop = too_long(est, args.yes)
            if stop is not None:
                print(f"report: {stop}", file=sys.stderr)
                return 2
            rep = build(
                chosen,
                notebooks_dir=args.notebooks,
                out_dir=out,
                pdf=not args.no_pdf,
                reproduce=args.reproduce,
                stored_only=args.stored_only,
            )
            print("time per notebook:\n" + "\n".join(timings(rep.notebooks)), flush=True)
            pages = f", {rep.pages} pages" if rep.pages else ""
            print(f"wrote {rep.html} and {rep.pdf}{pages}" if not args.no_pdf else f"wrote {rep.html}")

        print(
            f"device: {setup.resolved} ({device_name(setup.resolved)}); wall time {time.perf_counter() - started:.1f} s"
        )
    except (NotebookFailed, RenderFailed) as err:  # the previous report was left in place
        print(f"\nreport failed: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: the staging folder is gone, the previous report untouched
        print(
            "\nreport: interrupted; finished runs are stored and the previous report is kept: run the same command "
            "again to go on",
            file=sys.stderr,
        )
        return 130
    except errors.Error as err:  # bad input (no notebooks, no dataset): nothing ran
        print(f"report: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a full disk (after Error: some of ours are OSErrors): one line; else a bug
        line = errors.disk_full(err, "finished runs are stored and the previous report is kept", cfg.REPORTS_DIR)
        if line is None:
            raise
        print(f"report: {line}", file=sys.stderr)
        return 2
    return 0
