"""Fashion-MNIST: the four official files, their checksums, IDX parsing, splits and device batches.

Nothing is downloaded. The files come from Debian's `dataset-fashion-mnist` (or any folder named
by `FASHION_MNIST_DIR`). Debian recompresses the `.gz` files, so their bytes differ from
upstream's while their content does not: a file passes when either its compressed MD5 or the
MD5 of its decompressed content is upstream's (both lists are the ones the upstream project
publishes).

Batches are index slices of uint8 tensors that live on the training device; a seeded
generator on that device shuffles them, and pixels are scaled to [0, 1] per batch.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold, train_test_split

from .config import data_dir
from .errors import Error

CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


class DataError(Error, ValueError):
    """A data file is missing or not what upstream published; the message says which and how to fix it."""


@dataclass(frozen=True)
class FileSpec:
    name: str  # upstream file name, without .gz
    gz_md5: str  # upstream MD5 of the .gz
    raw_md5: str  # upstream MD5 of the decompressed file
    magic: int  # IDX magic number: 2049 labels, 2051 images
    count: int  # items in the file


FILES = {
    "train_images": FileSpec(
        "train-images-idx3-ubyte", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "f4a8712d7a061bf5bd6d2ca38dc4d50a", 2051, 60_000
    ),
    "train_labels": FileSpec(
        "train-labels-idx1-ubyte", "25c81989df183df01b3e8a0aad5dffbe", "9018921c3c673c538a1fc5bad174d6f9", 2049, 60_000
    ),
    "test_images": FileSpec(
        "t10k-images-idx3-ubyte", "bef4ecab320f06d8554ea6380940ec79", "8181f5470baa50b63fa0f6fddb340f0a", 2051, 10_000
    ),
    "test_labels": FileSpec(
        "t10k-labels-idx1-ubyte", "bb300cfdad3c16e7a12a480ee83cd310", "15d484375f8d13e6eb1aabb0c3f46965", 2049, 10_000
    ),
}
_MAGIC_KIND = {2049: "labels (idx1)", 2051: "images (idx3)"}


def _find(folder: Path, spec: FileSpec) -> Path:
    for candidate in (folder / f"{spec.name}.gz", folder / spec.name):
        if candidate.is_file():
            return candidate
    raise DataError(
        f"{folder / (spec.name + '.gz')} not found: install the Debian package "
        f"(sudo apt-get install dataset-fashion-mnist) or set FASHION_MNIST_DIR to a folder holding it"
    )


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if path.suffix != ".gz":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as err:
        raise DataError(f"{path}: truncated or not a gzip file ({err}); re-install dataset-fashion-mnist") from None


def parse_idx(data: bytes, *, source: str = "<bytes>", magic: int | None = None) -> np.ndarray:
    """Parse IDX bytes (big-endian header, uint8 payload) into an array of the header's shape.

    Raises DataError naming `source` when the magic number, the header or the length is wrong.
    """
    if len(data) < 8:
        raise DataError(f"{source}: {len(data)} bytes is too short for an IDX header; the file is truncated")
    found = int.from_bytes(data[:4], "big")
    if magic is not None and found != magic:
        raise DataError(
            f"{source}: IDX magic {found} found, expected {magic} ({_MAGIC_KIND.get(magic, '?')}); "
            f"the file is not the one its name says"
        )
    if found >> 8 != 0x08 or not 1 <= found & 0xFF <= 3:
        raise DataError(f"{source}: IDX magic {found} is not an unsigned-byte IDX file (2049 or 2051 expected)")
    ndim = found & 0xFF
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims))
    if len(data) != expected:
        raise DataError(
            f"{source}: {len(data)} bytes but the header {dims} needs {expected}; the file is truncated or padded"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def read_file(path: Path, spec: FileSpec, *, verify: bool = True) -> tuple[np.ndarray, str]:
    """Read one official file; returns (array, MD5 of its decompressed content)."""
    data = _read_bytes(path)
    array = parse_idx(data, source=str(path), magic=spec.magic)
    if array.shape[0] != spec.count:
        raise DataError(f"{path}: {array.shape[0]} items, expected {spec.count}")
    raw_md5 = hashlib.md5(data).hexdigest()
    if verify and raw_md5 != spec.raw_md5:
        gz_md5 = hashlib.md5(path.read_bytes()).hexdigest() if path.suffix == ".gz" else None
        if gz_md5 != spec.gz_md5:
            raise DataError(
                f"{path}: MD5 {raw_md5} of its content does not match upstream's {spec.raw_md5} "
                f"(nor the .gz MD5 {spec.gz_md5}); re-install dataset-fashion-mnist"
            )
    return array, raw_md5


@dataclass(frozen=True)
class FashionMNIST:
    """The whole dataset as uint8 arrays, with the MD5 of every file's content."""

    train_images: np.ndarray  # (60000, 28, 28) uint8
    train_labels: np.ndarray  # (60000,) int64
    test_images: np.ndarray  # (10000, 28, 28) uint8
    test_labels: np.ndarray  # (10000,) int64
    checksums: dict[str, str]  # file name -> MD5 of the decompressed content
    source: str  # folder the files were read from


@functools.lru_cache(maxsize=4)
def _load(folder: str, verify: bool) -> FashionMNIST:
    path = Path(folder)
    if not path.is_dir():
        raise DataError(
            f"{path} does not exist: install the Debian package (sudo apt-get install dataset-fashion-mnist) "
            f"or set FASHION_MNIST_DIR to a folder with the four Fashion-MNIST files"
        )
    arrays, sums = {}, {}
    for key, spec in FILES.items():
        arrays[key], sums[spec.name] = read_file(_find(path, spec), spec, verify=verify)
    for split in ("train", "test"):
        labels = arrays[f"{split}_labels"]
        if labels.max() >= len(CLASSES):
            raise DataError(f"{path}: {split} labels reach {labels.max()}, expected 0..9")
    return FashionMNIST(
        train_images=arrays["train_images"],
        train_labels=arrays["train_labels"].astype(np.int64),
        test_images=arrays["test_images"],
        test_labels=arrays["test_labels"].astype(np.int64),
        checksums=sums,
        source=str(path),
    )


def load(folder: str | Path | None = None, *, verify: bool = True) -> FashionMNIST:
    """Load and check the dataset (cached per folder). Raises DataError with a one-line fix."""
    return _load(str(Path(folder) if folder is not None else data_dir()), verify)


# ----------------------------------------------------------------------------------------------
# Splits: indices into the 60k training images; the test set is only used by test evaluation.


def subset_indices(labels: np.ndarray, n: int | None, seed: int = 0) -> np.ndarray:
    """A stratified, sorted subset of `n` indices (all indices when n is None or ≥ len)."""
    everything = np.arange(len(labels))
    if n is None or n >= len(labels):
        return everything
    chosen, _ = train_test_split(everything, train_size=n, stratify=labels, random_state=seed)
    return np.sort(chosen)


def holdout_indices(labels: np.ndarray, val_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/validation indices (e.g. 0.2 → 48k/12k, 1/6 → 50k/10k)."""
    train, val = train_test_split(np.arange(len(labels)), test_size=val_fraction, stratify=labels, random_state=seed)
    return np.sort(train), np.sort(val)


def kfold_indices(labels: np.ndarray, k: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold (train, validation) index pairs (scikit-learn's StratifiedKFold)."""
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(np.sort(tr), np.sort(va)) for tr, va in folds.split(np.zeros(len(labels)), labels)]


def split_indices(
    labels: np.ndarray,
    *,
    split: str = "holdout",
    val_fraction: float = 0.2,
    fold: int = 0,
    folds: int = 5,
    subset: int | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Train and validation indices for a run's `split` ("holdout", "fold" or "trainval").

    `subset` first draws a stratified subset of the 60k (for quick runs); "trainval" trains on
    all of it and has no validation part.
    """
    base = subset_indices(labels, subset, seed)
    sub_labels = labels[base]
    if split == "holdout":
        train, val = holdout_indices(sub_labels, val_fraction, seed)
    elif split == "fold":
        train, val = kfold_indices(sub_labels, folds, seed)[fold]
    else:  # "trainval" (`runs.RunConfig` checks the split's name and numbers)
        return base, None
    return base[train], base[val]


# ----------------------------------------------------------------------------------------------
# Device-resident tensors.


@dataclass
class TensorSet:
    """uint8 images (N, 1, 28, 28) and int64 labels, both resident on one device."""

    images: torch.Tensor
    labels: torch.Tensor

    @classmethod
    def from_arrays(cls, images: np.ndarray, labels: np.ndarray, device: str | torch.device) -> TensorSet:
        return cls(
            torch.from_numpy(np.require(images, requirements=("C", "W"))).unsqueeze(1).to(device),
            torch.from_numpy(np.require(labels, np.int64, requirements=("C", "W"))).to(device),
        )

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def device(self) -> torch.device:
        return self.images.device

    def num_batches(self, batch_size: int) -> int:
        return -(-len(self) // batch_size)

    def batches(
        self, batch_size: int, generator: torch.Generator | None = None
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(x float in [0, 1], y) batches; shuffled on the device when a generator is given."""
        n = len(self)
        order = torch.randperm(n, generator=generator, device=self.device) if generator is not None else None
        for start in range(0, n, batch_size):
            if order is None:
                xb, yb = self.images[start : start + batch_size], self.labels[start : start + batch_size]
            else:
                idx = order[start : start + batch_size]
                xb, yb = self.images[idx], self.labels[idx]
            yield xb.float().div_(255.0), yb


def tensors(data: FashionMNIST, part: str, indices: np.ndarray | None, device: str | torch.device) -> TensorSet:
    """Device tensors of `part` ("train" or "test"), restricted to `indices` when given."""
    images, labels = getattr(data, f"{part}_images"), getattr(data, f"{part}_labels")
    if indices is not None:
        images, labels = images[indices], labels[indices]
    return TensorSet.from_arrays(images, labels, device)
