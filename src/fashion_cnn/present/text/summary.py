"""The report's front matter, generated from the numbers the sections measure: the summary (question,
data and protocol, what each comparison decided, the best model and how sure the ranking is, where it ran)
and "How this was measured" (data and split, settings per model, seeds, the statistics used, hardware and
software), each method with its citation marker."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ...config import OUTPUT_META
from .captions import measured, optimizer
from .comparisons import WHAT, cell, raw_only
from .words import and_list, bullets, count, machine, seed_span


def question(study) -> str:
    """The question, the data and the protocol in two sentences."""
    asks = study.question.rstrip("?") + "?" if study.question else study.title.rstrip(".") + "."
    variants = f" and its variants {and_list([f'`{v}`' for v in study.variants])}" if study.variants else ""
    how = ", each adding one change to the one before" if study.cumulative and study.variants else ""
    return (
        f"**{asks}** Study {study.name} compares {count(len(study.models), 'model')} ([@tab:00-key-results]) on "
        f"Fashion-MNIST [@xiao2017]: the baseline `{study.baseline}`{variants}{how}. Each is trained "
        "with several seeds on one fixed train/validation split and compared with the baseline paired over seeds; "
        "the best models are then retrained on train + validation and tested once on the test images."
    )


def _seeds(comparisons: Sequence) -> str:
    """The seeds the comparisons were made over: one count, or the range when a diverged run left a pair fewer."""
    ns = sorted({c.diff.n for c in comparisons})
    return count(ns[0], "seed") if len(ns) == 1 else f"{ns[0]}–{ns[-1]} seeds (fewer where a run diverged)"


def decisions(comparisons: Sequence, table: str = "") -> str:
    """What each comparison of validation accuracy decided, one line each: the difference in points with
    its 95% interval and the outcome the tests reached (the words of `stats`: higher, lower, equivalent,
    inconclusive at n); `table` is the label of the section's table that lists them in full."""
    if not comparisons:
        return "The study has one model: nothing is compared."
    c0 = comparisons[0]
    lead = (
        f"What the {count(len(comparisons), 'comparison')} of validation accuracy decided"
        + (f" (in full in [@{table}])" if table else "")
        + f", each b − a in points with its 95% interval, Holm over the {count(c0.family, 'difference test')} "
        f"and over the {count(c0.tost_family, 'equivalence test')} within ±{c0.margin * 100:.2f} points, "
        + _seeds(comparisons)
        + ":"
    )
    marked = " (the raw interval excludes zero; Holm's test does not reject)"
    lines = [f"`{c.b}` − `{c.a}`: {cell(c)}" + (marked if raw_only(c) else "") for c in comparisons]
    return lead + "\n\n" + bullets(lines)


def best(cmp) -> str:
    """The best model by validation accuracy and how sure the ranking is (the models not shown below it),
    with its test accuracy retrained on train + validation."""
    top = cmp.models[0]
    tied = cmp.could_be_best
    test = cmp.final[cmp.final["model"] == cmp.label(top)]["test_acc"]
    tested = f"; retrained on train + validation it reaches {test.mean():.2%} on the test images" if len(test) else ""
    if tied == [top]:
        sure = (
            "every other model is shown below it on validation accuracy (all pairs compared, Holm), so the tests "
            "leave no other model as possibly the best"
        )
    else:
        others = ", ".join(f"`{m}`" for m in tied if m != top)
        sure = (
            f"but the tests do not settle the top: {others} {'is' if len(tied) == 2 else 'are'} shown below no other "
            f"model on validation accuracy (all pairs compared, Holm), so {'it' if len(tied) == 2 else 'any of them'} "
            "could be the best as well"
        )
    return f"The highest mean validation accuracy is `{top}`'s{tested}; {sure}."


class Finding:
    """A line of the summary that a later section measures: shown where it is declared (a notebook read
    alone), moved by the report's builder into the summary's list (`report.document.gather`), which
    the summary marks with `findings()`."""

    def __init__(self, line: str, role: str = "finding"):
        self.line, self.role = line, role  # role: "finding", or "findings" for the summary's list

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/markdown": self.line, "text/plain": self.line}, {OUTPUT_META: {self.role: True}}


def findings() -> Finding:
    """Where the summary lists the later sections' findings; until the report is built, a note saying so."""
    return Finding("*The findings of the later sections are listed here in the built report.*", "findings")


FINDINGS_LEAD = "What the later sections found (b − a in points, its 95% interval, the outcome of its tests):"


def finding(what: str, comparisons: dict, table: str, over: str) -> Finding:
    """One later comparison as a line of the summary: "**Data augmentation** (Table 9, 3 seeds): `flip`
    − `none`: validation accuracy +0.42 [−0.61, +1.45] inconclusive; …" (`comparisons`: metric →
    its `stats.Comparison`, all of the same pair; `over`: what the differences are paired over)."""
    first = next(iter(comparisons.values()))
    said = "; ".join(f"{WHAT.get(m, m)} {cell(c)}" for m, c in comparisons.items())
    return Finding(f"**{what}** ([@{table}], {over}): `{first.b}` − `{first.a}`: {said}.")


WALL_TIME_CLASS = "report-wall-time"  # a span the builder fills with the report's wall time, known only at the end
WALL_TIME = f'<span class="{WALL_TIME_CLASS}"></span>'


def where(runs) -> str:
    """Where the runs trained (`words.machine`, from each run's provenance) and how long: their training time
    and the report's own wall time (`WALL_TIME`)."""
    trained = sum(sum(h["seconds"] for h in r.history) for r in runs)
    on = machine(r.provenance.get("device_name", "?") for r in runs)
    return (
        f"Ran on {on}: the {count(len(runs), 'run')} summarised here trained for {trained / 60:.1f} minutes "
        f"in all; running every notebook of this report took {WALL_TIME}."
    )


def settings_table(study, profile) -> pd.DataFrame:
    """One row per model of the study's main view: what it is and how it trained (the RunConfig fields)."""
    rows = []
    for arm in study.main:
        c = study.config(arm.label, profile)
        knobs = ", ".join(f"{k}={v}" for k, v in c.model_args.items())
        rows.append(
            {
                "model": arm.label,
                "architecture": c.model + (f" ({knobs})" if knobs else ""),
                "optimizer": f"{c.optimizer} lr {c.lr:g}" + (f", wd {c.weight_decay:g}" if c.weight_decay else ""),
                "schedule": c.schedule,
                "batch": c.batch_size,
                "epochs": c.epochs,
                "loss": c.loss,
                "augmentation": "+".join(c.augment) or "none",
                "precision": c.precision,
            }
        )
    return pd.DataFrame(rows).set_index("model")


def methods(study, profile, plan, margin: float, provenance: dict, runs=()) -> list[str]:
    """How this was measured, one bullet each: data and split, seeds (`plan`: section 2's `SeedPlan`),
    training, the statistics, hardware (where `runs` trained; the software of this report's `provenance`)."""
    on = machine([r.provenance.get("device_name", "?") for r in runs] or [provenance["device_name"]])
    c = study.config(study.baseline, profile)
    seeds = plan.n
    pilot = (
        f" A pilot with {seed_span(plan.pilot_seeds)} chose how many seeds to train; it is not part of any test."
        if plan.pilot_seeds
        else ""
    )
    return [
        f"**Data.** Fashion-MNIST [@xiao2017]: 60,000 training and 10,000 test images of 28x28 pixels in ten "
        f"classes. Each model trains on {measured(c, profile, seeds)}; the split is stratified and the same for "
        f"every model and seed (split seed {c.split_seed}). The test images are read only where a section says so.",
        f"**Training.** {optimizer(c.optimizer)} on mini-batches of {c.batch_size}, softmax cross-entropy unless the "
        f"table says otherwise; the settings of each model are in the table below. The tested {seed_span(plan.seeds)} "
        f"set the initialisation, the shuffling, dropout and augmentation; the same seed gives the same numbers on "
        f"a CPU.{pilot}",
        "**Comparisons.** Two models are compared on the same seeds: the mean paired difference with its Student-t "
        "95% interval and a paired t-test; in a section, the t-tests of one metric form one family, corrected by "
        f'Holm\'s method [@holm1979]. "Equivalent" is claimed only when two one-sided tests (TOST) [@schuirmann1987] '
        f"put the difference within ±{margin * 100:.2f} points (its 90% interval inside the margin), the TOSTs of "
        "one metric Holm-corrected as a second family; each kind of claim is wrong with probability at most α. "
        'When both reject, the difference is "higher/lower, by less than the margin". Anything else is '
        "inconclusive at that number of seeds, with the power to detect a difference given.",
        "**On the same test images.** McNemar's test [@mcnemar1947] (exact when fewer than 25 images are "
        "discordant, χ² with continuity correction otherwise) compares two models' errors image by image, "
        "Cochran's Q [@cochran1950] all evaluated models at once.",
        "**Over folds.** k-fold cross-validation compares two models fold by fold with the Nadeau–Bengio corrected "
        "t-test [@nadeau2003], since the folds' training sets overlap.",
        f"**Hardware and software.** {on}; Python {provenance['python']}, PyTorch "
        f"{provenance['torch']}, NumPy {provenance['numpy']}, code at commit "
        f"`{str(provenance['git_commit'])[:12]}`. Every run's provenance (versions, commit, device, data checksums) is in the run store, and the appendix "
        "lists the runs each section used.",
    ]
