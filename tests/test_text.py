import pandas as pd
import pytest

from fashion_cnn import config, studies, text
from fashion_cnn.text import gap_sentences


def test_gap_sentences_name_overfitting_only_where_train_beats_validation():
    final = pd.DataFrame(
        {"model": ["a", "a", "b", "c"], "train_acc": [0.95, 0.97, 0.80, 0.90], "val_acc": [0.90, 0.90, 0.85, 0.88]}
    )
    out = gap_sentences(final)
    assert out[0] == "a: train 96.00%, validation 90.00%, gap +6.00 points."
    assert out[3].startswith("Train accuracy exceeds validation accuracy for a, c; the widest gap is a (+6.00 points)")
    assert out[4].startswith("Validation accuracy is at or above train accuracy for b:")
    only_under = gap_sentences(final[final.model == "b"])
    assert len(only_under) == 2 and "no sign of overfitting" in only_under[1]


def test_count_puts_the_noun_in_its_number():
    assert text.count(1, "seed") == "1 seed" and text.count(3, "time") == "3 times"
    assert text.count(0, "pixel") == "0 pixels" and text.count(2, "analysis", "analyses") == "2 analyses"


@pytest.mark.parametrize(
    "seeds, says", [(1, "trained once, with seed 0, on"), (3, "trained 3 times with seeds 0…2 on")]
)
def test_study_text_says_how_often_each_model_is_trained(seeds, says):
    described = text.study_markdown(studies.get_study("R0"), config.get_profile("quick"), seeds)
    assert says in described and "(s)" not in described
