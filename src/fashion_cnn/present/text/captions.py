"""Captions: every figure's and table's, keyed by its label (`CAPTIONS`, `caption`), how its numbers were
measured (`measured`, `test_images`), and which work a method cites (`[@key]` markers the report resolves
against `report/references.bib`)."""

from __future__ import annotations

from .words import and_list, count

OPTIMIZERS = {"adam": "Adam [@kingma2015]", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop"}


def split(config) -> str:
    """ "2,400/600 train/validation images of a stratified 3,000": the images one run trained and validated on."""
    n = config.subset or 60_000
    if config.split == "holdout":
        val = round(n * config.val_fraction)
        return f"{n - val:,}/{val:,} train/validation images" + (f" of a stratified {n:,}" if config.subset else "")
    if config.split == "fold":
        return f"{config.folds}-fold cross-validation of {n:,} training images"
    return f"all {n:,} training images (train + validation)"


def measured(config, profile=None, seeds: int | None = None, varied: tuple[str, ...] = ()) -> str:
    """ "2 seeds, 2,400/600 train/validation images of a stratified 3,000, 2 epochs, quick profile":
    what a caption says about how its numbers were measured (`config`: one of the runs shown). Fields
    in `varied` differ between the runs shown (a sweep's or a search's) and are left to the figure."""
    seeds_part = f"{count(seeds, 'seed')}, " if seeds else f"seed {config.seed}, "
    epochs = "" if "epochs" in varied else f", {count(config.epochs, 'epoch')}"
    return f"{seeds_part}{split(config)}{epochs}" + (f", {profile.name} profile" if profile else "")


def measured_plan(configs, profile, seeds: int, tested: bool = False) -> str:
    """How a whole study was measured when its parts split the data differently (hold-out, k-fold,
    train + validation): "3 seeds; 48,000/12,000 train/validation images, 5-fold cross-validation of
    60,000 training images and all 60,000 training images (train + validation); 10 epochs; tested on
    10,000 test images; full profile" (`tested`: whether test figures are shown)."""
    splits = list(dict.fromkeys(split(c) for c in configs))
    epochs = sorted({c.epochs for c in configs})
    parts = [count(seeds, "seed"), and_list(splits)]
    parts.append(count(epochs[0], "epoch") if len(epochs) == 1 else f"{and_list([str(e) for e in epochs])} epochs")
    if tested:
        parts.append(f"tested on {test_images(profile.test_subset)}")
    return "; ".join([*parts, f"{profile.name} profile"])


def optimizer(name: str) -> str:
    """The optimizer's name as the report writes it, with its citation where it has one."""
    return OPTIMIZERS.get(name, name)


def test_images(subset: int | None) -> str:
    """How many test images a section reads (`metrics.test_indices`: a stratified subset, or all 10,000)."""
    return f"{subset or 10_000:,} test images"


# Every numbered figure's and table's caption, keyed by its label (`plots.figure`): what is shown, then how it was
# measured (`{how}`: `measured`, `{tested}`: `test_images`). Placeholders are filled by the notebook's facts.
CAPTIONS = {
    "tab:00-key-results": "Each model: validation accuracy (mean ± std over seeds, as in section 2), test accuracy where section 3 retrained it on train + validation, parameters and seconds per epoch; {how}",
    "tab:00-settings": "Training settings of each model of study {study} in the {profile} profile",
    "tab:01-counts": "Images per class in the 60,000 training and 10,000 test images, and each class's share of its set",
    "fig:01-counts": "Images per class in the training and test sets",
    "fig:01-samples": "{samples} random training images of each class, one class per row (seed {seed})",
    "fig:01-pixels": "Per-pixel mean and standard deviation of the 60,000 training images; the square marks where a {kernel}x{kernel} kernel can centre without padding",
    "tab:01-border": "The border ring a {kernel}x{kernel} kernel without padding never centres on: its share of the pixels, ink and pixel variance, and of the training images with ink in it",
    "fig:01-histogram": "Pixel intensities of the 60,000 training images",
    "fig:02-curves": "Loss and top-1 accuracy per epoch of each model, the same axes in every row: train (blue: solid, the running mean while training with dropout active; dashed, the model in eval mode after the epoch) and validation (red), mean ± std over seeds; {how}",
    "tab:02-weights": "The stored weights (safetensors) of every run, by model and seed; {how}",
    "tab:02-metrics": "Last-epoch train and validation metrics, mean ± std over seeds (accuracy, precision and recall in percent; train_acc the running mean over the last epoch with dropout active, train_eval_acc measured after it in eval mode on a fixed subset of the training images); {how}",
    "fig:02-means": "Mean validation accuracy of each model with its 95% interval over seeds, the baseline highlighted; {how}",
    "tab:02-comparisons": "Validation accuracy compared paired over seeds: difference in points with its raw 95% interval, t-test and TOST p-values raw and Holm-adjusted, outcome (from the Holm-adjusted p: a raw interval that excludes zero may still be inconclusive), then the 90% interval, the seeds where b is above a and the posterior probabilities of b − a below, within and above the margin; {how}",
    "tab:02-outcomes": "Every comparison on validation accuracy, training accuracy in eval mode and the generalisation gap (the two after training): difference [95% interval] in points and outcome; {how}",
    "tab:03-results": "Train, validation and test metrics of the best models retrained on train + validation and of the best model's train-only runs, mean ± std over seeds; {how}; {tested}",
    "tab:03-comparisons": "Test accuracy compared paired over seeds: difference in points with its 95% interval, t-test and TOST p-values raw and Holm-adjusted, outcome, then the 90% interval, the seeds where b is above a and the posterior probabilities of b − a below, within and above the margin; {tested}",
    "fig:03-confusion": "Confusion matrix of {model} retrained on train + validation (first seed): counts, and shares of each true class; {tested}",
    "tab:03-confused": "The most frequent errors of {model} (train + validation, first seed): true class, predicted class, count and share of the true class; {tested}",
    "tab:03-per-class": "Precision, recall and F1 per class of {model} (train + validation, first seed); {tested}",
    "fig:03-recall": "Recall per class of every evaluated model (first seed); {tested}",
    "fig:03-errors": "Misclassified test images of {model} (train + validation, first seed), true class above the prediction",
    "fig:04-folds": "Validation (red) and train (blue) accuracy per epoch of each fold of {model}, thin per fold, thick the mean ± std; {how}",
    "tab:04-folds": "Last-epoch metrics of each fold of {model} (accuracy, precision and recall in percent), then their mean and standard deviation; {how}",
    "tab:04-comparisons": "{other} against {model} on the same {k} folds: difference [95% interval, Nadeau–Bengio corrected] in points and outcome per metric; {how}",
    "fig:05-samples": "{samples} training images unchanged (first row), under each augmentation alone and under all of them",
    "fig:05-curves": "Loss and accuracy per epoch of {model} with and without augmentation, the same axes in every row: train (blue: solid, the running mean while training; dashed, in eval mode after the epoch) and validation (red), mean ± std over seeds; {how}",
    "tab:05-results": "Train, validation and test accuracy (percent) and test loss of {model} with and without augmentation, mean ± std over seeds; {how}; {tested}",
    "tab:05-comparisons": "Augmented against plain {model}, paired over seeds: difference [95% interval] in points and outcome per metric; {how}",
    "fig:06-tsne": "t-SNE map of the penultimate features of {model} on {images:,} test images, coloured by class: fitted points, misclassified ones marked, held-out points placed with transform; {how}",
    "tab:06-overlap": "Class pairs that overlap most in the map of {model}: mean share of a point's 10 nearest neighbours from the other class",
    "fig:07-decay": "Validation accuracy and loss per epoch of {model} with a constant learning rate and with step decay, mean ± std over seeds, and the rate each epoch used; {decayed}",
    "tab:07-decay": "Test metrics of {model} with each schedule, mean and standard deviation over seeds (accuracy, precision, recall and F1 in percent); {decayed}; {tested}",
    "tab:07-decay-comparisons": "Step decay against the constant rate, paired over seeds: difference in points with its 95% interval, t-test and TOST p-values raw and Holm-adjusted, outcome per metric, then the 90% interval, the seeds where b is above a and the posterior probabilities of b − a below, within and above the margin; {decayed}",
    "fig:07-sweep-{field}": "Validation accuracy and loss per epoch of {model} for each {name}, and the seconds per epoch; {how}",
    "tab:07-sweep-{field}": "Train accuracy (eval mode) and validation accuracy after the last epoch (percent), both losses, best validation accuracy and seconds per epoch for each {name}; {how}",
    "tab:07-space": "The search space of {model}: each parameter, its kind and range",
    "tab:07-trials": "The ten best of {trials} trials by validation accuracy (percent), with their parameters; {searched}",
    "fig:07-history": "Validation accuracy of each complete trial in the order they finished, and the best so far; {searched}",
    "fig:07-importances": "fANOVA importances of the parameters for the validation accuracy of the complete trials; {searched}",
    "fig:07-parallel": "Each complete trial's parameter values, one line per trial, coloured by its validation accuracy; {searched}",
    "fig:07-epochs": "Validation accuracy after each epoch of every trial; pruned trials stop early; {searched}",
    "tab:07-best": "The best trial's configuration retrained on train + validation and tested, beside the test accuracy R4 reports for its tuned CNN_2; {tested}",
    "tab:08-columns": "What each column of the reproduction tables means",
    "tab:08-{report}-claims": "{report}: the comparisons the report drew, each tested on our runs, its t-tests one Holm family and its TOSTs another; {how}",
    "fig:08-{report}": "{report}: the report's figures (markers) beside ours (mean over seeds with its 95% interval); {how}",
    "tab:08-{report}-figures": "{report}: every figure the report states beside our mean ± std over seeds and 95% interval, and the test of the difference; {how}",
}


def caption(label: str, **facts) -> str:
    """The caption of the figure or table `label` (a key of `CAPTIONS`), its placeholders filled from `facts`."""
    return CAPTIONS[label].format(**facts)
