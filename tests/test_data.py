"""helpers.data: local files, checksums, the download path (simulated), clear errors, smoke subsets.

The tests marked by ``local_file`` read the real dataset files from the data folder. Without them they
skip with a loud reason (and a warning in pytest's summary); with ``COURSE_REQUIRE_DATA=1`` (set by
``.ci/run``) a missing file fails them instead, so CI can never pass without testing the real data.
"""

import gzip
import io
import tarfile
import warnings

import keras
import numpy as np
import pytest

from helpers import data
from helpers.course import BRANCH, REPOSITORY_URL
from helpers.data import DatasetCorruptError, DatasetNotFoundError
from tests import data_files
from tests.data_files import local_file


@pytest.fixture
def no_network(monkeypatch):
    """Make keras.utils.get_file fail as it does offline, and record what was asked for."""
    calls = []

    def offline(fname, origin, **kwargs):
        calls.append((fname, origin, kwargs.get("file_hash")))
        raise Exception(f"URL fetch failure on {origin}: None -- [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    return calls


def test_mnist_from_the_local_folder_in_both_modes():
    local_file("mnist.npz")
    (x_train, y_train), (x_test, y_test) = data.load_mnist(mode="default")
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert list(y_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    (xs, ys), (xt, yt) = data.load_mnist(mode="smoke")
    assert len(xs) == data.SMOKE_TRAIN_SIZE and len(xt) == data.SMOKE_TEST_SIZE
    np.testing.assert_array_equal(xs, x_train[: data.SMOKE_TRAIN_SIZE])


def test_fashion_mnist_labels_and_classes():
    local_file("fashion_mnist.npz")
    (_, y_train), (_, y_test) = data.load_fashion_mnist(mode="default")
    assert list(y_test[:10]) == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert len(data.FASHION_MNIST_CLASSES) == 10


def test_cifar10_layout_and_the_offline_warning():
    local_file("cifar10.npz")
    data._warned.discard("cifar10")
    with pytest.warns(UserWarning, match="offline CIFAR-10 copy") as caught:
        (x_train, y_train), (x_test, y_test) = data.load_cifar10(mode="smoke")
    assert x_train.shape == (data.SMOKE_TRAIN_SIZE, 32, 32, 3) and y_train.shape == (data.SMOKE_TRAIN_SIZE, 1)
    assert y_test[:10, 0].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    assert caught[0].filename == __file__  # the warning points at the caller, not at helpers/data.py
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data.load_cifar10(mode="smoke")  # once is enough


def test_tiny_shakespeare_text():
    local_file("tinyshakespeare.txt")
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
    # Colab has no checkout: the message also gives the README's web address
    assert f"{REPOSITORY_URL}/blob/{BRANCH}/data/README.md" in message
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


def test_a_copy_of_another_dataset_is_named(tmp_path, monkeypatch):
    np.savez(tmp_path / "mnist.npz", x_train=np.ones((1, 28, 28), np.uint8), y_train=np.zeros(1, np.uint8),
             x_test=np.ones((1, 28, 28), np.uint8), y_test=np.zeros(1, np.uint8))
    digest = data._sha256(tmp_path / "mnist.npz", 0, 0)  # (size and mtime only key the cache)
    monkeypatch.setitem(data.FASHION_MNIST.known_sha256, digest, "a test copy")
    with pytest.raises(DatasetCorruptError, match=r"is a copy of fashion_mnist \(a test copy.*not of mnist.*"
                                                  r"fashion_mnist belongs in fashion_mnist.npz"):
        data.load_mnist(data_folder=tmp_path)


def test_fashion_mnist_copied_in_as_mnist_is_named(tmp_path):
    (tmp_path / "mnist.npz").symlink_to(local_file("fashion_mnist.npz"))
    with pytest.raises(DatasetCorruptError, match="is a copy of fashion_mnist .*not of mnist"):
        data.load_mnist(data_folder=tmp_path)


def test_truncated_file_is_rejected(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(local_file("mnist.npz").read_bytes()[:1_000_000])
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
    by_file = dict(zip((remote.filename for remote in data.FASHION_MNIST.origin), arrays))
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


def test_fashion_mnist_comes_from_where_keras_gets_it_with_the_published_checksums(no_network, tmp_path):
    import inspect

    from keras.src.datasets import fashion_mnist

    with pytest.raises(DatasetNotFoundError):
        data.load_fashion_mnist(data_folder=tmp_path)
    keras_source = inspect.getsource(fashion_mnist.load_data)
    assert f'base = "{data.KERAS_DATASETS_URL}"' in keras_source and "origin=base + fname" in keras_source
    (first_name, first_url, first_hash), = no_network  # the first failed download stops the loader
    assert first_url == data.KERAS_DATASETS_URL + "train-images-idx3-ubyte.gz"
    for remote in data.FASHION_MNIST.origin:
        assert remote.url == data.KERAS_DATASETS_URL + remote.filename and remote.filename in keras_source
        assert len(remote.file_hash) == 32 and int(remote.file_hash, 16) >= 0  # MD5s published by Zalando


def test_load_dataset_returns_named_splits_and_the_loaders_keras_tuples(tmp_path, monkeypatch):
    arrays = {"x_train": np.ones((3, 28, 28), np.uint8), "y_train": np.arange(3, dtype=np.uint8),
              "x_test": np.zeros((2, 28, 28), np.uint8), "y_test": np.arange(2, dtype=np.uint8)}
    np.savez(tmp_path / "mnist.npz", **arrays)
    digest = data._sha256(tmp_path / "mnist.npz", 1, 1)
    monkeypatch.setitem(data.MNIST.known_sha256, digest, "a test copy")
    splits = data.load_dataset("mnist", mode="default", data_folder=tmp_path)
    plain = data.load_mnist(mode="default", data_folder=tmp_path)
    assert isinstance(splits, data.Splits) and isinstance(splits.train, data.Split)
    np.testing.assert_array_equal(splits.train.x, arrays["x_train"])
    np.testing.assert_array_equal(splits.test.y, arrays["y_test"])
    (x_train, y_train), (x_test, y_test) = splits  # unpacks like keras.datasets
    assert type(plain) is tuple and type(plain[0]) is tuple and len(plain) == 2
    np.testing.assert_array_equal(plain[1][0], x_test)


def test_every_dataset_has_a_checksummed_origin():
    assert set(data.DATASETS) == {"mnist", "fashion_mnist", "cifar10", "tiny_shakespeare"}
    for dataset in data.DATASETS.values():
        assert dataset.origin and all(remote.file_hash and remote.url.startswith("https://")
                                      for remote in dataset.origin)
    # MNIST's download is Keras' own .npz: the checksum get_file verifies is an accepted local hash too
    assert data.MNIST.origin[0].file_hash in data.MNIST.known_sha256


def test_missing_data_fails_instead_of_skipping_when_required(monkeypatch):
    monkeypatch.setattr(data_files, "REQUIRE_DATA", True)
    with pytest.raises(pytest.fail.Exception, match="COURSE_REQUIRE_DATA is set but no_such_file.npz"):
        local_file("no_such_file.npz")
    monkeypatch.setattr(data_files, "REQUIRE_DATA", False)
    with pytest.raises(pytest.skip.Exception, match="NOT TESTED: no_such_file.npz"):
        local_file("no_such_file.npz")
