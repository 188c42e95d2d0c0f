"""Training utilities: short, rounded per-epoch logs that keep stored outputs readable, and a live progress
display that shows how a long epoch is going without leaving anything timing-dependent in the notebook."""

from __future__ import annotations

import contextlib
import html
import time
from collections.abc import Iterator, Sequence

import keras


class EpochLogger(keras.callbacks.Callback):
    """Print one line per epoch (or every ``every`` epochs) with rounded metrics.

    Use with ``model.fit(..., verbose=0, callbacks=[EpochLogger()])`` instead of Keras' progress bars,
    which fill stored outputs with timings and carriage returns.
    """

    def __init__(self, every: int = 1, metrics: Sequence[str] | None = None, digits: int = 4) -> None:
        super().__init__()
        if every < 1:
            raise ValueError(f"EpochLogger: every must be >= 1, got {every}")
        self.every = every
        self.metrics = list(metrics) if metrics is not None else None
        self.digits = digits
        self.epochs = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epochs = self.params.get("epochs", 0)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if (epoch + 1) % self.every and epoch + 1 != self.epochs:
            return
        names = self.metrics if self.metrics is not None else [k for k in logs if k != "learning_rate"]
        values = " · ".join(f"{name} {float(logs[name]):.{self.digits}f}" for name in names if name in logs)
        print(f"epoch {epoch + 1:>3}/{self.epochs}: {values}")


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where a display can be updated in place), False in scripts and tests."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _open_display(bundle: dict):
    """Show a MIME bundle in the notebook and return its handle (``handle.update(bundle, raw=True)``)."""
    from IPython.display import display

    return display(bundle, raw=True, display_id=True)


class LiveProgress:
    """A progress line that updates in place while a loop runs, and is blanked when the loop ends.

    Long CPU epochs (a minute or more) otherwise show nothing until the next epoch line. In a notebook
    this shows a progress bar with the step count, elapsed seconds and the latest metrics, refreshed at
    most every ``every_s`` seconds; ``close()`` (or leaving the ``with`` block, also on an error)
    replaces it by an empty display, so the stored notebook keeps only the concise per-epoch lines and
    nothing that depends on timing. Outside a notebook (scripts, tests) it shows nothing.

        with helpers.LiveProgress(total=steps, label="DCGAN") as progress:
            for step in range(steps):
                metrics = train_step(...)
                progress.update(step + 1, d_loss=metrics["d_loss"])

    For ``model.fit`` use the callback ``LiveProgressCallback()``.
    """

    def __init__(self, total: int | None = None, label: str = "", every_s: float = 2.0, clock=time.monotonic) -> None:
        if every_s <= 0:
            raise ValueError(f"LiveProgress: every_s must be > 0, got {every_s}")
        self.total, self.label, self.every_s, self.clock = total, label, every_s, clock
        self.start = self.clock()
        self.last_shown = self.start
        self.handle = _open_display(self._bundle("")) if _in_notebook() else None

    def _bundle(self, text: str, fraction: float | None = None) -> dict:
        if not text:
            return {"text/plain": ""}
        bar = "" if fraction is None else f'<progress value="{fraction:.3f}" max="1" style="width: 12em"></progress> '
        return {"text/plain": text, "text/html": f"<div><code>{bar}{html.escape(text)}</code></div>"}

    def text(self, done: int, metrics: dict | None = None) -> str:
        """The line shown after ``done`` steps, e.g. ``'DCGAN: step 300/8000 · 12 s · d_loss 1.234'``."""
        count = f"{done}/{self.total}" if self.total else f"{done}"
        parts = [f"{self.label}: step {count}" if self.label else f"step {count}",
                 f"{self.clock() - self.start:.0f} s"]
        parts += [f"{name} {float(value):.4g}" for name, value in (metrics or {}).items()]
        return " · ".join(parts)

    def update(self, done: int, force: bool = False, **metrics) -> bool:
        """Show progress after ``done`` steps if ``every_s`` seconds have passed (or ``force``); say whether it did.

        Metric values may be tensors: they are read only when the line is shown.
        """
        if not force and self.clock() - self.last_shown < self.every_s:
            return False
        self.show(self.text(done, metrics), min(done / self.total, 1.0) if self.total else None)
        return True

    def show(self, text: str, fraction: float | None = None) -> None:
        """Replace the displayed line by ``text`` now (an empty ``text`` blanks it)."""
        self.last_shown = self.clock()
        if self.handle is not None:
            self.handle.update(self._bundle(text, fraction), raw=True)

    def close(self) -> None:
        """Blank the display for good: the stored output is then an empty line, the same in every run."""
        self.show("")
        self.handle = None

    def __enter__(self) -> LiveProgress:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class LiveProgressCallback(keras.callbacks.Callback):
    """``LiveProgress`` for ``model.fit``: epoch, batch, elapsed seconds and the running loss, in place.

    Use with ``verbose=0`` and ``EpochLogger()``: ``callbacks=[helpers.EpochLogger(), helpers.LiveProgressCallback()]``.
    The display is blanked at the end of every epoch (so a run stopped between epochs, as by an
    interrupted session, leaves no timing behind) and at the end of training.
    """

    def __init__(self, every_s: float = 2.0, clock=time.monotonic) -> None:
        super().__init__()
        self.every_s, self.clock = every_s, clock
        self.progress: LiveProgress | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.progress = LiveProgress(total=self.params.get("steps"), every_s=self.every_s, clock=self.clock)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.progress is not None:
            self.progress.label = f"epoch {epoch + 1}/{self.params.get('epochs', '?')}"

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.progress is not None:
            self.progress.update(batch + 1, **{k: v for k, v in (logs or {}).items() if k == "loss"})

    def on_test_begin(self, logs: dict | None = None) -> None:
        if self.progress is not None:
            self.progress.show(f"{self.progress.label}: validating")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.progress is not None:
            self.progress.show("")

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.progress is not None:
            self.progress.close()


@contextlib.contextmanager
def without_remapper() -> Iterator[None]:
    """Run the block with TensorFlow's graph "remapper" (an op-fusion pass of Grappler) switched off.

    The course needs it once. TensorFlow 2.20 (Colab's) with oneDNN tries to fuse the ReLU of a
    ``SimpleRNN(activation="relu")`` inside its loop, fails, and writes blocks of C++ warnings
    ("No registered '' OpKernel ... simple_rnn_cell/Relu", "remapper failed") straight to the process's
    stderr, before TensorFlow's log settings apply, so ``TF_CPP_MIN_LOG_LEVEL`` cannot hide them; the
    graph then runs unfused anyway. Functions first run inside the block are optimised without the
    remapper: no failed fusion, no warnings, the same model (only speed and round-off can change).
    TensorFlow 2.21 prints nothing there. The previous setting is restored on leaving.
    """
    import tensorflow as tf

    previous = tf.config.optimizer.get_experimental_options().get("remapping", True)  # unset means on
    tf.config.optimizer.set_experimental_options({"remapping": False})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({"remapping": previous})
