"""The five source reports (R0 … R4), as data, in one place: each report's study (the models, the
settings it used, the other parts it ran), every figure it states and every comparison it drew,
with the definitions of the settings and metrics those figures use. Read by the studies, the
reproduction (`reproduction`, `claims`) and the hyperparameter section (`tune`).
"""

from __future__ import annotations

from .study import Arm, Claim, Reported, Study, check, get_study, register_study

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
        augment=R0_AUGMENT,
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
        augment=R4_AUGMENT["aug"],
        notes="R4 trained in PyTorch with Adam (lr 4e-3, weight decay 1e-3), batch 128, 10 epochs on a 50k/10k "
        "split, every model with a softmax or a sigmoid (one-vs-rest BCE) head, with and without random "
        "crop + horizontal flip; dropout 0.5 belongs to CNN_3. R4 tested the epoch with the best "
        "validation accuracy; we test the last epoch. The crop's padding is not stated: we pad by 2. "
        "Its tuned CNN_2 puts the L2 strength into the optimizer's weight decay, as R4's code did.",
    )
)


# ----------------------------------------------------------------------------------------------
# What the reports state


NUMERIC_REPORTS = ("R0", "R1", "R2", "R4")  # R3 ran on another data set: directions only


def _figures(
    report: str, where: str, setting: str, rows: dict[str, dict[str, float]], note: str = ""
) -> list[Reported]:
    return [
        Reported(report, where, arm, setting, metric, value, note)
        for arm, values in rows.items()
        for metric, value in values.items()
    ]


_R1_FOLD = "R1 gives each value with the fold it came from; we read it as the best fold's value"
_R1_KERAS = "precision and recall use Keras's thresholded definition"
_R1_FOLDS = {
    "r1_tanh_avgpool": (0, 1),
    "r1_relu": (3, 3),
    "r1_maxpool": (0, 1),
    "r1_dropout": (1, 0),
    "r1_leaky": (1, 3),
}
_R1_TRAINVAL = {  # (training top-1, validation top-1)
    "r1_tanh_avgpool": (0.9205, 0.8989),
    "r1_relu": (0.9141, 0.9054),
    "r1_maxpool": (0.9405, 0.9115),
    "r1_dropout": (0.8406, 0.8728),
    "r1_leaky": (0.9084, 0.8999),
}


def _apl(acc: float, precision: float, recall: float, loss: float, part: str) -> dict[str, float]:
    return {
        f"{part}_acc": acc,
        f"{part}_keras_precision": precision,
        f"{part}_keras_recall": recall,
        f"{part}_loss": loss,
    }


_R4_TABLE = {  # test accuracy: (no aug softmax, aug softmax, no aug sigmoid, aug sigmoid)
    "cnn_1": (0.8916, 0.8913, 0.8411, 0.8338),
    "cnn_2": (0.9025, 0.8943, 0.8585, 0.8661),
    "cnn_3": (0.8850, 0.8837, 0.8156, 0.8472),
    "cnn_4": (0.8695, 0.8559, 0.8120, 0.7939),
    "cnn_5": (0.8823, 0.8801, 0.8593, 0.8498),
}
_R4_CELLS = (("softmax", "none"), ("softmax", "aug"), ("sigmoid", "none"), ("sigmoid", "aug"))

REPORTED: tuple[Reported, ...] = (
    # R0 -------------------------------------------------------------------------------------
    *_figures(
        "R0",
        "Table: training and validation top-1 accuracy",
        "holdout",
        {
            "lenet5": {"train_acc": 0.9508, "val_acc": 0.8960},
            "lenet5_3x3": {"train_acc": 0.9675, "val_acc": 0.8995},
            "lenet5_3x3_leaky": {"train_acc": 0.9637, "val_acc": 0.9069},
            "lenet5_3x3_leaky_dropout": {"train_acc": 0.9273, "val_acc": 0.9074},
            R0_BEST: {"train_acc": 0.9243, "val_acc": 0.9109},
        },
    ),
    Reported("R0", "Test set: model 5 trained on train only", R0_BEST, "holdout-test", "test_acc", 0.9109),
    Reported("R0", "Test set: model 5 trained on train + validation", R0_BEST, "trainval", "train_acc", 0.928),
    Reported("R0", "Test set: model 5 trained on train + validation", R0_BEST, "trainval-test", "test_acc", 0.9125),
    Reported("R0", "Choice 2: 5-fold cross-validation of the baseline", "lenet5", "kfold-mean", "val_acc", 0.9019),
    Reported(
        "R0",
        "Choice 4: data augmentation",
        f"{R0_BEST}/augment",
        "holdout-test",
        "test_acc",
        0.89,
        "stated as 'around 89%'; R0 does not say which model it augmented (we use model 5)",
    ),
    # R1 -------------------------------------------------------------------------------------
    *(
        Reported(
            "R1",
            "Table: training and validation top-1 accuracy",
            arm,
            "kfold-max",
            metric,
            value,
            f"{_R1_FOLD} (fold {fold})",
        )
        for arm, values in _R1_TRAINVAL.items()
        for metric, value, fold in zip(("train_acc", "val_acc"), values, _R1_FOLDS[arm])
    ),
    *_figures(
        "R1",
        "Validation tables (baseline against each variant)",
        "kfold-mean",
        {
            "r1_tanh_avgpool": _apl(0.8908, 0.9049, 0.8802, 0.2952, "val"),
            "r1_relu": _apl(0.8955, 0.9098, 0.8809, 0.2917, "val"),
            "r1_leaky": _apl(0.8964, 0.9147, 0.8812, 0.2670, "val"),
            "r1_dropout": _apl(0.8665, 0.8904, 0.8439, 0.3779, "val"),
            "r1_maxpool": _apl(0.9068, 0.9172, 0.8995, 0.2594, "val"),
        },
        _R1_KERAS,
    ),
    *_figures(
        "R1",
        "Test table: the two best models retrained on the whole training set",
        "trainval-test",
        {
            "r1_relu": _apl(0.8974, 0.9089, 0.8880, 0.2836, "test"),
            "r1_leaky": _apl(0.8909, 0.9083, 0.8761, 0.3008, "test"),
        },
        _R1_KERAS,
    ),
    *_figures(
        "R1",
        "Choice 2: learning rate halved every 5 epochs",
        "trainval-test",
        {
            "r1_relu/step-decay": _apl(0.9085, 0.9167, 0.9016, 0.3028, "test"),
        },
        _R1_KERAS,
    ),
    # R2 -------------------------------------------------------------------------------------
    *_figures(
        "R2",
        "Table 2: training and validation top-1 accuracy",
        "holdout",
        {
            "r2_base": {"train_acc": 0.9564, "val_acc": 0.9146},
            "r2_dropout": {"train_acc": 0.9461, "val_acc": 0.9140},
            "r2_l1": {"train_acc": 0.9175, "val_acc": 0.9076},
            "r2_l2": {"train_acc": 0.9460, "val_acc": 0.9126},
            "r2_batchnorm": {"train_acc": 0.9864, "val_acc": 0.9216},
        },
    ),
    *_figures(
        "R2",
        "Table 3: the two best models on the test set",
        "holdout-test",
        {
            "r2_base": {"test_acc": 0.9178, "test_loss": 0.2650},
            "r2_batchnorm": {"test_acc": 0.9079, "test_loss": 0.4229},
        },
        "R2 does not say whether these models were retrained; we test the holdout-trained ones",
    ),
    *_figures(
        "R2",
        "Section 6: training of the BatchNorm model",
        "holdout",
        {
            "r2_batchnorm": {"train_acc": 0.9896, "train_loss": 0.0324},
        },
        "stated in the test discussion; differs from Table 2's 0.9864 for the same model",
    ),
    *_figures(
        "R2",
        "Choice 3: 10-fold cross-validation of the baseline",
        "kfold-mean",
        {
            "r2_base": {"val_acc": 0.9160, "val_loss": 0.2510},
        },
        "R2 says 'average accuracy/loss' over folds; we read them as validation values",
    ),
    # R4 -------------------------------------------------------------------------------------
    *(
        Reported(
            "R4",
            "Table 1: test accuracy",
            r4_label(model, head, aug),
            "holdout-test",
            "test_acc",
            value,
            "R4 tested the epoch with the best validation accuracy; we test the last epoch",
        )
        for model, values in _R4_TABLE.items()
        for (head, aug), value in zip(_R4_CELLS, values)
    ),
    Reported("R4", "Specific model analysis: tuned CNN_2", R4_TUNED, "holdout-test", "test_acc", 0.9291),
)

CLAIMS: tuple[Claim, ...] = (
    Claim(
        "R0",
        "Test set",
        R0_BEST,
        R0_BEST,
        "holdout-test",
        "test_acc",
        ">",
        "retraining model 5 on train + validation raises its test accuracy",
        setting_b="trainval-test",
    ),
    Claim(
        "R1",
        "Test table",
        "r1_leaky",
        "r1_relu",
        "trainval-test",
        "test_acc",
        ">",
        "the ReLU model beats the LeakyReLU model on the test set",
    ),
    Claim(
        "R1",
        "Choice 2",
        "r1_relu",
        "r1_relu/step-decay",
        "trainval-test",
        "test_acc",
        ">",
        "halving the learning rate every 5 epochs raises the ReLU model's test accuracy",
    ),
    Claim(
        "R2",
        "Table 3",
        "r2_base",
        "r2_batchnorm",
        "holdout-test",
        "test_acc",
        "<",
        "the BatchNorm variant is below the baseline on the test set",
    ),
    *(
        Claim(
            "R4",
            "Table 1",
            r4_label(m, "sigmoid", aug),
            r4_label(m, "softmax", aug),
            "holdout-test",
            "test_acc",
            ">",
            f"softmax beats sigmoid for {m} ({'with' if aug == 'aug' else 'without'} augmentation)",
        )
        for m in R4_MODELS
        for aug in ("none", "aug")
    ),
    Claim(
        "R4",
        "Tuned CNN_2",
        r4_label("cnn_2", "softmax", "aug"),
        R4_TUNED,
        "holdout-test",
        "test_acc",
        ">",
        "the tuned CNN_2 beats CNN_2 with R4's shared settings",
    ),
    # R3: on another data set, so directions only ----------------------------------------------
    Claim(
        "R3",
        "Task 6a",
        "r3_lenet",
        "r3_alexnet/base32",
        "holdout",
        "val_acc",
        ">",
        "the AlexNet-style net (width 32) beats LeNet",
    ),
    Claim(
        "R3",
        "Task 6b",
        "r3_alexnet",
        "r3_alexnet/dropout",
        "holdout",
        "train_acc",
        "<",
        "dropout lowers the training accuracy",
    ),
    Claim(
        "R3",
        "Task 6b",
        "r3_alexnet",
        "r3_alexnet/dropout",
        "holdout",
        "val_acc",
        ">",
        "dropout slightly raises the validation accuracy",
    ),
    Claim(
        "R3",
        "Task 5c",
        "r3_lenet/lr1e-5",
        "r3_lenet",
        "holdout",
        "val_acc",
        ">",
        "lr 1e-4 reaches a higher accuracy than lr 1e-5 in the same number of epochs",
    ),
    Claim(
        "R3",
        "Task 6d",
        "r3_alexnet",
        "r3_alexnet/batch4",
        "holdout",
        "val_acc",
        "≈",
        "batch 4 and batch 8 reach about the same accuracy",
    ),
    Claim(
        "R3",
        "Task 6d",
        "r3_alexnet",
        "r3_alexnet/batch2",
        "holdout",
        "val_acc",
        "≈",
        "batch 2 and batch 8 reach about the same accuracy",
    ),
    Claim(
        "R3",
        "Task 6d",
        "r3_alexnet/batch4",
        "r3_alexnet/batch2",
        "holdout",
        "epoch_seconds",
        ">",
        "an epoch takes longer with batch 2 than with batch 4",
    ),
    Claim(
        "R3",
        "Task 6e",
        "r3_alexnet/opt-adam",
        "r3_alexnet/opt-sgd",
        "holdout",
        "val_acc",
        "<",
        "SGD does worst (below Adam)",
    ),
    Claim(
        "R3",
        "Task 6e",
        "r3_alexnet/opt-adam",
        "r3_alexnet/opt-rmsprop",
        "holdout",
        "val_acc",
        "≈",
        "RMSprop and Adam reach similar accuracy",
    ),
    Claim(
        "R3",
        "Task 6f",
        "r3_alexnet/opt-hinge",
        "r3_alexnet/opt-bce",
        "holdout",
        "val_acc",
        ">",
        "BCE reaches a much higher accuracy than hinge",
    ),
)


def reported(report: str, arm: str, setting: str, metric: str) -> Reported:
    """The one figure `report` states for `arm` under `setting` on `metric`; raises KeyError if it states none."""
    found = [f for f in REPORTED if (f.report, f.arm, f.setting, f.metric) == (report, arm, setting, metric)]
    if len(found) != 1:
        raise KeyError(f"{report} states {len(found)} figures for {arm} / {setting} / {metric}")
    return found[0]


for _study in (get_study(name) for name in ("R0", "R1", "R2", "R3", "R4")):
    check(_study, [f for f in REPORTED if f.report == _study.name], [c for c in CLAIMS if c.report == _study.name])
