"""Dataset loaders: the local data folder first, then the canonical source with a checksum.

Every loader returns the Keras layout (``(x_train, y_train), (x_test, y_test)``, ``uint8``) or, for
Tiny Shakespeare, the text. Files are looked up in the data folder (``COURSE_DATA_DIR``, else the
course's ``data/``); a local file must match a known SHA-256, so a truncated or different file gives
a clear error instead of a silently wrong dataset (and names the dataset when it is another one of
the course's). Missing files are downloaded through ``keras.utils.get_file`` with a checksum.
Nothing downloaded is unpickled. In smoke mode each loader returns a small deterministic subset
(the first examples).

Each ``Dataset`` below carries everything about one dataset (local file and hashes, online origin
with its checksums, decoders, shapes), so all four loaders share one code path, ``load_dataset``.
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import os
import tarfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

from helpers.course import BRANCH, REPOSITORY_URL
from helpers.environment import course_mode

DATA_DIR_VARIABLE = "COURSE_DATA_DIR"
SMOKE_TRAIN_SIZE = 2000
SMOKE_TEST_SIZE = 500
SMOKE_TEXT_LENGTH = 100_000

KERAS_DATASETS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
DATA_README = "data/README.md"
DATA_README_URL = f"{REPOSITORY_URL}/blob/{BRANCH}/{DATA_README}"
"""The data README on the web, for readers without a checkout (Colab)."""
SEE_DATA_README = f"{DATA_README} (online: {DATA_README_URL})"

ArrayPairs = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class Split(NamedTuple):
    """Images (or inputs) and labels of one split."""

    x: np.ndarray
    y: np.ndarray


class Splits(NamedTuple):
    """A dataset's training and test splits; unpacks like Keras: ``(x_train, y_train), (x_test, y_test)``."""

    train: Split
    test: Split


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is neither in the data folder nor downloadable (no network)."""


class DatasetCorruptError(ValueError):
    """A local dataset file does not match any known copy (truncated, edited or another dataset)."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset's canonical online source, with the checksum ``keras.utils.get_file`` verifies."""

    filename: str
    url: str
    file_hash: str
    """SHA-256 or MD5 (``get_file`` tells them apart by length)."""


@dataclass(frozen=True)
class Dataset:
    """One dataset: its local file, the hashes of known good copies, its online origin and decoders.

    ``read_local`` decodes the local file; ``decode_download`` decodes the downloaded ``origin``
    files (in the same order). Image datasets give ``Splits`` checked against ``image_shape`` and
    ``label_shape``; a dataset without an ``image_shape`` is a text.
    """

    name: str
    filename: str
    known_sha256: dict[str, str]
    origin: tuple[RemoteFile, ...]
    read_local: Callable[[Path], Splits | str]
    decode_download: Callable[[Sequence[Path]], Splits | str]
    image_shape: tuple[int, ...] = ()
    label_shape: tuple[int, ...] = ()
    local_warning: str | None = None
    """Warned once when the local copy is used (it differs from the original)."""

    @property
    def is_text(self) -> bool:
        return not self.image_shape


# ---------------------------------------------------------------------------------------- decoders

def _read_npz(path: Path) -> Splits:
    """A Keras-layout .npz (keys x_train, y_train, x_test, y_test), read without pickle."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            x_train, y_train, x_test, y_test = (arrays[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    except (KeyError, ValueError, OSError, EOFError) as error:
        raise DatasetCorruptError(f"{path} could not be read as a Keras-layout .npz: {error}") from None
    return Splits(Split(x_train, y_train), Split(x_test, y_test))


def _read_idx(path: Path) -> np.ndarray:
    """Decode one gzipped IDX file (the MNIST family's format) into a uint8 array."""
    with gzip.open(path, "rb") as stream:
        raw = stream.read()
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def _read_idx_files(paths: Sequence[Path]) -> Splits:
    """Four IDX files in the order x_train, y_train, x_test, y_test."""
    x_train, y_train, x_test, y_test = (_read_idx(path) for path in paths)
    return Splits(Split(x_train, y_train), Split(x_test, y_test))


def _read_cifar10_binary(archive: Path) -> Splits:
    """Decode the CIFAR-10 *binary* release (no pickle): records of 1 label byte + 3,072 pixel bytes."""
    batches: dict[str, np.ndarray] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            if member.name.endswith(".bin") and "batch" in member.name:
                raw = np.frombuffer(tar.extractfile(member).read(), dtype=np.uint8)
                batches[Path(member.name).name] = raw.reshape(-1, 3073)

    def split(records: np.ndarray) -> Split:
        images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return Split(np.ascontiguousarray(images), records[:, :1].copy())

    train = np.concatenate([batches[f"data_batch_{i}.bin"] for i in range(1, 6)])
    return Splits(split(train), split(batches["test_batch.bin"]))


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------- datasets

MNIST_KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
TINY_SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"

MNIST = Dataset(
    "mnist", "mnist.npz",
    {"06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64": "offline copy (exact)",
     MNIST_KERAS_SHA256: "Keras download"},
    origin=(RemoteFile("mnist.npz", KERAS_DATASETS_URL + "mnist.npz", MNIST_KERAS_SHA256),),
    read_local=_read_npz, decode_download=lambda paths: _read_npz(paths[0]),
    image_shape=(28, 28),
)
FASHION_MNIST = Dataset(
    "fashion_mnist", "fashion_mnist.npz",
    {"5b6d2c4c694a91887af8ab7d039c04f80af3c29378d731c93a538d2e831aa469": "offline copy (exact)"},
    # The four IDX files from where keras.datasets.fashion_mnist gets them, with Zalando Research's MD5s
    # (Keras' own loader checks none).
    origin=tuple(RemoteFile(name, KERAS_DATASETS_URL + name, md5) for name, md5 in (
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    )),
    read_local=_read_npz, decode_download=_read_idx_files,
    image_shape=(28, 28),
)
CIFAR10 = Dataset(
    "cifar10", "cifar10.npz",
    {"c24fdc6d37b44537a3f8636495f6b61c0a874df4ad85ad5386b1fe6569aeea82":
        "offline copy (approximate: 25,000 training images, most decoded from JPEG)"},
    origin=(RemoteFile("cifar-10-binary.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
                       "c32a1d4ab5d03f1284b67883e8d87530"),),
    read_local=_read_npz, decode_download=lambda paths: _read_cifar10_binary(paths[0]),
    image_shape=(32, 32, 3), label_shape=(1,),
    local_warning="Using the offline CIFAR-10 copy: 25,000 training images (half the set), most decoded "
                  "from JPEG; accuracy is a little lower than on the original.",
)
TINY_SHAKESPEARE = Dataset(
    "tiny_shakespeare", "tinyshakespeare.txt",
    {TINY_SHAKESPEARE_SHA256: "exact"},
    origin=(RemoteFile("shakespeare.txt", "https://storage.googleapis.com/download.tensorflow.org/data/shakespeare.txt",
                       TINY_SHAKESPEARE_SHA256),),
    read_local=_read_text, decode_download=lambda paths: _read_text(paths[0]),
)

DATASETS: dict[str, Dataset] = {d.name: d for d in (MNIST, FASHION_MNIST, CIFAR10, TINY_SHAKESPEARE)}
"""Every course dataset by name (the names ``load_dataset`` accepts)."""

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


# ---------------------------------------------------------------------------------------- loading

def data_dir() -> Path:
    """The folder the loaders read first: ``COURSE_DATA_DIR`` if set, else the course's ``data/``.

    Without the variable, the first existing folder among the checkout's ``data/`` (next to
    ``helpers/``), ``../data`` and ``./data`` (a kernel started in ``notebooks/``) is used.

    Raises:
        NotADirectoryError: ``COURSE_DATA_DIR`` is set but is not a folder.
    """
    configured = os.environ.get(DATA_DIR_VARIABLE, "").strip()
    if configured:
        folder = Path(configured).expanduser()
        if not folder.is_dir():
            raise NotADirectoryError(
                f"{DATA_DIR_VARIABLE}={configured!r} is not a folder. Point it at the folder that holds "
                f"the dataset files (see {SEE_DATA_README}), or unset it to use the course's data/ folder."
            )
        return folder
    candidates = [Path(__file__).resolve().parent.parent / "data", Path.cwd().parent / "data", Path.cwd() / "data"]
    return next((c for c in candidates if c.is_dir()), Path.cwd() / "data")


@lru_cache(maxsize=16)
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified_local_file(dataset: Dataset, folder: Path) -> Path | None:
    """The dataset's file in ``folder`` if present, after checking its hash; None if absent."""
    path = folder / dataset.filename
    if not path.is_file():
        return None
    stat = path.stat()
    digest = _sha256(path, stat.st_size, stat.st_mtime_ns)
    if digest in dataset.known_sha256:
        return path
    other = next((d for d in DATASETS.values() if digest in d.known_sha256), None)
    if other is not None:
        raise DatasetCorruptError(
            f"{path} is a copy of {other.name} ({other.known_sha256[digest]}, SHA-256 {digest}), not of "
            f"{dataset.name}. Copy the {dataset.name} file in as {dataset.filename} ({other.name} belongs in "
            f"{other.filename}); {SEE_DATA_README} lists the files."
        )
    raise DatasetCorruptError(
        f"{path} ({stat.st_size:,} bytes) has SHA-256 {digest}, which is not a known copy of "
        f"{dataset.name} (expected {' or '.join(dataset.known_sha256)}). It may be truncated or "
        f"another dataset. Delete it, or copy a verified file again; {SEE_DATA_README} lists the files."
    )


def _download(remote: RemoteFile, dataset: Dataset, folder: Path) -> Path:
    """Fetch one file with keras.utils.get_file (checksum verified), or raise the one clear error."""
    import keras

    try:
        return Path(keras.utils.get_file(f"{dataset.name}-{remote.filename}", origin=remote.url,
                                         file_hash=remote.file_hash, cache_subdir="datasets"))
    except Exception as error:  # get_file wraps network errors in a bare Exception
        raise DatasetNotFoundError(
            f"{dataset.name}: {dataset.filename} is not in the data folder {folder} and could not be "
            f"downloaded from {remote.url} ({type(error).__name__}: {error}). Offline, copy "
            f"{dataset.filename} into {folder} or point {DATA_DIR_VARIABLE} at a folder that holds it; "
            f"{SEE_DATA_README} says where each file comes from."
        ) from None


def _validate(splits: Splits, dataset: Dataset, source: str) -> Splits:
    """Check dtypes and shapes so a wrong file can never pass as the dataset."""
    for x, y in splits:
        if x.dtype != np.uint8 or y.dtype != np.uint8 or x.shape[1:] != dataset.image_shape \
                or y.shape[1:] != dataset.label_shape or len(x) != len(y):
            raise DatasetCorruptError(
                f"{source} does not hold {dataset.name} in the Keras layout: got images {x.shape} {x.dtype} "
                f"and labels {y.shape} {y.dtype}, expected uint8 images (N, {', '.join(map(str, dataset.image_shape))})."
            )
    return splits


def _smoke_subset(content: Splits | str) -> Splits | str:
    if isinstance(content, str):
        return content[:SMOKE_TEXT_LENGTH]
    train, test = content
    return Splits(Split(train.x[:SMOKE_TRAIN_SIZE], train.y[:SMOKE_TRAIN_SIZE]),
                  Split(test.x[:SMOKE_TEST_SIZE], test.y[:SMOKE_TEST_SIZE]))


_warned: set[str] = set()
"""Datasets whose ``local_warning`` was already given."""


def _load(dataset: Dataset, mode: str | None, data_folder: str | Path | None) -> Splits | str:
    """The one loading path: local file (verified) or download (verified), layout check, smoke subset.

    Warnings point at the caller of the public function that called this one.
    """
    mode = course_mode(mode)
    folder = Path(data_folder) if data_folder is not None else data_dir()
    local = _verified_local_file(dataset, folder)
    if local is not None:
        content = dataset.read_local(local)
    else:
        content = dataset.decode_download([_download(remote, dataset, folder) for remote in dataset.origin])
    if not dataset.is_text:
        content = _validate(content, dataset, str(local or f"the download of {dataset.name}"))
    if local is not None and dataset.local_warning and dataset.name not in _warned:
        _warned.add(dataset.name)
        warnings.warn(dataset.local_warning, stacklevel=3)
    return _smoke_subset(content) if mode == "smoke" else content


def _keras_tuples(splits: Splits) -> ArrayPairs:
    """Plain tuples, exactly what ``keras.datasets.*.load_data()`` returns."""
    return (tuple(splits.train), tuple(splits.test))


def load_mnist(mode: str | None = None, data_folder: str | Path | None = None) -> ArrayPairs:
    """MNIST digits: ``(x_train, y_train), (x_test, y_test)``, images (N, 28, 28) and labels (N,), uint8.

    Args:
        mode: ``None`` follows ``COURSE_MODE``; ``"smoke"`` returns the first 2,000 / 500 examples.
        data_folder: read from this folder instead of ``data_dir()``.
    """
    return _keras_tuples(_load(MNIST, mode, data_folder))


def load_fashion_mnist(mode: str | None = None, data_folder: str | Path | None = None) -> ArrayPairs:
    """Fashion-MNIST (Zalando): same layout as ``load_mnist``; class names in ``FASHION_MNIST_CLASSES``."""
    return _keras_tuples(_load(FASHION_MNIST, mode, data_folder))


def load_cifar10(mode: str | None = None, data_folder: str | Path | None = None) -> ArrayPairs:
    """CIFAR-10: images (N, 32, 32, 3) and labels (N, 1), uint8, as ``keras.datasets.cifar10``.

    Online, this is the full original set (50,000 / 10,000). The course's offline copy holds
    25,000 training images, most decoded from a JPEG copy; a warning says so when it is used.
    """
    return _keras_tuples(_load(CIFAR10, mode, data_folder))


def load_tiny_shakespeare(mode: str | None = None, data_folder: str | Path | None = None) -> str:
    """Tiny Shakespeare (1,115,394 characters, 65 distinct) as one string; smoke mode: the first 100,000."""
    return _load(TINY_SHAKESPEARE, mode, data_folder)


def load_dataset(name: str, mode: str | None = None, data_folder: str | Path | None = None) -> Splits | str:
    """Load a course dataset by name (``mnist``, ``fashion_mnist``, ``cifar10``, ``tiny_shakespeare``).

    Returns:
        ``Splits`` (``.train.x``, ``.train.y``, ``.test.x``, ``.test.y``; it also unpacks as
        ``(x_train, y_train), (x_test, y_test)``) for the image datasets, the text for ``tiny_shakespeare``.

    Raises:
        ValueError: unknown name; the message lists the valid names and the closest match.
    """
    if name not in DATASETS:
        close = difflib.get_close_matches(str(name).lower(), DATASETS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown dataset {name!r}. Choose one of: {', '.join(DATASETS)}.{hint}")
    return _load(DATASETS[name], mode, data_folder)
