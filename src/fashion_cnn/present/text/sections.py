"""The sentences of each report section, generated from its numbers: the data (1), the study and its
models (2), the test evaluation (3), k-fold (4) and the learning-rate decay beside R1 (7).

Every sentence states what the numbers say, with the outcome words of `comparisons`; none assumes
an outcome."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ...analysis.stats import Comparison
from ...models import count_parameters, create_model, layer_table, model_info
from .captions import optimizer
from .comparisons import WHAT, comparison, interval, power, seed_choice, verdict
from .words import and_list, count, p, seed_span, signed

if TYPE_CHECKING:
    import pandas as pd

PRECISION_WORDS = {
    "fp32": "in fp32",
    "bf16": "in bf16 (autocast of forward and loss; weights and optimizer state in fp32)",
}


def ranking(cmp) -> str:
    """Which models the validation ranking tells apart, from every pair compared in one Holm family
    (the best is not chosen first and then tested on the data that chose it)."""
    best, top = cmp.models[0], len(cmp.models)
    if not cmp.ranking:
        return f"`{best}` is the only model."
    against = [c for c in cmp.ranking if best in (c.a, c.b)]
    verdicts = "; ".join(f"`{c.b}` {interval(c)}: {verdict(c)}" for c in against)  # all_pairs puts the best first
    n = cmp.ranking[0].diff.n
    out = (
        f"`{best}` has the highest mean validation accuracy over {count(n, 'seed')}. All "
        f"{count(len(cmp.ranking), 'pair')} of models are compared as one family (Holm over the "
        f"{count(cmp.ranking[0].family, 'difference test')}); each other model − `{best}`: {verdicts}."
    )
    tied = cmp.could_be_best
    others = [m for m in tied if m != best]
    if len(tied) > top:
        out += (
            f" Besides `{best}`, {count(len(others), 'model')} {'is' if len(others) == 1 else 'are'} shown below no "
            f"other model ({', '.join(f'`{m}`' for m in others)}), so the {top} retrained here, picked by their "
            f"means, could equally have been any {top} of these {len(tied)}."
        )
    elif others:
        out += (
            f" Besides `{best}`, only {', '.join(f'`{m}`' for m in others)} {'is' if len(others) == 1 else 'are'} "
            "shown below no other model; every other model is shown below one."
        )
    else:
        out += (
            f" Every other model is shown below `{best}` (each such claim within the family's α), so no other model "
            "of the study is left as possibly the best."
        )
    return out


def cochran(cmp) -> str:
    """Cochran's Q per seed over every evaluated model, Holm over seeds."""
    from ...analysis.stats import holm

    if not cmp.cochran:
        return ""
    seeds = sorted(cmp.cochran)
    adjusted = holm([cmp.cochran[s].p_value for s in seeds])
    parts = [
        f"seed {s}: Q={cmp.cochran[s].statistic:.2f}, {p(cmp.cochran[s].p_value)}, {p(q, 'Holm p')}"
        if np.isfinite(cmp.cochran[s].p_value)
        else f"seed {s}: every model right on the same images, no test"
        for s, q in zip(seeds, adjusted)
    ]
    found = sum(bool(q < 0.05) for q in adjusted)
    k = cmp.cochran[seeds[0]].n
    return (
        f"Cochran's Q over the correctness of all {k} evaluated models on the same test images ({'; '.join(parts)}): "
        + (
            f"in {found} of {len(seeds)} seeds at least one of them differs from the others."
            if found
            else f"in none of the {len(seeds)} seeds does the test show a difference, which does not show them equal."
        )
    )


def mcnemar(cmp, alpha: float = 0.05) -> list[str]:
    """Per compared pair: McNemar's test per seed, Holm-adjusted over every McNemar test of the section."""
    out = []
    m = cmp.mcnemar
    for (a, b), rows in m.groupby(["a", "b"], sort=False):
        above = int(((rows["p_holm"] < alpha) & (rows["difference"] > 0)).sum())
        below = int(((rows["p_holm"] < alpha) & (rows["difference"] < 0)).sum())
        per_seed = ", ".join(f"{signed(r.difference)} ({p(r.p)}, {p(r.p_holm, 'Holm p')})" for r in rows.itertuples())
        out.append(
            f"McNemar's test of `{b}` against `{a}` per seed (Holm over {count(len(m), 'test')}): {per_seed}; "
            f"`{b}` is higher on the test images in {above} and lower in {below} of {count(len(rows), 'seed')}."
        )
    return out


def test_discussion(cmp) -> list[str]:
    """Section 3's sentences: the ranking, each paired comparison over seeds, Cochran's Q, McNemar."""
    out = [ranking(cmp)]
    for i, c in enumerate(cmp.families["test_acc"]):
        rest = "; ".join(
            f"{WHAT[m]} {interval(fam[i])}: {verdict(fam[i])}" for m, fam in cmp.families.items() if m != "test_acc"
        )
        out.append(f"{comparison(c, 'test accuracy')} Also {rest}.")
    if q := cochran(cmp):
        out.append(q)
    return out + mcnemar(cmp)


def kfold_comparison(families: dict[str, Sequence[Comparison]], k: int, n_train: int, n_test: int) -> list[str]:
    """Two models over the same k folds: each metric's estimate, interval and corrected-test outcome."""
    c = families["val_acc"][0]
    head = (
        f"`{c.b}` against `{c.a}` over the same {k} folds, with the Nadeau–Bengio corrected t-test: the folds' "
        f"training sets overlap, so the variance of the mean difference is taken as s²·(1/{k} + "
        f"{n_test:,}/{n_train:,}) instead of s²/{k}."
    )
    out = [head]
    for m, fam in families.items():
        out.append(
            f"{WHAT.get(m, m).capitalize()}: {interval(fam[0])} (n={count(fam[0].diff.n, 'fold')}): {verdict(fam[0])}."
        )
    return out


def r1_decay(constant: float, step: float, ours) -> str:
    """R1's two reported test accuracies beside the decay study, said plainly to be another setting."""
    data = f"{ours.subset:,} training images" if ours.subset else "the 48k training split"
    return (
        f"R1 reported {constant:.2%} with a constant rate and {step:.2%} with the decay ({signed(step - constant)}, "
        f"one run each), after retraining on train + validation at batch 32 and testing on all 10,000 test images. "
        f"Ours above are hold-out runs at batch {ours.batch_size} on {data}: not the same setting, so R1's figures "
        "stand beside ours for reading and are not compared with them."
    )


def balance_sentence(counts: pd.DataFrame) -> str:
    """One generated sentence: how balanced the classes are, and what that means for accuracy."""
    parts = []
    for part in ("train", "test"):
        c = counts[part]
        parts.append(
            f"the {part} file has {c.sum():,} images, {c.min():,} to {c.max():,} per class "
            f"(largest/smallest = {c.max() / c.min():.3f})"
        )
    ratio = max(counts[p].max() / counts[p].min() for p in ("train", "test"))
    if ratio <= 1.05:
        verdict = (
            "The classes are balanced, so top-1 accuracy equals the mean of the per-class recalls: no "
            "class can dominate the score and accuracy is a fair single summary; macro precision and "
            "recall are reported beside it."
        )
    else:
        verdict = (
            f"The classes are imbalanced (ratio {ratio:.2f}), so accuracy favours the large classes; "
            "macro precision and recall weight every class equally and should be read first."
        )
    return "In numbers: " + "; ".join(parts) + ". " + verdict


def border_sentence(table: pd.DataFrame, kernel: int = 5) -> str:
    """Generated sentences on the padding argument from `border_signal`'s table."""
    w = kernel // 2
    row = table.loc[w]
    return (
        f"A {kernel}x{kernel} convolution without padding never centres on the outer {count(w, 'pixel')} of the image. "
        f"That ring is {row.pixel_share:.1%} of the pixels and holds {row.ink_share:.1%} of the ink and "
        f"{row.variance_share:.1%} of the pixel variance; {row.images_touching:.1%} of the training images have "
        f"a non-zero pixel in it. Padding by {w} keeps the output 28x28 and lets the kernels centre on those pixels."
    )


def study_markdown(study, profile, seeds) -> str:
    """What the study compares and how it was trained (generated from the study and profile; `seeds`:
    the tested seeds, e.g. a `SeedPlan.seeds`)."""
    c = study.config(study.baseline, profile)
    data = f"a stratified subset of {c.subset:,} training images" if c.subset else "all 60,000 training images"
    trained = f"once, with {seed_span(seeds)}," if len(seeds) == 1 else f"{len(seeds)} times, with {seed_span(seeds)},"
    return (
        f"**{study.name}: {study.title}.** "
        + (f"{study.question.rstrip('?')}? " if study.question else "")
        + f"Baseline `{study.baseline}`; variants "
        + ", ".join(f"`{v}`" for v in study.variants)
        + (" (cumulative: each variant adds one change to the previous one)" if study.cumulative else "")
        + f".\n\nEvery model is trained {trained} on {data}, "
        f"split {1 - c.val_fraction:.0%}/{c.val_fraction:.0%} into train/validation (the same split for every "
        f"model and seed), {c.epochs} epochs, optimizer {optimizer(c.optimizer)} with learning rate {c.lr:g}, batch "
        f"{c.batch_size}, loss `{c.loss}`, {PRECISION_WORDS[c.precision]}. Profile `{profile.name}`. {study.notes}"
    )


def _cites(arm, model) -> str:
    """The works a model's parts come from: LeNet-5, AlexNet, dropout, batch normalisation."""
    from torch import nn

    keys = ["lecun1998"] if model_info(arm.model).family in ("R0", "R1") else []
    keys += ["krizhevsky2012"] if arm.model == "r3_alexnet" else []
    keys += ["srivastava2014"] if any(isinstance(m, nn.Dropout) for m in model.modules()) else []
    keys += ["ioffe2015"] if any(isinstance(m, nn.BatchNorm2d) for m in model.modules()) else []
    return " " + " ".join(f"[@{k}]" for k in keys) if keys else ""


def describe_models(arms) -> str:
    """Markdown: for each arm of a study's main view (`Study.main`, baseline first) its one-line summary,
    its knobs where it sets any, what differs from the baseline, its parameter count and its layer table
    (torchinfo)."""
    parts = []
    for i, arm in enumerate(arms):
        info = model_info(arm.model)
        knobs = dict(arm.changes.get("model_args", {}))
        model = create_model(arm.model, **knobs)
        role = "baseline" if i == 0 else f"variant of `{arms[0].label}`"
        built = f"`{arm.model}`" + (" with " + ", ".join(f"{k}={v!r}" for k, v in knobs.items()) if knobs else "")
        text = [f"### {i + 1}. `{arm.label}` ({role}, {count_parameters(model):,} parameters)", ""]
        text += [
            (f"{built}: " if built != f"`{arm.label}`" else "") + info.summary.rstrip(".") + _cites(arm, model) + "."
        ]
        settings = {k: v for k, v in arm.changes.items() if k != "model_args"}
        if settings:
            text += ["", "*Trained with* " + ", ".join(f"{k}={v!r}" for k, v in settings.items()) + "."]
        change = arm.note or (info.change if not knobs and i and info.baseline == arms[0].model else "")
        if change:
            text += ["", f"*What differs from the baseline:* {change.rstrip('.')}."]
        text += ["", "```", layer_table(model), "```"]
        parts.append("\n".join(text))
    return "\n\n".join(parts)


def confusion_sentence(pairs: pd.DataFrame) -> str:
    """Names the most-confused class pairs of `most_confused`'s table."""
    named = [
        f"{r.true} taken for {r.predicted} ({r['count']} times, {r.share_of_true:.1%} of the {r.true} images)"
        for _, r in pairs.iterrows()
    ]
    return "The most frequent errors: " + "; ".join(named) + "."


def kfold_sentence(final: pd.DataFrame, holdout_run, k: int) -> str:
    """The k-fold mean with its 95% t-interval, and whether the single hold-out split falls inside the
    folds' 95% prediction interval (where one more split's run would fall; the interval of the mean
    is the wrong yardstick for a single run)."""
    from ...analysis import stats

    ci = stats.mean_ci(final["val_acc"])
    low, high = stats.prediction_interval(final["val_acc"])
    hold = holdout_run.metrics["val_acc"]
    where = "inside" if low <= hold <= high else "outside"
    return (
        f"Over {k} folds `{holdout_run.config.name}` reaches a mean validation accuracy of {ci.mean:.2%} "
        f"(std {ci.std * 100:.2f} points, 95% CI of the mean {ci.low:.2%} to {ci.high:.2%}). One more split's run "
        f"would fall in the 95% prediction interval {low:.2%} to {high:.2%}; section 2's run of the same model "
        f"with the same seed ({holdout_run.config.seed}) on the hold-out split gave {hold:.2%}, {where} it (a single "
        "run, not section 2's mean over seeds). The folds differ by up to "
        f"{(final['val_acc'].max() - final['val_acc'].min()) * 100:.2f} points; from fold to fold both the "
        f"validation images and the training images change, and that spread holds both."
    )


def kfold_setup(model: str, k: int, epochs: int, seed: int, other: str = "") -> str:
    """What section 4 cross-validates: the model, k, epochs and seed, and the model compared on the same folds."""
    return f"Model `{model}`, {k} stratified folds, {epochs} epochs each, seed {seed}" + (
        f"; compared with `{other}` on the same folds." if other else "."
    )


def augmentation_setup(model: str, seeds: int, augmentations, best: bool = True) -> str:
    """What section 5 trains: the model (and why this one), the seeds per setting and each augmentation in
    words (`augment.DESCRIPTIONS`), in the order they are applied."""
    from ...augment import DESCRIPTIONS

    why = "the study's best by mean validation accuracy in section 2" if best else "chosen for this report"
    return (
        f"The model is `{model}` ({why}), trained with {count(seeds, 'seed')} per setting. Each training image "
        f"goes through, in this order: {and_list([DESCRIPTIONS[a] for a in augmentations])}."
    )


def tsne_setup(model: str, seed: int, features: int, fitted: int, placed: int, accuracy: float, wrong) -> str:
    """What section 6 maps: the model's run, its feature size, the test images fitted and placed, its accuracy
    on all of them and (`wrong`: whether each fitted point is misclassified) the errors among the fitted ones,
    which the map marks."""
    errors = int(np.sum(wrong))
    return (
        f"Model `{model}` (train split, seed {seed}): {features} features per image, {fitted:,} test images fitted, "
        f"{placed:,} placed afterwards; test accuracy {accuracy:.2%} on all {fitted + placed:,}. Of the {fitted:,} "
        f"fitted images it misclassifies {errors:,} ({errors / fitted:.1%}), the crosses on the map."
    )


def overlap_sentence(overlap: pd.DataFrame, confused: pd.DataFrame, agreement: float, k: int = 10) -> str:
    """Generated text: the most overlapping class pairs, whether they are also the most confused
    pairs of the classifier, and how well the held-out points were placed."""
    pairs = [f"{r.class_a} / {r.class_b} ({r.overlap:.1%} of neighbours)" for _, r in overlap.iterrows()]
    confused_pairs = {frozenset((r.true, r.predicted)) for _, r in confused.iterrows()}
    shared = [
        f"{r.class_a} / {r.class_b}"
        for _, r in overlap.iterrows()
        if frozenset((r.class_a, r.class_b)) in confused_pairs
    ]
    text = (
        f"Most overlapping class pairs in the map (mean share of a point's {k} nearest neighbours that belong to "
        f"the other class): " + "; ".join(pairs) + ". "
    )
    text += (
        f"Of these, {', '.join(shared)} {'is' if len(shared) == 1 else 'are'} also among this run's most "
        "confused pairs (its own predictions on these test images, not those of section 3's model retrained on "
        "train + validation): where the features mix, the last layer errs."
        if shared
        else "None of them is among this run's most confused pairs (its own predictions on these test images)."
    )
    text += (
        f" The held-out points placed with `transform` fall among fitted points of their own class for "
        f"{agreement:.1%} of them (majority of their {k} nearest fitted neighbours)."
    )
    return text


def decay_sentences(decay) -> list[str]:
    """The decay study (`tune.DecayResult`) in words, from its numbers and R1's reported ones: the schedule,
    the seed choice, each comparison (estimate and interval first, then the outcome), the power, R1 beside it."""
    step = decay.configs[decay.pair[1]]
    every = "every epoch" if step.step_size == 1 else f"every {step.step_size} epochs"
    out = [
        f"The step schedule multiplies the rate by {step.gamma} {every} ({step.lr:g} → {decay.last_lr:g} in the last epoch)."
    ]
    if decay.plan is not None and decay.plan.choice is not None:
        out.append(seed_choice(decay.plan))
    comparisons = decay.comparisons()
    out += [comparison(c, decay.compared[m]) for m, c in comparisons.items()]
    out.append(power([comparisons["acc"]], what=decay.compared["acc"]))
    out.append(r1_decay(*decay.reported, decay.configs[decay.pair[0]]))
    return out


def borrowed(model: str, study: str, why: str) -> str:
    """One line introducing a model a section takes from a source report other than the report's own
    `study`: whose it is, what it is, its size, and `why` it is used here (nothing when it is the study's)."""
    info = model_info(model)
    if info.family == study:
        return ""
    size = count_parameters(create_model(model))
    return (
        f"This part uses `{model}`, a model of source report {info.family} (section 8): {info.summary.rstrip('.')}, "
        f"{size:,} parameters; {why.rstrip('.')}."
    )
