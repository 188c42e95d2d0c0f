"""Chapter 03's from-scratch optimizers (the notebook's own cells) against Keras, step for step.

Each notebook parity check is repeated here with the same settings, plus checks that the chapter's
claims (Adagrad's decaying rates, the wrong raw-gradient Adagrad, epsilon placement) hold.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from helpers.toy_losses import keras_trajectory, quadratic, rosenbrock, run_steps
from tests.notebook_code import scratch_namespace

NOTEBOOK = "03_adaptive_learning_rates.ipynb"
STEPS = 200
TOYS = [quadratic(100.0), rosenbrock()]
EXACT_BETAS = dict(beta_1=0.875, beta_2=1 - 2**-10, epsilon=1e-7)  # exact in float32, so no rounding differences


@pytest.fixture(scope="module")
def scratch() -> dict:
    return scratch_namespace(NOTEBOOK)


def max_relative_gap(ours: np.ndarray, theirs: np.ndarray) -> float:
    assert np.all(np.isfinite(ours)) and np.all(np.isfinite(theirs))
    return float(np.abs(ours - theirs).max() / np.abs(theirs).max())


def assert_same_path(ours: np.ndarray, theirs: np.ndarray, rtol: float, atol: float = 1e-9) -> None:
    """The notebook's check_parity criterion: max |ours - theirs| <= atol + rtol * max |theirs|."""
    assert ours.shape == theirs.shape
    assert np.all(np.isfinite(ours)) and np.all(np.isfinite(theirs))
    assert np.abs(ours - theirs).max() <= atol + rtol * np.abs(theirs).max()


@pytest.mark.parametrize("toy", TOYS, ids=lambda t: t.name)
def test_adagrad_matches_keras(scratch, toy):
    ours = run_steps(scratch["ScratchAdagrad"](0.5, initial_accumulator_value=0.1, epsilon=1e-7),
                     toy.gradient, toy.start, STEPS)
    theirs = keras_trajectory(keras.optimizers.Adagrad(learning_rate=0.5, initial_accumulator_value=0.1, epsilon=1e-7),
                              toy.gradient, toy.start, STEPS)
    assert_same_path(ours, theirs, rtol=1e-9)


def test_adagrad_with_the_papers_settings_matches_keras_and_starts_with_sign_steps(scratch):
    toy = TOYS[0]
    paper = dict(initial_accumulator_value=0.0, epsilon=1e-12)
    ours = run_steps(scratch["ScratchAdagrad"](0.5, **paper), toy.gradient, toy.start, STEPS)
    theirs = keras_trajectory(keras.optimizers.Adagrad(learning_rate=0.5, **paper), toy.gradient, toy.start, STEPS)
    assert_same_path(ours, theirs, rtol=1e-9)
    np.testing.assert_allclose(ours[1] - ours[0], -0.5 * np.sign(toy.gradient(np.array(toy.start))), atol=1e-9)


def test_adagrad_default_accumulator_changes_the_path(scratch):
    """The initial accumulator matters: 0.1 and 0 give different paths (so the parity check tests it)."""
    toy = TOYS[0]
    keras_default = run_steps(scratch["ScratchAdagrad"](0.5), toy.gradient, toy.start, STEPS)
    paper = run_steps(scratch["ScratchAdagrad"](0.5, initial_accumulator_value=0.0, epsilon=1e-12),
                      toy.gradient, toy.start, STEPS)
    assert np.abs(keras_default - paper).max() > 1e-4


@pytest.mark.parametrize("toy", TOYS, ids=lambda t: t.name)
def test_rmsprop_matches_keras(scratch, toy):
    ours = run_steps(scratch["ScratchRMSprop"](0.05, rho=0.9, epsilon=1e-7), toy.gradient, toy.start, STEPS)
    theirs = keras_trajectory(keras.optimizers.RMSprop(learning_rate=0.05, rho=0.9, epsilon=1e-7),
                              toy.gradient, toy.start, STEPS)
    assert_same_path(ours, theirs, rtol=1e-6)


def test_rmsprop_first_step_is_lr_over_sqrt_one_minus_rho(scratch):
    step = scratch["ScratchRMSprop"](0.1, rho=0.9)(np.zeros(2), np.array([10.0, 0.01]))
    np.testing.assert_allclose(step[0], -0.1 / np.sqrt(0.1), rtol=1e-6)


def test_adam_with_default_betas_matches_keras_to_float32_rounding(scratch):
    toy = TOYS[0]
    ours = run_steps(scratch["ScratchAdam"](0.125, beta_1=0.9, beta_2=0.999, epsilon=1e-7), toy.gradient, toy.start, STEPS)
    theirs = keras_trajectory(keras.optimizers.Adam(learning_rate=0.125, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
                              toy.gradient, toy.start, STEPS)
    assert_same_path(ours, theirs, rtol=1e-5)


@pytest.mark.parametrize("toy", TOYS, ids=lambda t: t.name)
def test_adam_with_binary_exact_betas_matches_keras_to_round_off(scratch, toy):
    ours = run_steps(scratch["ScratchAdam"](0.125, **EXACT_BETAS), toy.gradient, toy.start, STEPS)
    theirs = keras_trajectory(keras.optimizers.Adam(learning_rate=0.125, **EXACT_BETAS), toy.gradient, toy.start, STEPS)
    assert_same_path(ours, theirs, rtol=1e-9)


def test_adam_bias_correction_makes_constant_gradient_steps_lr_long(scratch):
    adam = scratch["ScratchAdam"](learning_rate=0.1)
    theta = np.zeros(2)
    for _ in range(3):
        new_theta = adam(theta, np.array([5.0, -0.02]))
        np.testing.assert_allclose(np.abs(new_theta - theta), 0.1, rtol=2e-4)
        theta = new_theta


def test_textbook_and_keras_adam_agree_for_tiny_epsilon_and_differ_for_large(scratch):
    toy = TOYS[0]
    gaps = {}
    for epsilon in (1e-7, 1.0):
        keras_form = run_steps(scratch["ScratchAdam"](0.3, epsilon=epsilon), toy.gradient, toy.start, STEPS)
        paper_form = run_steps(scratch["TextbookAdam"](0.3, epsilon=epsilon), toy.gradient, toy.start, STEPS)
        gaps[epsilon] = np.abs(keras_form - paper_form).max()
    assert gaps[1e-7] < 1e-5
    assert gaps[1.0] > 0.1


def test_textbook_adam_equals_keras_form_with_the_equivalent_epsilon(scratch):
    """eps_hat = eps * sqrt(1 - beta_2**t): checked for one step, where both are easy to evaluate."""
    gradient = np.array([0.03, -2.0])
    paper = scratch["TextbookAdam"](0.1, epsilon=0.5)(np.zeros(2), gradient)
    keras_form = scratch["ScratchAdam"](0.1, epsilon=0.5 * np.sqrt(1 - 0.999))(np.zeros(2), gradient)
    np.testing.assert_allclose(paper, keras_form, rtol=1e-12)


@pytest.mark.parametrize("toy", TOYS, ids=lambda t: t.name)
def test_adamw_matches_keras(scratch, toy):
    ours = run_steps(scratch["ScratchAdamW"](0.125, weight_decay=0.25, **EXACT_BETAS), toy.gradient, toy.start, STEPS)
    theirs = keras_trajectory(keras.optimizers.AdamW(learning_rate=0.125, weight_decay=0.25, **EXACT_BETAS),
                              toy.gradient, toy.start, STEPS)
    assert_same_path(ours, theirs, rtol=1e-9)


def test_keras_adam_with_weight_decay_is_our_adamw(scratch):
    toy = TOYS[1]
    ours = run_steps(scratch["ScratchAdamW"](0.125, weight_decay=0.25, **EXACT_BETAS), toy.gradient, toy.start, STEPS)
    theirs = keras_trajectory(keras.optimizers.Adam(learning_rate=0.125, weight_decay=0.25, **EXACT_BETAS),
                              toy.gradient, toy.start, STEPS)
    assert_same_path(ours, theirs, rtol=1e-9)


def test_adamw_is_not_adam_with_l2_in_the_loss(scratch):
    toy, lam = TOYS[0], 0.25
    adam_l2 = run_steps(scratch["ScratchAdam"](0.05), lambda t: toy.gradient(t) + lam * t, toy.start, 500)
    adamw = run_steps(scratch["ScratchAdamW"](0.05, weight_decay=lam), toy.gradient, toy.start, 500)
    assert np.abs(adam_l2 - adamw).max() > 0.5


def test_optimizers_work_on_parameter_matrices(scratch):
    """Element-wise on any shape: a 3x4 weight matrix with random gradients, against Keras."""
    rng = np.random.default_rng(1)
    gradients = rng.normal(size=(50, 3, 4))
    start = rng.normal(size=(3, 4))
    # Keras fills Adagrad's accumulator through float32: 0.1 becomes 0.10000000149 (visible with small gradients).
    cases = [(scratch["ScratchAdagrad"](0.5, initial_accumulator_value=float(np.float32(0.1))),
              keras.optimizers.Adagrad(0.5)),
             (scratch["ScratchRMSprop"](0.5, rho=0.875), keras.optimizers.RMSprop(0.5, rho=0.875)),
             (scratch["ScratchAdamW"](0.5, weight_decay=0.25, **EXACT_BETAS),
              keras.optimizers.AdamW(0.5, weight_decay=0.25, **EXACT_BETAS))]
    for ours, theirs in cases:
        theta = start.copy()
        variable = keras.Variable(start.copy(), dtype="float64")
        for gradient in gradients:
            theta = ours(theta, gradient)
            theirs.apply_gradients([(keras.ops.convert_to_tensor(gradient, "float64"), variable)])
        np.testing.assert_allclose(theta, variable.numpy(), rtol=1e-12, atol=1e-12)


def test_raw_gradient_adagrad_is_wrong(scratch):
    toy = TOYS[0]
    with np.errstate(invalid="ignore"):
        wrong = run_steps(scratch["RawGradientAdagrad"](1.0), toy.gradient, toy.start, 5)
        wrong_scaled = run_steps(scratch["RawGradientAdagrad"](0.5), lambda t: 100 * toy.gradient(t), (9.0, 1.0), 1)
    assert np.isnan(wrong[1, 0]), "a negative sum of raw gradients has no real square root"
    right = run_steps(scratch["ScratchAdagrad"](0.5), toy.gradient, (9.0, 1.0), 1)
    right_scaled = run_steps(scratch["ScratchAdagrad"](0.5), lambda t: 100 * toy.gradient(t), (9.0, 1.0), 1)
    wrong_plain = run_steps(scratch["RawGradientAdagrad"](0.5), toy.gradient, (9.0, 1.0), 1)
    np.testing.assert_allclose(right_scaled[1] - right_scaled[0], right[1] - right[0], rtol=1e-3)
    np.testing.assert_allclose(wrong_scaled[1] - wrong_scaled[0], 10 * (wrong_plain[1] - wrong_plain[0]), rtol=1e-2)


def test_adagrad_effective_rate_decays_like_one_over_sqrt_t_under_noise_and_rmsprop_does_not(scratch):
    toy = TOYS[0]
    rng_seed, noise, steps = 0, 10.0, 5000
    rates = {}
    for name, optimizer in (("adagrad", scratch["ScratchAdagrad"](1.0)), ("rmsprop", scratch["ScratchRMSprop"](0.05))):
        rng = np.random.default_rng(rng_seed)
        theta, history = np.array(toy.start), []
        for _ in range(steps):
            theta = optimizer(theta, toy.gradient(theta) + noise * rng.normal(size=2))
            history.append(optimizer.effective_learning_rate())
        rates[name] = np.array(history)
    adagrad = rates["adagrad"]
    assert np.all(np.diff(adagrad, axis=0) <= 0), "Adagrad's effective learning rates never increase"
    np.testing.assert_allclose(adagrad[-1], 1.0 / (noise * np.sqrt(steps)), rtol=0.15)
    rmsprop = rates["rmsprop"]
    assert rmsprop[-1000:].mean(axis=0).min() > 3 * adagrad[-1].max(), "RMSprop's rates stay alive"


def test_amsgrad_solution_matches_keras(scratch):
    toy = TOYS[1]
    ours = run_steps(scratch["ScratchAMSGrad"](0.125, **EXACT_BETAS), toy.gradient, toy.start, STEPS)
    theirs = keras_trajectory(keras.optimizers.Adam(learning_rate=0.125, amsgrad=True, **EXACT_BETAS),
                              toy.gradient, toy.start, STEPS)
    assert_same_path(ours, theirs, rtol=1e-9)
    plain = run_steps(scratch["ScratchAdam"](0.125, **EXACT_BETAS), toy.gradient, toy.start, STEPS)
    assert np.abs(plain - ours).max() > 1e-3, "AMSGrad must differ from Adam here, or the check proves nothing"


def test_article_adagrad_takes_fixed_length_sign_steps_and_never_settles(scratch):
    """The article's formula (square of the SUM of gradients) gives no NaN and no scale problem, but cannot settle."""
    toy = TOYS[0]
    path = run_steps(scratch["ArticleAdagrad"](1.0, alpha=1.0), toy.gradient, toy.start, 200)
    assert np.all(np.isfinite(path))
    lengths = np.abs(np.diff(path, axis=0))
    assert np.mean(np.isclose(lengths, 1.0, rtol=1e-3)) > 0.95, "steps of length eta / sqrt(alpha)"
    losses = toy.loss(path[:, 0], path[:, 1])
    start_loss = losses[0]
    for window in np.split(losses[1:], 4):
        assert window.max() > start_loss, "every 50-step window climbs back above the starting loss"
    right = run_steps(scratch["ScratchAdagrad"](1.0), toy.gradient, toy.start, 200)
    assert toy.value(right[-1]) < 1e-4


def test_article_adagrad_step_is_lr_over_sqrt_alpha_and_scale_free(scratch):
    gradient = np.array([0.03, -40.0])
    step = scratch["ArticleAdagrad"](0.3, alpha=0.25)(np.zeros(2), gradient)
    np.testing.assert_allclose(step, -0.6 * np.sign(gradient), rtol=1e-3)
    scaled = scratch["ArticleAdagrad"](0.3, alpha=0.25)(np.zeros(2), 100 * gradient)
    np.testing.assert_allclose(scaled, step, rtol=1e-3)


def test_amsgrad_effective_rate_grows_in_keras_form_but_not_without_bias_correction(scratch):
    """Keras' AMSGrad multiplies by the rising bias correction, so its rate can grow; the paper's form cannot."""
    toy = TOYS[1]

    class PaperAMSGrad(scratch["ScratchAMSGrad"]):
        def effective_learning_rate(self):
            return self.learning_rate / (np.sqrt(self.v_max) + self.epsilon)

    growth = {}
    for name, make in (("keras", scratch["ScratchAMSGrad"]), ("paper", PaperAMSGrad)):
        optimizer, theta, rates = make(0.125, **EXACT_BETAS), np.array(toy.start), []
        for _ in range(STEPS):
            theta = optimizer(theta, toy.gradient(theta))
            rates.append(optimizer.effective_learning_rate())
        growth[name] = int((np.diff(np.array(rates), axis=0) > 0).sum())
    assert growth["keras"] > 100
    assert growth["paper"] == 0
