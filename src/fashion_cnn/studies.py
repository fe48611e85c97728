"""The named studies of the source reports (R0 … R4): a baseline, its variants, the settings the
report used, and the other parts each report ran (grid cells, schedules, sweeps, k-fold,
retraining on train+validation, test evaluation).

A study's *main view* is `baseline` + `variants` (registered model names) under `settings`: that
is what `configs()` returns and what notebook 02 compares. Everything else a report ran is an
`Arm` (a model plus the RunConfig fields that differ from `settings`), named by a label such as
``"cnn_2/sigmoid/aug"``; `config()` accepts an arm label wherever it accepts a model name.
`plan()` lists every run the study needs, tagged with its part, for the reproduction.

From the shell, `python -m fashion_cnn.studies` (`make train`) lists the studies with what their
runs cost, shows one study's plan against the run store, and trains the runs a report will read
ahead of it (resumable: stop it any time and run it again):

    python -m fashion_cnn.studies list
    python -m fashion_cnn.studies plan R3 --seeds 3
    python -m fashion_cnn.studies train R3 R4 --profile full --seeds 3
    python -m fashion_cnn.studies train R4 --only "cnn_4*" cnn_2/tuned   # a part of a study
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import config as cfg
from .config import Profile, get_profile
from .runs import RunConfig, estimated_cpu_seconds, run_key, training_images
from .schedule import get_or_train_many, use_address
from .stats import SeedChoice
from .store import Store


@dataclass(frozen=True)
class Arm:
    """One configuration of a study: a registered model plus the RunConfig fields that differ."""

    label: str  # unique within the study; a main-view arm is labelled with its model name
    model: str  # registered model name
    changes: Mapping[str, Any] = field(default_factory=dict)  # RunConfig fields over the study's settings
    note: str = ""  # what the arm is, in the report's terms


@dataclass(frozen=True)
class Job:
    """One run of a study's plan: which arm, which part of the study, and its config."""

    label: str  # arm label
    part: str  # "main" | "extra" (holdout) | "fold" | "trainval"
    config: RunConfig


@dataclass(frozen=True)
class Study:
    name: str  # "R0" … "R4"
    title: str  # one line for the report
    baseline: str  # registered model name
    variants: tuple[str, ...]  # registered model names compared with the baseline
    settings: dict[str, Any] = field(default_factory=dict)  # RunConfig fields the source report used
    cumulative: bool = False  # each variant builds on the previous one (compare with the previous too)
    notes: str = ""  # where the settings come from, and what we had to choose
    extra_arms: tuple[Arm, ...] = ()  # further configurations the report ran (grid cells, schedules, sweeps)
    kfold: tuple[tuple[str, int], ...] = ()  # (arm label, k the report used) cross-validated on the 60k
    test: tuple[tuple[str, str], ...] = ()  # (arm label, "holdout" | "trainval") evaluated on the test set

    def __post_init__(self):
        labels = [a.label for a in self.arms]
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise ValueError(f"study {self.name}: arm labels {dupes} are used twice; give each arm its own label")
        for label, _ in (*self.kfold, *self.test):
            self.arm(label)
        for label, split in self.test:
            if split not in ("holdout", "trainval"):
                raise ValueError(
                    f"study {self.name}: test split {split!r} of {label!r} must be 'holdout' or 'trainval'"
                )

    @property
    def models(self) -> tuple[str, ...]:
        """The main view's registered model names, baseline first."""
        return (self.baseline, *self.variants)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """The main view's comparisons, one family: each variant against the baseline and, in a
        cumulative study, each step against the model before it (the first step is already there)."""
        out = [(self.baseline, v) for v in self.variants]
        if self.cumulative:
            out += list(zip(self.variants[:-1], self.variants[1:]))
        return out

    @property
    def arms(self) -> tuple[Arm, ...]:
        """Every configuration of the study: one arm per main-view model, then the extra arms."""
        return (*(Arm(m, m) for m in self.models), *self.extra_arms)

    def arm(self, label: str) -> Arm:
        """The arm called `label`; raises ValueError listing the study's arms."""
        for a in self.arms:
            if a.label == label:
                return a
        raise ValueError(f"study {self.name} has no arm {label!r}: use one of {', '.join(a.label for a in self.arms)}")

    def config(self, model: str, profile: Profile, seed: int = 0, device: str = "auto", **changes) -> RunConfig:
        """The RunConfig of `model` (a model name or an arm label) in this study under `profile`.

        The full profile uses the report's settings (epochs from the profile only where the report
        stated none); any other profile caps epochs and the training subset at the profile's.
        """
        arm = self.arm(model) if model not in self.models else Arm(model, model)
        settings = {"epochs": profile.epochs, "subset": profile.subset, **self.settings, **arm.changes, **changes}
        if profile.name != "full":
            settings["epochs"] = min(settings["epochs"], profile.epochs)
            sizes = [s for s in (settings["subset"], profile.subset) if s is not None]
            settings["subset"] = min(sizes) if sizes else None
        return RunConfig(arm.model, seed=seed, device=device, **settings)

    def configs(self, profile: Profile, seeds: int | None = None, device: str = "auto") -> list[RunConfig]:
        """Every model × seed of the main view, model-major."""
        n = profile.seeds if seeds is None else seeds
        return [self.config(m, profile, s, device) for m in self.models for s in range(n)]

    def ranking(self, profile: Profile, seeds: int | None = None, device: str = "auto") -> list[str]:
        """The main view's models by mean validation accuracy over `seeds` seeds, best first (trained
        here, or read from the store)."""
        from . import metrics

        return metrics.rank_models(metrics.final_metrics(get_or_train_many(self.configs(profile, seeds, device))))

    def best(self, profile: Profile, seeds: int | None = None, device: str = "auto") -> str:
        """The main view's model with the highest mean validation accuracy (`ranking`)."""
        return self.ranking(profile, seeds, device)[0]

    def folds(self, profile: Profile, k: int) -> int:
        """The k used under `profile`: the report's k in the full profile, at most the profile's otherwise."""
        return k if profile.name == "full" else min(k, profile.folds)

    def plan(self, profile: Profile, seeds: int | None = None, device: str = "auto") -> list[Job]:
        """Every run the study needs (main view, extra arms, k-fold, train+validation), without repeats."""
        n = profile.seeds if seeds is None else seeds
        jobs = [
            Job(a.label, "main" if a.label in self.models else "extra", self.config(a.label, profile, s, device))
            for a in self.arms
            for s in range(n)
        ]
        for label, k in self.kfold:
            k = self.folds(profile, k)
            jobs += [
                Job(label, "fold", self.config(label, profile, s, device, split="fold", fold=i, folds=k))
                for s in range(n)
                for i in range(k)
            ]
        for label, split in self.test:
            if split == "trainval":
                jobs += [
                    Job(label, "trainval", self.config(label, profile, s, device, split="trainval")) for s in range(n)
                ]
        seen: set[str] = set()
        unique = []
        for job in jobs:
            key = json.dumps(job.config.to_dict(), sort_keys=True)
            if key not in seen:
                seen.add(key)
                unique.append(job)
        return unique


PILOT_SEEDS = 3  # seeds per model of the pilot `seeds="auto"` chooses n from


@dataclass(frozen=True)
class SeedPlan:
    """How many seeds every model of a study gets, and how that number was chosen."""

    n: int
    choice: SeedChoice | None = None  # the pilot's choice under seeds="auto"; None for a given number


def seed_plan(
    study: Study,
    profile: Profile,
    seeds: int | str = "default",
    device: str = "auto",
    margin: float = cfg.MARGIN,
    cap: int = cfg.AUTO_SEEDS_CAP,
) -> SeedPlan:
    """The seeds of `study` under `profile`: a given number, or under "auto" (`config.resolve_seeds`)
    the n that decides the main view's comparisons of validation accuracy (`Study.pairs`) with 80%
    power, chosen from a pilot of `PILOT_SEEDS` seeds per model (trained here, or read from the store)
    and capped at `cap`. Deterministic given the stored pilot, so every notebook gets the same n."""
    from . import metrics
    from .stats import choose_seeds, compare_family

    resolved = cfg.resolve_seeds(seeds, profile, device)
    if resolved != "auto":
        return SeedPlan(int(resolved))
    pilot = get_or_train_many(study.configs(profile, min(PILOT_SEEDS, cap), device))
    values = metrics.values_by(metrics.final_metrics(pilot), "val_acc")
    return SeedPlan((choice := choose_seeds(compare_family(values, study.pairs, margin), cap)).n, choice)


_STUDIES: dict[str, Study] = {}


def register_study(study: Study) -> Study:
    """Add `study` to the registry under its name (a later one with the same name replaces it)."""
    _STUDIES[study.name] = study
    return study


def list_studies() -> list[str]:
    """Names of the registered studies, in registration order."""
    return list(_STUDIES)


def get_study(name: str) -> Study:
    """The study called `name`; raises ValueError listing the known ones."""
    if name not in _STUDIES:
        raise ValueError(f"unknown study {name!r}: use one of {', '.join(_STUDIES)}")
    return _STUDIES[name]


# ----------------------------------------------------------------------------------------------
# R0: PyTorch, LeNet-5 and four cumulative changes.

R0_BEST = "lenet5_3x3_leaky_dropout_avgpool"
R0_AUGMENT = ("flip", "rotate", "color", "blur")  # R0: horizontal flip, rotation ≤ 20°, brightness/contrast, blur

register_study(
    Study(
        name="R0",
        title="LeNet-5 and four cumulative changes: 3x3 kernels, LeakyReLU, dropout, average pooling",
        baseline="lenet5",
        variants=("lenet5_3x3", "lenet5_3x3_leaky", "lenet5_3x3_leaky_dropout", R0_BEST),
        settings={"optimizer": "adam", "lr": 1e-3, "batch_size": 64, "epochs": 15, "val_fraction": 0.2},
        cumulative=True,
        extra_arms=(
            Arm(
                f"{R0_BEST}/augment",
                R0_BEST,
                {"augment": R0_AUGMENT},
                "the best model trained with flip, rotation, brightness/contrast and blur",
            ),
        ),
        kfold=(("lenet5", 5),),
        test=((R0_BEST, "holdout"), (R0_BEST, "trainval"), (f"{R0_BEST}/augment", "holdout")),
        notes="R0 trained in PyTorch with Adam for 15 epochs; its learning rate, batch size and split are not "
        "stated, so we use Adam's default 1e-3, batch 64 and a stratified 48k/12k split. It ran 5-fold "
        "cross-validation of the baseline, retrained its best model (model 5) on train+validation, and "
        "trained one model with augmentation; which model is not stated, so we augment model 5.",
    )
)

# ----------------------------------------------------------------------------------------------
# R1: Keras, TanH/avg-pool LeNet-5 and four one-change variants, 5-fold during selection.

register_study(
    Study(
        name="R1",
        title="TanH/average-pool LeNet-5 against ReLU, max pooling, dropout and LeakyReLU",
        baseline="r1_tanh_avgpool",
        variants=("r1_relu", "r1_maxpool", "r1_dropout", "r1_leaky"),
        settings={"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 15, "val_fraction": 0.2, "loss": "ce"},
        extra_arms=(
            Arm(
                "r1_relu/step-decay",
                "r1_relu",
                {"schedule": "step", "step_size": 5, "gamma": 0.5},
                "the ReLU model with the learning rate halved every 5 epochs",
            ),
        ),
        kfold=tuple((m, 5) for m in ("r1_tanh_avgpool", "r1_relu", "r1_maxpool", "r1_dropout", "r1_leaky")),
        test=(("r1_relu", "trainval"), ("r1_leaky", "trainval"), ("r1_relu/step-decay", "trainval")),
        notes="R1 trained in Keras with Adam and categorical cross-entropy for at most 15 epochs, selecting "
        "models with stratified 5-fold cross-validation (metrics averaged over folds); it retrained "
        "its two best models on the whole training set for the test, and the ReLU model once more with "
        "the learning rate halved every 5 epochs. Learning rate and batch size are not stated: we use "
        "Keras's defaults (1e-3, batch 32). Its precision and recall are Keras's thresholded metrics "
        "(stats.keras_precision_recall), not macro averages.",
    )
)

# ----------------------------------------------------------------------------------------------
# R2: Keras, a 3-conv net and four regularisers, 10-fold of the baseline.

register_study(
    Study(
        name="R2",
        title="A 3-conv network against dropout, L1, L2 and batch normalisation",
        baseline="r2_base",
        variants=("r2_dropout", "r2_l1", "r2_l2", "r2_batchnorm"),
        settings={"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 15, "val_fraction": 0.2, "loss": "ce"},
        kfold=(("r2_base", 10),),
        test=(("r2_base", "holdout"), ("r2_batchnorm", "holdout")),
        notes="R2 trained in Keras with sparse categorical cross-entropy for 15 epochs and ran 10-fold "
        "cross-validation of the baseline; it states neither optimizer, learning rate, batch size nor "
        "split, so we use Adam 1e-3, Keras's batch 32 and a stratified 48k/12k split, and evaluate the "
        "holdout-trained baseline and BatchNorm models on the test set.",
    )
)

# ----------------------------------------------------------------------------------------------
# R3: a lab on another data set; here on Fashion-MNIST, compared in direction only.

_R3_OPT = {"model_args": {"n_base": 8}, "batch_size": 4, "lr": 1e-5, "epochs": 100}  # R3's "optimum"
register_study(
    Study(
        name="R3",
        title="LeNet against an AlexNet-style net and an MLP, with R3's sweeps (lr, epochs, width, dropout, batch, optimizer, loss)",
        baseline="r3_lenet",
        variants=("r3_alexnet", "r3_mlp"),
        settings={"optimizer": "adam", "lr": 1e-4, "batch_size": 8, "epochs": 50, "subset": 6000, "val_fraction": 0.2},
        extra_arms=(
            Arm("r3_lenet/lr1e-5", "r3_lenet", {"lr": 1e-5}, "LeNet with a ten times smaller learning rate"),
            Arm("r3_alexnet/base16", "r3_alexnet", {"model_args": {"n_base": 16}}, "AlexNet, width 16"),
            Arm("r3_alexnet/base32", "r3_alexnet", {"model_args": {"n_base": 32}}, "AlexNet, width 32"),
            Arm("r3_alexnet/dropout", "r3_alexnet", {"model_args": {"dropout": 0.4}}, "AlexNet with dropout 0.4"),
            Arm(
                "r3_alexnet/dropout/150ep",
                "r3_alexnet",
                {"model_args": {"dropout": 0.4}, "epochs": 150},
                "AlexNet with dropout 0.4, 150 epochs",
            ),
            Arm("r3_alexnet/lr1e-5", "r3_alexnet", {"lr": 1e-5}, "AlexNet with learning rate 1e-5"),
            Arm("r3_alexnet/batch4", "r3_alexnet", {"batch_size": 4}, "AlexNet, batch 4"),
            Arm("r3_alexnet/batch2", "r3_alexnet", {"batch_size": 2}, "AlexNet, batch 2"),
            Arm("r3_alexnet/opt-adam", "r3_alexnet", _R3_OPT, "R3's optimum (batch 4, width 8, lr 1e-5, 100 epochs)"),
            Arm("r3_alexnet/opt-sgd", "r3_alexnet", {**_R3_OPT, "optimizer": "sgd"}, "the optimum with SGD"),
            Arm(
                "r3_alexnet/opt-rmsprop", "r3_alexnet", {**_R3_OPT, "optimizer": "rmsprop"}, "the optimum with RMSprop"
            ),
            Arm("r3_alexnet/opt-bce", "r3_alexnet", {**_R3_OPT, "loss": "bce"}, "the optimum with one-vs-rest BCE"),
            Arm("r3_alexnet/opt-hinge", "r3_alexnet", {**_R3_OPT, "loss": "hinge"}, "the optimum with hinge loss"),
        ),
        notes="R3 is a lab on another, smaller data set (its size is not stated); we run its comparisons on a "
        "stratified 6,000-image subset of Fashion-MNIST with its stated settings (Adam, lr 1e-4, batch 8, "
        "50 epochs; AlexNet width 8 unless a sweep changes it), so its figures compare in direction only.",
    )
)

# ----------------------------------------------------------------------------------------------
# R4: PyTorch, CNN_1 … CNN_5 × {softmax, sigmoid} × {no augmentation, crop + flip}, then a tuned CNN_2.

R4_MODELS = ("cnn_1", "cnn_2", "cnn_3", "cnn_4", "cnn_5")
R4_LOSSES = {"softmax": "ce", "sigmoid": "bce"}
R4_AUGMENT = {"none": (), "aug": ("crop", "flip")}
R4_TUNED = "cnn_2/tuned"


def r4_label(model: str, head: str = "softmax", aug: str = "none") -> str:
    """The arm label of one R4 grid cell (the softmax, no-augmentation cell is the model itself)."""
    return model if (head, aug) == ("softmax", "none") else f"{model}/{head}/{aug}"


register_study(
    Study(
        name="R4",
        title="CNN_1 … CNN_5 with a softmax or sigmoid head, with and without augmentation, and a tuned CNN_2",
        baseline="cnn_1",
        variants=R4_MODELS[1:],
        settings={
            "optimizer": "adam",
            "lr": 4e-3,
            "batch_size": 128,
            "weight_decay": 1e-3,
            "epochs": 10,
            "val_fraction": 1 / 6,
            "loss": "ce",
        },
        extra_arms=(
            *(
                Arm(r4_label(m, head, aug), m, {"loss": loss, "augment": augs}, f"{m}, {head} head, augmentation {aug}")
                for m in R4_MODELS
                for head, loss in R4_LOSSES.items()
                for aug, augs in R4_AUGMENT.items()
                if (head, aug) != ("softmax", "none")
            ),
            Arm(
                R4_TUNED,
                "cnn_2",
                {"lr": 0.0003593, "batch_size": 64, "weight_decay": 0.0003593, "augment": R4_AUGMENT["aug"]},
                "CNN_2, softmax, crop + flip, tuned: lr 3.593e-4, batch 64, L2 3.593e-4 as weight decay",
            ),
        ),
        test=(
            *((r4_label(m, h, a), "holdout") for m in R4_MODELS for h in R4_LOSSES for a in R4_AUGMENT),
            (R4_TUNED, "holdout"),
        ),
        notes="R4 trained in PyTorch with Adam (lr 4e-3, weight decay 1e-3), batch 128, 10 epochs on a 50k/10k "
        "split, every model with a softmax or a sigmoid (one-vs-rest BCE) head, with and without random "
        "crop + horizontal flip; dropout 0.5 belongs to CNN_3. R4 tested the epoch with the best "
        "validation accuracy; we test the last epoch. The crop's padding is not stated: we pad by 2. "
        "Its tuned CNN_2 puts the L2 strength into the optimizer's weight decay, as R4's code did.",
    )
)


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
            raise ValueError(f"--only {pattern!r} matches no arm; the arms are: {', '.join(labels)}")
    return [j for j in jobs if any(fnmatch.fnmatchcase(j.label, p) for p in patterns)]


def _names(names: list[str]) -> list[str]:
    """Study names from the command line ("all" for every one); raises ValueError naming the known ones."""
    names = list_studies() if names == ["all"] else names
    for name in names:
        get_study(name)
    return names


def _seeds(study: Study, profile: Profile, args, train: bool) -> int:
    """Seeds per configuration from --seeds: under "auto" the pilot's choice (`seed_plan`), training
    the pilot only for `train`; without a stored pilot, `plan` and `list` show the pilot itself."""
    pilot = study.configs(profile, PILOT_SEEDS, args.device)
    stored = Store.default().has
    if cfg.resolve_seeds(args.seeds, profile, args.device) == "auto" and not train and not all(map(stored, pilot)):
        return PILOT_SEEDS  # n is chosen after the pilot: plan the pilot
    return seed_plan(study, profile, args.seeds, args.device, args.margin / 100, args.max_seeds).n


def _print(table: pd.DataFrame) -> None:
    print(table.to_string(float_format=lambda x: f"{x:.2f}"), flush=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Command line: `list`, `plan` or `train` studies; exit 2 with a one-line cause on bad input."""
    parser = argparse.ArgumentParser(
        prog="python -m fashion_cnn.studies",
        description="The named studies: what their runs cost, and training them ahead of the report (resumable).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="every study: title, runs, images and estimated CPU hours left")
    plan = commands.add_parser("plan", help="one study's runs per part against the run store")
    train = commands.add_parser("train", help="train the runs the store lacks (stop any time; run again to go on)")
    for sub in (listing, plan, train):
        sub.add_argument("--profile", default="full", help="full (default) or quick")
        sub.add_argument(
            "--seeds",
            default="default",
            help='seeds per configuration: a number, "auto" (a 3-seed pilot chooses n) or "default" '
            "(the profile's; auto in the full profile on a GPU)",
        )
        sub.add_argument(
            "--margin",
            type=float,
            default=cfg.MARGIN * 100,
            help="equivalence margin in accuracy points that seeds=auto plans for (default 0.5)",
        )
        sub.add_argument("--max-seeds", type=int, default=cfg.AUTO_SEEDS_CAP, help="the most seeds auto may choose")
        sub.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    for sub in (plan, train):
        sub.add_argument("studies", nargs="+", help="study names (R0 … R4), or all")
        sub.add_argument(
            "--only",
            nargs="+",
            metavar="ARM",
            default=None,
            help="only the arms whose label matches one of these shell patterns, e.g. 'cnn_4*'",
        )
    train.add_argument(
        "--address",
        default=None,
        help="a Ray cluster to train on (host:port of `ray start --head`; default RAY_ADDRESS, "
        "else a local Ray on this machine's cores)",
    )
    args = parser.parse_args(argv)
    if argv is None:  # the command line: a `kill` stops like Ctrl-C (tasks cancelled, checkpoints kept)
        signal.signal(signal.SIGTERM, _interrupt)
    use_address(getattr(args, "address", None))
    try:
        profile = get_profile(args.profile)
        auto = cfg.resolve_seeds(args.seeds, profile, args.device) == "auto"  # a bad --seeds fails here
        names = _names(getattr(args, "studies", ["all"]))
        print(f"profile {profile.name}, seeds {args.seeds}, run store {Store.default()}", flush=True)
        seeds = {name: _seeds(get_study(name), profile, args, train=args.command == "train") for name in names}
        if args.command == "list":
            rows = {
                name: plan_table(get_study(name).plan(profile, seeds[name], args.device)).loc["all"] for name in names
            }
            table = pd.DataFrame(rows).T.astype({c: int for c in ("runs", "stored", "training", "resumable")})
            table.insert(0, "title", [get_study(n).title for n in names])
            _print(table)
            return 0
        for name in names:
            if auto:
                print(f"{name}: seeds=auto gives n={seeds[name]}", flush=True)
            jobs = select(get_study(name).plan(profile, seeds[name], args.device), args.only)
            before = plan_table(jobs)
            part = f" (only {' '.join(args.only)}: {len(jobs)} runs)" if args.only else ""
            print(f"\n{name}: {get_study(name).title}{part}", flush=True)
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
    except ValueError as err:
        print(f"studies: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "\nstudies: interrupted; finished runs are stored and an unfinished one resumes from its last "
            "epoch: run the same command again to go on",
            file=sys.stderr,
        )
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
