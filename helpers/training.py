"""Training utilities: short, rounded per-epoch logs that keep stored outputs readable."""

from __future__ import annotations

from collections.abc import Sequence

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
