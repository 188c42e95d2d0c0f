"""Chapter 04's from-scratch schedules (the notebook's own cells) against keras.optimizers.schedules.

Every parity check of the notebook is repeated here with the same settings, plus checks that would
catch an off-by-one in the step convention or a wrong boundary.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

from helpers.toy_losses import keras_trajectory, quadratic, run_steps
from tests.notebook_code import scratch_namespace

NOTEBOOK = "04_learning_rate_schedules.ipynb"
schedules = keras.optimizers.schedules
T = 200
EVERY_STEP = np.arange(241)  # past the end of every decay: the clamping is checked too
QUADRATIC = quadratic(100.0)


@pytest.fixture(scope="module")
def scratch() -> dict:
    return scratch_namespace(NOTEBOOK)


def keras_values(schedule, steps) -> np.ndarray:
    return np.array([float(schedule(step)) for step in steps])


def assert_parity(ours, theirs, atol: float = 1e-9, rtol: float = 1e-6) -> None:
    """The notebook's check_parity criterion: max |ours - theirs| <= atol + rtol * max |theirs|."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape
    assert np.all(np.isfinite(ours)) and np.all(np.isfinite(theirs))
    assert np.abs(ours - theirs).max() <= atol + rtol * np.abs(theirs).max()


CASES = {
    "step": (lambda s, t: s["step_decay"](t, boundaries=[100, 150], values=[0.1, 0.01, 0.001]),
             lambda: schedules.PiecewiseConstantDecay(boundaries=[100, 150], values=[0.1, 0.01, 0.001])),
    "exponential": (lambda s, t: s["exponential_decay"](t, 0.1, decay_steps=T, decay_rate=0.01),
                    lambda: schedules.ExponentialDecay(0.1, decay_steps=T, decay_rate=0.01)),
    "inverse time": (lambda s, t: s["inverse_time_decay"](t, 0.1, decay_steps=T, decay_rate=9.0),
                     lambda: schedules.InverseTimeDecay(0.1, decay_steps=T, decay_rate=9.0)),
    "cosine": (lambda s, t: s["cosine_decay"](t, 0.1, decay_steps=T),
               lambda: schedules.CosineDecay(0.1, decay_steps=T)),
    "warm-up + cosine": (lambda s, t: s["warmup_cosine_decay"](t, 0.0, decay_steps=T, warmup_target=0.1, warmup_steps=20),
                         lambda: schedules.CosineDecay(0.0, decay_steps=T, warmup_target=0.1, warmup_steps=20)),
    "exponential, staircase": (lambda s, t: s["exponential_decay"](t, 0.1, 50, 0.5, staircase=True),
                               lambda: schedules.ExponentialDecay(0.1, 50, 0.5, staircase=True)),
    "inverse time, staircase": (lambda s, t: s["inverse_time_decay"](t, 0.1, 50, 1.0, staircase=True),
                                lambda: schedules.InverseTimeDecay(0.1, 50, 1.0, staircase=True)),
    "cosine with alpha": (lambda s, t: s["cosine_decay"](t, 0.1, decay_steps=T, alpha=0.2),
                          lambda: schedules.CosineDecay(0.1, decay_steps=T, alpha=0.2)),
    "polynomial, power 2 (exercise 1)": (lambda s, t: s["polynomial_decay"](t, 0.1, 200, 0.001, power=2.0),
                                         lambda: schedules.PolynomialDecay(0.1, 200, end_learning_rate=0.001, power=2.0)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_schedule_matches_keras_at_every_step(scratch, name):
    ours, theirs = CASES[name]
    assert_parity(ours(scratch, EVERY_STEP), keras_values(theirs(), EVERY_STEP))


def test_step_decay_boundary_belongs_to_the_earlier_piece(scratch):
    values = scratch["step_decay"](np.array([99, 100, 101, 150, 151]), [100, 150], [0.1, 0.01, 0.001])
    np.testing.assert_allclose(values, [0.1, 0.1, 0.01, 0.01, 0.001])


def test_warmup_schedule_shape(scratch):
    values = scratch["warmup_cosine_decay"](np.array([0, 10, 20, 120, 220, 300]), 0.0, 200, 0.1, 20)
    np.testing.assert_allclose(values, [0.0, 0.05, 0.1, 0.05, 0.0, 0.0], atol=1e-12)


def test_warmup_then_constant_via_alpha_one(scratch):
    """Exercise 2: CosineDecay(alpha=1) with a warm-up is a linear warm-up followed by a constant."""
    direct = np.minimum(EVERY_STEP / 20, 1.0) * 0.1
    keras_schedule = schedules.CosineDecay(0.0, decay_steps=1000, alpha=1.0, warmup_target=0.1, warmup_steps=20)
    assert_parity(direct, keras_values(keras_schedule, EVERY_STEP))
    assert_parity(direct, scratch["warmup_cosine_decay"](EVERY_STEP, 0.0, 1000, 0.1, 20, alpha=1.0), atol=1e-12, rtol=0)


def test_update_k_uses_schedule_of_k(scratch):
    gd = scratch["ScheduledGradientDescent"]

    def decaying(k):
        return scratch["exponential_decay"](k, 0.019, decay_steps=100, decay_rate=0.1)

    ours = run_steps(gd(decaying), QUADRATIC.gradient, QUADRATIC.start, 150)
    theirs = keras_trajectory(keras.optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.019, 100, 0.1)),
                              QUADRATIC.gradient, QUADRATIC.start, 150)
    assert_parity(ours, theirs)
    shifted = run_steps(gd(lambda k: decaying(k + 1)), QUADRATIC.gradient, QUADRATIC.start, 150)
    assert np.abs(shifted - theirs).max() > 1e-3, "an off-by-one schedule must be detectable"


def test_warmup_from_zero_leaves_the_first_update_at_zero():
    optimizer = keras.optimizers.SGD(learning_rate=schedules.CosineDecay(0.0, 100, warmup_target=0.1, warmup_steps=10))
    path = keras_trajectory(optimizer, QUADRATIC.gradient, QUADRATIC.start, 2)
    np.testing.assert_array_equal(path[1], path[0])
    assert np.abs(path[2] - path[1]).max() > 0


def test_learning_rate_scheduler_callback_uses_our_epoch_function(scratch):
    schedule = scratch["halve_every_two_epochs"]
    assert [schedule(e, None) for e in range(6)] == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.normal(size=(64, 1)).astype("float32")
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    logged = model.fit(x, y, epochs=6, batch_size=32, verbose=0,
                       callbacks=[keras.callbacks.LearningRateScheduler(schedule)]).history["learning_rate"]
    assert_parity([schedule(e, None) for e in range(6)], logged)


def test_staircase_exponential_equals_the_epoch_rule_at_epoch_starts(scratch):
    """Exercise 4, for the default run's 157 steps per epoch and for the smoke run's 16."""
    for steps_per_epoch in (157, 16):
        per_step = schedules.ExponentialDecay(0.1, decay_steps=2 * steps_per_epoch, decay_rate=0.5, staircase=True)
        epoch_starts = np.arange(6) * steps_per_epoch
        assert_parity(keras_values(per_step, epoch_starts), [scratch["halve_every_two_epochs"](e, None) for e in range(6)])


def test_keras3_rejects_lr_and_ignores_decay(scratch):
    with pytest.raises(ValueError, match="lr"):
        keras.optimizers.SGD(lr=0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        keras2_style = keras.optimizers.SGD(learning_rate=0.019, decay=0.01)
    assert any("decay" in str(w.message) for w in caught)
    ignored = keras_trajectory(keras2_style, QUADRATIC.gradient, QUADRATIC.start, 150)
    no_decay = keras_trajectory(keras.optimizers.SGD(learning_rate=0.019), QUADRATIC.gradient, QUADRATIC.start, 150)
    np.testing.assert_array_equal(ignored, no_decay)
    keras2_rule = run_steps(scratch["ScheduledGradientDescent"](lambda k: 0.019 / (1 + 0.01 * k)),
                            QUADRATIC.gradient, QUADRATIC.start, 150)
    replacement = keras_trajectory(
        keras.optimizers.SGD(learning_rate=schedules.InverseTimeDecay(0.019, decay_steps=1, decay_rate=0.01)),
        QUADRATIC.gradient, QUADRATIC.start, 150)
    assert_parity(keras2_rule, replacement)
    assert np.abs(keras2_rule - ignored).max() > 0.1, "the decay must matter, or the check proves nothing"


def test_an_optimizer_with_a_schedule_has_no_settable_learning_rate():
    optimizer = keras.optimizers.SGD(learning_rate=schedules.CosineDecay(0.1, 1000))
    with pytest.raises(TypeError, match="not settable"):
        optimizer.learning_rate = 0.01


def _fit_with_range_test(callback, steps: int, batch_size: int = 32):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(steps * batch_size, 4)).astype("float32")
    y = rng.normal(size=(steps * batch_size, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-3), loss="mse")
    model.fit(x, y, epochs=1, batch_size=batch_size, shuffle=False, verbose=0, callbacks=[callback])
    return model, x, y


def test_range_test_rates_match_closed_form_and_exponential_decay(scratch):
    callback = scratch["LearningRateRangeTest"](1e-4, 10.0, 50)
    _fit_with_range_test(callback, 50)
    closed_form = 1e-4 * (1e5 ** (np.arange(50) / 49))
    assert_parity(callback.used, closed_form)
    assert_parity(callback.used, keras_values(schedules.ExponentialDecay(1e-4, decay_steps=49, decay_rate=1e5), range(50)))
    assert callback.used[-1] == pytest.approx(10.0, rel=1e-6) and callback.used[0] == pytest.approx(1e-4, rel=1e-6)


def test_range_test_recovers_each_batch_loss_from_the_running_mean(scratch):
    """With rates too small to move the weights, each recovered loss must equal that batch's loss."""
    callback = scratch["LearningRateRangeTest"](1e-12, 1e-11, 20)
    model, x, y = _fit_with_range_test(callback, 20)
    direct = [float(model.evaluate(x[k * 32:(k + 1) * 32], y[k * 32:(k + 1) * 32], verbose=0)) for k in range(20)]
    np.testing.assert_allclose(callback.losses, direct, rtol=1e-4)
    assert np.std(direct) > 0.01, "batches differ, so a running mean would not pass"


@pytest.mark.parametrize("peak, total, warmup_fraction", [(0.1, 200, 0.3), (0.3, 1000, 0.25), (2.0, 157 * 8, 0.3)])
def test_one_cycle_matches_keras_cosine_decay_with_warmup(scratch, peak, total, warmup_fraction):
    steps = np.arange(0, total + 41)
    ours = scratch["one_cycle"](steps, peak, total, warmup_fraction=warmup_fraction)
    theirs = keras_values(scratch["keras_one_cycle"](peak, total, warmup_fraction=warmup_fraction), steps)
    assert_parity(ours, theirs)


def test_one_cycle_shape(scratch):
    values = scratch["one_cycle"](np.array([0, 30, 60, 100, 200, 250]), 0.5, 200, warmup_fraction=0.3)
    np.testing.assert_allclose(values[[0, 2, 4, 5]], [0.5 / 25, 0.5, 0.5 / 25e4, 0.5 / 25e4], rtol=1e-9)
    assert values[0] < values[1] < values[2] > values[3] > values[4]


def test_article_adaptive_rate_code_fails_and_its_formula_ties_the_decay_to_eta0(scratch):
    with pytest.raises(NameError, match="'t'"):
        scratch["adaptive_learning_rate"](0.1)
    for eta0 in (0.5, 0.1, 0.01):
        assert_parity(scratch["article_rate"](EVERY_STEP, eta0),
                      keras_values(schedules.InverseTimeDecay(eta0, decay_steps=eta0, decay_rate=1.0), EVERY_STEP))
    after_ten_steps = [scratch["article_rate"](10, eta0) / eta0 for eta0 in (0.5, 0.01)]
    assert after_ten_steps[1] < after_ten_steps[0] / 20, "a smaller eta0 decays much faster"
