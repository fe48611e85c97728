import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from fashion_cnn.analysis import data_stats, metrics, stats
from fashion_cnn.data import CLASSES
from fashion_cnn.present import plots, tables, text


def _history(models=("a", "b"), seeds=(0, 1), epochs=3):
    rows = []
    for m in models:
        for s in seeds:
            for e in range(1, epochs + 1):
                rows.append(
                    {
                        "model": m,
                        "seed": s,
                        "epoch": e,
                        "train_loss": 1 / e + s * 0.01,
                        "val_loss": 1.2 / e,
                        "train_acc": 0.5 + 0.1 * e,
                        "val_acc": 0.45 + 0.1 * e + s * 0.01,
                    }
                )
    return pd.DataFrame(rows)


def test_training_curves_has_a_loss_and_accuracy_axis_per_model_with_bands():
    fig = plots.training_curves(_history(("a", "b", "c")))
    assert isinstance(fig, Figure)
    axes = fig.axes
    assert len(axes) == 6
    assert [ax.get_title(loc="left") for ax in axes[:2]] == ["a: loss", "a: accuracy"]
    for ax in axes:
        assert len(ax.lines) == 2  # train and validation means
        assert len(ax.collections) == 2  # one ± std band each (two seeds)
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(), [1.005, 0.505, 1 / 3 + 0.005])
    fig.canvas.draw()
    assert len({ax.get_ylim() for ax in axes[0::2]}) == 1 and len({ax.get_ylim() for ax in axes[1::2]}) == 1
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["train, running mean while training", "validation"]


def test_training_curves_draw_the_eval_mode_training_accuracy_dashed_where_measured():
    hist = _history(("a", "b")).assign(train_eval_acc=lambda f: f.train_acc + 0.02, train_eval_loss=np.nan)
    fig = plots.training_curves(hist)
    loss, acc = fig.axes[0], fig.axes[1]
    assert len(loss.lines) == 2  # no eval-mode loss measured: nothing drawn for it
    dashed = [line for line in acc.lines if line.get_linestyle() == "--"]
    assert len(dashed) == 1
    np.testing.assert_allclose(dashed[0].get_ydata(), [0.62 + 0.0, 0.72, 0.82])
    assert "train, eval mode after the epoch" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_training_curves_single_seed_has_no_band_and_rows_follow_by():
    one = _history(("x",), seeds=(0,))
    hist = pd.concat([one.assign(augment="none"), one.assign(augment="crop", val_acc=one.val_acc + 0.05)])
    fig = plots.training_curves(hist, by="augment")
    assert len(fig.axes) == 4 and all(len(ax.collections) == 0 for ax in fig.axes)  # a row per group, no band
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles == ["none: loss", "none: accuracy", "crop: loss", "crop: accuracy"]
    np.testing.assert_allclose(fig.axes[3].lines[1].get_ydata(), one.val_acc + 0.05)  # crop's own numbers


def test_confusion_matrices_annotate_every_cell():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 500)
    pred = np.where(rng.random(500) < 0.8, labels, rng.integers(0, 10, 500))
    fig = plots.confusion_matrices(metrics.confusion(labels, pred), metrics.confusion(labels, pred, normalize=True))
    heatmaps = [ax for ax in fig.axes if ax.get_xlabel() == "predicted"]
    assert len(heatmaps) == 2
    assert all(len(ax.texts) == 100 for ax in heatmaps)
    assert sum(int(t.get_text()) for t in heatmaps[0].texts) == 500
    assert min(t.get_fontsize() for ax in heatmaps for t in ax.texts) >= 7  # readable in print


def test_embedding_marks_misclassified_and_placed_points():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(10), 20)
    xy = rng.normal(size=(200, 2)) + labels[:, None]
    wrong = rng.random(200) < 0.1
    fig = plots.embedding(xy, labels, wrong, xy[:30] + 0.1, labels[:30])
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:10] == list(CLASSES)
    assert (
        f"misclassified ({wrong.sum()} of the 200 fitted)" in legend and "held out, placed by transform (30)" in legend
    )
    assert sum(len(c.get_offsets()) for c in ax.collections) == 200 + 30 + wrong.sum()


def test_gallery_and_grids_have_one_axis_per_image():
    images = np.zeros((13, 28, 28), dtype=np.uint8)
    fig = plots.image_gallery(images, np.arange(13) % 10, (np.arange(13) + 1) % 10, cols=5)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 13 and shown[0].get_title() == "T-shirt\n→ Trouser"
    fig = plots.augmented_grid({"original": np.zeros((4, 28, 28)), "flip": np.ones((4, 28, 28))})
    assert len(fig.axes) == 8 and fig.axes[4].get_ylabel() == "flip"


def test_ci_bars_one_point_per_model():
    table = stats.mean_table({"base": [0.80, 0.82, 0.81], "v": [0.85, 0.86, 0.84]})
    fig = plots.ci_bars(table, highlight="base")
    ax = fig.axes[0]
    position = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks())}
    assert position["base"] > position["v"]  # first row of the table on top
    np.testing.assert_allclose(sorted(ax.collections[-1].get_offsets()[:, 0]), [81.0, 85.0])


def test_data_figures_from_real_counts():
    counts = data_stats.class_counts()
    fig = plots.class_counts(counts)
    assert [ax.get_title() for ax in fig.axes] == ["train: 60,000 images", "test: 10,000 images"]
    assert [p.get_height() for p in fig.axes[0].patches] == [6000] * 10
    fig = plots.pixel_maps(np.zeros((28, 28)), np.ones((28, 28)))
    assert [ax.get_title() for ax in fig.axes[:2]] == ["per-pixel mean", "per-pixel std"]
    fig = plots.intensity_histogram(np.array([[[0, 0], [128, 255]]], dtype=np.uint8))
    assert fig.axes[0].get_title() == "all pixels (50% are 0)"


def test_html_table_formats_percent_and_missing():
    html = plots.html_table(
        pd.DataFrame({"acc": [0.91234, np.nan], "loss": [0.5, 0.25]}, index=["a", "b"]), percent=("acc",)
    ).data
    assert "91.23" in html and "–" in html and "0.2500" in html and 'class="dataframe report-table"' in html
    assert plots.html_table(pd.DataFrame({"acc": []})).data == ""  # no header-only table
    named = plots.html_table(pd.DataFrame({"acc": [0.9]}, index=pd.Index(["a"], name="model"))).data
    assert named.count("<tr") == 2 and "<th>model</th>" in named  # the index's name heads the one header row


def test_html_table_keeps_small_values_readable():
    html = plots.html_table(
        pd.DataFrame({"weight_decay": [7.32e-06, 0.00296, 0.0], "seconds": [81.05481, 0.5, 2.0]})
    ).data
    assert "7.32e-06" in html and "0.00296" in html and ">0<" in html  # not 0.0000 and 0.0030
    assert "81.0548" in html and "0.5000" in html  # columns without small values keep their decimals


@pytest.mark.parametrize("ratio, word", [(1.0, "balanced"), (2.0, "imbalanced")])
def test_balance_sentence_follows_the_counts(ratio, word):
    counts = pd.DataFrame({"train": [100, int(100 * ratio)], "test": [10, 10]}, index=["a", "b"])
    assert f"The classes are {word}" in text.balance_sentence(counts)


def test_search_figures_draw_every_trial_of_a_real_optuna_study():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=0), pruner=optuna.pruners.MedianPruner(0, 1)
    )

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        width = trial.suggest_categorical("width", [16, 32, 64])
        for epoch in range(4):
            value = 0.8 - abs(np.log10(lr) + 2) * 0.05 + width / 1000 + epoch * 0.01
            trial.report(value, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    study.optimize(objective, n_trials=12)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    figures = plots.search_figures(study)
    assert set(figures) == {"history", "importances", "parallel", "intermediate"}
    for fig in figures.values():  # the report's style, not Optuna's ggplot grey
        assert all(ax.get_facecolor()[:3] == (1.0, 1.0, 1.0) for ax in fig.axes)

    history = figures["history"].axes[0]
    finished = sorted(complete, key=lambda t: t.datetime_complete)
    np.testing.assert_allclose(history.collections[0].get_offsets()[:, 1], [t.value for t in finished])
    np.testing.assert_allclose(history.lines[0].get_ydata(), np.maximum.accumulate([t.value for t in finished]))

    parallel = figures["parallel"].axes[0]
    lines = [line for line in parallel.lines if list(line.get_xdata()) == [0, 1]]  # a trial through 2 parameters
    assert len(lines) == len(complete)
    best = max(complete, key=lambda t: t.value)  # drawn last: its lr on the log axis 1e-4…1e-1
    assert lines[-1].get_ydata()[0] == pytest.approx((np.log10(best.params["lr"]) + 4) / 3)

    epochs = figures["intermediate"].axes[0]
    drawn = [line for line in epochs.lines if len(line.get_xdata())]
    assert len(drawn) == len(study.trials)
    assert sum(line.get_linestyle() == "--" for line in drawn) == len(pruned)

    importances = figures["importances"].axes[0]
    assert sorted(t.get_text() for t in importances.get_yticklabels()) == ["lr", "width"]


def test_a_figures_data_is_what_it_draws():
    from fashion_cnn.present.figure_data import figure_data

    table = stats.mean_table(pd.DataFrame({"a": [0.90, 0.91, 0.92], "b": [0.80, 0.82, 0.84]}))
    points = figure_data(plots.ci_bars(table)).query("kind == 'points'")
    assert list(points["y_tick"]) == list(table.index)  # each point named by its model's tick label
    np.testing.assert_allclose(points["x"], table["mean"] * 100)
    assert set(points["x_axis"]) == {"validation accuracy (%): mean and 95% CI over n=3"}  # the unit travels along

    curves = figure_data(plots.training_curves(_history(("a", "b"))))
    val = curves.query("panel == 'b: accuracy' and series == 'validation' and kind == 'line'")
    hist = _history(("a", "b"))
    np.testing.assert_allclose(val["y"], hist[hist.model == "b"].groupby("epoch")["val_acc"].mean())
    assert set(val["x_axis"]) == {"epoch"} and set(val["y_axis"]) == {"accuracy"}

    labels = np.repeat(np.arange(10), 5)
    pred = np.roll(labels, 1)
    counts = metrics.confusion(labels, pred)
    cells = figure_data(plots.confusion_matrices(counts, metrics.confusion(labels, pred, normalize=True)))
    drawn = cells.query("panel == 'counts' and kind == 'cell'")
    assert len(drawn) == 100 and drawn.set_index(["row", "col"])["value"].unstack().to_numpy().tolist() == (
        counts.to_numpy().tolist()
    )


def test_a_tables_data_is_its_cells_as_printed_with_the_unit_in_the_header():
    frame = pd.DataFrame(
        {"val_acc": [0.91234, np.nan], "weights": ['<a href="runs/k1/weights.safetensors">weights</a>', "–"]},
        index=pd.Index(["lenet5", "cnn"], name="model"),
    )
    shown = plots.shown_data(plots.html_table(frame, percent=("val_acc",)))
    assert list(shown.columns) == ["model", "val_acc (%)", "weights"]
    assert shown.to_dict("list") == {
        "model": ["lenet5", "cnn"],
        "val_acc (%)": ["91.23", "–"],
        "weights": ["runs/k1/weights.safetensors", "–"],  # a link's target, not its tag
    }
    assert plots.shown_data("text") is None

    final = pd.DataFrame(
        {"model": ["a", "a", "b", "b"], "val_acc": [0.9, 0.92, 0.8, 0.84], "val_loss": [0.3, 0.2, 0.5, 0.4]}
    )
    table = tables.mean_std(final, ("val_acc", "val_loss"), percent=("val_acc",))  # cells already "91.00 ± 1.41"
    shown = plots.shown_data(plots.html_table(table))
    assert list(shown.columns) == ["model", "val_acc (%)", "val_loss"]
    assert list(shown["val_acc (%)"]) == ["91.00 ± 1.41", "82.00 ± 2.83"] and shown["val_loss"][0] == "0.2500 ± 0.0707"
