"""`python -m fashion_cnn tune` (`make tune`): run or continue a search, then retrain its best trial."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import optuna

from .. import config as cfg
from ..errors import ArgumentParser, Error
from ..models import load_model_files
from ..setup import add_arguments as add_setup_arguments
from ..train.schedule import use_address
from ..tune.search import SearchPlan, plan_search, search, search_summary
from ..tune.space import CPU_MODEL, SPACE_HELP
from ..tune.storage import default_storage, redact


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m fashion_cnn tune`: `python -m fashion_cnn tune`."""
    parser = ArgumentParser(prog="python -m fashion_cnn tune", description=run.__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser) -> None:
    """The search's arguments; profile, device, precision and model files are the report's options."""
    add_setup_arguments(parser, only=("profile", "device", "precision", "models"))
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="trials training at once (default 0: the whole batch, as the cluster's CPUs allow)",
    )
    parser.add_argument(
        "--address", default=None, help="a Ray cluster to train the trials on (default RAY_ADDRESS, else a local Ray)"
    )
    parser.add_argument("--storage", default=None, help=f"SQLAlchemy URL of the study (default {default_storage()})")
    parser.add_argument(
        "--trials", type=int, default=None, help="total finished trials (full: 30 on a GPU, 20 on a CPU; quick: 4)"
    )
    parser.add_argument(
        "--model", default=None, help=f"model to tune (full: cnn_2 on a GPU, {CPU_MODEL} on a CPU; quick: r3_lenet)"
    )
    parser.add_argument("--study-name", default=None, help="study name (default <model>-<profile>)")
    parser.add_argument("--space", default=None, help="search space as JSON text or a JSON file; " + SPACE_HELP)
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds after which no new batch of trials starts (run again to continue)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="TPE's seed (default 0): the same seed and batch propose the same trials, however many train at once",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=SearchPlan.batch,
        help=f"trials proposed together, each learning only from earlier batches (default {SearchPlan.batch}); "
        "up to this many trials train at once",
    )


def run(args) -> int:
    """Run (or continue) an Optuna study whose trials train on Ray."""
    cfg.show_log()  # the trials, as they finish
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        load_model_files(args.models)
        plan = plan_search(
            args.model,
            args.profile,
            trials=args.trials,
            space=args.space,
            storage=args.storage,
            study_name=args.study_name,
            device=args.device,
            precision=args.precision,
            seed=args.seed,
            batch=args.batch,
        )
        use_address(args.address)
        print(
            f"study {plan.study_name!r} in {redact(plan.storage)}: {plan.trials} trials of {plan.base.model}, "
            f"batches of {plan.batch}, at most {args.workers or plan.batch} at once",
            flush=True,
        )
        study = search(plan, args.workers, timeout=args.timeout)
    except Error as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the study is kept; run the same command to continue it", file=sys.stderr)
        return 130
    s = search_summary(study)
    best = (
        f"best val_acc {s['best_value']:.4f} with {s['best_params']}"
        if s["best_value"] is not None
        else "no complete trial"
    )
    state = "done" if s["finished"] >= plan.trials else "stopped early (run the same command to continue)"
    print(
        f"{state}: {s['finished']}/{plan.trials} finished ({s['complete']} complete, {s['pruned']} pruned, "
        f"{s['fail']} failed), {best}, trial time {s['trial_seconds'] / 60:.1f} min, "
        f"wall span {s['wall_seconds'] / 60:.1f} min"
    )
    return 0
