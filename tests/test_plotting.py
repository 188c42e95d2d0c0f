"""helpers.plotting: each plot draws what it was given and rejects inputs of the wrong shape."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import plotting


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def last_figure():
    return plt.figure(plt.get_fignums()[-1])


def test_history_draws_training_and_validation_per_metric():
    plotting.plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8],
                           "val_accuracy": [0.4, 0.7]})
    axes = last_figure().axes
    assert [ax.get_title() for ax in axes] == ["loss", "accuracy"]
    np.testing.assert_allclose(axes[0].lines[1].get_ydata(), [1.1, 0.7])


def test_history_accepts_a_keras_history_object():
    class History:
        history = {"loss": [3.0, 2.0, 1.0]}

    plotting.plot_history(History())
    assert len(last_figure().axes[0].lines) == 1


@pytest.mark.parametrize("bad, message", [({}, "non-empty dict"), ([1, 2], "Keras History"),
                                          ({"loss": [[1, 2]]}, r"1 dimensions, got shape \(1, 2\)")])
def test_history_rejects_bad_input(bad, message):
    with pytest.raises(ValueError, match=message):
        plotting.plot_history(bad)


def test_history_rejects_unknown_metric():
    with pytest.raises(ValueError, match=r"metrics among \['loss'\]"):
        plotting.plot_history({"loss": [1.0]}, metrics=["accuracy"])


def test_trajectories_on_contours():
    _, ax = plt.subplots()
    path = np.array([[1.0, 1.0], [0.5, 0.2], [0.0, 0.0]])
    plotting.plot_trajectories(lambda x, y: x**2 + 10 * y**2, {"GD": path}, (-2, 2), (-2, 2),
                               minimum=(0, 0), ax=ax)
    np.testing.assert_allclose(ax.lines[0].get_xydata(), path)
    assert "GD (2 steps)" in [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.mark.parametrize("path, message", [
    (np.zeros((5, 3)), r"of shape \(steps, 2\), got shape \(5, 3\)"),
    (np.zeros(5), r"with 2 dimensions, got shape \(5,\)"),
    (np.zeros((0, 2)), r"of shape \(steps, 2\), got shape \(0, 2\)"),
])
def test_trajectories_reject_wrong_shapes(path, message):
    with pytest.raises(ValueError, match=r"^plot_trajectories: expected trajectories\['bad'\] " + message):
        plotting.plot_trajectories(lambda x, y: x + y, {"bad": path}, (-1, 1), (-1, 1))


def test_trajectories_reject_a_loss_that_is_not_vectorised():
    with pytest.raises(ValueError, match="loss\\(X, Y\\) to return shape"):
        plotting.plot_trajectories(lambda x, y: 1.0, {"p": np.zeros((2, 2))}, (-1, 1), (-1, 1))


@pytest.mark.parametrize("shape", [(4, 8, 8), (4, 8, 8, 1), (4, 8, 8, 3)])
def test_image_grid_shapes(shape):
    plotting.plot_image_grid(np.random.default_rng(0).random(shape), titles=list("abcd"), ncols=2)
    axes = last_figure().axes
    assert len(axes) == 4 and axes[3].get_title() == "d"


@pytest.mark.parametrize("images, titles, message", [
    (np.zeros((2, 8, 8, 2)), None, r"\(N, H, W, 3\)"),
    (np.zeros((8, 8)), None, "3 or 4 dimensions"),
    (np.zeros((2, 8, 8)), ["only one"], "2 titles"),
    (np.array([["a"]]), None, r"3 or 4 dimensions, got shape \(1, 1\)"),
    (np.array([[["a"]]]), None, "images of numbers"),
])
def test_image_grid_rejects_bad_input(images, titles, message):
    with pytest.raises(ValueError, match=message):
        plotting.plot_image_grid(images, titles=titles)


def test_confusion_matrix_counts():
    counts = plotting.confusion_matrix([0, 1, 1, 2], [0, 2, 1, 2], num_classes=3)
    np.testing.assert_array_equal(counts, [[1, 0, 0], [0, 1, 1], [0, 0, 1]])


def test_confusion_matrix_plot_and_length_check():
    _, ax = plt.subplots()
    plotting.plot_confusion_matrix([0, 1], [1, 1], class_names=["a", "b"], ax=ax)
    assert [t.get_text() for t in ax.texts] == ["0", "1", "0", "1"]
    with pytest.raises(ValueError, match="same length, got 2 and 3"):
        plotting.plot_confusion_matrix([0, 1], [1, 1, 0])


def test_heatmap_label_count_must_match():
    plotting.plot_heatmap(np.eye(3), x_labels=list("abc"), y_labels=list("xyz"))
    with pytest.raises(ValueError, match="3 x_labels for a matrix of shape \\(2, 3\\), got 2"):
        plotting.plot_heatmap(np.zeros((2, 3)), x_labels=["a", "b"])
    with pytest.raises(ValueError, match="2 dimensions"):
        plotting.plot_heatmap(np.zeros(3))


def test_running_mean():
    np.testing.assert_allclose(plotting.running_mean([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    with pytest.raises(ValueError, match="window >= 1"):
        plotting.running_mean([1.0], 0)


def test_returns_plot_draws_raw_and_smoothed_runs():
    _, ax = plt.subplots()
    plotting.plot_returns({"seed 0": [10, 20, 30], "seed 1": [5, 5, 5]}, window=2, target=475, ax=ax)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [10, 15, 25])
    assert len(ax.lines) == 5  # two runs x (raw, mean) + target line
    with pytest.raises(ValueError, match="1 dimensions"):
        plotting.plot_returns(np.zeros((3, 3)))


def test_curves_check_x_length():
    plotting.plot_curves({"a": [1, 2, 3]}, x=[0, 1, 2], logy=True)
    with pytest.raises(ValueError, match="same length, got 2 and 3"):
        plotting.plot_curves({"a": [1, 2, 3]}, x=[0, 1])
