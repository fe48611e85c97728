import pandas as pd

from fashion_cnn.metrics import gap_sentences


def test_gap_sentences_name_overfitting_only_where_train_beats_validation():
    final = pd.DataFrame({"model": ["a", "a", "b", "c"], "train_acc": [0.95, 0.97, 0.80, 0.90],
                          "val_acc": [0.90, 0.90, 0.85, 0.88]})
    out = gap_sentences(final)
    assert out[0] == "a: train 96.00%, validation 90.00%, gap +6.00 points."
    assert out[3].startswith("Train accuracy exceeds validation accuracy for a, c; the widest gap is a (+6.00 points)")
    assert out[4].startswith("Validation accuracy is at or above train accuracy for b:")
    only_under = gap_sentences(final[final.model == "b"])
    assert len(only_under) == 2 and "no sign of overfitting" in only_under[1]
