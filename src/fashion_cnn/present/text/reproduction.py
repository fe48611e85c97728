"""The sentences of the reproduction (section 8), from its numbers: each tested claim with its
estimate, tests and verdict, McNemar's and Cochran's tests seed by seed, the commentary on a
report's figures, how many seeds a study has, how the figures are judged, and where the runs ran."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ...analysis.stats import Comparison
from .comparisons import interval, margin_reason, outcome, outcomes_line, seed_choice
from .words import and_list, count, machine, metric_words, p, seed_span, setting, signed, units


def claim_sentence(row: pd.Series) -> str:
    """One tested claim: the estimate and its interval, the adjusted test, the outcome, the verdict,
    and for an undecided test-set claim what McNemar's test found seed by seed."""
    c: Comparison = row["comparison"]
    scale, unit, digits = units(row["metric"])
    raw = f", paired t {p(c.test.p_value)}" if np.isfinite(c.test.p_value) else ""
    out = (
        f"{row['claim']}: `{c.b}` vs `{c.a}`, {metric_words(row['metric'])}: "
        f"{interval(c, scale, unit, digits)} (n={count(c.diff.n, 'seed')}){raw}; "
        f"{outcome(c, scale, unit, digits)}. Verdict: {row['verdict']}."
    )
    if str(row["verdict"]).startswith(("inconclusive", "no test")) and pd.notna(row["mcnemar_agree"]):
        out += " " + mcnemar_sentence(row)
    return out


def mcnemar_sentence(c: pd.Series) -> str:
    """What McNemar's test on the test predictions found seed by seed, for a claim the test over seeds
    leaves undecided: the per-seed accuracy differences first, then the adjusted p-values, then the
    count of seeds in the claimed and the opposite direction."""
    n = int(c["mcnemar_n"])
    per_seed = ", ".join(
        f"{signed(d)} ({p(raw)}, {p(q, 'Holm p')})"
        for d, raw, q in zip(c["mcnemar_diff"], c["mcnemar_p"], c["mcnemar_p_holm"])
    )
    start = (
        f"McNemar's test on each seed's test predictions (test accuracy b − a per seed: {per_seed}; Holm over "
        f"{count(int(c['mcnemar_family']), 'McNemar test')} of {c['report']}) "
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


def cochran_sentence(rows: pd.DataFrame, alpha: float = 0.05) -> str:
    """Cochran's Q of one report's test-set arms, seed by seed, before the pairwise McNemar tests."""
    k = sorted({int(x) for x in rows["k"]})
    arms = rows.iloc[0]["arms"]
    which = f" ({', '.join(arms)})" if len(arms) <= 4 else ""
    per_seed = "; ".join(
        f"seed {int(r.seed)}: test accuracy {r.acc_low * 100:.2f}–{r.acc_high * 100:.2f}% across arms, "
        + (
            f"Q={r.q:.2f}, {p(r.p)}, {p(r.p_holm, 'Holm p')}"
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
        f"{count(family, 'seed')}): {per_seed}."
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
        if len(judged):
            out.append(outside_sentence(judged, profile))
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
                        f"ours {worst['mean'] * scale:.{digits}f} ({signed(worst['difference'], scale, unit, digits)})."
                    )
    if claims is not None and len(claims):
        counts = claims["verdict"].value_counts()
        parts = [f"{n} {v}" for v, n in counts.items()]
        run = claims[claims["outcome"] != "not run"]
        if len(run):
            family, tost_family = int(run["family"].max()), int(run["tost_family"].max())
            margins = run["margin"][np.isfinite(run["margin"].astype(float))]
            how = [f"Holm over the {count(family, 'difference test')}"] if family else []
            how += (
                [
                    f"Holm over the {count(tost_family, 'equivalence test')} at ±{margins.iloc[0] * 100:.2f} points "
                    "on accuracy-like metrics"
                ]
                if len(margins) and tost_family
                else []
            )
            out.append(
                f"Of its {count(len(claims), 'comparison')}, tested as two Holm families, one per kind of claim"
                + (f" ({', '.join(how)})" if how else "")
                + f": {', '.join(parts)}; outcomes of those run: "
                f"{outcomes_line(list(run['comparison']))}."
            )
        else:
            out.append(f"Of its {count(len(claims), 'comparison')}: {', '.join(parts)}.")
        if cochran is not None and len(cochran):
            out.append(cochran_sentence(cochran, alpha))
        out += [claim_sentence(row) for _, row in run.iterrows()]
    elif cochran is not None and len(cochran):
        out.append(cochran_sentence(cochran, alpha))
    return out


def outside_sentence(judged: pd.DataFrame, profile: str = "", shown: int = 5) -> str:
    """How many of a report's figures with an interval (`judged`: reproduction-table rows) lie outside our 95%
    prediction interval, how many chance alone would put there (5% of them), how many differ after Holm over
    the report's figures (`outside`, named when at most `shown`), and how many lie inside the CI of our mean."""
    outside = int((~judged["inside"].astype(bool)).sum())
    tested = int(np.isfinite(judged["p_holm"].astype(float)).sum())
    differ = judged[judged["outside"].eq(True)]
    in_ci = int(sum(r["ci_low"] <= r["reported"] <= r["ci_high"] for _, r in judged.iterrows()))
    seeds = ", ".join(map(str, sorted({int(n) for n in judged["n"]})))
    where = f" in the {profile} profile" if profile else ""
    verb, named = "differs" if len(differ) == 1 else "differ", ""
    if 0 < len(differ) <= shown:
        named = ": " + "; ".join(
            f"{r['arm']} {r['metric']} ({r['setting']}, {p(r['p_holm'], 'Holm p')})" for _, r in differ.iterrows()
        )
    return (
        f"{outside} of the {len(judged)} reported figures with an interval lie outside our 95% prediction interval "
        "(where one new run of ours would fall: training noise over seeds, plus the sampling error of a "
        f"train/validation split of its own for a figure measured on one){where}, n = {seeds} seeds per "
        f"configuration; chance alone would put about {0.05 * len(judged):.2g} of {len(judged)} outside. After Holm "
        f"over the report's {count(tested, 'figure')}, {len(differ)} {verb} from ours (Holm p < 0.05){named}. "
        f"{in_ci} of the {len(judged)} lie inside the narrower 95% confidence interval of our mean."
    )


def seeds_sentence(seeds, profile: str, pilot: int) -> str:
    """How many seeds the study has and why (`seed_choice` for a pilot's choice); `seeds`: a
    `reproduction.StudySeeds`, `pilot`: the seeds per model of a pilot."""
    if seeds.source == "pilot" and seeds.plan.choice is not None:
        return seed_choice(seeds.plan)
    if seeds.source == "store":
        return (
            f"Seeds: this report trains nothing and the stored runs lack part of the {pilot}-seed pilot that "
            f"would choose the number of seeds, so this study uses the seeds stored: {seed_span(range(seeds.n))} "
            f"(at most {seeds.cap}), each comparison pairing only the seeds both sides have."
        )
    why = "given" if seeds.source == "given" else f"the {profile} profile's"
    return f"Seeds: {count(seeds.n, 'seed')} per configuration ({why})."


def method(margin: float, alpha: float, accuracy: float | None = None, images: int | None = None) -> str:
    """How the figures and claims are judged, at this margin and α (markdown); with the median test
    `accuracy` on `images` test images, why the margin is what it is (`margin_reason`)."""
    m = f"±{margin * 100:.2f} points"
    out = (
        "A reported figure is one run, on a train/validation split of its own, so it is judged against our 95% "
        "prediction interval: where one new run of the same configuration would fall. All our seeds share one "
        "split, so for an accuracy-like figure measured on a split or on folds the interval adds both splits' "
        "binomial error to our training noise, mean ± √(t²·s²(1 + 1/n) + z²·p(1 − p)(1/n_theirs + 1/n_ours)) "
        "(n_theirs: the study's split, which copies the report's); test-set figures (the same test images on "
        "both sides), losses and seconds keep mean ± t·s·√(1 + 1/n). Each figure gets a predictive p-value, "
        "Holm-adjusted over the report's figures; the 95% confidence interval of our mean (mean ± t·s/√n) is "
        "shown beside it and is much narrower. Every claim leads with our difference b − a and its 95% interval, "
        f"then the paired t-test over seeds and the paired TOST at {m} (accuracy, precision and recall only: "
        "losses and seconds per epoch have no such margin and get no equivalence test); a report's t-tests are "
        "one Holm family and its TOSTs another, then the outcome at "
        f"α={alpha:g}: higher or lower (by less than {m} when the TOST rejects too), equivalent, or inconclusive "
        "at n. A claimed difference is supported by the outcome in its direction, not supported by equivalence "
        f'within {m} and contradicted only by the opposite direction; a claimed "≈" is decided by the '
        "equivalence test alone, never by a test that failed to find a difference. On the test set, where three or more arms were evaluated, Cochran's Q per seed comes first, "
        "then McNemar's test per seed, Holm-adjusted over all McNemar tests of the report."
    )
    if accuracy is not None and images:
        out += " " + margin_reason(margin, accuracy, images)
    return out


def not_reproduced(name: str, title: str) -> str:
    """The section of a report this reproduction did not run (markdown): its heading and one line."""
    return f"## {name}: {title}\n\nNot reproduced in this report (see the start of this section)."


def reproduced_overview(reproduced: Sequence[str], missing: Sequence[tuple[str, int, float]]) -> str:
    """Which source reports this report reproduces and what the others would cost (`missing`: name, runs
    and estimated single-core CPU hours in the full profile), said once for section 8."""
    done = f"This report reproduces {and_list(list(reproduced))}." if reproduced else "This report reproduces none."
    if not missing:
        return done
    costs = "; ".join(f"{n}: {count(runs, 'run')}, about {hours:.0f} h" for n, runs, hours in missing)
    return (
        f"{done} {and_list([m[0] for m in missing])} {'is' if len(missing) == 1 else 'are'} not reproduced here, "
        f"for their cost in the full profile on one CPU core (estimated from the models' multiply-adds and steps; "
        f"a GPU takes hours): {costs}. The README says how to reproduce them."
    )


def section_head(
    name: str,
    study,
    seeds: str,
    profile,
    stored: tuple[int, int] | None,
    numeric: bool,
) -> list[str]:
    """The lines above a reproduced report's commentary: heading, where its settings come from, its
    seeds (`seeds`: a sentence), what the profile means, and (`stored`: measured, planned runs) how
    much of it the store held."""
    settings = ", ".join(setting(k, v) for k, v in study.settings.items())
    lines = [f"## {name}: {study.title}", "", study.notes, "", f"Settings every model shares: {settings}.", ""]
    if seeds:
        lines += [seeds, ""]
    if profile.name != "full":
        data = f"{profile.subset:,} training images" if profile.subset else "all training images"
        lines += [
            f"Profile `{profile.name}` trains at most {profile.epochs} epochs on {data}: it checks that every run and "
            "measurement works, it does not reproduce; compare values with the report in the `full` "
            "profile only.",
            "",
        ]
    if stored is not None:
        measured, planned = stored
        lines += [
            f"Measured from the run store alone: {measured} of the {planned} runs this study plans are "
            "stored; figures and comparisons whose runs are missing show as not run, and a comparison "
            "uses only the seeds both sides have.",
            "",
        ]
    if not numeric:
        lines += [
            f"{name} ran on another data set, so its numbers are left out of the numeric table; "
            "only the direction of its comparisons is tested here, on Fashion-MNIST.",
            "",
        ]
    return lines


def kfold_repeated(kfold: Sequence[tuple[str, int]], seeds: int) -> str:
    """Where a reproduced report's k-fold figures come from (`kfold`: arm label, folds run): a cross-validation
    of their own for every seed, not section 4's single one, so a reader does not take the two for one."""
    if not kfold:
        return ""
    arms = and_list([f"`{label}` ({k} folds)" for label, k in kfold])
    return (
        f"Its k-fold figures come from a cross-validation of their own: {arms}, run once with each of the "
        f"{count(seeds, 'seed')}; each seed gives the mean (or the largest value) over its folds, and the table "
        "shows the mean of these over the seeds. Section 4's cross-validation is another experiment, run once "
        "with one seed, so its mean may differ from this one by the seed-to-seed spread."
    )


def closing_note(runs: pd.DataFrame, profile: str) -> str:
    """Where the measured runs ran, how many there were and how long their training took (`runs`: one
    row per run with study, device, train_seconds and, if known, finished)."""
    runs = runs.drop_duplicates("key")
    if not len(runs):
        return "No runs were measured."
    devices = machine(sorted(set(runs["device"])))
    hours = runs["train_seconds"].sum() / 3600
    per_study = ", ".join(f"{s} {g['train_seconds'].sum() / 60:.1f} min" for s, g in runs.groupby("study"))
    text = (
        f"Profile `{profile}`: {len(runs)} runs on {devices}; their training took {hours:.2f} h summed "
        f"over runs ({per_study})"
    )
    if "finished" in runs:
        span = (runs["finished"].max() - (runs["finished"] - runs["train_seconds"]).min()) / 3600
        text += f" and spanned {span:.2f} h of wall-clock time from the first start to the last finish"
    return text + (
        " (runs trained at the same time overlap; runs found in the store keep the timing of when they were trained)."
    )
