"""helpers.training: the one-line-per-epoch logger, the live progress display, and without_remapper."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers import training
from helpers.training import EpochLogger, LiveProgress, LiveProgressCallback, without_remapper


def test_epoch_logger_prints_rounded_lines_every_k_epochs_and_the_last(capsys):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=5, verbose=0, callbacks=[EpochLogger(every=2, digits=3)])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch   2/5", "epoch   4/5", "epoch   5/5"]
    assert all(len(line.split("loss ")[1]) == len("0.000") for line in lines)


def test_epoch_logger_rejects_bad_interval():
    with pytest.raises(ValueError, match="every must be >= 1"):
        EpochLogger(every=0)


class FakeClock:
    """A clock that advances by ``tick`` seconds each time it is read."""

    def __init__(self, tick):
        self.now, self.tick = 0.0, tick

    def __call__(self):
        self.now += self.tick
        return self.now


class FakeHandle:
    """Records what a notebook display would show: every bundle, in order."""

    def __init__(self, bundle):
        self.shown = [bundle]

    def update(self, bundle, raw):
        assert raw
        self.shown.append(bundle)


@pytest.fixture
def notebook_display(monkeypatch):
    handles = []

    def open_display(bundle):
        handles.append(FakeHandle(bundle))
        return handles[-1]

    monkeypatch.setattr(training, "_in_notebook", lambda: True)
    monkeypatch.setattr(training, "_open_display", open_display)
    return handles


def test_live_progress_outside_a_notebook_displays_nothing(capsys):
    with LiveProgress(total=10, clock=FakeClock(5.0)) as progress:
        assert progress.handle is None and progress.update(1)
    assert capsys.readouterr().out == ""


def test_live_progress_throttles_updates_and_is_blank_at_the_end(notebook_display):
    with LiveProgress(total=100, label="demo", every_s=2.0, clock=FakeClock(0.5)) as progress:
        shown = [progress.update(step, loss=np.float32(1.23456)) for step in range(1, 21)]
    # the clock moves 0.5 s per reading and update() reads it once (twice when it shows: text has the time)
    assert 3 <= sum(shown) <= 6 and not shown[0]
    [handle] = notebook_display
    assert handle.shown[0] == {"text/plain": ""}                     # opened blank: the same output in every run
    assert handle.shown[-1] == {"text/plain": ""}                    # and blanked at the end
    middle = handle.shown[1]["text/plain"]
    assert middle.startswith("demo: step ") and "/100 · " in middle and middle.endswith("loss 1.235")
    assert "<progress" in handle.shown[1]["text/html"]
    assert len(handle.shown) == sum(shown) + 2


def test_live_progress_is_blanked_even_when_the_loop_fails(notebook_display):
    with pytest.raises(KeyboardInterrupt), LiveProgress(total=5, clock=FakeClock(10.0)) as progress:
        progress.update(1)
        raise KeyboardInterrupt
    assert notebook_display[0].shown[-2]["text/plain"].startswith("step 1/5")
    assert notebook_display[0].shown[-1] == {"text/plain": ""}


def test_live_progress_rejects_a_bad_interval():
    with pytest.raises(ValueError, match="every_s must be > 0"):
        LiveProgress(every_s=0)


def test_live_progress_callback_shows_epochs_and_batches_then_blanks(notebook_display, capsys):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((32, 2)), np.ones((32, 1)), batch_size=4, epochs=2, verbose=0, validation_split=0.25,
              callbacks=[LiveProgressCallback(every_s=1.0, clock=FakeClock(1.0))])
    assert capsys.readouterr().out == ""                             # nothing printed: only the display changes
    [handle] = notebook_display
    texts = [bundle["text/plain"] for bundle in handle.shown]
    assert any(t.startswith("epoch 1/2: step 3/6 · ") and " · loss " in t for t in texts)
    assert any(t.startswith("epoch 2/2: step 6/6 · ") for t in texts)
    assert "epoch 2/2: validating" in texts
    blank_after = [i for i, t in enumerate(texts) if t == "" and i > 0]
    assert len(blank_after) >= 3 and texts[-1] == ""                 # after each epoch and at the end


def test_without_remapper_switches_the_pass_off_and_restores_it():
    assert tf.config.optimizer.get_experimental_options().get("remapping", True)
    with without_remapper():
        assert tf.config.optimizer.get_experimental_options()["remapping"] is False
    assert tf.config.optimizer.get_experimental_options()["remapping"] is True


def test_without_remapper_silences_tf_2_20_relu_rnn_warnings(capfd):
    def run_irnn():
        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input((None, 1)), keras.layers.SimpleRNN(
            4, activation="relu", recurrent_initializer="identity", return_sequences=True)])
        return model.predict(np.ones((2, 5, 1), "float32"), verbose=0)

    capfd.readouterr()
    with without_remapper():
        quiet = run_irnn()
    assert "Relu" not in capfd.readouterr().err
    if tf.__version__.startswith("2.20."):                           # the version that prints them: show it does
        loud = run_irnn()
        assert "No registered '' OpKernel" in capfd.readouterr().err
        np.testing.assert_allclose(quiet, loud, rtol=1e-6)
