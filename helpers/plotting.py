"""Plots with one course-wide look. Every function checks its inputs and says what it expected.

Each function draws one figure and shows it. Functions with an ``ax`` argument draw into that
matplotlib Axes instead (and leave showing to the caller), so several plots can share a figure.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

COURSE_STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 80,
    "savefig.dpi": 80,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "legend.frameon": False,
    "image.cmap": "viridis",
}


def use_course_style() -> None:
    """Apply the course's matplotlib settings (called by ``helpers.setup``)."""
    plt.rcParams.update(COURSE_STYLE)


def _fail(function: str, expected: str, got: Any) -> None:
    raise ValueError(f"{function}: expected {expected}, got {got}")


def _array(function: str, name: str, value: Any, ndims: Sequence[int]) -> np.ndarray:
    """``value`` as an array with one of the allowed numbers of dimensions, else a clear ValueError."""
    array = np.asarray(value)
    if array.ndim not in ndims:
        _fail(function, f"{name} with {' or '.join(map(str, ndims))} dimensions", f"shape {array.shape}")
    if array.dtype.kind not in "biuf":
        _fail(function, f"{name} of numbers", f"dtype {array.dtype}")
    return array


def _new_axes(ax: plt.Axes | None, figsize: tuple[float, float] | None = None) -> tuple[plt.Axes, bool]:
    if ax is not None:
        return ax, False
    _, new_ax = plt.subplots(figsize=figsize)
    return new_ax, True


def _finish(created: bool) -> None:
    if created:
        plt.tight_layout()
        plt.show()


def plot_history(history: Any, metrics: Sequence[str] | None = None, title: str | None = None) -> None:
    """Training curves from a Keras ``History`` (or its ``.history`` dict): one panel per metric,
    training and validation (``val_<metric>``) together.

    Args:
        history: ``model.fit(...)``'s return value, or a dict of metric name -> list of per-epoch values.
        metrics: which metrics to draw (default: every key that is not ``val_*``).
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping) or not logs:
        _fail("plot_history", "a Keras History or a non-empty dict of metric -> per-epoch values",
              type(history).__name__)
    metrics = list(metrics) if metrics is not None else [k for k in logs if not k.startswith("val_")]
    unknown = [m for m in metrics if m not in logs]
    if unknown:
        _fail("plot_history", f"metrics among {sorted(logs)}", unknown)
    figure, axes = plt.subplots(1, len(metrics), figsize=(4.8 * len(metrics), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for key, label, style in ((metric, "training", "-"), (f"val_{metric}", "validation", "--")):
            if key in logs:
                values = _array("plot_history", f"history[{key!r}]", logs[key], (1,))
                ax.plot(np.arange(1, len(values) + 1), values, style, marker="o", markersize=3, label=label)
        ax.set(xlabel="epoch", title=metric)
        ax.legend()
    if title:
        figure.suptitle(title)
    _finish(True)


def plot_curves(curves: Mapping[str, Any], xlabel: str = "step", ylabel: str = "value", *,
                x: Any = None, logy: bool = False, title: str | None = None, ax: plt.Axes | None = None) -> None:
    """Several named 1-D series on one set of axes (loss paths, learning-rate schedules, ...)."""
    if not isinstance(curves, Mapping) or not curves:
        _fail("plot_curves", "a non-empty dict of name -> 1-D values", type(curves).__name__)
    ax, created = _new_axes(ax)
    for name, values in curves.items():
        values = _array("plot_curves", f"curves[{name!r}]", values, (1,))
        steps = np.arange(len(values)) if x is None else _array("plot_curves", "x", x, (1,))
        if len(steps) != len(values):
            _fail("plot_curves", f"x and curves[{name!r}] of the same length", f"{len(steps)} and {len(values)}")
        ax.plot(steps, values, label=name)
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend()
    _finish(created)


def plot_trajectories(loss: Callable[[np.ndarray, np.ndarray], np.ndarray], trajectories: Mapping[str, Any],
                      xlim: tuple[float, float], ylim: tuple[float, float], *, levels: int = 30,
                      log_levels: bool = True, minimum: tuple[float, float] | None = None,
                      title: str | None = None, ax: plt.Axes | None = None) -> None:
    """Contours of a 2-D loss with optimizer paths drawn on top.

    Args:
        loss: vectorised loss, called as ``loss(X, Y)`` on two meshgrid arrays.
        trajectories: name -> array of shape (steps, 2), the parameters after each step.
        minimum: mark the known minimum with a star.
        log_levels: space contour levels logarithmically (losses spanning decades).
    """
    if not isinstance(trajectories, Mapping):
        _fail("plot_trajectories", "a dict of name -> (steps, 2) array", type(trajectories).__name__)
    paths = {name: _array("plot_trajectories", f"trajectories[{name!r}]", path, (2,))
             for name, path in trajectories.items()}
    for name, path in paths.items():
        if path.shape[1] != 2 or len(path) == 0:
            _fail("plot_trajectories", f"trajectories[{name!r}] of shape (steps, 2)", f"shape {path.shape}")
    grid_x, grid_y = np.meshgrid(np.linspace(*xlim, 300), np.linspace(*ylim, 300))
    values = np.asarray(loss(grid_x, grid_y), dtype=float)
    if values.shape != grid_x.shape:
        _fail("plot_trajectories", f"loss(X, Y) to return shape {grid_x.shape}", f"shape {values.shape}")
    ax, created = _new_axes(ax, (6.0, 4.8))
    low, span = float(values.min()), float(np.ptp(values)) or 1.0
    contour_levels = low + np.geomspace(1e-4 * span, span, levels) if log_levels else levels
    ax.contour(grid_x, grid_y, values, levels=contour_levels, cmap="Greys", alpha=0.6)
    for name, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], marker="o", markersize=2.5, linewidth=1.2, label=f"{name} ({len(path) - 1} steps)")
    if minimum is not None:
        ax.plot(*minimum, marker="*", markersize=14, color="gold", markeredgecolor="black", linestyle="none",
                label="minimum")
    ax.set(xlim=xlim, ylim=ylim, xlabel=r"$\theta_1$", ylabel=r"$\theta_2$", title=title)
    ax.legend(loc="best", fontsize=8)
    _finish(created)


def _title_wrappings(text: str) -> list[str]:
    """``text`` unwrapped, then wrapped at spaces onto more and more lines (words are never cut)."""
    options = [text]
    longest_line = max(map(len, text.split("\n")))
    for width in range(longest_line - 1, 0, -1):
        wrapped = "\n".join(textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False)
                            for line in text.split("\n"))
        if wrapped != options[-1]:
            options.append(wrapped)
    return options


def _fit_title(ax: plt.Axes, text: str, fontsize: float, min_fontsize: float = 5.0) -> None:
    """Give ``ax`` the title ``text`` at the largest font size (then the fewest lines) whose width fits the
    axes' cell in the grid, so a long class name is shown whole instead of overlapping its neighbours."""
    renderer = ax.figure.canvas.get_renderer()
    limit = ax.get_position(original=True).width * ax.figure.bbox.width
    title = ax.title
    size = fontsize
    while True:
        title.set_fontsize(size)
        for option in _title_wrappings(text):
            title.set_text(option)
            if title.get_window_extent(renderer).width <= limit:
                return
        if size <= min_fontsize:
            return          # the narrowest option at the smallest size: as good as it gets
        size = max(size - 0.5, min_fontsize)


def plot_image_grid(images: Any, titles: Sequence[str] | None = None, *, ncols: int = 8,
                    title_colors: Sequence[str] | None = None, cmap: str = "gray", title: str | None = None,
                    value_range: tuple[float, float] | None = None) -> None:
    """A grid of images (N, H, W), (N, H, W, 1) or (N, H, W, 3) with optional per-image titles.

    Pixel values may be uint8 (0-255) or floats in [0, 1]; other float ranges are rescaled per image,
    unless ``value_range=(low, high)`` gives one colour scale for every (one-channel) image: weights drawn
    with ``value_range=(-m, m)`` and a diverging ``cmap`` such as ``"RdBu_r"`` put zero at the middle colour.
    Titles are shown whole: a title too wide for its image is wrapped at spaces, then set in a smaller
    font, and the rows get the height their titles need.
    """
    array = _array("plot_image_grid", "images", images, (3, 4))
    if array.ndim == 4 and array.shape[-1] not in (1, 3):
        _fail("plot_image_grid", "images of shape (N, H, W), (N, H, W, 1) or (N, H, W, 3) (channels last)",
              f"shape {array.shape}")
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    count = len(array)
    if count == 0:
        _fail("plot_image_grid", "at least one image", "none")
    if value_range is not None and (array.ndim != 3 or len(value_range) != 2 or not value_range[0] < value_range[1]):
        _fail("plot_image_grid", "value_range=(low, high) with low < high, for one-channel images",
              f"{value_range} for shape {array.shape}")
    for what, values in (("titles", titles), ("title_colors", title_colors)):
        if values is not None and len(values) != count:
            _fail("plot_image_grid", f"{count} {what} (one per image)", len(values))
    ncols = max(1, min(ncols, count))
    nrows = -(-count // ncols)
    figure, axes = plt.subplots(nrows, ncols, figsize=(1.4 * ncols, 1.5 * nrows + 0.3), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= count:
            continue
        image = array[index]
        if value_range is not None:
            ax.imshow(image, cmap=cmap, vmin=value_range[0], vmax=value_range[1])
        else:
            if image.dtype.kind == "f" and (image.min() < 0 or image.max() > 1):
                image = (image - image.min()) / max(float(image.max() - image.min()), 1e-12)
            ax.imshow(image, cmap=cmap if image.ndim == 2 else None)
        if titles is not None:
            ax.set_title(str(titles[index]), fontsize=8, fontweight="normal",
                         color=title_colors[index] if title_colors is not None else "black")
    if title:
        figure.suptitle(title)
    if titles is not None:
        titled = list(zip(axes.flat, map(str, titles)))
        for ax, text in titled:
            _fit_title(ax, text, 8)
        lines = max(ax.title.get_text().count("\n") + 1 for ax, _ in titled)
        figure.set_size_inches(1.4 * ncols, (1.35 + 0.15 * lines) * nrows + 0.3)
        figure.tight_layout()
        for ax, text in titled:        # tight_layout moved the axes: fit again, starting from the size reached
            _fit_title(ax, text, ax.title.get_fontsize())
    _finish(True)


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """Counts[i, j] = how many examples of true class i were predicted as class j.

    Both arguments are 1-D arrays of class indices (take ``argmax(axis=1)`` of probabilities or one-hot rows).
    """
    arrays = []
    for name, value in (("y_true", y_true), ("y_pred", y_pred)):
        labels = _array("confusion_matrix", f"{name} as class indices (N,)", value, (1,))
        if labels.dtype.kind == "f" and not np.array_equal(labels, np.round(labels)):
            _fail("confusion_matrix", f"{name} of whole class indices", "fractional values")
        arrays.append(labels.astype(int))
    true, pred = arrays
    if len(true) != len(pred):
        _fail("confusion_matrix", "y_true and y_pred of the same length", f"{len(true)} and {len(pred)}")
    num_classes = num_classes or int(max(true.max(initial=0), pred.max(initial=0)) + 1)
    for name, labels in (("y_true", true), ("y_pred", pred)):
        if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
            _fail("confusion_matrix", f"{name} in 0..{num_classes - 1} ({num_classes} classes)",
                  f"values from {labels.min()} to {labels.max()}")
    counts = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(counts, (true, pred), 1)
    return counts


def relative_luminance(color: Any) -> float:
    """WCAG relative luminance of an RGB(A) colour with channels in [0, 1]: 0 for black, 1 for white."""
    rgb = np.asarray(color, dtype=float)[:3]
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def text_color_on(color: Any) -> str:
    """"black" or "white", whichever contrasts more with the background ``color`` (dark text on light cells)."""
    # Contrast ratios (L + 0.05) / 0.05 for black text and 1.05 / (L + 0.05) for white are equal at L = 0.179.
    return "black" if relative_luminance(color) > 0.179 else "white"


def plot_heatmap(matrix: Any, *, x_labels: Sequence[str] | None = None, y_labels: Sequence[str] | None = None,
                 xlabel: str = "", ylabel: str = "", title: str | None = None, annotate: bool = False,
                 value_format: str = "{:.2f}", cmap: str = "viridis", ax: plt.Axes | None = None) -> None:
    """A 2-D matrix as a coloured grid (attention weights, Q-values, confusion counts, ...)."""
    values = _array("plot_heatmap", "matrix", matrix, (2,))
    rows, cols = values.shape
    if values.size == 0:
        _fail("plot_heatmap", "a non-empty matrix", f"shape {values.shape}")
    for name, labels, size in (("x_labels", x_labels, cols), ("y_labels", y_labels, rows)):
        if labels is not None and len(labels) != size:
            _fail("plot_heatmap", f"{size} {name} for a matrix of shape {values.shape}", len(labels))
    ax, created = _new_axes(ax, (min(1.0 + 0.5 * cols, 10), min(0.8 + 0.45 * rows, 8)))
    image = ax.imshow(values, cmap=cmap, aspect="auto")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.grid(False)
    if x_labels is not None:
        ax.set_xticks(range(cols), x_labels, rotation=45 if max(map(len, map(str, x_labels))) > 3 else 0, ha="right")
    if y_labels is not None:
        ax.set_yticks(range(rows), y_labels)
    if annotate:
        cell_colors = image.cmap(image.norm(values))          # the RGBA colour each cell is drawn in
        for (i, j), value in np.ndenumerate(values):
            ax.text(j, i, value_format.format(value), ha="center", va="center", fontsize=7,
                    color=text_color_on(cell_colors[i, j]))
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    _finish(created)


def plot_confusion_matrix(y_true: Any, y_pred: Any, class_names: Sequence[str] | None = None, *,
                          title: str = "Confusion matrix", ax: plt.Axes | None = None) -> None:
    """Confusion matrix of integer labels, counts written in each cell (rows: true, columns: predicted)."""
    counts = confusion_matrix(y_true, y_pred, len(class_names) if class_names is not None else None)
    plot_heatmap(counts, x_labels=class_names, y_labels=class_names, xlabel="predicted", ylabel="true",
                 title=title, annotate=True, value_format="{:d}", cmap="Blues", ax=ax)


def running_mean(values: Any, window: int) -> np.ndarray:
    """Mean of the last ``window`` values at each point (shorter at the start), same length as ``values``."""
    array = _array("running_mean", "values", values, (1,)).astype(float)
    if window < 1:
        _fail("running_mean", "window >= 1", window)
    sums = np.cumsum(np.insert(array, 0, 0.0))
    starts = np.maximum(np.arange(1, len(array) + 1) - window, 0)
    return (sums[1:] - sums[starts]) / (np.arange(1, len(array) + 1) - starts)


def plot_returns(returns: Any, *, window: int = 20, target: float | None = None, xlabel: str = "episode",
                 title: str | None = None, ax: plt.Axes | None = None) -> None:
    """Episode returns (faint) with their running mean (bold); ``returns`` may be a dict of runs."""
    runs = returns if isinstance(returns, Mapping) else {"return": returns}
    ax, created = _new_axes(ax)
    for name, values in runs.items():
        values = _array("plot_returns", f"returns[{name!r}]", values, (1,))
        (line,) = ax.plot(values, alpha=0.3, linewidth=0.8)
        ax.plot(running_mean(values, window), color=line.get_color(), linewidth=2,
                label=f"{name} (mean of last {window})")
    if target is not None:
        ax.axhline(target, color="black", linestyle=":", label=f"target {target:g}")
    ax.set(xlabel=xlabel, ylabel="return", title=title)
    ax.legend()
    _finish(created)
