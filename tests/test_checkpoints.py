"""helpers.checkpoints: an interrupted run, resumed, ends exactly where an uninterrupted run ends."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers.checkpoints import TrainingCheckpoint, resume_callback

RNG = np.random.default_rng(0)
X = RNG.normal(size=(256, 4)).astype("float32")
Y = (X @ np.array([1.0, -2.0, 0.5, 3.0], dtype="float32"))[:, None]


def fresh_model():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


class InterruptAfter(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise KeyboardInterrupt("simulated disconnect")


def test_fit_interrupted_after_k_epochs_resumes_to_the_same_weights(tmp_path):
    uninterrupted = fresh_model()
    uninterrupted.fit(X, Y, epochs=6, batch_size=32, shuffle=False, verbose=0)

    interrupted = fresh_model()
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(X, Y, epochs=6, batch_size=32, shuffle=False, verbose=0,
                        callbacks=[resume_callback("run", root=tmp_path), InterruptAfter(3)])
    resumed = fresh_model()  # a new process would rebuild the model from scratch
    history = resumed.fit(X, Y, epochs=6, batch_size=32, shuffle=False, verbose=0,
                          callbacks=[resume_callback("run", root=tmp_path)])
    assert len(history.history["loss"]) == 3  # only epochs 4-6 ran again
    for ours, reference in zip(resumed.get_weights(), uninterrupted.get_weights()):
        np.testing.assert_allclose(ours, reference, rtol=1e-6, atol=1e-7)
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())


def test_resume_callback_rejects_paths_as_names():
    with pytest.raises(ValueError, match="plain folder name"):
        resume_callback("a/b")


def custom_loop(model, optimizer, checkpoint, total_steps, stop_at=None):
    start = checkpoint.restore()
    for step in range(start, total_steps):
        batch = slice((step * 32) % 256, (step * 32) % 256 + 32)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((model(X[batch]) - Y[batch]) ** 2)
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        checkpoint.save(step + 1)
        if stop_at is not None and step + 1 == stop_at:
            return start
    return start


def test_custom_loop_interrupted_after_k_steps_resumes_to_the_same_weights(tmp_path):
    reference = fresh_model()
    reference_optimizer = keras.optimizers.Adam(1e-2)
    custom_loop(reference, reference_optimizer, TrainingCheckpoint("ref", tmp_path, model=reference,
                                                                   optimizer=reference_optimizer), 20)

    first = fresh_model()
    first_optimizer = keras.optimizers.Adam(1e-2)
    custom_loop(first, first_optimizer, TrainingCheckpoint("run", tmp_path, model=first, optimizer=first_optimizer),
                20, stop_at=7)
    second = fresh_model()
    second_optimizer = keras.optimizers.Adam(1e-2)
    second_optimizer.build(second.trainable_variables)
    started_at = custom_loop(second, second_optimizer,
                             TrainingCheckpoint("run", tmp_path, model=second, optimizer=second_optimizer), 20)
    assert started_at == 7
    for ours, theirs in zip(second.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_training_checkpoint_needs_something_to_save(tmp_path):
    with pytest.raises(ValueError, match="at least one object"):
        TrainingCheckpoint("empty", tmp_path)
    checkpoint = TrainingCheckpoint("fresh", tmp_path, variable=tf.Variable(1.0))
    assert checkpoint.restore() == 0
    checkpoint.save(3)
    checkpoint.delete()
    assert not (tmp_path / "fresh").exists()
