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


def cell_luminances(ax):
    """Relative luminance of the colour each heatmap cell is drawn in, computed here independently."""
    image = ax.images[0]
    rgb = image.cmap(image.norm(image.get_array()))[..., :3]
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return linear @ [0.2126, 0.7152, 0.0722]


def test_confusion_matrix_text_is_dark_on_light_cells_and_light_on_dark_cells():
    # A big diagonal: dark blue cells on the diagonal, near-white ones off it (the old rule was inverted
    # for the Blues map and wrote the off-diagonal counts in white on near-white).
    true = np.repeat([0, 1, 2], 100)
    pred = true.copy()
    pred[[0, 1, 100, 200, 201, 202]] = [1, 2, 0, 0, 0, 1]
    _, ax = plt.subplots()
    plotting.plot_confusion_matrix(true, pred, class_names=["a", "b", "c"], ax=ax)
    luminance = cell_luminances(ax)
    colors = np.array([t.get_color() for t in ax.texts]).reshape(3, 3)
    assert (np.diag(colors) == "white").all() and (colors[~np.eye(3, dtype=bool)] == "black").all()
    # black text exactly on the light cells, whatever the colour map
    np.testing.assert_array_equal(colors == "black", luminance > 0.179)
    assert luminance[0, 1] > 0.8 and luminance[0, 0] < 0.1


@pytest.mark.parametrize("cmap", ["viridis", "Blues", "magma", "Greys"])
def test_heatmap_text_contrasts_with_its_cell(cmap):
    _, ax = plt.subplots()
    values = np.linspace(0, 1, 12).reshape(3, 4)
    plotting.plot_heatmap(values, annotate=True, cmap=cmap, ax=ax)
    colors = np.array([t.get_color() for t in ax.texts]).reshape(3, 4)
    luminance = cell_luminances(ax)
    np.testing.assert_array_equal(colors == "black", luminance > 0.179)
    assert {"black", "white"} == set(colors.flat)     # both cases occur on a full 0..1 range


def test_text_color_on_extremes():
    assert plotting.text_color_on((1, 1, 1)) == "black" and plotting.text_color_on((0, 0, 0, 1)) == "white"
    assert plotting.relative_luminance((1, 1, 1)) == pytest.approx(1.0)


LONG_TITLES = ["Ankle boot 97%\ntrue Sneaker", "T-shirt/top 88%\ntrue Shirt", "Pullover 91%\ntrue Coat",
               "Sneaker 99%\ntrue Ankle boot", "Shirt 64%\ntrue T-shirt/top", "Bag 51%\ntrue Dress",
               "automobile", "label 7", "Sandal 73%\ntrue Ankle boot", "Coat 80%\ntrue Pullover",
               "T-shirt/top (88%) / true Shirt", "Ankle boot (97%) / true Sneaker"]


def drawn_titles(ncols):
    figure = last_figure()
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    axes = [ax for ax in figure.axes if ax.get_title()]
    return figure, renderer, axes


@pytest.mark.parametrize("ncols", [8, 10, 4])
def test_image_grid_titles_are_whole_and_fit_their_cells(ncols):
    plotting.plot_image_grid(np.zeros((len(LONG_TITLES), 28, 28)), titles=LONG_TITLES, ncols=ncols)
    figure, renderer, axes = drawn_titles(ncols)
    assert len(axes) == len(LONG_TITLES)
    for ax, wanted in zip(axes, LONG_TITLES):
        assert ax.get_title().split() == wanted.split()         # every word, none cut ("Ankle b")
        assert ax.title.get_fontsize() >= 5
        title_box = ax.title.get_window_extent(renderer)
        cell_width = ax.get_position(original=True).width * figure.bbox.width
        assert title_box.width <= cell_width + 0.5
    for left, right in zip(axes, axes[1:]):                     # neighbours in a row do not overlap
        if np.isclose(left.get_position().y0, right.get_position().y0):
            assert left.title.get_window_extent(renderer).x1 < right.title.get_window_extent(renderer).x0
    for upper, lower in zip(axes, axes[ncols:]):                # a title stays below the image above it
        assert lower.title.get_window_extent(renderer).y1 <= upper.get_window_extent(renderer).y0 + 0.5


def test_image_grid_shrinks_a_title_that_cannot_be_wrapped():
    word = "supercalifragilisticexpialidocious"
    plotting.plot_image_grid(np.zeros((8, 8, 8)), titles=[word] * 8, ncols=8)
    figure, renderer, axes = drawn_titles(8)
    assert axes[0].get_title() == word and axes[0].title.get_fontsize() < 8
    for left, right in zip(axes, axes[1:]):
        assert left.title.get_window_extent(renderer).x1 < right.title.get_window_extent(renderer).x0


def test_image_grid_keeps_short_titles_at_full_size_on_one_line():
    plotting.plot_image_grid(np.zeros((4, 8, 8)), titles=["0", "1", "2", "3"], ncols=4)
    _, _, axes = drawn_titles(4)
    assert [(ax.get_title(), ax.title.get_fontsize()) for ax in axes] == [(str(i), 8) for i in range(4)]


@pytest.mark.parametrize("y_true, y_pred, message", [
    (np.eye(3), [0, 1, 2], r"y_true as class indices \(N,\) with 1 dimensions, got shape \(3, 3\)"),
    ([0, 1, 2], [[0], [1], [2]], r"y_pred as class indices \(N,\) with 1 dimensions, got shape \(3, 1\)"),
    ([0, 1, 3], [0, 1, 2], r"y_true in 0..2 \(3 classes\), got values from 0 to 3"),
    ([0, 1, 2], [0, -1, 2], r"y_pred in 0..2 \(3 classes\), got values from -1 to 2"),
    ([0, 1.5, 2], [0, 1, 2], "whole class indices"),
])
def test_confusion_matrix_rejects_bad_labels(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        plotting.confusion_matrix(y_true, y_pred, num_classes=3)


def test_confusion_matrix_plot_rejects_labels_beyond_the_class_names():
    with pytest.raises(ValueError, match=r"y_pred in 0..1 \(2 classes\), got values from 0 to 2"):
        plotting.plot_confusion_matrix([0, 1], [0, 2], class_names=["a", "b"])


def test_heatmap_rejects_an_empty_matrix():
    with pytest.raises(ValueError, match=r"non-empty matrix, got shape \(0, 3\)"):
        plotting.plot_heatmap(np.zeros((0, 3)))


def test_image_grid_value_range_gives_one_colour_scale_centred_on_zero():
    weights = np.stack([np.full((3, 3), 0.5), np.full((3, 3), -2.0), np.linspace(-1, 1, 9).reshape(3, 3)])
    plotting.plot_image_grid(weights, value_range=(-2, 2), cmap="RdBu_r", ncols=3)
    axes = last_figure().axes
    assert [ax.images[0].get_clim() for ax in axes] == [(-2, 2)] * 3
    np.testing.assert_array_equal(axes[1].images[0].get_array(), weights[1])      # not rescaled per image
    zero_color = axes[2].images[0].to_rgba(0.0)
    assert zero_color == pytest.approx(plt.get_cmap("RdBu_r")(0.5))
    with pytest.raises(ValueError, match="low < high"):
        plotting.plot_image_grid(weights, value_range=(1, -1))
