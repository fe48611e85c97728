"""One-field sweeps (R3's) and the learning-rate decay comparison (R1's, paired over seeds).

* **Decay** (`decay_study`): step decay (×0.5 every 5 epochs, as R1 and R2 do) against a constant rate,
  over the same seeds (a number, or "auto": a pilot fixes n), with validation curves, the rate per epoch
  and test metrics. Test accuracy, training accuracy and the train − validation gap are each compared
  paired over seeds (`stats.compare_family`): higher/lower, equivalent within ±margin, or inconclusive.
* **Sweeps** (`Sweep`, `default_sweeps`): a base config, one varied field and its values (R3's learning
  rate, epochs, batch size, width, dropout, optimizer and loss); each gives overlaid curves and a table.
  One run per value, so no test: no difference or equivalence is claimed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from .. import config as cfg
from ..analysis import metrics, stats
from ..errors import ConfigError
from ..studies.sources import reported
from ..train.runs import RunConfig
from ..train.schedule import get_or_train_many
from ..train.store import Run
from .space import TuneError, _check_field, with_value

# R1's ReLU variant on the test set after retraining on train + validation at batch 32, constant rate and step decay
R1_DECAY = {
    "none": reported("R1", "r1_relu", "trainval-test", "test_acc"),
    "step": reported("R1", "r1_relu/step-decay", "trainval-test", "test_acc"),
}


# ----------------------------------------------------------------------------------------------
# Sweeps


@dataclass(frozen=True)
class Sweep:
    """A base config, one varied field and its values: one run per value, everything else fixed."""

    name: str  # title, e.g. "learning rate"
    field: str  # a RunConfig field ("lr", "batch_size", …) or a model argument ("n_base", "dropout")
    values: tuple  # the values tried, in display order
    base: RunConfig  # every other setting

    def __post_init__(self):
        object.__setattr__(self, "values", tuple(self.values))
        if not self.values:
            raise TuneError(f"sweep {self.name!r} has no values: give at least one value for {self.field}")
        _check_field(self.base, self.field, self.values, f"sweep {self.name!r}")

    def configs(self) -> list[RunConfig]:
        """One RunConfig per value, in the order of `values`."""
        return [with_value(self.base, self.field, v) for v in self.values]

    def run(self, progress: bool | None = None) -> SweepResult:
        """Train (or load from the store) every run of the sweep."""
        return SweepResult(self, get_or_train_many(self.configs(), progress=progress))


@dataclass
class SweepResult:
    """The runs of a sweep and its table (its figure is `present.plots.sweep_figure`, its sentences
    `present.text.sweep_sentences`)."""

    sweep: Sweep
    runs: list[Run]

    def table(self) -> pd.DataFrame:
        """One row per value: final train accuracy (eval mode, `metrics.train_eval_acc`) and validation accuracy,
        both losses, best validation accuracy and seconds per epoch."""
        rows = []
        for value, run in zip(self.sweep.values, self.runs):
            frame = run.frame()
            last = frame.iloc[-1]
            rows.append(
                {
                    self.sweep.field: value,
                    "epochs": len(frame),
                    "train_acc": metrics.train_eval_acc(run),
                    "val_acc": last["val_acc"],
                    "train_loss": last["train_loss"],
                    "val_loss": last["val_loss"],
                    "best_val_acc": frame["val_acc"].max(),
                    "s_per_epoch": frame["seconds"].mean(),
                }
            )
        return pd.DataFrame(rows).set_index(self.sweep.field)


# Values of the sweeps (R3's). The quick profile keeps fewer values on a small subset.
SWEEP_VALUES = {
    "full": {
        "learning rate": ("lr", (1e-5, 1e-4, 1e-3)),
        "epochs": ("epochs", (5, 15, 30)),
        "batch size": ("batch_size", (8, 32, 128)),
        "width (n_base)": ("n_base", (8, 16, 32)),
        "dropout": ("dropout", (0.0, 0.2, 0.4)),
        "optimizer": ("optimizer", ("adam", "sgd", "rmsprop")),
        "loss": ("loss", ("ce", "bce", "hinge")),
    },
    "quick": {
        "learning rate": ("lr", (1e-5, 1e-4, 1e-3)),
        "epochs": ("epochs", (1, 2)),
        "batch size": ("batch_size", (16, 128)),
        "width (n_base)": ("n_base", (4, 8)),
        "dropout": ("dropout", (0.0, 0.4)),
        "optimizer": ("optimizer", ("adam", "sgd", "rmsprop")),
        "loss": ("loss", ("ce", "bce", "hinge")),
    },
}
QUICK_SUBSET = 1000  # training images of the quick profile's sweeps and decay runs


def sweep_base(profile: cfg.Profile, device: str = "auto") -> RunConfig:
    """R3's lab network as the sweeps' base: r3_lenet, n_base 8, Adam at 1e-4, batch 32, no dropout."""
    subset = min(profile.subset, QUICK_SUBSET) if profile.name == "quick" and profile.subset else profile.subset
    return RunConfig(
        "r3_lenet",
        model_args={"n_base": 8, "dropout": 0.0},
        optimizer="adam",
        lr=1e-4,
        batch_size=32,
        epochs=profile.epochs,
        subset=subset,
        device=device,
    )


def default_sweeps(profile: cfg.Profile, device: str = "auto", base: RunConfig | None = None) -> list[Sweep]:
    """The seven sweeps of R3 (learning rate, epochs, batch size, width, dropout, optimizer, loss)."""
    base = base or sweep_base(profile, device)
    values = SWEEP_VALUES["quick" if profile.name == "quick" else "full"]
    return [Sweep(name, fld, vals, base) for name, (fld, vals) in values.items()]


def run_sweeps(profile: cfg.Profile, device: str = "auto", base: RunConfig | None = None) -> dict[str, SweepResult]:
    """Every default sweep trained (or loaded), keyed by its field; runs shared between sweeps train once.

    All sweeps' runs are handed to `get_or_train_many` together, so that on a multi-core CPU the worker
    processes share the whole set (longest first) instead of idling at the end of each three-run sweep.
    """
    sweeps = default_sweeps(profile, device, base)
    get_or_train_many([c for s in sweeps for c in s.configs()])
    return {s.field: s.run() for s in sweeps}


# ----------------------------------------------------------------------------------------------
# Test-set evaluation


# ----------------------------------------------------------------------------------------------
# Learning-rate decay

DECAY_COMPARED = {  # per-seed column → what it is; each one its own family of one comparison (step − constant)
    "acc": "test accuracy",
    "train_acc": "training accuracy (eval mode)",
    "gap": "generalisation gap (training accuracy in eval mode − validation accuracy, after training)",
}
DECAY_SHORT = {"acc": "test accuracy", "train_acc": "training accuracy", "gap": "gap (train − val)"}  # table rows


@dataclass
class DecayResult:
    """Runs of a constant rate and a step decay over the same seeds, with their test metrics."""

    configs: dict[str, RunConfig]  # schedule label → config of seed 0 (constant first, then step)
    runs: dict[str, list[Run]]  # schedule label → one run per seed
    test: pd.DataFrame  # per (schedule, seed): test acc, precision, recall, f1, loss, n; train_acc, val_acc, gap
    margin: float = cfg.MARGIN  # equivalence margin of the comparisons (accuracy as a fraction)
    plan: stats.SeedPlan | None = None  # the tested seeds, and under seeds="auto" the pilot that chose n

    @property
    def pair(self) -> tuple[str, str]:
        """(constant, step): the one comparison, step decay against the constant rate."""
        a, b = list(self.configs)[:2]
        return a, b

    def table(self) -> pd.DataFrame:
        """Mean and std over seeds of every test metric, one row per schedule."""
        agg = self.test.groupby("schedule", sort=False)[["acc", "precision", "recall", "f1", "loss"]].agg(
            ["mean", "std"]
        )
        agg.columns = [f"{m}_{s}" for m, s in agg.columns]
        return agg

    def values(self, metric: str = "acc") -> dict[str, pd.Series]:
        """`metric` per schedule as a Series indexed by seed (what `stats.compare_family` pairs)."""
        return {
            label: group.set_index("seed")[metric].sort_index().astype(float)
            for label, group in self.test.groupby("schedule", sort=False)
        }

    def comparisons(self) -> dict[str, stats.Comparison]:
        """Step against constant over matched seeds on each metric of `DECAY_COMPARED`, each metric its own
        family (`stats.compare_family`, so Holm runs over the 1 comparison): metric → comparison."""
        return {m: stats.compare_family(self.values(m), [self.pair], self.margin)[0] for m in DECAY_COMPARED}

    def comparison_table(self) -> pd.DataFrame:
        """`stats.family_table` of the comparisons (differences in points), one row per metric."""
        table = stats.family_table(list(self.comparisons().values()))
        table.index = pd.Index([DECAY_SHORT[m] for m in DECAY_COMPARED], name=f"{self.pair[1]} − {self.pair[0]}")
        return table

    @property
    def accuracy(self) -> float:
        """Mean test accuracy over every run (what the margin is set against)."""
        return float(self.test["acc"].mean())

    @property
    def images(self) -> int:
        """Test images each run was evaluated on."""
        return int(self.test["n"].iloc[0])

    @property
    def compared(self) -> dict[str, str]:
        """Each compared per-seed column and what it is (`DECAY_COMPARED`), for the sentences."""
        return DECAY_COMPARED

    @property
    def short(self) -> list[str]:
        """The compared metrics' short names, in order, for the table's rows (`DECAY_SHORT`)."""
        return [DECAY_SHORT[m] for m in DECAY_COMPARED]

    @property
    def reported(self) -> tuple[float, float]:
        """R1's reported test accuracy with a constant rate and with step decay (`R1_DECAY`)."""
        return R1_DECAY["none"].value, R1_DECAY["step"].value

    @property
    def last_lr(self) -> float:
        """The step schedule's rate in its last epoch."""
        step = self.configs[self.pair[1]]
        runs = self.runs.get(self.pair[1]) or []
        if runs:
            return runs[0].history[-1]["lr"]
        return step.lr * step.gamma ** ((step.epochs - 1) // step.step_size)  # StepLR, stepped after each epoch


def decay_configs(
    profile: cfg.Profile,
    model: str = "r1_relu",
    device: str = "auto",
    step_size: int = 5,
    gamma: float = 0.5,
    seed: int = 0,
    precision: str = "fp32",
) -> dict[str, RunConfig]:
    """Constant rate vs step decay (×`gamma` every `step_size` epochs) for R1's best model.

    With fewer than 2·step_size epochs (the quick profile) the step shrinks so the decay still shows.
    """
    step = max(1, min(step_size, profile.epochs // 2))
    subset = min(profile.subset, QUICK_SUBSET) if profile.name == "quick" and profile.subset else profile.subset
    constant = RunConfig(
        model,
        optimizer="adam",
        lr=1e-3,
        batch_size=64,
        epochs=profile.epochs,
        subset=subset,
        seed=seed,
        device=device,
        precision=precision,
    )
    return {"none": constant, "step": constant.replace(schedule="step", step_size=step, gamma=gamma)}


def _decay_runs(
    configs: dict[str, RunConfig], seeds: Sequence[int], profile: cfg.Profile, device: str
) -> dict[str, list[tuple[Run, dict]]]:
    """Every schedule trained (or loaded) for `seeds` in one batch, each run evaluated once on the test
    images: schedule label → (run, its row of per-seed metrics) in seed order."""
    trained = get_or_train_many([c.replace(seed=s) for c in configs.values() for s in seeds]) if len(seeds) else []
    out: dict[str, list[tuple[Run, dict]]] = {label: [] for label in configs}
    for label, run in zip([label for label in configs for _ in seeds], trained):
        train, val = metrics.train_eval_acc(run, device), run.metrics["val_acc"]
        out[label].append(
            (
                run,
                {
                    "schedule": label,
                    "seed": run.config.seed,
                    **metrics.evaluate_on_test(run, profile, device),
                    "train_acc": train,
                    "val_acc": val,
                    "gap": train - val,
                },
            )
        )
    return out


def decay_study(
    profile: cfg.Profile,
    device: str = "auto",
    model: str = "r1_relu",
    seeds: int | str | None = None,
    margin: float = cfg.MARGIN,
    cap: int = cfg.AUTO_SEEDS_CAP,
    **kwargs,
) -> DecayResult:
    """Train (or load) both schedules over the same seeds and evaluate every run on the test images.

    `seeds`: a number, "auto" or "default"/None (`config.resolve_seeds`: the profile's, "auto" in the full
    profile on a GPU). Under "auto" `stats.plan_seeds` decides, as for every section: a pilot of
    `stats.PILOT_SEEDS` seeds per schedule is trained and compared on test accuracy to choose the n (at
    most `cap`) that decides the comparison with 80% power, and both schedules are trained with n fresh
    seeds after the pilot, the only ones compared. `margin`: the equivalence margin (a fraction of
    accuracy, 0.005 = ±0.5 points).
    """
    if not margin > 0:
        raise ConfigError(f"margin={margin!r}: the equivalence margin must be positive (0.005 is ±0.5 points)")
    if cap < 1:
        raise ConfigError(f'cap={cap!r}: seeds="auto" needs a cap of at least 1 seed')
    configs = decay_configs(profile, model, device, **kwargs)
    resolved = cfg.resolve_seeds("default" if seeds is None else seeds, profile, device)

    def pilot(seeds) -> dict[str, pd.Series]:
        runs = _decay_runs(configs, seeds, profile, device)
        return {label: pd.Series({row["seed"]: row["acc"] for _, row in runs[label]}) for label in configs}

    plan = stats.plan_seeds(resolved, pilot, [tuple(configs)], margin, cap)
    measured = _decay_runs(configs, plan.seeds, profile, device)
    runs = {label: [run for run, _ in measured[label]] for label in configs}
    frame = pd.DataFrame([row for label in configs for _, row in measured[label]])
    return DecayResult(configs, runs, frame, margin, plan)
