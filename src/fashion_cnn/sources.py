"""What the five source reports (R0 … R4) state: every figure they give and every comparison they
drew, as data, with the definitions of the settings and metrics they use (read by `reproduction`)."""

from __future__ import annotations

from dataclasses import dataclass

from .studies import R0_BEST, R4_MODELS, R4_TUNED, r4_label

SETTINGS = {
    "holdout": "trained on the study's train split; value after the last epoch",
    "holdout-test": "trained on the train split, evaluated on the test set",
    "trainval": "retrained on train + validation; value after the last epoch",
    "trainval-test": "retrained on train + validation, evaluated on the test set",
    "kfold-mean": "k-fold cross-validation: last-epoch value averaged over the k folds",
    "kfold-max": "k-fold cross-validation: the largest last-epoch value over the k folds",
}

_KERAS = (
    "Keras Precision()/Recall(): one-hot targets against class scores > 0.5, counted over every (image, class) slot"
)
METRICS = {
    "train_acc": "top-1 accuracy on the training part, running mean over the last epoch's batches (Keras's way)",
    "train_loss": "cross-entropy on the training part, running mean over the last epoch (no penalty term)",
    "val_acc": "top-1 accuracy on the validation part",
    "val_loss": "cross-entropy on the validation part (no penalty term)",
    "val_keras_precision": f"precision on the validation part, {_KERAS}",
    "val_keras_recall": f"recall on the validation part, {_KERAS}",
    "test_acc": "top-1 accuracy on the test set",
    "test_loss": "softmax cross-entropy on the test set",
    "test_precision": "macro-averaged precision on the test set (scikit-learn)",
    "test_recall": "macro-averaged recall on the test set (scikit-learn)",
    "test_keras_precision": f"precision on the test set, {_KERAS}",
    "test_keras_recall": f"recall on the test set, {_KERAS}",
    "epoch_seconds": "mean wall-clock seconds per epoch (training and validation)",
}

NUMERIC_REPORTS = ("R0", "R1", "R2", "R4")  # R3 ran on another data set: directions only


@dataclass(frozen=True)
class Figure:
    """One number a source report states, and where our runs measure the same thing."""

    report: str  # "R0" … "R4" (also the study's name)
    where: str  # the report's table or section
    arm: str  # arm label in the study
    setting: str  # key of SETTINGS
    metric: str  # key of METRICS
    value: float  # as a fraction (89.60% → 0.8960); losses as stated
    note: str = ""  # anything the reader needs to judge the comparison


@dataclass(frozen=True)
class Claim:
    """A comparison a report drew: `b` `direction` `a` on `metric` under `setting`."""

    report: str
    where: str
    a: str  # arm label
    b: str  # arm label
    setting: str  # key of SETTINGS (of a, and of b unless setting_b says otherwise)
    metric: str
    direction: str  # ">" (b higher), "<" (b lower) or "≈" (no real difference)
    text: str  # the claim, in our words
    setting_b: str = ""  # b's setting when it differs from a's (same arm trained two ways)

    @property
    def settings(self) -> tuple[str, str]:
        return self.setting, self.setting_b or self.setting


def _figures(report: str, where: str, setting: str, rows: dict[str, dict[str, float]], note: str = "") -> list[Figure]:
    return [
        Figure(report, where, arm, setting, metric, value, note)
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

FIGURES: tuple[Figure, ...] = (
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
    Figure("R0", "Test set: model 5 trained on train only", R0_BEST, "holdout-test", "test_acc", 0.9109),
    Figure("R0", "Test set: model 5 trained on train + validation", R0_BEST, "trainval", "train_acc", 0.928),
    Figure("R0", "Test set: model 5 trained on train + validation", R0_BEST, "trainval-test", "test_acc", 0.9125),
    Figure("R0", "Choice 2: 5-fold cross-validation of the baseline", "lenet5", "kfold-mean", "val_acc", 0.9019),
    Figure(
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
        Figure(
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
        Figure(
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
    Figure("R4", "Specific model analysis: tuned CNN_2", R4_TUNED, "holdout-test", "test_acc", 0.9291),
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
