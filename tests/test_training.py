"""helpers.training: the one-line-per-epoch logger."""

import keras
import numpy as np
import pytest

from helpers.training import EpochLogger


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
