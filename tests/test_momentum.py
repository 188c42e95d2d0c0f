"""Chapter 02's from-scratch momentum (the notebook's own cells) against Keras and against theory.

Every parity check of notebooks/02_momentum.ipynb is repeated here with the same settings, plus the
chapter's claims: the equivalence of the Keras, moving-average and look-ahead forms, the speed-up over
gradient descent on the κ = 100 valley, and the "momentum" that is really weight decay.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from helpers.toy_losses import keras_trajectory, quadratic, rosenbrock, run_steps, steps_to_tolerance
from tests.notebook_code import scratch_namespace

NOTEBOOK = "02_momentum.ipynb"
STEPS = 500
VALLEY = quadratic(100.0)
BANANA = rosenbrock()
CASES = [(VALLEY, 0.012, 0.9), (BANANA, 0.001, 0.9)]  # the notebook's parity cases


@pytest.fixture(scope="module")
def scratch() -> dict:
    return scratch_namespace(NOTEBOOK)


def float32(value: float) -> float:
    """The value Keras computes with: it keeps the learning rate and momentum as float32."""
    return float(np.float32(value))


def assert_parity(ours, theirs, atol: float, rtol: float = 0.0) -> None:
    """The notebook's check_parity criterion: same shape, finite, max |ours - theirs| <= atol + rtol * max |theirs|."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape
    assert np.all(np.isfinite(ours)) and np.all(np.isfinite(theirs))
    assert np.abs(ours - theirs).max() <= atol + rtol * np.abs(theirs).max()


@pytest.mark.parametrize("nesterov", [False, True], ids=["heavy_ball", "nesterov"])
@pytest.mark.parametrize("toy, eta, mu", CASES, ids=["valley", "rosenbrock"])
def test_momentum_matches_keras_sgd_over_many_steps(scratch, toy, eta, mu, nesterov):
    theirs = keras_trajectory(keras.optimizers.SGD(learning_rate=eta, momentum=mu, nesterov=nesterov),
                              toy.gradient, toy.start, STEPS)
    ours_class = scratch["Nesterov" if nesterov else "HeavyBall"]
    ours = run_steps(ours_class(float32(eta), float32(mu)), toy.gradient, toy.start, STEPS)
    assert_parity(ours, theirs, atol=0.0, rtol=1e-6)   # the notebook's check
    assert_parity(ours, theirs, atol=0.0, rtol=1e-12)  # in fact: float64 round-off at most
    # With the plain float64 hyper-parameters the paths differ only by float32 rounding (~1e-7 relative).
    plain = run_steps(ours_class(eta, mu), toy.gradient, toy.start, STEPS)
    assert_parity(plain, theirs, atol=0.0, rtol=2e-6)
    assert np.abs(theirs[-1] - theirs[0]).max() > 0.5  # the optimizer moved: the agreement is not trivial


def test_heavy_ball_and_nesterov_differ_so_the_parity_checks_can_fail(scratch):
    toy, eta, mu = CASES[1]
    heavy = run_steps(scratch["HeavyBall"](eta, mu), toy.gradient, toy.start, 100)
    nesterov = run_steps(scratch["Nesterov"](eta, mu), toy.gradient, toy.start, 100)
    assert np.abs(heavy - nesterov).max() > 1e-2


def test_heavy_ball_reaches_terminal_velocity_on_a_constant_slope(scratch):
    ball = scratch["HeavyBall"](0.1, 0.9)
    theta, steps = 0.0, []
    for _ in range(60):
        new_theta = ball(theta, 1.0)
        steps.append(theta - new_theta)
        theta = new_theta
    assert_parity(steps, 0.1 * (1 - 0.9 ** np.arange(1, 61)) / (1 - 0.9), atol=1e-12)


def test_moving_average_form_equals_heavy_ball_with_rescaled_learning_rate(scratch):
    eta, mu = 0.01, 0.9
    heavy = run_steps(scratch["HeavyBall"](eta, mu), VALLEY.gradient, VALLEY.start, 300)
    ema = run_steps(scratch["EMAMomentum"](eta / (1 - mu), beta=mu), VALLEY.gradient, VALLEY.start, 300)
    assert_parity(ema, heavy, atol=1e-12)
    same_alpha = run_steps(scratch["EMAMomentum"](eta, beta=mu), VALLEY.gradient, VALLEY.start, 300)
    assert np.abs(same_alpha - heavy).max() > 1e-2  # the learning rates mean different things


def test_textbook_lookahead_nesterov_is_keras_nesterov_at_the_lookahead_point(scratch):
    eta, mu = 0.01, 0.9
    keras_form = run_steps(scratch["Nesterov"](eta, mu), VALLEY.gradient, VALLEY.start, 300)
    thetas, velocities = scratch["nesterov_lookahead"](VALLEY.gradient, VALLEY.start, eta, mu, 300)
    assert thetas.shape == velocities.shape == (301, 2)
    assert_parity(thetas + mu * velocities, keras_form, atol=1e-12)
    assert np.abs(thetas - keras_form).max() > 1e-3  # θ itself is not the stored variable


def test_tuned_heavy_ball_needs_at_least_five_times_fewer_steps_than_the_best_gradient_descent(scratch):
    kappa = 100.0
    root = np.sqrt(kappa)
    gd = run_steps(scratch["GradientDescent"](2 / (kappa + 1)), VALLEY.gradient, VALLEY.start, 5000)
    heavy = run_steps(scratch["HeavyBall"](4 / (root + 1) ** 2, ((root - 1) / (root + 1)) ** 2),
                      VALLEY.gradient, VALLEY.start, 5000)
    nesterov = run_steps(scratch["Nesterov"](1 / kappa, (root - 1) / (root + 1)), VALLEY.gradient, VALLEY.start, 5000)
    steps = {name: steps_to_tolerance(path, VALLEY, 1e-8) for name, path in
             (("gd", gd), ("heavy", heavy), ("nesterov", nesterov))}
    assert None not in steps.values()
    assert steps["gd"] >= 5 * steps["heavy"]
    assert steps["gd"] >= 4 * steps["nesterov"]
    # Theory: about ln(L0/tol) / (-2 ln ρ) steps with ρ = 99/101 for GD and 9/11 for heavy ball.
    start_loss = VALLEY.value(VALLEY.start)
    assert steps["gd"] == pytest.approx(np.log(start_loss / 1e-8) / (-2 * np.log(99 / 101)), rel=0.05)
    assert steps["heavy"] >= np.log(start_loss / 1e-8) / (-2 * np.log(9 / 11))


def test_speed_up_grows_like_the_square_root_of_kappa(scratch):
    ratios = []
    for kappa in (10.0, 1000.0):
        toy, root = quadratic(kappa), np.sqrt(kappa)
        gd = run_steps(scratch["GradientDescent"](2 / (kappa + 1)), toy.gradient, toy.start, 20000)
        heavy = run_steps(scratch["HeavyBall"](4 / (root + 1) ** 2, ((root - 1) / (root + 1)) ** 2),
                          toy.gradient, toy.start, 20000)
        ratios.append(steps_to_tolerance(gd, toy, 1e-8) / steps_to_tolerance(heavy, toy, 1e-8))
    # κ grew 100×, so √κ grew 10×: the speed-up should grow by roughly that factor (between 4 and 20).
    assert 4 < ratios[1] / ratios[0] < 20


def test_weight_decay_posing_as_momentum_converges_to_the_wrong_point(scratch):
    eta, mu = 0.001, 0.9
    end = run_steps(scratch["WeightDecayNotMomentum"](eta, mu), BANANA.gradient, BANANA.start, 3000)[-1]
    assert np.linalg.norm(end - np.array(BANANA.minimum)) > 0.9
    assert BANANA.value(end) > 0.5
    # It is gradient descent on L + (μ / 2η) ‖θ‖²: the end point is that loss's stationary point.
    assert_parity(BANANA.gradient(end) + mu / eta * end, np.zeros(2), atol=1e-8)
    real = run_steps(scratch["HeavyBall"](eta, mu), BANANA.gradient, BANANA.start, 3000)[-1]
    assert_parity(real, BANANA.minimum, atol=1e-4)


def test_weight_decay_posing_as_momentum_looks_fine_when_the_minimum_is_at_the_origin(scratch):
    path = run_steps(scratch["WeightDecayNotMomentum"](0.01, 0.9), VALLEY.gradient, VALLEY.start, 3000)
    assert steps_to_tolerance(path, VALLEY, 1e-8) is not None
