"""Dataset loaders: the local data folder first, then the canonical source with a checksum.

Every loader returns the Keras layout (``(x_train, y_train), (x_test, y_test)``, ``uint8``) or, for
Tiny Shakespeare, the text. Files are looked up in the data folder (``COURSE_DATA_DIR``, else the
course's ``data/``); a local file must match a known SHA-256, so a truncated or different file gives
a clear error instead of a silently wrong dataset. Missing files are downloaded through
``keras.utils.get_file`` with a checksum. Nothing downloaded is unpickled. In smoke mode each loader
returns a small deterministic subset (the first examples).
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import os
import tarfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from helpers.environment import MODES, course_mode

DATA_DIR_VARIABLE = "COURSE_DATA_DIR"
SMOKE_TRAIN_SIZE = 2000
SMOKE_TEST_SIZE = 500
SMOKE_TEXT_LENGTH = 100_000

KERAS_DATASETS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

ArrayPairs = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is neither in the data folder nor downloadable (no network)."""


class DatasetCorruptError(ValueError):
    """A local dataset file does not match any known copy (truncated, edited or another dataset)."""


@dataclass(frozen=True)
class Dataset:
    """One dataset: its local file, the hashes of known good copies, and the shapes to expect."""

    name: str
    filename: str
    known_sha256: dict[str, str]
    image_shape: tuple[int, ...] = ()
    label_shape: tuple[int, ...] = ()


MNIST = Dataset(
    "mnist", "mnist.npz",
    {"06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64": "offline copy (exact)",
     "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1": "Keras download"},
    image_shape=(28, 28),
)
FASHION_MNIST = Dataset(
    "fashion_mnist", "fashion_mnist.npz",
    {"5b6d2c4c694a91887af8ab7d039c04f80af3c29378d731c93a538d2e831aa469": "offline copy (exact)"},
    image_shape=(28, 28),
)
CIFAR10 = Dataset(
    "cifar10", "cifar10.npz",
    {"c24fdc6d37b44537a3f8636495f6b61c0a874df4ad85ad5386b1fe6569aeea82":
        "offline copy (approximate: 25,000 training images, most decoded from JPEG)"},
    image_shape=(32, 32, 3), label_shape=(1,),
)
TINY_SHAKESPEARE = Dataset(
    "tiny_shakespeare", "tinyshakespeare.txt",
    {"86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed": "exact"},
)

# Canonical online sources, each with the checksum keras.utils.get_file verifies.
FASHION_MNIST_FILES = {  # (file name, md5 published by Zalando Research)
    "x_train": ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    "y_train": ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
    "x_test": ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
    "y_test": ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
}
CIFAR10_BINARY_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_BINARY_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
TINY_SHAKESPEARE_URL = "https://storage.googleapis.com/download.tensorflow.org/data/shakespeare.txt"


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
                f"the dataset files (see data/README.md), or unset it to use the course's data/ folder."
            )
        return folder
    candidates = [Path(__file__).resolve().parent.parent / "data", Path.cwd().parent / "data", Path.cwd() / "data"]
    return next((c for c in candidates if c.is_dir()), Path.cwd() / "data")


def _check_mode(mode: str | None) -> str:
    if mode is None:
        return course_mode()
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not a course mode; choose one of {', '.join(map(repr, MODES))} or None.")
    return mode


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
    if digest not in dataset.known_sha256:
        raise DatasetCorruptError(
            f"{path} ({stat.st_size:,} bytes) has SHA-256 {digest}, which is not a known copy of "
            f"{dataset.name} (expected {' or '.join(dataset.known_sha256)}). It may be truncated or "
            f"another dataset. Delete it, or copy a verified file again; data/README.md lists the files."
        )
    return path


def _download(filename: str, origin: str, file_hash: str, dataset: Dataset, folder: Path) -> Path:
    """Fetch one file with keras.utils.get_file (checksum verified), or raise the one clear error."""
    import keras

    try:
        return Path(keras.utils.get_file(f"{dataset.name}-{filename}", origin=origin, file_hash=file_hash,
                                         cache_subdir="datasets"))
    except Exception as error:  # get_file wraps network errors in a bare Exception
        raise DatasetNotFoundError(
            f"{dataset.name}: {dataset.filename} is not in the data folder {folder} and could not be "
            f"downloaded from {origin} ({type(error).__name__}: {error}). Offline, copy "
            f"{dataset.filename} into {folder} or point {DATA_DIR_VARIABLE} at a folder that holds it; "
            f"data/README.md says where each file comes from."
        ) from None


def _load_npz(path: Path, dataset: Dataset) -> ArrayPairs:
    try:
        with np.load(path, allow_pickle=False) as arrays:
            x_train, y_train, x_test, y_test = (arrays[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    except (KeyError, ValueError, OSError, EOFError) as error:
        raise DatasetCorruptError(f"{path} could not be read as a Keras-layout .npz: {error}") from None
    return (x_train, y_train), (x_test, y_test)


def _validate(pairs: ArrayPairs, dataset: Dataset, source: str) -> ArrayPairs:
    """Check dtypes and shapes so a wrong file can never pass as the dataset."""
    for x, y in pairs:
        if x.dtype != np.uint8 or y.dtype != np.uint8 or x.shape[1:] != dataset.image_shape \
                or y.shape[1:] != dataset.label_shape or len(x) != len(y):
            raise DatasetCorruptError(
                f"{source} does not hold {dataset.name} in the Keras layout: got images {x.shape} {x.dtype} "
                f"and labels {y.shape} {y.dtype}, expected uint8 images (N, {', '.join(map(str, dataset.image_shape))})."
            )
    return pairs


def _smoke_subset(pairs: ArrayPairs) -> ArrayPairs:
    (x_train, y_train), (x_test, y_test) = pairs
    return ((x_train[:SMOKE_TRAIN_SIZE], y_train[:SMOKE_TRAIN_SIZE]),
            (x_test[:SMOKE_TEST_SIZE], y_test[:SMOKE_TEST_SIZE]))


def _read_idx(path: Path) -> np.ndarray:
    """Decode one gzipped IDX file (the MNIST family's format) into a uint8 array."""
    with gzip.open(path, "rb") as stream:
        raw = stream.read()
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def _load_image_dataset(dataset: Dataset, download: Callable[[Path], ArrayPairs], mode: str | None,
                        data_folder: str | Path | None) -> ArrayPairs:
    mode = _check_mode(mode)
    folder = Path(data_folder) if data_folder is not None else data_dir()
    local = _verified_local_file(dataset, folder)
    pairs = _load_npz(local, dataset) if local else download(folder)
    pairs = _validate(pairs, dataset, str(local or f"the download of {dataset.name}"))
    return _smoke_subset(pairs) if mode == "smoke" else pairs


def load_mnist(mode: str | None = None, data_folder: str | Path | None = None) -> ArrayPairs:
    """MNIST digits: ``(x_train, y_train), (x_test, y_test)``, images (N, 28, 28) and labels (N,), uint8.

    Args:
        mode: ``None`` follows ``COURSE_MODE``; ``"smoke"`` returns the first 2,000 / 500 examples.
        data_folder: read from this folder instead of ``data_dir()``.
    """
    def download(folder: Path) -> ArrayPairs:
        path = _download("mnist.npz", KERAS_DATASETS_URL + "mnist.npz",
                         "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1", MNIST, folder)
        return _load_npz(path, MNIST)

    return _load_image_dataset(MNIST, download, mode, data_folder)


def load_fashion_mnist(mode: str | None = None, data_folder: str | Path | None = None) -> ArrayPairs:
    """Fashion-MNIST (Zalando): same layout as ``load_mnist``; class names in ``FASHION_MNIST_CLASSES``."""
    def download(folder: Path) -> ArrayPairs:
        arrays = {key: _read_idx(_download(name, KERAS_DATASETS_URL + "fashion-mnist/" + name, md5,
                                           FASHION_MNIST, folder))
                  for key, (name, md5) in FASHION_MNIST_FILES.items()}
        return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])

    return _load_image_dataset(FASHION_MNIST, download, mode, data_folder)


def _read_cifar10_binary(archive: Path) -> ArrayPairs:
    """Decode the CIFAR-10 *binary* release (no pickle): records of 1 label byte + 3,072 pixel bytes."""
    batches: dict[str, np.ndarray] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            if member.name.endswith(".bin") and "batch" in member.name:
                raw = np.frombuffer(tar.extractfile(member).read(), dtype=np.uint8)
                batches[Path(member.name).name] = raw.reshape(-1, 3073)

    def split(records: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return np.ascontiguousarray(images), records[:, :1].copy()

    train = np.concatenate([batches[f"data_batch_{i}.bin"] for i in range(1, 6)])
    return split(train), split(batches["test_batch.bin"])


_warned_cifar_approximation = False


def load_cifar10(mode: str | None = None, data_folder: str | Path | None = None) -> ArrayPairs:
    """CIFAR-10: images (N, 32, 32, 3) and labels (N, 1), uint8, as ``keras.datasets.cifar10``.

    Online, this is the full original set (50,000 / 10,000). The course's offline copy holds
    25,000 training images, most decoded from a JPEG copy; a warning says so when it is used.
    """
    global _warned_cifar_approximation

    def download(folder: Path) -> ArrayPairs:
        return _read_cifar10_binary(_download("cifar-10-binary.tar.gz", CIFAR10_BINARY_URL,
                                              CIFAR10_BINARY_MD5, CIFAR10, folder))

    pairs = _load_image_dataset(CIFAR10, download, mode, data_folder)
    folder = Path(data_folder) if data_folder is not None else data_dir()
    if (folder / CIFAR10.filename).is_file() and not _warned_cifar_approximation:
        _warned_cifar_approximation = True
        warnings.warn("Using the offline CIFAR-10 copy: 25,000 training images (half the set), most decoded "
                      "from JPEG; accuracy is a little lower than on the original.", stacklevel=2)
    return pairs


def load_tiny_shakespeare(mode: str | None = None, data_folder: str | Path | None = None) -> str:
    """Tiny Shakespeare (1,115,394 characters, 65 distinct) as one string; smoke mode: the first 100,000."""
    mode = _check_mode(mode)
    folder = Path(data_folder) if data_folder is not None else data_dir()
    path = _verified_local_file(TINY_SHAKESPEARE, folder) or _download(
        "shakespeare.txt", TINY_SHAKESPEARE_URL, next(iter(TINY_SHAKESPEARE.known_sha256)), TINY_SHAKESPEARE, folder)
    text = path.read_text(encoding="utf-8")
    return text[:SMOKE_TEXT_LENGTH] if mode == "smoke" else text


LOADERS: dict[str, Callable[..., object]] = {
    "mnist": load_mnist,
    "fashion_mnist": load_fashion_mnist,
    "cifar10": load_cifar10,
    "tiny_shakespeare": load_tiny_shakespeare,
}

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def load_dataset(name: str, mode: str | None = None, data_folder: str | Path | None = None) -> object:
    """Load a course dataset by name (``mnist``, ``fashion_mnist``, ``cifar10``, ``tiny_shakespeare``).

    Raises:
        ValueError: unknown name; the message lists the valid names and the closest match.
    """
    if name not in LOADERS:
        close = difflib.get_close_matches(str(name).lower(), LOADERS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown dataset {name!r}. Choose one of: {', '.join(LOADERS)}.{hint}")
    return LOADERS[name](mode=mode, data_folder=data_folder)
