"""The models' command line: every registered model in one line each, or one model in full (its knobs
with their defaults, parameters, multiply-adds and layer table). `--models FILE` adds a user's model file.

    python -m fashion_cnn models list [PATTERN] [--family R4]
    python -m fashion_cnn models show lenet5
    python -m fashion_cnn models show my_net --models my_models.py
"""

from __future__ import annotations

import argparse
import sys

from ..errors import ArgumentParser, ConfigError, Error
from ..models import ModelInfo, count_parameters, create_model, layer_table, list_models, model_info, mult_adds
from ..models.user_files import load_all, source


def parser() -> argparse.ArgumentParser:
    """The command line's parser (list, show; --models on both)."""
    top = ArgumentParser(prog="python -m fashion_cnn models", description=__doc__.split("\n\n")[0])
    add_arguments(top)
    return top


def add_arguments(top) -> None:
    """`list` and `show`, each with `--models`."""
    commands = top.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="every registered model: name, family, parameters, summary")
    listing.add_argument("pattern", nargs="?", default="*", help="a shell pattern of names, e.g. 'cnn_*'")
    listing.add_argument("--family", default=None, help="R0 … R4, or user")
    show = commands.add_parser("show", help="one model: summary, change, knobs with defaults, size, layers")
    show.add_argument("name", help="a registered model's name")
    for sub in (listing, show):
        sub.add_argument("--models", nargs="+", default=[], metavar="FILE", help="a user's model files (.py)")


def _show(name: str) -> str:
    info = model_info(name)
    model = create_model(name)
    file = source(name)
    lines = [f"{name} ({info.family}{', from ' + file.path if file else ''}): {info.summary}"]
    if info.change:
        lines.append(f"differs from {info.baseline}: {info.change}")
    lines.append(f"parameters {count_parameters(model):,}, multiply-adds per image {mult_adds(name):,}")
    lines += ["", *_knobs(info)] if info.knobs else ["", "knobs: none"]
    lines += ["", layer_table(model)]
    return "\n".join(lines)


def _knobs(info: ModelInfo) -> list[str]:
    """The knob table: name, default (marked * where the baseline's differs), meaning."""
    base = model_info(info.baseline).knobs if info.baseline in list_models() and info.baseline != info.name else {}
    rows = [(k, ("* " if k in base and base[k] != v else "  ") + repr(v)) for k, v in sorted(info.knobs.items())]
    w1, w2 = max(len(k) for k, _ in rows), min(16, max(len(v) for _, v in rows))  # a long layout overflows
    head = f"knobs (a study variant's model_args{f'; * differs from {info.baseline}' if base else ''}):"
    return [head] + [f"  {k:<{w1}}  {v:<{w2}}  {info.knob_help.get(k, '')}".rstrip() for k, v in rows]


def main(argv: list[str] | None = None) -> int:
    """`python -m fashion_cnn models`: `python -m fashion_cnn models`."""
    return run(parser().parse_args(argv))


def run(args) -> int:
    """Print the list or one model; exit 2 with one line on bad input (an unknown name, a bad model file)."""
    try:
        load_all(args.models)
        if args.command == "show":
            print(_show(args.name))
            return 0
        names = list_models(args.pattern, args.family)
        if not names:
            families = ", ".join(sorted({model_info(n).family for n in list_models()}))
            raise ConfigError(f"no model matches {args.pattern!r} in family {args.family!r}; families are {families}")
        width = max((len(n) for n in names), default=4)
        for name in names:
            info = model_info(name)
            print(f"{name:<{width}}  {info.family:<4}  {count_parameters(create_model(name)):>11,}  {info.summary}")
    except Error as err:
        print(f"models: {err}", file=sys.stderr)
        return 2
    return 0
