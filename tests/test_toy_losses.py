"""helpers.toy_losses: gradients match finite differences, runners record paths, Keras runner matches."""

import keras
import numpy as np
import pytest

from helpers import toy_losses


@pytest.mark.parametrize("toy", [toy_losses.quadratic(100.0), toy_losses.rosenbrock()], ids=lambda t: t.name)
def test_gradient_matches_finite_differences(toy):
    theta = np.array([0.3, -0.7])
    eps = 1e-6
    numeric = [(toy.value(theta + eps * e) - toy.value(theta - eps * e)) / (2 * eps) for e in np.eye(2)]
    np.testing.assert_allclose(toy.gradient(theta), numeric, rtol=1e-6, atol=1e-6)
    assert toy.value(np.array(toy.minimum)) == pytest.approx(0.0)


def test_quadratic_rejects_condition_number_below_one():
    with pytest.raises(ValueError, match=">= 1"):
        toy_losses.quadratic(0.5)


def test_gradient_descent_on_the_quadratic_converges_below_two_over_l_and_diverges_above():
    toy = toy_losses.quadratic(10.0)
    good = toy_losses.run_steps(lambda t, g: t - 0.19 * g, toy.gradient, toy.start, 200)
    bad = toy_losses.run_steps(lambda t, g: t - 0.21 * g, toy.gradient, toy.start, 200)
    assert good.shape == (201, 2) and np.abs(good[-1]).max() < 1e-6
    assert np.abs(bad[-1]).max() > 1e3
    assert toy_losses.steps_to_tolerance(good, toy, 1e-6) is not None
    assert toy_losses.steps_to_tolerance(bad, toy, 1e-6) is None


def test_keras_trajectory_matches_plain_sgd():
    toy = toy_losses.rosenbrock()
    ours = toy_losses.run_steps(lambda t, g: t - 1e-3 * g, toy.gradient, toy.start, 50)
    theirs = toy_losses.keras_trajectory(keras.optimizers.SGD(learning_rate=1e-3), toy.gradient, toy.start, 50)
    # Keras stores the learning rate as float32 (1e-3 becomes 1.00000005e-3): agreement to ~1e-8, not 1e-16.
    np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9)
