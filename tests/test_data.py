"""helpers.data: local files, checksums, the download path (simulated), clear errors, smoke subsets."""

import gzip
import io
import os
import tarfile
from pathlib import Path

import keras
import numpy as np
import pytest

from helpers import data
from helpers.data import DatasetCorruptError, DatasetNotFoundError

SHARED = Path(os.environ.get("COURSE_DATA_DIR", "data"))


def needs(filename):
    return pytest.mark.skipif(not (SHARED / filename).is_file(),
                              reason=f"{filename} not in COURSE_DATA_DIR ({SHARED}); .ci/run provides it")


@pytest.fixture
def no_network(monkeypatch):
    """Make keras.utils.get_file fail as it does offline, and record what was asked for."""
    calls = []

    def offline(fname, origin, **kwargs):
        calls.append((fname, origin, kwargs.get("file_hash")))
        raise Exception(f"URL fetch failure on {origin}: None -- [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    return calls


@needs("mnist.npz")
def test_mnist_from_the_local_folder_in_both_modes():
    (x_train, y_train), (x_test, y_test) = data.load_mnist(mode="default")
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert list(y_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    (xs, ys), (xt, yt) = data.load_mnist(mode="smoke")
    assert len(xs) == data.SMOKE_TRAIN_SIZE and len(xt) == data.SMOKE_TEST_SIZE
    np.testing.assert_array_equal(xs, x_train[: data.SMOKE_TRAIN_SIZE])


@needs("fashion_mnist.npz")
def test_fashion_mnist_labels_and_classes():
    (_, y_train), (_, y_test) = data.load_fashion_mnist(mode="default")
    assert list(y_test[:10]) == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert len(data.FASHION_MNIST_CLASSES) == 10


@needs("cifar10.npz")
def test_cifar10_layout_and_the_offline_warning():
    with pytest.warns(UserWarning, match="offline CIFAR-10 copy"):
        data._warned_cifar_approximation = False
        (x_train, y_train), (x_test, y_test) = data.load_cifar10(mode="smoke")
    assert x_train.shape == (data.SMOKE_TRAIN_SIZE, 32, 32, 3) and y_train.shape == (data.SMOKE_TRAIN_SIZE, 1)
    assert y_test[:10, 0].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]


@needs("tinyshakespeare.txt")
def test_tiny_shakespeare_text():
    text = data.load_tiny_shakespeare(mode="default")
    assert len(text) == 1_115_394 and len(set(text)) == 65 and text.startswith("First Citizen:")
    assert data.load_tiny_shakespeare(mode="smoke") == text[: data.SMOKE_TEXT_LENGTH]


def test_misspelt_dataset_name_lists_the_choices():
    with pytest.raises(ValueError, match="Unknown dataset 'mnsit'.*mnist, fashion_mnist, cifar10, tiny_shakespeare"
                                         ".*Did you mean 'mnist'"):
        data.load_dataset("mnsit")


def test_bad_mode_argument_lists_the_choices():
    with pytest.raises(ValueError, match="'default', 'smoke'"):
        data.load_mnist(mode="tiny")


def test_missing_file_without_network_is_one_clear_error(tmp_path, no_network):
    with pytest.raises(DatasetNotFoundError) as error:
        data.load_mnist(data_folder=tmp_path)
    message = str(error.value)
    assert "mnist.npz" in message and str(tmp_path) in message and "data/README.md" in message
    assert no_network[0][1].endswith("mnist.npz") and no_network[0][2]  # tried the canonical source, with a hash


@pytest.mark.parametrize("loader, filename", [(data.load_fashion_mnist, "fashion_mnist.npz"),
                                              (data.load_cifar10, "cifar10.npz"),
                                              (data.load_tiny_shakespeare, "tinyshakespeare.txt")])
def test_every_loader_gives_the_same_clear_error_offline(tmp_path, no_network, loader, filename):
    with pytest.raises(DatasetNotFoundError, match=f"{filename}.*{tmp_path}.*data/README.md"):
        loader(data_folder=tmp_path)
    assert all(hash_ for _, _, hash_ in no_network)


def test_data_dir_variable_must_name_a_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "nope"))
    with pytest.raises(NotADirectoryError, match="COURSE_DATA_DIR=.*nope.*not a folder"):
        data.load_mnist()


def test_unknown_file_content_is_rejected_not_loaded(tmp_path):
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((1, 28, 28), np.uint8), y_train=np.zeros(1, np.uint8),
             x_test=np.zeros((1, 28, 28), np.uint8), y_test=np.zeros(1, np.uint8))
    with pytest.raises(DatasetCorruptError, match="not a known copy of mnist.*Delete it"):
        data.load_mnist(data_folder=tmp_path)


@needs("mnist.npz")
def test_truncated_file_is_rejected(tmp_path):
    (tmp_path / "mnist.npz").write_bytes((SHARED / "mnist.npz").read_bytes()[:1_000_000])
    with pytest.raises(DatasetCorruptError, match="1,000,000 bytes"):
        data.load_mnist(data_folder=tmp_path)


def test_downloaded_arrays_of_the_wrong_layout_are_rejected(tmp_path, monkeypatch):
    fake = tmp_path / "download.npz"
    np.savez(fake, x_train=np.zeros((2, 28, 28), np.float32), y_train=np.zeros(2, np.uint8),
             x_test=np.zeros((1, 28, 28), np.uint8), y_test=np.zeros(1, np.uint8))
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: str(fake))
    with pytest.raises(DatasetCorruptError, match="Keras layout.*float32"):
        data.load_mnist(data_folder=tmp_path / "empty")


def _idx_gz(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as stream:
        stream.write(header + array.tobytes())
    return str(path)


def test_fashion_mnist_download_is_decoded_from_idx_files(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8), "y_train": np.array([1, 2, 3], np.uint8),
              "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8), "y_test": np.array([4, 5], np.uint8)}
    by_file = {name: key for key, (name, _) in data.FASHION_MNIST_FILES.items()}
    monkeypatch.setattr(keras.utils, "get_file", lambda fname, origin, **k: _idx_gz(
        tmp_path / fname, arrays[by_file[origin.rsplit("/", 1)[1]]]))
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist(mode="default", data_folder=tmp_path / "none")
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])


def test_cifar10_download_is_decoded_from_the_binary_release_without_pickle(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(6, dtype=np.uint8)
    archive = tmp_path / "cifar.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for index, name in enumerate([f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]):
            record = np.concatenate([labels[index:index + 1], images[index].transpose(2, 0, 1).ravel()])
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = record.size
            tar.addfile(info, io.BytesIO(record.tobytes()))
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: str(archive))
    (x_train, y_train), (x_test, y_test) = data.load_cifar10(mode="default", data_folder=tmp_path / "none")
    np.testing.assert_array_equal(x_train, images[:5])
    assert y_train.shape == (5, 1) and y_test.tolist() == [[5]]
    np.testing.assert_array_equal(x_test[0], images[5])
