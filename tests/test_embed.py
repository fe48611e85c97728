import numpy as np
import pytest

from fashion_cnn import config
from fashion_cnn.analysis import embed
from fashion_cnn.data import CLASSES


def _clusters(n_per_class=50, dim=16, seed=0, merge=(0, 6)):
    """Ten Gaussian clusters; the two classes in `merge` share a centre."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 8, (10, dim))
    centres[merge[1]] = centres[merge[0]]
    labels = np.repeat(np.arange(10), n_per_class)
    return centres[labels] + rng.normal(0, 1, (len(labels), dim)), labels


@pytest.fixture()
def reports(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path)
    return tmp_path


def test_transform_places_held_out_points_in_their_cluster(reports):
    x, labels = _clusters(merge=(0, 0))  # ten separate clusters
    res = embed.fit_with_held_out(x, labels, held_out=0.2, perplexity=20, seed=0)
    assert res.xy.shape == (400, 2) and res.xy_new.shape == (100, 2)
    assert sorted(np.concatenate([res.fit_idx, res.new_idx]).tolist()) == list(range(500))
    assert np.bincount(labels[res.new_idx]).tolist() == [10] * 10  # stratified hold-out
    agreement = embed.neighbour_agreement(res.xy, labels[res.fit_idx], res.xy_new, labels[res.new_idx])
    assert agreement >= 0.95
    # A wrong placement (shuffled labels) must score low: the measure can fail.
    shuffled = np.random.default_rng(0).permutation(labels[res.new_idx])
    assert embed.neighbour_agreement(res.xy, labels[res.fit_idx], res.xy_new, shuffled) < 0.4


def test_class_overlap_finds_the_merged_pair(reports):
    x, labels = _clusters(merge=(0, 6))
    res = embed.fit_with_held_out(x, labels, held_out=0.0, perplexity=20)
    overlap = embed.class_overlap(res.xy, labels[res.fit_idx], top=3)
    assert (overlap.loc[0, "class_a"], overlap.loc[0, "class_b"]) == (CLASSES[0], CLASSES[6])
    assert overlap.loc[0, "overlap"] > 0.2 and overlap.loc[1, "overlap"] < 0.05


def test_embedding_is_cached_by_its_inputs(reports, monkeypatch):
    x, labels = _clusters(n_per_class=20)
    first = embed.fit_with_held_out(x, labels, held_out=0.2, perplexity=10, tag="t")
    assert len(list((reports / "cache" / "tsne").glob("t-*.npz"))) == 1

    def refit(*args, **kwargs):
        raise RuntimeError("a cached embedding was fitted again")

    monkeypatch.setattr(embed, "fit", refit)
    again = embed.fit_with_held_out(x, labels, held_out=0.2, perplexity=10, tag="t")
    np.testing.assert_array_equal(first.xy, again.xy)
    np.testing.assert_array_equal(first.xy_new, again.xy_new)
    with pytest.raises(RuntimeError, match="fitted again"):
        embed.fit_with_held_out(x, labels, held_out=0.2, perplexity=12, tag="t")  # other settings: not cached
    with pytest.raises(RuntimeError, match="fitted again"):
        embed.fit_with_held_out(x, labels, held_out=0.2, perplexity=10, tag="t", n_iter=500)  # another schedule
