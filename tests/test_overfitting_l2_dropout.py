"""Chapter 05's from-scratch L2, AdamW and dropout (the notebook's own cells) against Keras.

Every parity check of notebooks/05_overfitting_l2_dropout.ipynb is repeated here, plus the claims the
chapter builds on: Adam's steps do not depend on the gradient's scale, AdamW decays noisy weights by
(1-η·wd)^t in the mean while Adam + L2 does not, inverted dropout keeps the expectation, its variance is
x²·p/(1-p), and the broken variants in the pitfalls section really are broken.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers.toy_losses import keras_trajectory, quadratic, run_steps
from tests.notebook_code import scratch_namespace

NOTEBOOK = "05_overfitting_l2_dropout.ipynb"
BOWL = quadratic(condition_number=10.0, start=(-3.0, 2.0))


@pytest.fixture(scope="module")
def ns() -> dict:
    return scratch_namespace(NOTEBOOK)


def test_l2_penalty_matches_keras_regularizer(ns):
    kernels = [np.random.default_rng(i).normal(size=(6, 4)).astype("float32") for i in range(3)]
    ours = ns["l2_penalty"](kernels, 1e-3)
    theirs = sum(float(keras.regularizers.L2(1e-3)(k)) for k in kernels)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_l2_penalty_is_collected_in_model_losses(ns):
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, kernel_regularizer=keras.regularizers.L2(0.01)),
                              keras.layers.Dense(3, kernel_regularizer=keras.regularizers.L2(0.01))])
    kernels = [layer.kernel.numpy() for layer in model.layers]
    np.testing.assert_allclose(ns["l2_penalty"](kernels, 0.01), sum(float(loss) for loss in model.losses), rtol=1e-6)


def test_l2_gradient_matches_gradient_tape(ns):
    kernel = tf.Variable(np.random.default_rng(0).normal(size=(4, 3)).astype("float32"))
    with tf.GradientTape() as tape:
        penalty = keras.regularizers.L2(0.02)(kernel)
    np.testing.assert_allclose(ns["l2_gradient"](kernel.numpy(), 0.02), tape.gradient(penalty, kernel), atol=1e-7)


@pytest.mark.parametrize("lam, lr", [(0.05, 0.05), (0.01, 0.1)])
def test_sgd_with_l2_equals_keras_sgd_weight_decay_of_twice_lambda(ns, lam, lr):
    sgd_step, l2_gradient = ns["sgd_step"], ns["l2_gradient"]
    ours = run_steps(lambda w, g: sgd_step(w, g + l2_gradient(w, lam), lr), BOWL.gradient, BOWL.start, 20)
    theirs = keras_trajectory(keras.optimizers.SGD(learning_rate=lr, weight_decay=2 * lam), BOWL.gradient, BOWL.start, 20)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


@pytest.mark.parametrize("weight_decay", [0.0, 0.5])
def test_adamw_step_matches_keras_adamw(ns, weight_decay):
    state = {"m": np.zeros(2), "v": np.zeros(2), "t": 0}
    ours = run_steps(lambda w, g: ns["adamw_step"](w, g, state, lr=0.125, weight_decay=weight_decay),
                     BOWL.gradient, BOWL.start, 20)
    theirs = keras_trajectory(keras.optimizers.AdamW(learning_rate=0.125, weight_decay=weight_decay),
                              BOWL.gradient, BOWL.start, 20)
    np.testing.assert_allclose(ours, theirs, atol=5e-5)  # Keras runs Adam in float32; we run it in float64


def test_inverted_dropout_keeps_the_expectation_and_has_the_stated_variance(ns):
    rng = np.random.default_rng(0)
    x, rate = np.linspace(0.5, 2.0, 4), 0.3
    samples = np.stack([ns["inverted_dropout"](x, rate, ns["dropout_mask"](x.shape, rate, rng), training=True)
                        for _ in range(40_000)])
    np.testing.assert_allclose(samples.mean(axis=0), x, atol=0.03)
    np.testing.assert_allclose(samples.var(axis=0), x**2 * rate / (1 - rate), rtol=0.05)


def test_inverted_dropout_reproduces_keras_dropout_with_its_mask(ns):
    rate = 0.3
    inputs = np.random.default_rng(2).uniform(0.5, 1.5, size=(200, 500)).astype("float32")
    layer = keras.layers.Dropout(rate, seed=7)
    keras_train = layer(inputs, training=True).numpy()
    keep = keras_train != 0
    assert abs((1 - keep.mean()) - rate) < 0.01
    np.testing.assert_allclose(keras_train[keep] / inputs[keep], 1 / (1 - rate), rtol=1e-6)
    np.testing.assert_allclose(ns["inverted_dropout"](inputs, rate, keep, training=True), keras_train, atol=1e-6)
    np.testing.assert_array_equal(ns["inverted_dropout"](inputs, rate, keep, training=False), inputs)
    np.testing.assert_array_equal(layer(inputs, training=False), inputs)


def test_scratch_dropout_layer_behaves_like_keras_dropout(ns):
    rate = 0.3
    inputs = np.random.default_rng(2).uniform(0.5, 1.5, size=(200, 500)).astype("float32")
    layer = ns["ScratchDropout"](rate, seed=3)
    out = layer(inputs, training=True).numpy()
    kept = out != 0
    assert abs((1 - kept.mean()) - rate) < 0.01
    np.testing.assert_allclose(out[kept] / inputs[kept], 1 / (1 - rate), rtol=1e-6)
    np.testing.assert_array_equal(layer(inputs, training=False), inputs)


def test_dropout_without_rescaling_shrinks_the_mean(ns):
    """The pitfall: dropping units without the 1/(1-p) factor changes the expected activation by (1-p)."""
    rate = 0.5
    inputs = np.ones((400, 500), dtype="float32")
    broken = ns["ScratchDropout"](rate, train_scale=1.0, seed=1)
    assert abs(float(np.mean(broken(inputs, training=True))) - (1 - rate)) < 0.01
    assert float(np.mean(broken(inputs, training=False))) == 1.0


def test_adam_steps_do_not_depend_on_the_gradient_scale(ns):
    """Adam's normalisation: gradients 1,000 times smaller give the same steps (while sqrt(v) >> epsilon)."""
    noise = np.random.default_rng(0).normal(size=(100, 3))
    paths = []
    for scale in (10.0, 0.01):
        state, w, path = {"m": np.zeros(3), "v": np.zeros(3), "t": 0}, np.ones(3), []
        for g in noise:
            w = ns["adamw_step"](w, scale * g, state, lr=0.01)
            path.append(w)
        paths.append(np.array(path))
    assert np.abs(np.diff(paths[0], axis=0)).mean() > 1e-3   # the weights do move
    np.testing.assert_allclose(paths[0], paths[1], atol=1e-4)   # epsilon (1e-7) is the only difference


def test_adamw_decays_noisy_weights_by_the_expected_factor_and_adam_with_l2_does_not(ns):
    """The chapter's toy: zero-mean gradient noise of std 10 (loud) and 0.01 (faint), many independent runs."""
    runs, steps, lr = 2000, 300, 0.01
    noise = np.random.default_rng(1).normal(size=(steps, runs, 2)) * np.array([10.0, 0.01])

    def final_weights(step):
        w, state = np.ones((runs, 2)), {"m": np.zeros((runs, 2)), "v": np.zeros((runs, 2)), "t": 0}
        for g in noise:
            w = step(w, g, state)
        return w

    adamw = final_weights(lambda w, g, s: ns["adamw_step"](w, g, s, lr=lr, weight_decay=0.1))
    standard_error = adamw.std(axis=0) / np.sqrt(runs)
    assert np.all(np.abs(adamw.mean(axis=0) - (1 - lr * 0.1) ** steps) < 4 * standard_error)  # both weights: 0.7407
    adam_l2 = final_weights(lambda w, g, s: ns["adamw_step"](w, g + ns["l2_gradient"](w, 0.05), s, lr=lr))
    assert abs(adam_l2[:, 1].mean()) < 0.01   # the faint weight is driven to zero
    assert adam_l2[:, 0].mean() > 0.9         # the loud one barely feels the penalty
