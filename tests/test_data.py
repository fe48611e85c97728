import gzip
import shutil

import numpy as np
import pytest
import torch

from fashion_cnn import data


def test_official_files_match_upstream_checksums():
    ds = data.load()
    assert ds.checksums == {spec.name: spec.raw_md5 for spec in data.FILES.values()}
    assert ds.train_images.shape == (60_000, 28, 28) and ds.train_images.dtype == np.uint8
    assert ds.test_images.shape == (10_000, 28, 28)
    assert np.bincount(ds.train_labels).tolist() == [6000] * 10
    assert np.bincount(ds.test_labels).tolist() == [1000] * 10
    assert len(data.CLASSES) == 10 and data.CLASSES[9] == "Ankle boot"


def _idx(magic: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + payload


def test_parse_idx_reads_the_header_shape():
    arr = data.parse_idx(_idx(2051, (2, 2, 3), bytes(range(12))), magic=2051)
    assert arr.shape == (2, 2, 3) and arr[1, 1, 2] == 11


def test_missing_folder_says_which_package_or_variable(tmp_path):
    with pytest.raises(data.DataError, match="dataset-fashion-mnist.*FASHION_MNIST_DIR"):
        data.load(tmp_path / "nowhere")


def _copy_official(tmp_path):
    for spec in data.FILES.values():
        shutil.copy(data.load().source + f"/{spec.name}.gz", tmp_path)
    return tmp_path


def test_truncated_file_is_named(tmp_path):
    folder = _copy_official(tmp_path)
    target = folder / "t10k-labels-idx1-ubyte.gz"
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(data.DataError, match="t10k-labels-idx1-ubyte.gz: truncated"):
        data.load(folder)


def test_wrong_magic_names_file_and_expectation(tmp_path):
    folder = _copy_official(tmp_path)
    # labels where images are expected: a valid IDX file with the wrong magic
    shutil.copy(folder / "t10k-labels-idx1-ubyte.gz", folder / "t10k-images-idx3-ubyte.gz")
    with pytest.raises(data.DataError, match=r"t10k-images-idx3-ubyte.gz: IDX magic 2049 found, expected 2051"):
        data.load(folder)


def test_short_payload_is_reported(tmp_path):
    folder = _copy_official(tmp_path)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    (folder / "t10k-labels-idx1-ubyte").write_bytes(_idx(2049, (10_000,), bytes(9_000)))
    with pytest.raises(data.DataError, match="t10k-labels-idx1-ubyte: 9008 bytes but the header"):
        data.load(folder)


def test_checksum_mismatch_names_file_and_expected_md5(tmp_path):
    folder = _copy_official(tmp_path)
    target = folder / "train-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(target.read_bytes()))
    raw[100] = (raw[100] + 1) % 10  # one label changed: still a valid IDX file
    target.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(
        data.DataError, match="train-labels-idx1-ubyte.gz: MD5 .* upstream's 9018921c3c673c538a1fc5bad174d6f9"
    ):
        data.load(folder)


def test_uncompressed_files_are_accepted(tmp_path):
    for spec in data.FILES.values():
        (tmp_path / spec.name).write_bytes(gzip.decompress((data.data_dir() / f"{spec.name}.gz").read_bytes()))
    assert data.load(tmp_path).checksums == data.load().checksums


def test_holdout_is_stratified_disjoint_and_deterministic():
    labels = data.load().train_labels
    train, val = data.split_indices(labels, val_fraction=0.2, seed=0)
    assert len(train) == 48_000 and len(val) == 12_000
    assert not np.intersect1d(train, val).size
    assert np.bincount(labels[val]).tolist() == [1200] * 10
    again, _ = data.split_indices(labels, val_fraction=0.2, seed=0)
    np.testing.assert_array_equal(train, again)
    other, _ = data.split_indices(labels, val_fraction=0.2, seed=1)
    assert not np.array_equal(train, other)
    train50, val10 = data.split_indices(labels, val_fraction=1 / 6)
    assert (len(train50), len(val10)) == (50_000, 10_000)


def test_kfold_covers_every_image_once():
    labels = data.load().train_labels
    folds = data.kfold_indices(labels, k=5)
    vals = np.concatenate([va for _, va in folds])
    assert sorted(vals.tolist()) == list(range(60_000))
    for tr, va in folds:
        assert len(tr) == 48_000 and np.bincount(labels[va]).tolist() == [1200] * 10


def test_subset_and_trainval():
    labels = data.load().train_labels
    train, val = data.split_indices(labels, subset=1000, val_fraction=0.2)
    assert len(train) + len(val) == 1000 and np.bincount(labels[val]).tolist() == [20] * 10
    everything, none = data.split_indices(labels, split="trainval")
    assert len(everything) == 60_000 and none is None


def test_batches_are_scaled_and_shuffled_by_the_seeded_generator():
    ds = data.load()
    t = data.tensors(ds, "train", np.arange(300), "cpu")
    x, _y = next(t.batches(128))
    assert x.dtype == torch.float32 and x.shape == (128, 1, 28, 28)
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.9
    torch.testing.assert_close(x[0, 0] * 255, torch.tensor(ds.train_images[0], dtype=torch.float32))
    order = lambda seed: torch.cat([yb for _, yb in t.batches(100, torch.Generator().manual_seed(seed))])
    assert torch.equal(order(1), order(1)) and not torch.equal(order(1), order(2))
    assert sorted(order(1).tolist()) == sorted(t.labels.tolist())
    assert t.num_batches(128) == 3
