"""The reproduction: every figure the source reports state, as data, beside where one new run of
ours would fall (the 95% prediction interval) and our mean with its 95% confidence interval, and the
comparisons the reports drew, tested across seeds.

`studies.sources.REPORTED` holds each stated number (report, table or section, arm of the study, setting,
metric, value as a fraction); `studies.study.METRICS` and `SETTINGS` define what each column measures. `measure()` runs
(or loads) every run of a study and returns one value per (arm, setting, metric, seed);
`reproduction_table()` puts the figures beside those values: a reported figure comes from a single
run, so it is judged against our *prediction interval*, not the narrower interval of our mean.
`claims_table()` tests the comparisons in `CLAIMS`, each report's claims as one family
(`stats.compare_family`: the difference b − a with its interval, the paired t-test and the paired
TOST, Holm-adjusted over the report's claims), with McNemar's test per seed on test-set claims
(Holm-adjusted over the report's McNemar tests); `cochran_table()` runs Cochran's Q per seed over a
report's test-set arms before those pairwise tests. R3's claims are tested in direction only: it
ran on another data set, so its numbers are not comparable and are left out of the numeric table.

Verdicts on a claim "b `direction` a" (`verdict`): ">" is *supported* when the family's outcome is
"higher", *supported, by less than ±m* when it is "higher within margin", *not supported: within
±m* when only the TOST rejects ("equivalent"), and *contradicted* only by the opposite direction;
"<" mirrors it. "≈" is decided by the equivalence test alone: *supported* when the TOST rejects
(also beside a difference inside the margin), *not supported* when only a difference is shown: a
test that fails to find a difference is never read as support. Anything else is *inconclusive at
n=…*, *no test at n=…* (one seed, or differences without spread) or *not run*. Equivalence is tested only
for accuracy-like metrics (fractions: accuracy, precision, recall) at ±`margin`; losses and
seconds per epoch have no scale on which a ±0.5-point margin means anything, so their TOST is
skipped and their outcome can only be higher, lower, inconclusive or no test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import config as cfg
from ..analysis.stats import (
    PILOT_SEEDS,
    SeedPlan,
    holm,
    mean_ci,
    prediction_interval_with_split,
    predictive_p,
    split_variance,
)
from ..config import Profile, get_profile
from ..present import text
from ..present.tables import (
    NO_BINOMIAL,
    SAME_IMAGES,
    SIZE_UNKNOWN,
    SPLIT_INTERVAL,
    definitions,
    display_table,
    fmt,
    metric_label,
    p_cell,
)
from ..present.text.words import in_percent
from ..setup import ReportSetup
from ..studies import Study, get_study
from ..studies.sources import ALL_REPORTS, NUMERIC_REPORTS, REPORTED, report_names
from ..studies.study import METRICS, SETTINGS, Claim, Reported  # noqa: F401 (re-exported)
from ..train import runs as runs_mod
from ..train.store import Store
from .claims import _COCHRAN_COLUMNS, claims_table, cochran_table
from .measurements import Measurements, _by_seed, _ours, measure  # noqa: F401
from .variants import seed_plan

# ----------------------------------------------------------------------------------------------
# The reproduction table


# A figure measured on a part of the training images that each side draws for itself (a hold-out split's
# training or validation part, k-fold's folds) moves with that draw; the test set and train + validation are
# the same images for the source report and for us. `reproduction_table`'s `interval` says which applies.
def split_images(setting: str, metric: str, train_size: float, val_size: float) -> tuple[float, str]:
    """The images n of one side's split term p(1 − p)/n for a figure of `metric` under `setting`, and which
    interval the figure gets (`SPLIT_INTERVAL`, or training noise alone: `SAME_IMAGES`, `NO_BINOMIAL`,
    `SIZE_UNKNOWN`); n is NaN where there is no split term.

    `train_size`, `val_size`: the images of our run's parts (a fold's, for k-fold). A hold-out figure uses
    its part: the validation part for `val_*`, the training part for `train_*`. A k-fold mean validates
    every image of the pool once (train + validation of a fold), so its term is that of the pool. A k-fold
    max is one fold's value, so its term is that of one fold's part: the variance of the largest of k
    values is below that of one, so this errs wide. Only accuracy-like metrics (fractions of images) have
    a binomial form; losses and seconds keep the training-noise interval.
    """
    part = metric.split("_")[0]
    if setting.endswith("-test") or setting == "trainval":  # 10,000 test images, or all training images
        return np.nan, SAME_IMAGES
    if not in_percent(metric) or part not in ("train", "val"):
        return np.nan, NO_BINOMIAL
    images = train_size + val_size if setting == "kfold-mean" else {"train": train_size, "val": val_size}[part]
    if not (np.isfinite(images) and images > 0):
        return np.nan, SIZE_UNKNOWN
    return float(images), SPLIT_INTERVAL


def _sizes(values: pd.DataFrame, fig: Reported) -> tuple[float, float]:
    """The training and validation images of our runs of `fig` (NaN where `values` does not record them)."""
    if not {"train_size", "val_size"} <= set(values.columns):
        return np.nan, np.nan
    sel = values[
        (values["study"] == fig.report)
        & (values["arm"] == fig.arm)
        & (values["setting"] == fig.setting)
        & (values["metric"] == fig.metric)
    ]
    return float(sel["train_size"].median()), float(sel["val_size"].median())


def reproduction_table(
    values: pd.DataFrame,
    figures: tuple[Reported, ...] = REPORTED,
    confidence: float = 0.95,
    reports: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """One row per reported figure: the reported value, our mean ± std, our `confidence` prediction
    interval (`pi_low`/`pi_high`: where one new run of the same configuration would fall) and the
    confidence interval of our mean (`ci_low`/`ci_high`), the difference (reported − our mean), and the
    figure judged against that interval: `inside` it, its predictive `p`, `p_holm` over the report's
    figures and `outside` (Holm p < 1 − `confidence`).

    Why the interval is wider than `stats.prediction_interval` (docs/statistics.md, "The reproduction's
    prediction interval"): a reported figure is one run on the report's own split, and all our seeds
    share one split, so our spread s holds training noise alone. On a hold-out or k-fold figure of an
    accuracy-like metric, reported − our mean varies by s²(1 + 1/n) plus each split's binomial variance,
    p(1 − p)/n_theirs + p(1 − p)/n_ours (`split_images`, `split_variance`; p our mean). The interval is
    mean ± √(t² · s²(1 + 1/n) + z² · split): t with n − 1 df for the part estimated from n seeds, the
    normal z for the part computed, not estimated (t on both would widen the binomial part 4.30/1.96-fold
    at n = 3; Welch–Satterthwaite's df undercovers at n ≤ 3). Test-set and train + validation figures are
    measured on the same images on both sides, and losses and seconds have no binomial form: theirs is
    `stats.prediction_interval`. `interval` names which a figure got, `split_images` is n of one side's
    term, `split_sd` the square root of both sides' terms (0: none).

    Figures without runs of ours get NaN, and `inside` and `outside` None; so does one seed (no interval).
    """
    rows = []
    for fig in figures:
        if reports is not None and fig.report not in reports:
            continue
        ours = _ours(values, fig.report, fig.arm, fig.setting, fig.metric)
        images, interval = split_images(fig.setting, fig.metric, *_sizes(values, fig))
        row = {
            "report": fig.report,
            "where": fig.where,
            "arm": fig.arm,
            "setting": fig.setting,
            "metric": fig.metric,
            "reported": fig.value,
            "mean": np.nan,
            "std": np.nan,
            "pi_low": np.nan,
            "pi_high": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "n": len(ours),
            "difference": np.nan,
            "interval": "",
            "split_images": images,
            "split_sd": np.nan,
            "p": np.nan,
            "p_holm": np.nan,
            "inside": None,
            "outside": None,
            "note": fig.note,
        }
        if len(ours):
            ci = mean_ci(ours, confidence)
            row.update(mean=ci.mean, std=ci.std, ci_low=ci.low, ci_high=ci.high, difference=fig.value - ci.mean)
            if ci.n >= 2:
                split = split_variance(ci.mean, images)
                low, high = prediction_interval_with_split(ours, split, confidence)
                row.update(pi_low=low, pi_high=high, inside=bool(low <= fig.value <= high), interval=interval)
                row.update(split_sd=math.sqrt(split), p=predictive_p(ours, fig.value, split))
        rows.append(row)
    table = pd.DataFrame(rows, columns=_TABLE_COLUMNS)
    for index in table.groupby("report").groups.values():  # Holm over each report's figures
        table.loc[index, "p_holm"] = holm(table.loc[index, "p"].astype(float))
    outside = [bool(q < 1 - confidence) if np.isfinite(q) else None for q in table["p_holm"]]
    table["outside"] = pd.Series(outside, index=table.index, dtype=object)
    table["inside"] = table["inside"].astype(object)  # True, False or None, whatever the rows hold
    return table


_TABLE_COLUMNS = [
    "report",
    "where",
    "arm",
    "setting",
    "metric",
    "reported",
    "mean",
    "std",
    "pi_low",
    "pi_high",
    "ci_low",
    "ci_high",
    "n",
    "difference",
    "interval",  # which prediction interval: SPLIT_INTERVAL, SAME_IMAGES, NO_BINOMIAL or SIZE_UNKNOWN
    "split_images",  # n of one side's split term p(1 − p)/n (NaN: none)
    "split_sd",  # √ of both sides' split terms (0: none)
    "p",  # two-sided predictive p of the reported figure (`predictive_p`)
    "p_holm",  # Holm over the report's figures
    "inside",  # inside the prediction interval
    "outside",  # outside after Holm: p_holm < 1 − confidence
    "note",
]


def expected_outside(table: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per report: the figures with an interval, how many lie outside it, how many chance alone would put
    there ((1 − `confidence`) × figures: each figure of a run like ours falls outside with that
    probability), and how many differ after Holm over the report's figures (`outside`)."""
    judged = table[table["inside"].notna()]
    return pd.DataFrame(
        [
            {
                "report": report,
                "figures": len(part),
                "outside_pi": int((~part["inside"].astype(bool)).sum()),
                "expected": (1 - confidence) * len(part),
                "outside_holm": int(part["outside"].eq(True).sum()),
            }
            for report, part in judged.groupby("report", sort=False)
        ],
        columns=["report", "figures", "outside_pi", "expected", "outside_holm"],
    )


# ----------------------------------------------------------------------------------------------
# Seeds per study, and the whole reproduction


@dataclass(frozen=True)
class StudySeeds:
    """The seeds one study was measured with, and where that number came from."""

    plan: SeedPlan
    source: str  # "given" (a number) | "profile" (the profile's) | "pilot" (seeds="auto") | "store" (see study_seeds)
    cap: int = cfg.AUTO_SEEDS_CAP

    @property
    def n(self) -> int:
        return self.plan.n


def study_seeds(
    study: Study,
    profile: Profile,
    seeds: int | str | None = "default",
    device: str = "auto",
    margin: float = cfg.MARGIN,
    cap: int = cfg.AUTO_SEEDS_CAP,
    stored_only: bool = False,
) -> StudySeeds:
    """The seeds of one study: `config.resolve_seeds`, and under "auto" `sections.variants.seed_plan` (a pilot of
    `stats.PILOT_SEEDS` seeds per main-view model chooses n ≤ `cap` fresh seeds at the margin, a
    fraction; the pilot is not measured).

    With `stored_only` no pilot is trained: when the store holds the whole pilot, its choice is
    used (the same seeds a training run would choose); otherwise the study uses the seeds the store
    holds, 0 … the highest seed (below the pilot's size + `cap`) of any stored run of its plan, and
    `measure` measures those that are stored (the pilot's size when nothing is stored).
    """
    seeds = "default" if seeds is None else seeds
    resolved = cfg.resolve_seeds(seeds, profile, device)
    if resolved != "auto":
        default = str(seeds).strip().lower() in ("default", "")
        return StudySeeds(SeedPlan.given(int(resolved)), "profile" if default else "given", cap)
    pilot = study.configs(profile, PILOT_SEEDS, device)
    if not stored_only or all(Store.default().has(c) for c in pilot):  # stored: loads the pilot, trains nothing
        setup = ReportSetup(profile, study, device, seeds="auto", margin=margin, max_seeds=cap, source=study.name)
        return StudySeeds(seed_plan(setup), "pilot", cap)
    planned = study.plan(profile, PILOT_SEEDS + cap, device)
    stored = [j.config.seed for j in planned if Store.default().has(j.config)]
    return StudySeeds(SeedPlan.given(max(stored) + 1 if stored else PILOT_SEEDS), "store", cap)


@dataclass
class Reproduction:
    """Everything notebook 08 shows for the chosen studies."""

    profile: str
    measurements: Measurements
    table: pd.DataFrame
    claims: pd.DataFrame
    studies: tuple[str, ...] = ("R0", "R1", "R2", "R3", "R4")  # the studies measured
    stored_only: bool = False  # measured from the run store alone (`measure(stored_only=True)`)
    cochran: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_COCHRAN_COLUMNS))
    seeds: dict[str, StudySeeds] = field(default_factory=dict)  # study → its seeds and where they came from
    margin: float = cfg.MARGIN  # equivalence margin of accuracy-like metrics (fraction)
    alpha: float = 0.05

    def report(self, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(figure rows, claim rows) of one source report."""
        return self.table[self.table["report"] == name], self.claims[self.claims["report"] == name]

    @property
    def reports(self) -> tuple[str, ...]:
        """Every source report, in order: each gets its section, reproduced or not."""
        return ALL_REPORTS

    @staticmethod
    def numeric(name: str) -> bool:
        """Whether the report states figures on Fashion-MNIST to set beside ours (R3 ran on another data set)."""
        return name in NUMERIC_REPORTS

    @property
    def definitions(self) -> pd.DataFrame:
        """What each metric and setting of the reproduction table means."""
        return definitions(self.table)

    def figures(self, name: str) -> pd.DataFrame:
        """One report's reproduction table, formatted for reading."""
        return display_table(self.report(name)[0])

    def claim_rows(self, name: str) -> pd.DataFrame:
        """One report's tested comparisons, formatted for reading: the difference b − a with its 95%
        CI, raw and Holm-adjusted p of the paired t-test and of the TOST side by side, the outcome and
        the verdict; McNemar's Holm-adjusted p per seed and its counts where test predictions exist."""
        c = self.report(name)[1].copy()
        c["mcnemar_p_holm"] = [", ".join(p_cell(p) for p in ps) for ps in c["mcnemar_p_holm"]]
        c["mcnemar_seeds"] = [
            ("" if pd.isna(x) else f"{x} / {y} of {n}")
            for x, y, n in zip(c["mcnemar_agree"], c["mcnemar_against"], c["mcnemar_n"])
        ]
        c["difference"] = [
            "–" if not np.isfinite(d) else fmt(m, d) + ("" if not np.isfinite(lo) else f" [{fmt(m, lo)}, {fmt(m, hi)}]")
            for m, d, lo, hi in zip(c["metric"], c["difference"], c["diff_low"], c["diff_high"])
        ]
        for k in ("p", "p_holm", "p_tost", "p_tost_holm"):
            c[k] = [p_cell(p) for p in c[k]]
        c["metric"] = c["metric"].map(metric_label)
        # A page holds the difference and the tests: the sides' means stay in the raw claims table (`mean_a`,
        # `mean_b`), where the report says it heads the claim, and one metric for all claims goes in the header.
        c["claim"] = [f"{w}: {t}" for w, t in zip(c["where"], c["claim"])]
        c["direction"] = [f"b {d} a" for d in c["direction"]]
        single = c["metric"].nunique() == 1
        columns = [
            "claim",
            *([] if single else ["metric"]),
            "direction",
            "difference",
            "p",
            "p_holm",
            "p_tost",
            "p_tost_holm",
            "outcome",
            "verdict",
        ]
        # McNemar's columns only where some comparison has test predictions (R3 has none)
        columns += [k for k in ("mcnemar_p_holm", "mcnemar_seeds") if c[k].ne("").any()]
        difference = f"b − a, {c['metric'].iloc[0]} [95% CI]" if single else "b − a [95% CI]"
        return c[columns].rename(
            columns={
                "direction": "claimed",
                "difference": difference,
                "p_holm": "p Holm",
                "p_tost": "TOST p",
                "p_tost_holm": "TOST p Holm",
                "mcnemar_p_holm": "McNemar p Holm per seed",
                "mcnemar_seeds": "McNemar seeds: claimed / opposite",
            }
        )

    def method(self) -> str:
        """How the figures and claims are judged, with this reproduction's margin and α (markdown)."""
        values = self.measurements.values
        accuracy = values.loc[values["metric"] == "test_acc", "value"] if len(values) else []
        images = {len(p["labels"]) for p in self.measurements.predictions.values()}
        if len(accuracy) and len(images) == 1:  # the margin against one test accuracy's binomial error
            return text.method(self.margin, self.alpha, float(np.median(accuracy)), images.pop())
        return text.method(self.margin, self.alpha)

    def section(self, name: str) -> str:
        """Markdown for one report: heading, where its settings come from, generated commentary."""
        study = get_study(name)
        table, claims = self.report(name)
        if name not in self.studies:
            return text.not_reproduced(name, study.title)
        seeds = text.seeds_sentence(self.seeds[name], self.profile, PILOT_SEEDS) if name in self.seeds else ""
        stored = None
        if self.stored_only:
            measured = int((self.measurements.runs["study"] == name).sum())
            stored = (measured, self.measurements.planned.get(name, measured))
        numeric = name in NUMERIC_REPORTS
        profile = get_profile(self.profile)
        lines = text.section_head(name, study, seeds, profile, stored, numeric)
        n = self.seeds[name].n if name in self.seeds else profile.seeds
        kfold = [(label, study.folds(profile, k)) for label, k in study.kfold]
        lines += [text.kfold_repeated(kfold, n), ""] if kfold and numeric else []
        cochran = self.cochran[self.cochran["report"] == name] if len(self.cochran) else None
        shown = table if numeric else table.iloc[0:0]
        lines += [f"- {t}" for t in text.commentary(shown, claims, self.profile, cochran, self.alpha)]
        return "\n".join(lines)

    def overview(self) -> str:
        """Which source reports this report reproduces, and the full-profile cost of the others (markdown)."""
        missing = []
        for name in self.reports:
            if name not in self.studies:
                jobs = get_study(name).plan(get_profile("full"), None, "cpu")
                hours = sum(runs_mod.estimated_cpu_seconds(j.config) for j in jobs) / 3600
                missing.append((name, len(jobs), hours))
        return text.reproduced_overview([n for n in self.reports if n in self.studies], missing)

    def measured(self, name: str) -> str:
        """How one report's runs were measured, for its captions: seeds, each part's split, epochs,
        test images where test figures are shown, profile (`text.measured_plan`)."""
        profile = get_profile(self.profile)
        n = self.seeds[name].n if name in self.seeds else profile.seeds
        values = self.measurements.values
        ours = values[values["study"] == name] if len(values) else values
        tested = bool(len(ours) and ours["metric"].str.startswith("test_").any())
        configs = [j.config for j in get_study(name).plan(profile, n, "cpu")]
        return text.measured_plan(configs, profile, n, tested)

    def finding(self, name: str):
        """One report's reproduction as a line of the summary (`text.summary.Finding`): how many of its
        figures lie outside our prediction interval beside how many chance alone would put there, how many
        differ after Holm over its figures, and the verdicts on its claims; None when not measured."""
        if name not in self.studies:
            return None
        table, claims = self.report(name)
        judged = table[table["inside"].notna()] if name in NUMERIC_REPORTS else table.iloc[0:0]
        parts, labels = [], []
        if len(judged):
            outside = int((~judged["inside"].astype(bool)).sum())
            differ = int(judged["outside"].eq(True).sum())
            parts.append(
                f"{outside} of {len(judged)} reported figures lie outside our 95% prediction interval (about "
                f"{0.05 * len(judged):.1f} by chance alone), {differ} after Holm over them"
            )
            labels.append(f"[@tab:08-{name}-figures]")
        if len(claims):
            said = ", ".join(f"{k} {verdict}" for verdict, k in claims["verdict"].value_counts().items())
            parts.append(f"of its {text.count(len(claims), 'claim')}, {said}")
            labels.append(f"[@tab:08-{name}-claims]")
        if not parts:
            return None
        n = text.count(self.seeds[name].n, "seed") if name in self.seeds else f"{self.profile} profile"
        return text.summary.Finding(f"**Reproducing {name}** ({', '.join(labels)}, {n}): {'; '.join(parts)}.")

    def closing_note(self) -> str:
        """Where the runs ran, how many there were and how long their training took."""
        return text.closing_note(self.measurements.runs, self.profile)

    def plot(self, name: str):
        """One report's reported values against our intervals (None when it was not measured)."""
        table = self.report(name)[0]
        if not table["n"].gt(0).any():
            return None
        from ..present.plots import reproduction

        return reproduction(table, f"{name}: reported (x) against where one new run of ours would fall")


def reproduce(
    profile: str = "quick",
    seeds: int | str | None = "default",
    device: str = "auto",
    studies: tuple[str, ...] | str = "auto",
    stored_only: bool = False,
    margin: float = cfg.MARGIN,
    max_seeds: int = cfg.AUTO_SEEDS_CAP,
    alpha: float = 0.05,
    precision: str = "fp32",
) -> Reproduction:
    """Measure every study in `studies` (names, one space-separated string, "all", or "auto" for
    `default_reports(profile, device)`) and build the reproduction, claims and Cochran's Q tables.

    `seeds`: a number, "auto" or "default" (`config.resolve_seeds`), resolved per study by
    `study_seeds` (under "auto" a pilot chooses n ≤ `max_seeds` at `margin`). `margin`: the
    equivalence margin of accuracy-like metrics, a fraction (0.005 = ±0.5 points).
    `stored_only`: train nothing, measure the runs the store holds (`measure`, `study_seeds`).
    `precision`: every study's runs in fp32 (default) or bf16 (`Study.at_precision`).
    """
    from tqdm.auto import tqdm

    names = report_names(studies, profile, device)  # an unknown name fails here, before any training
    cfg.resolve_seeds("default" if seeds is None else seeds, get_profile(profile), device)  # a bad value fails here too
    plans, parts = {}, []
    for name in tqdm(names, desc="studies", unit="study"):
        study = get_study(name).at_precision(precision)
        plans[name] = study_seeds(study, get_profile(profile), seeds, device, margin, max_seeds, stored_only)
        parts.append(measure(study, profile, plans[name].plan.seeds, device, stored_only))
    measured = Measurements(
        pd.concat([m.values for m in parts], ignore_index=True),
        {k: v for m in parts for k, v in m.predictions.items()},
        pd.concat([m.runs for m in parts], ignore_index=True),
        {k: v for m in parts for k, v in m.planned.items()},
    )
    table = reproduction_table(measured.values, reports=tuple(s for s in names if s in NUMERIC_REPORTS))
    claims = claims_table(measured, alpha=alpha, reports=tuple(names), margin=margin)
    return Reproduction(
        profile,
        measured,
        table,
        claims,
        tuple(names),
        stored_only,
        cochran_table(measured, reports=tuple(names)),
        plans,
        margin,
        alpha,
    )


def run(setup: ReportSetup, reports: str = "auto", stored_only: bool = False) -> Reproduction:
    """Section 8: reproduce `reports` ("R0 R4", "all"; "auto": all five in the full profile on a GPU, R0
    alone otherwise) under `setup`'s profile, device, precision, seeds, margin and max_seeds;
    `stored_only`: train nothing and measure the runs the store holds."""
    return reproduce(
        setup.profile.name,
        setup.seeds,
        setup.device,
        reports,
        stored_only,
        margin=setup.margin,
        max_seeds=setup.max_seeds,
        precision=setup.precision,
    )
