import pytest

from fashion_cnn import config, studies, text


def test_count_puts_the_noun_in_its_number():
    assert text.count(1, "seed") == "1 seed" and text.count(3, "time") == "3 times"
    assert text.count(0, "pixel") == "0 pixels" and text.count(2, "analysis", "analyses") == "2 analyses"


@pytest.mark.parametrize(
    "seeds, says", [(1, "trained once, with seed 0, on"), (3, "trained 3 times with seeds 0…2 on")]
)
def test_study_text_says_how_often_each_model_is_trained(seeds, says):
    described = text.study_markdown(studies.get_study("R0"), config.get_profile("quick"), seeds)
    assert says in described and "(s)" not in described
