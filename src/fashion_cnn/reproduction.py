"""The reproduction: every figure the source reports state, as data, beside where one new run of
ours would fall (the 95% prediction interval) and our mean with its 95% confidence interval, and the
comparisons the reports drew, tested across seeds.

`sources.FIGURES` holds each stated number (report, table or section, arm of the study, setting,
metric, value as a fraction); `sources.METRICS` and `SETTINGS` define what each column measures. `measure()` runs
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
"higher", *contradicted* when it is "lower", and *contradicted (equivalent within ±m)* when the
TOST shows the two equivalent within the margin (a difference the claim needs is ruled out at
that margin); "<" mirrors it. "≈" is *supported* only when the outcome is "equivalent": a test that
fails to find a difference is never read as support. Anything else is *inconclusive at n=…*,
*no test at n=…* (one seed, or differences without spread) or *not run*. Equivalence is tested only
for accuracy-like metrics (fractions: accuracy, precision, recall) at ±`margin`; losses and
seconds per epoch have no scale on which a ±0.5-point margin means anything, so their TOST is
skipped and their outcome can only be higher, lower, inconclusive or no test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import config as cfg
from . import runs as runs_mod
from . import studies as studies_mod
from . import text as wording
from .claims import (
    _COCHRAN_COLUMNS,
    _units,
    claims_table,
    cochran_table,
    compare_claims,  # noqa: F401 (re-exported)
    equivalence_tested,  # noqa: F401 (re-exported)
    in_percent,
    verdict,  # noqa: F401 (re-exported)
)
from .config import Profile, get_profile, resolve_device
from .measurements import Measurements, _by_seed, _ours, evaluation_indices, measure  # noqa: F401
from .sources import CLAIMS, FIGURES, METRICS, NUMERIC_REPORTS, SETTINGS, Claim, Figure  # noqa: F401 (re-exported)
from .stats import Comparison, mean_ci, prediction_interval
from .store import Store
from .studies import SeedPlan, Study, get_study


def available(study: Study) -> set[tuple[str, str]]:
    """Every (arm, setting) that `measure(study)` produces values for."""
    out = {(a.label, "holdout") for a in study.arms}
    out |= {(label, s) for label, _ in study.kfold for s in ("kfold-mean", "kfold-max")}
    out |= {(label, f"{split}-test") for label, split in study.test}
    out |= {(label, "trainval") for label, split in study.test if split == "trainval"}
    return out


# ----------------------------------------------------------------------------------------------
# The reproduction table


def reproduction_table(
    values: pd.DataFrame,
    figures: tuple[Figure, ...] = FIGURES,
    confidence: float = 0.95,
    reports: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """One row per reported figure: the reported value, our mean ± std, our `confidence` prediction
    interval (`pi_low`/`pi_high`: where one new run of the same configuration would fall,
    `stats.prediction_interval`) and the confidence interval of our mean (`ci_low`/`ci_high`), the
    difference (reported − our mean) and `inside`: whether the reported value, itself one run, lies
    inside our prediction interval.

    Figures without runs of ours get NaN and `inside` None; one seed gives no interval (`inside` None).
    """
    rows = []
    for fig in figures:
        if reports is not None and fig.report not in reports:
            continue
        ours = _ours(values, fig.report, fig.arm, fig.setting, fig.metric)
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
            "inside": None,
            "note": fig.note,
        }
        if len(ours):
            ci = mean_ci(ours, confidence)
            row.update(mean=ci.mean, std=ci.std, ci_low=ci.low, ci_high=ci.high, difference=fig.value - ci.mean)
            if ci.n >= 2:
                low, high = prediction_interval(ours, confidence)
                row.update(pi_low=low, pi_high=high, inside=bool(low <= fig.value <= high))
        rows.append(row)
    return pd.DataFrame(rows, columns=_TABLE_COLUMNS)


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
    "inside",
    "note",
]


# ----------------------------------------------------------------------------------------------
# For reading: tables and sentences generated from the numbers


def fmt(metric: str, x: float) -> str:
    """A value of `metric` for reading, in its unit (`in_percent`)."""
    if not np.isfinite(x):
        return "–"
    return f"{100 * x:.2f}" if in_percent(metric) else f"{x:.4f}"


def metric_label(metric: str) -> str:
    """The metric's name with its unit where it is shown in %."""
    return metric + (" (%)" if in_percent(metric) else "")


def _span(metric: str, low: float, high: float) -> str:
    """ "[low, high]" in the metric's unit, clipped to what the metric can take (0–100 % for
    accuracy-like metrics, ≥ 0 for losses and seconds): with few seeds a prediction interval can
    reach past them."""
    if not np.isfinite(low):
        return "–"
    low, high = max(low, 0.0), (min(high, 1.0) if in_percent(metric) else high)
    return f"[{fmt(metric, low)}, {fmt(metric, high)}]"


def _p_cell(p: float) -> str:
    """A p-value in a table cell: 3 significant digits, "<0.001" below that, "–" for no test."""
    return "–" if not np.isfinite(p) else "<0.001" if p < 0.001 else f"{p:.3g}"


PI_COLUMN = "95% PI: one new run"
CI_COLUMN = "95% CI: our mean"


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The reproduction table for reading: accuracies in %, losses as numbers, the intervals as text.

    The 95% PI is where one new run of ours would fall (what a single-run reported figure is judged
    against: `inside PI`), the 95% CI is where our mean lies.
    """
    out = []
    for _, r in table.iterrows():
        m = r["metric"]
        out.append(
            {
                "where": r["where"],
                "arm": r["arm"],
                "setting": r["setting"],
                "metric": metric_label(m),
                "reported": fmt(m, r["reported"]),
                "ours mean ± std": "–" if not np.isfinite(r["mean"]) else f"{fmt(m, r['mean'])} ± {fmt(m, r['std'])}",
                PI_COLUMN: _span(m, r["pi_low"], r["pi_high"]),
                CI_COLUMN: _span(m, r["ci_low"], r["ci_high"]),
                "difference": fmt(m, r["difference"]),
                "inside PI": {True: "yes", False: "no"}.get(r["inside"], "n/a"),
                "n": int(r["n"]),
            }
        )
    return pd.DataFrame(out)


def _claim_sentence(row: pd.Series) -> str:
    """One tested claim: the estimate and its interval, the adjusted test, the outcome, the verdict,
    and for an undecided test-set claim what McNemar's test found seed by seed."""
    c: Comparison = row["comparison"]
    scale, unit, digits = _units(row["metric"])
    raw = f", paired t {wording.p(c.test.p_value)}" if np.isfinite(c.test.p_value) else ""
    out = (
        f"{row['claim']}: `{c.b}` vs `{c.a}`, {wording.metric_words(row['metric'])}: "
        f"{wording.interval(c, scale, unit, digits)} (n={wording.count(c.diff.n, 'seed')}){raw}; "
        f"{wording.outcome(c, scale, unit, digits)}. Verdict: {row['verdict']}."
    )
    if str(row["verdict"]).startswith(("inconclusive", "no test")) and pd.notna(row["mcnemar_agree"]):
        out += " " + _mcnemar_sentence(row)
    return out


def _mcnemar_sentence(c: pd.Series) -> str:
    """What McNemar's test on the test predictions found seed by seed, for a claim the test over seeds
    leaves undecided: the per-seed accuracy differences first, then the adjusted p-values, then the
    count of seeds in the claimed and the opposite direction."""
    n = int(c["mcnemar_n"])
    per_seed = ", ".join(
        f"{wording.signed(d)} ({wording.p(p)}, {wording.p(q, 'Holm p')})"
        for d, p, q in zip(c["mcnemar_diff"], c["mcnemar_p"], c["mcnemar_p_holm"])
    )
    start = (
        f"McNemar's test on each seed's test predictions (test accuracy b − a per seed: {per_seed}; Holm over "
        f"{wording.count(int(c['mcnemar_family']), 'McNemar test')} of {c['report']}) "
    )
    agree, against = int(c["mcnemar_agree"]), int(c["mcnemar_against"])
    if agree == 0:
        return start + (
            f"finds the claimed direction in none of the seeds (0 of {n})"
            + (f" and the opposite direction in {against} of {n}." if against else ".")
        )
    if against:
        return start + (
            f"finds the claimed direction in {agree} of {n} seeds and the opposite direction in "
            f"{against} of {n}: which trained model is better depends on the seed."
        )
    return start + (
        f"finds the claimed direction in {agree} of {n} seeds: those trained models differ on the "
        "test set, but the difference is not shown to hold across seeds."
    )


def _cochran_sentence(rows: pd.DataFrame, alpha: float = 0.05) -> str:
    """Cochran's Q of one report's test-set arms, seed by seed, before the pairwise McNemar tests."""
    k = sorted({int(x) for x in rows["k"]})
    arms = rows.iloc[0]["arms"]
    which = f" ({', '.join(arms)})" if len(arms) <= 4 else ""
    per_seed = "; ".join(
        f"seed {int(r.seed)}: test accuracy {r.acc_low * 100:.2f}–{r.acc_high * 100:.2f}% across arms, "
        + (
            f"Q={r.q:.2f}, {wording.p(r.p)}, {wording.p(r.p_holm, 'Holm p')}"
            if np.isfinite(r.p)
            else "every arm right on the same images, no test"
        )
        for r in rows.itertuples()
    )
    tested = rows[np.isfinite(rows["p"].astype(float))]
    differ = int((tested["p_holm"] < alpha).sum())
    family = int(rows["family"].iloc[0])
    out = (
        f"Before the pairwise McNemar tests, Cochran's Q asks whether any of the {'/'.join(map(str, k))} arms "
        f"evaluated on the test set{which} differs from the others, seed by seed (Holm over "
        f"{wording.count(family, 'seed')}): {per_seed}."
    )
    if not len(tested):
        return out
    if differ == len(tested):
        return out + f" The arms differ on the test set in every tested seed ({differ} of {len(tested)})."
    return out + (
        f" The arms are shown to differ in {differ} of {len(tested)} seeds; in the others the test does not "
        "reject, which does not show them equal."
    )


def commentary(
    table: pd.DataFrame,
    claims: pd.DataFrame | None = None,
    profile: str = "",
    cochran: pd.DataFrame | None = None,
    alpha: float = 0.05,
) -> list[str]:
    """Sentences about one report's rows, generated from the numbers in `table` (and `claims`, and
    `cochran`: its Cochran's Q rows)."""
    out = []
    if len(table):
        judged = table[table["inside"].notna()]
        inside = int(judged["inside"].astype(bool).sum())
        in_ci = int(sum(r["ci_low"] <= r["reported"] <= r["ci_high"] for _, r in judged.iterrows()))
        seeds = sorted({int(n) for n in judged["n"]})
        where = f" in the {profile} profile" if profile else ""
        if len(judged):
            out.append(
                f"{inside} of the {len(judged)} reported figures with an interval lie inside our 95% prediction "
                f"interval (where one new run of the same configuration would fall){where}, n = "
                f"{', '.join(map(str, seeds))} seeds per configuration; {in_ci} of them also lie inside the "
                "narrower 95% confidence interval of our mean."
            )
        for n, why in ((0, "not run"), (1, "a single seed, so no interval")):
            if k := int((table["n"] == n).sum()):
                out.append(f"{k} of the {len(table)} figures: {why}.")
        finite = table[np.isfinite(table["difference"].astype(float))]
        if len(finite):
            above = int((finite["difference"] > 0).sum())
            out.append(
                f"The reported value is above our mean in {above} of {len(finite)} figures and below it in "
                f"{len(finite) - above}."
            )
            is_loss = finite["metric"].str.endswith("loss")
            for part, scale, unit, digits in ((finite[~is_loss], 100, " points", 2), (finite[is_loss], 1, "", 4)):
                if len(part):
                    worst = part.loc[part["difference"].abs().idxmax()]
                    out.append(
                        f"The largest {'loss' if scale == 1 else 'accuracy'} gap is {worst['arm']} "
                        f"{worst['metric']} ({worst['setting']}): reported {worst['reported'] * scale:.{digits}f}, "
                        f"ours {worst['mean'] * scale:.{digits}f} ({worst['difference'] * scale:+.{digits}f}{unit})."
                    )
    if claims is not None and len(claims):
        counts = claims["verdict"].value_counts()
        parts = [f"{n} {v}" for v, n in counts.items()]
        run = claims[claims["outcome"] != "not run"]
        if len(run):
            family = int(run["family"].max())
            margins = run["margin"][np.isfinite(run["margin"].astype(float))]
            how = [f"Holm over {wording.count(family, 'comparison')}"] if family else []
            how += (
                [f"equivalence at ±{margins.iloc[0] * 100:.2f} points on accuracy-like metrics"] if len(margins) else []
            )
            out.append(
                f"Of its {wording.count(len(claims), 'comparison')}, tested as one family"
                + (f" ({', '.join(how)})" if how else "")
                + f": {', '.join(parts)}; outcomes of those run: "
                f"{wording.outcomes_line(list(run['comparison']))}."
            )
        else:
            out.append(f"Of its {wording.count(len(claims), 'comparison')}: {', '.join(parts)}.")
        if cochran is not None and len(cochran):
            out.append(_cochran_sentence(cochran, alpha))
        out += [_claim_sentence(row) for _, row in run.iterrows()]
    elif cochran is not None and len(cochran):
        out.append(_cochran_sentence(cochran, alpha))
    return out


def definitions(table: pd.DataFrame) -> pd.DataFrame:
    """What each metric and setting in `table` means (the columns' definitions, for the reader)."""
    rows = [{"term": m, "definition": METRICS[m]} for m in dict.fromkeys(table["metric"])]
    rows += [{"term": s, "definition": SETTINGS[s]} for s in dict.fromkeys(table["setting"])]
    return pd.DataFrame(rows)


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
    """The seeds of one study: `config.resolve_seeds`, and under "auto" `studies.seed_plan` (a pilot of
    `studies.PILOT_SEEDS` seeds per main-view model chooses n ≤ `cap` at the margin, a fraction).

    With `stored_only` no pilot is trained: when the store holds the whole pilot, its choice is
    used (the same n a training run would choose); otherwise the study uses the seeds the store
    holds, n = 1 + the highest seed (below `cap`) of any stored run of its plan, and `measure`
    measures those that are stored (the pilot's size when nothing is stored).
    """
    seeds = "default" if seeds is None else seeds
    resolved = cfg.resolve_seeds(seeds, profile, device)
    if resolved != "auto":
        default = str(seeds).strip().lower() in ("default", "0", "")
        return StudySeeds(SeedPlan(int(resolved)), "profile" if default else "given", cap)
    pilot = study.configs(profile, min(studies_mod.PILOT_SEEDS, cap), device)
    if not stored_only or all(Store.default().has(c) for c in pilot):  # stored: loads the pilot, trains nothing
        return StudySeeds(studies_mod.seed_plan(study, profile, "auto", device, margin, cap), "pilot", cap)
    stored = [j.config.seed for j in study.plan(profile, cap, device) if Store.default().has(j.config)]
    return StudySeeds(SeedPlan(max(stored) + 1 if stored else min(studies_mod.PILOT_SEEDS, cap)), "store", cap)


def seeds_sentence(seeds: StudySeeds, profile: str) -> str:
    """How many seeds the study has and why (`text.seed_choice` for a pilot's choice)."""
    if seeds.source == "pilot" and seeds.plan.choice is not None:
        return wording.seed_choice(seeds.plan.choice)
    if seeds.source == "store":
        return (
            f'Seeds: `seeds="auto"` with `stored_only` trains no pilot, and the store lacks part of the '
            f"{studies_mod.PILOT_SEEDS}-seed pilot, so this study uses the seeds the store holds: seeds 0–"
            f"{seeds.n - 1} (cap {seeds.cap}), each comparison pairing only the seeds both sides have."
        )
    why = "given" if seeds.source == "given" else f"the {profile} profile's"
    return f"Seeds: {wording.count(seeds.n, 'seed')} per configuration ({why})."


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

    def figures(self, name: str) -> pd.DataFrame:
        """One report's reproduction table, formatted for reading."""
        return display_table(self.report(name)[0])

    def claim_rows(self, name: str) -> pd.DataFrame:
        """One report's tested comparisons, formatted for reading: the difference b − a with its 95%
        CI, raw and Holm-adjusted p of the paired t-test and of the TOST side by side, the outcome and
        the verdict; McNemar's Holm-adjusted p per seed and its counts where test predictions exist."""
        c = self.report(name)[1].copy()
        c["mcnemar_p_holm"] = [", ".join(_p_cell(p) for p in ps) for ps in c["mcnemar_p_holm"]]
        c["mcnemar_seeds"] = [
            ("" if pd.isna(x) else f"{x} / {y} of {n}")
            for x, y, n in zip(c["mcnemar_agree"], c["mcnemar_against"], c["mcnemar_n"])
        ]
        c["difference"] = [
            "–" if not np.isfinite(d) else fmt(m, d) + ("" if not np.isfinite(lo) else f" [{fmt(m, lo)}, {fmt(m, hi)}]")
            for m, d, lo, hi in zip(c["metric"], c["difference"], c["diff_low"], c["diff_high"])
        ]
        for k in ("p", "p_holm", "p_tost", "p_tost_holm"):
            c[k] = [_p_cell(p) for p in c[k]]
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

    def plot(self, name: str):
        """One report's reported values against our intervals (None when it was not measured)."""
        table = self.report(name)[0]
        if not table["n"].gt(0).any():
            return None
        from .plots import reproduction

        return reproduction(table, f"{name}: reported (x) against where one new run of ours would fall")

    def method(self) -> str:
        """How the figures and claims are judged, with this reproduction's margin and α (markdown)."""
        m = f"±{self.margin * 100:.2f} points"
        out = (
            f"A reported figure is one run, so it is judged against our 95% prediction interval: where one new run of "
            "the same configuration would fall (mean ± t·s·√(1 + 1/n)); the 95% confidence interval of our mean "
            "(mean ± t·s/√n) is shown beside it and is much narrower. Each report's claims are one family: every "
            "claim leads with our difference b − a and its 95% interval, then the paired t-test over seeds and the "
            f"paired TOST at {m} (accuracy, precision and recall only: losses and seconds per epoch have no such "
            "margin and get no equivalence test), their p-values Holm-adjusted over the report's claims, then the "
            f"outcome at α={self.alpha:g}: higher, lower, equivalent or inconclusive at n. A claimed difference is "
            "supported by the outcome in its direction and contradicted by the opposite one or by equivalence "
            f'within {m}; a claimed "≈" is supported only by equivalence, never by a test that failed to find a '
            "difference. On the test set, where three or more arms were evaluated, Cochran's Q per seed comes first, "
            "then McNemar's test per seed, Holm-adjusted over all McNemar tests of the report."
        )
        values = self.measurements.values
        accuracy = values.loc[values["metric"] == "test_acc", "value"] if len(values) else []
        images = {len(p["labels"]) for p in self.measurements.predictions.values()}
        if len(accuracy) and len(images) == 1:  # the margin against one test accuracy's binomial error
            out += " " + wording.margin_reason(self.margin, float(np.median(accuracy)), images.pop())
        return out

    def section(self, name: str) -> str:
        """Markdown for one report: heading, where its settings come from, generated commentary."""
        study = get_study(name)
        table, claims = self.report(name)
        if name not in self.studies:
            jobs = study.plan(get_profile("full"), None, "cpu")
            images = runs_mod.training_images([j.config for j in jobs])
            hours = sum(runs_mod.estimated_cpu_seconds(j.config) for j in jobs) / 3600
            return (
                f"## {name}: {study.title}\n\nNot reproduced in this run. In the full profile it is {len(jobs)} "
                f"runs over {images / 1e6:.1f} M training images, roughly {hours:.0f} h of single-core CPU "
                f'training (estimated from the models\' multiply-adds and steps); `reports="auto"` reproduces all five reports '
                "only in the full profile on a GPU (on 2 CPU cores the four together take days). Name it to "
                f'reproduce it, e.g. `make report REPRODUCE="{" ".join(dict.fromkeys(("R0", name)))}"`, or train a part of it '
                f"(`make train STUDY={name} ONLY=<arm pattern>`) and report what is stored with `STORED_ONLY=1`."
            )
        settings = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in study.settings.items())
        lines = [f"## {name}: {study.title}", "", study.notes, "", f"Shared settings: `{settings}`.", ""]
        if name in self.seeds:
            lines += [seeds_sentence(self.seeds[name], self.profile), ""]
        if self.profile != "full":
            p = get_profile(self.profile)
            data = f"{p.subset:,} training images" if p.subset else "all training images"
            lines += [
                f"Profile `{p.name}` trains at most {p.epochs} epochs on {data}: it checks that every run and "
                "measurement works, it does not reproduce; compare values with the report in the `full` "
                "profile only.",
                "",
            ]
        if self.stored_only:
            measured = int((self.measurements.runs["study"] == name).sum())
            planned = self.measurements.planned.get(name, measured)
            lines += [
                f"Measured from the run store alone: {measured} of the {planned} runs this study plans are "
                "stored; figures and comparisons whose runs are missing show as not run, and a comparison "
                "uses only the seeds both sides have. Train the rest with "
                f"`python -m fashion_cnn.studies train {name}`.",
                "",
            ]
        if name not in NUMERIC_REPORTS:
            lines += [
                f"{name} ran on another data set, so its numbers are left out of the numeric table; "
                "only the direction of its comparisons is tested here, on Fashion-MNIST.",
                "",
            ]
        cochran = self.cochran[self.cochran["report"] == name] if len(self.cochran) else None
        lines += [
            f"- {t}"
            for t in commentary(
                table if name in NUMERIC_REPORTS else table.iloc[0:0], claims, self.profile, cochran, self.alpha
            )
        ]
        return "\n".join(lines)

    def closing_note(self) -> str:
        """Where the runs ran, how many there were and how long their training took."""
        runs = self.measurements.runs.drop_duplicates("key")
        if not len(runs):
            return "No runs were measured."
        devices = ", ".join(sorted(set(runs["device"])))
        hours = runs["train_seconds"].sum() / 3600
        per_study = ", ".join(f"{s} {g['train_seconds'].sum() / 60:.1f} min" for s, g in runs.groupby("study"))
        text = (
            f"Profile `{self.profile}`: {len(runs)} runs on {devices}; their training took {hours:.2f} h summed "
            f"over runs ({per_study})"
        )
        if "finished" in runs:
            span = (runs["finished"].max() - (runs["finished"] - runs["train_seconds"]).min()) / 3600
            text += f" and spanned {span:.2f} h of wall-clock time from the first start to the last finish"
        return text + (
            " (runs trained at the same time overlap; runs found in the store keep the timing of when "
            "they were trained)."
        )


ALL_REPORTS = ("R0", "R1", "R2", "R3", "R4")


def default_reports(profile: str, device: str = "auto") -> tuple[str, ...]:
    """The reports `reports="auto"` reproduces: all five in the full profile on a GPU, R0 alone otherwise.

    R0's runs are the ones notebooks 02–05 train anyway. On 2 CPU cores the other four take days
    together in the full profile: R1 and R2 are 75 M and 35 M training images of small nets (R2's 15
    holdout runs, 10.8 M images, took 48 min in two processes), R4 is 31.5 M images through
    4-million-parameter nets (~200 images/s) and R3 has batch-2 to batch-8 sweeps; on one H100 they
    take minutes. Name them to run them anywhere.
    """
    device = resolve_device(device) if device == "auto" else device
    return ALL_REPORTS if profile == "full" and device.startswith("cuda") else ("R0",)


def report_names(studies: tuple[str, ...] | str, profile: str = "full", device: str = "auto") -> tuple[str, ...]:
    """The reports `studies` names: names, one space-separated string, "all", or "auto" for
    `default_reports(profile, device)`. Raises ValueError listing the studies for an unknown name."""
    if studies == "auto":
        return default_reports(profile, device)
    names = ALL_REPORTS if studies == "all" else tuple(studies.split()) if isinstance(studies, str) else tuple(studies)
    for name in names:
        get_study(name)
    return names


def reproduce(
    profile: str = "quick",
    seeds: int | str | None = "default",
    device: str = "auto",
    studies: tuple[str, ...] | str = "auto",
    stored_only: bool = False,
    margin: float = cfg.MARGIN,
    max_seeds: int = cfg.AUTO_SEEDS_CAP,
    alpha: float = 0.05,
) -> Reproduction:
    """Measure every study in `studies` (names, one space-separated string, "all", or "auto" for
    `default_reports(profile, device)`) and build the reproduction, claims and Cochran's Q tables.

    `seeds`: a number, "auto" or "default" (`config.resolve_seeds`), resolved per study by
    `study_seeds` (under "auto" a pilot chooses n ≤ `max_seeds` at `margin`). `margin`: the
    equivalence margin of accuracy-like metrics, a fraction (0.005 = ±0.5 points).
    `stored_only`: train nothing, measure the runs the store holds (`measure`, `study_seeds`).
    """
    from tqdm.auto import tqdm

    names = report_names(studies, profile, device)  # an unknown name fails here, before any training
    cfg.resolve_seeds("default" if seeds is None else seeds, get_profile(profile), device)  # a bad value fails here too
    plans, parts = {}, []
    for name in tqdm(names, desc="studies", unit="study"):
        plans[name] = study_seeds(get_study(name), get_profile(profile), seeds, device, margin, max_seeds, stored_only)
        parts.append(measure(name, profile, plans[name].n, device, stored_only))
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
