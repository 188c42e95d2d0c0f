"""Interrupted training resumes where it stopped (Colab disconnects, laptops sleep).

Two thin wrappers over TensorFlow's own machinery:

* ``resume_callback(directory)`` for ``model.fit``: Keras' ``BackupAndRestore`` callback, which
  saves the model, the optimizer and the epoch counter and, when ``fit`` is called again after an
  interruption, restores them and continues with the next epoch.
* ``TrainingCheckpoint`` for custom training loops (GANs, DQN): ``tf.train.Checkpoint`` +
  ``tf.train.CheckpointManager`` over any objects you name, plus a step counter.
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf

DEFAULT_ROOT = Path("checkpoints")
"""Where notebooks keep checkpoints (relative to the notebook; git-ignored)."""


def resume_callback(name: str, root: str | Path = DEFAULT_ROOT, save_every: str | int = "epoch",
                    delete_when_done: bool = True) -> keras.callbacks.BackupAndRestore:
    """A ``BackupAndRestore`` callback keeping its backup in ``root/name``.

    Args:
        name: one folder per training run, e.g. ``"cifar10_resnet"``.
        save_every: ``"epoch"`` or a number of batches.
        delete_when_done: remove the backup when ``fit`` completes (Keras' default); pass False to keep it.
    """
    if not name or "/" in name or "\\" in name:
        raise ValueError(f"resume_callback: name must be a plain folder name like 'mnist_cnn', got {name!r}")
    return keras.callbacks.BackupAndRestore(backup_dir=str(Path(root) / name), save_freq=save_every,
                                            delete_checkpoint=delete_when_done)


class TrainingCheckpoint:
    """Save and restore a custom training loop: every named trackable object plus a step counter.

    Example::

        checkpoint = TrainingCheckpoint("dqn", q_network=q, target=target, optimizer=opt)
        start = checkpoint.restore()          # 0 on a fresh start, else the saved step
        for step in range(start, total_steps):
            ...
            if (step + 1) % 1000 == 0:
                checkpoint.save(step + 1)

    Anything TensorFlow can track works (Keras models, optimizers, ``tf.Variable``); plain Python or
    NumPy state (a replay buffer, a random generator) must be stored by the caller.
    """

    def __init__(self, name: str, root: str | Path = DEFAULT_ROOT, max_to_keep: int = 2, **trackables: object) -> None:
        if not trackables:
            raise ValueError("TrainingCheckpoint needs at least one object to save, e.g. model=model")
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.directory = Path(root) / name
        self._checkpoint = tf.train.Checkpoint(step=self.step, **trackables)
        self._manager = tf.train.CheckpointManager(self._checkpoint, str(self.directory), max_to_keep=max_to_keep)

    def restore(self) -> int:
        """Restore the latest checkpoint if there is one; return the step to continue from (0 if none)."""
        latest = self._manager.latest_checkpoint
        if latest is None:
            return 0
        self._checkpoint.restore(latest).assert_existing_objects_matched()
        return int(self.step.numpy())

    def save(self, step: int) -> Path:
        """Save everything at ``step`` (older checkpoints beyond ``max_to_keep`` are deleted)."""
        self.step.assign(step)
        return Path(self._manager.save(checkpoint_number=step))

    def delete(self) -> None:
        """Remove this run's checkpoints (start the next run from scratch)."""
        for path in self.directory.glob("*"):
            path.unlink()
        if self.directory.exists():
            self.directory.rmdir()
