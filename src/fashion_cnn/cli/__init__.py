"""The one command line, `python -m fashion_cnn <command>` (the Makefile's targets call it):

    report                     run every notebook headless and render the report (HTML and PDF)
    bundle                     the last report with its notebooks, figures' data and runs' provenance, in one zip
    list | plan | train | check    the studies: what their runs cost, training them ahead of the report
    tune                       an Optuna search whose trials train on Ray
    bench                      our engine against a naive DataLoader loop, and a study on Ray
    models list | show         the registered models
    mlflow | dashboard         the stored runs in MLflow's UI, the search in optuna-dashboard (the extra `browse`)

The report's options (profile, device, precision, study, model files, seeds, margin, max seeds) are
`setup.OPTIONS`, added to every command that takes them from there; each command's own arguments live
with the command (`add_arguments`, `run`). `python -m fashion_cnn report` and the other per-package
entry points still work. Bad input: one line, exit 2.
"""

from __future__ import annotations

import signal
import sys

from .. import bench
from ..errors import ArgumentParser
from . import browse as browse_cli
from . import bundle as bundle_cli
from . import models as models_cli
from . import report as report_cli
from . import studies as studies_cli
from . import tune as tune_cli

COMMANDS = {
    "report": (report_cli, "run every notebook headless and render the report (HTML and PDF)"),
    "bundle": (bundle_cli, "the last report with its notebooks, figures' data and runs' provenance, in one zip"),
    **{name: (studies_cli, help) for name, help in studies_cli.COMMANDS.items()},
    "tune": (tune_cli, "run or continue an Optuna search whose trials train on Ray, then retrain its best"),
    "bench": (bench, "benchmark the engine against a naive DataLoader loop, and a study on Ray"),
    "models": (models_cli, "the registered models: list them, or show one"),
    **{name: (browse_cli, help) for name, help in browse_cli.COMMANDS.items()},
}


def parser() -> ArgumentParser:
    top = ArgumentParser(prog="python -m fashion_cnn", description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(dest="command", required=True, metavar="command")
    for name, (module, help) in COMMANDS.items():
        sub = commands.add_parser(name, help=help, description=help)
        if module in (studies_cli, browse_cli):  # one module, several commands
            module.add_arguments(sub, name)
            sub.set_defaults(run=module.run, command=name)
        else:
            module.add_arguments(sub)
            sub.set_defaults(run=module.run)
    return top


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` (default: the command line) and run its command; its exit status."""
    args = parser().parse_args(argv)
    if (
        argv is None
    ):  # the command line: a `kill` stops like Ctrl-C (tasks cancelled, checkpoints and the last report kept)
        signal.signal(signal.SIGTERM, _interrupt)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
