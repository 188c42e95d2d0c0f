"""Chapter 06's from-scratch batch normalization (the notebook's own cells) against keras.layers.BatchNormalization.

Every parity check of the notebook is repeated here with the same settings (training mode over several
batches, the moving statistics, inference mode, images per channel), plus checks that would catch the
usual mistakes: PyTorch's momentum convention, the unbiased variance, epsilon outside the square root.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from tests.notebook_code import scratch_namespace

NOTEBOOK = "06_batch_normalization.ipynb"
ATOL = 1e-5  # the notebook's tolerance for every BN parity check


@pytest.fixture(scope="module")
def scratch() -> dict:
    return scratch_namespace(NOTEBOOK)


def keras_layer(momentum: float = 0.99, epsilon: float = 1e-3, shape: tuple = (None, 8)) -> keras.layers.BatchNormalization:
    layer = keras.layers.BatchNormalization(
        momentum=momentum, epsilon=epsilon,
        gamma_initializer=keras.initializers.RandomNormal(1.0, 0.3, seed=1),
        beta_initializer=keras.initializers.RandomNormal(0.0, 0.5, seed=2))
    layer.build(shape)
    return layer


def max_diff(ours, theirs) -> float:
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape
    assert np.all(np.isfinite(ours)) and np.all(np.isfinite(theirs))
    return float(np.abs(ours - theirs).max())


def run_both(scratch, batches, momentum=0.99, epsilon=1e-3):
    """Feed the same batches to ours and to Keras in training mode; return both layers and both outputs."""
    theirs = keras_layer(momentum, epsilon, shape=(None, *batches[0].shape[1:]))
    ours = scratch["ScratchBatchNorm"](batches[0].shape[-1], momentum=momentum, epsilon=epsilon)
    ours.gamma, ours.beta = theirs.gamma.numpy(), theirs.beta.numpy()
    ours_out = np.stack([ours(b, training=True) for b in batches])
    keras_out = np.stack([theirs(b, training=True).numpy() for b in batches])
    return ours, theirs, ours_out, keras_out


@pytest.mark.parametrize("momentum, epsilon", [(0.99, 1e-3), (0.9, 1e-5), (0.5, 1e-2)])
def test_training_mode_and_moving_statistics_match_keras_over_several_batches(scratch, momentum, epsilon):
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0, 2.0, size=(32, 8)).astype("float32") for _ in range(6)]
    ours, theirs, ours_out, keras_out = run_both(scratch, batches, momentum, epsilon)
    assert max_diff(ours_out, keras_out) <= ATOL
    assert max_diff(ours.moving_mean, theirs.moving_mean) <= ATOL
    assert max_diff(ours.moving_variance, theirs.moving_variance) <= ATOL
    # the moving statistics really moved (a no-op update would not be caught by parity with a no-op Keras)
    assert np.abs(theirs.moving_mean.numpy()).min() > 0.1


def test_inference_mode_uses_the_moving_statistics_like_keras(scratch):
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0, 2.0, size=(32, 8)).astype("float32") for _ in range(6)]
    ours, theirs, _, _ = run_both(scratch, batches)
    new_batch = rng.normal(3.0, 2.0, size=(16, 8)).astype("float32")
    ours_inference = ours(new_batch, training=False)
    assert max_diff(ours_inference, theirs(new_batch, training=False)) <= ATOL
    # and it is not the training-mode output: after 6 steps the moving statistics are far from the batch's
    assert max_diff(ours_inference, theirs(new_batch, training=True)) > 0.1


def test_inference_does_not_change_the_state(scratch):
    bn = scratch["ScratchBatchNorm"](3)
    bn(np.random.default_rng(1).normal(size=(10, 3)), training=True)
    state = (bn.moving_mean.copy(), bn.moving_variance.copy())
    bn(np.random.default_rng(2).normal(size=(10, 3)), training=False)
    np.testing.assert_array_equal(bn.moving_mean, state[0])
    np.testing.assert_array_equal(bn.moving_variance, state[1])


def test_images_are_normalized_per_channel_like_keras(scratch):
    rng = np.random.default_rng(0)
    images = [rng.normal(-1.0, 3.0, size=(8, 5, 5, 3)).astype("float32") for _ in range(4)]
    ours, theirs, ours_out, keras_out = run_both(scratch, images, momentum=0.9, epsilon=1e-5)
    assert max_diff(ours_out, keras_out) <= ATOL
    assert max_diff(ours.moving_mean, theirs.moving_mean) <= ATOL
    assert max_diff(ours.moving_variance, theirs.moving_variance) <= ATOL
    assert max_diff(ours(images[0], training=False), theirs(images[0], training=False)) <= ATOL


def test_training_output_is_standardized_then_scaled(scratch):
    x = np.random.default_rng(3).normal(5.0, 10.0, size=(256, 4))
    gamma, beta = np.array([1.0, 2.0, 0.5, 3.0]), np.array([0.0, -1.0, 4.0, 2.0])
    y, moving_mean, moving_variance = scratch["batch_norm_train"](x, gamma, beta, np.zeros(4), np.ones(4))
    np.testing.assert_allclose(y.mean(axis=0), beta, atol=1e-9)
    np.testing.assert_allclose(y.std(axis=0), gamma * np.sqrt(x.var(axis=0) / (x.var(axis=0) + 1e-3)), rtol=1e-9)
    # Keras' convention: the new batch gets weight 1 - momentum (PyTorch's would give it 0.99 here)
    np.testing.assert_allclose(moving_mean, 0.01 * x.mean(axis=0), rtol=1e-12)
    # biased variance (divide by m), not the unbiased m - 1 version
    np.testing.assert_allclose(moving_variance, 0.99 + 0.01 * x.var(axis=0), rtol=1e-12)


def test_epsilon_sits_inside_the_square_root(scratch):
    x = np.array([[0.0], [0.02]])  # variance 1e-4, far below epsilon = 1e-3
    y, _, _ = scratch["batch_norm_train"](x, np.ones(1), np.zeros(1), np.zeros(1), np.ones(1))
    np.testing.assert_allclose(np.abs(y), 0.01 / np.sqrt(1e-4 + 1e-3), rtol=1e-12)
    theirs = keras.layers.BatchNormalization()(x.astype("float32"), training=True).numpy()
    assert max_diff(y, theirs) <= ATOL


def test_a_batch_of_two_normalizes_to_plus_minus_one(scratch):
    pair = np.random.default_rng(2).normal(size=(2, 6)) * 5
    y = scratch["ScratchBatchNorm"](6)(pair, training=True)
    np.testing.assert_allclose(np.abs(y), 1.0, atol=1e-3)
    np.testing.assert_array_equal(np.sign(y[0]), np.sign(pair[0] - pair[1]))


def test_a_wrong_momentum_convention_would_be_caught(scratch):
    """The parity checks are sharp enough to fail for PyTorch's convention (momentum = weight of the batch)."""
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0, 2.0, size=(32, 8)).astype("float32") for _ in range(6)]
    theirs = keras_layer()
    ours = scratch["ScratchBatchNorm"](8, momentum=0.01)  # 1 - 0.99: the PyTorch reading of "momentum"
    for batch in batches:
        ours(batch, training=True)
        theirs(batch, training=True)
    assert max_diff(ours.moving_mean, theirs.moving_mean) > 1.0


def keras_bn_gradients(x: np.ndarray, upstream: np.ndarray, epsilon: float = 1e-3):
    """Gradients of sum(upstream * BN(x)) w.r.t. x, gamma and beta through a float64 keras layer in training mode."""
    import tensorflow as tf

    layer = keras.layers.BatchNormalization(
        dtype="float64", epsilon=epsilon,
        gamma_initializer=keras.initializers.RandomNormal(1.0, 0.3, seed=1),
        beta_initializer=keras.initializers.RandomNormal(0.0, 0.5, seed=2))
    layer.build(x.shape)
    x_var = tf.Variable(x)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x_var, training=True) * upstream)
    dx, dgamma, dbeta = tape.gradient(loss, [x_var, layer.gamma, layer.beta])
    return layer.gamma.numpy(), dx.numpy(), dgamma.numpy(), dbeta.numpy()


@pytest.mark.parametrize("shape, epsilon", [((32, 8), 1e-3), ((8, 5, 5, 3), 1e-5), ((4, 6), 1e-3)])
def test_backward_pass_matches_the_tape_through_keras(scratch, shape, epsilon):
    rng = np.random.default_rng(7)
    x, upstream = rng.normal(3.0, 2.0, size=shape), rng.normal(size=shape)
    gamma, dx, dgamma, dbeta = keras_bn_gradients(x, upstream, epsilon)
    ours = scratch["batch_norm_backward"](upstream, x, gamma, epsilon)
    for mine, theirs in zip(ours, (dx, dgamma, dbeta)):
        assert max_diff(mine, theirs) <= 1e-10
        assert np.abs(theirs).max() > 1e-3  # not a comparison of zeros


def test_backward_pass_matches_finite_differences(scratch):
    """Independent of TensorFlow: central differences of sum(g * y) through the notebook's forward pass."""
    rng = np.random.default_rng(0)
    x, g = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    gamma, beta = rng.normal(1.0, 0.3, size=3), rng.normal(size=3)

    def loss(x_, gamma_, beta_):
        y, _, _ = scratch["batch_norm_train"](x_, gamma_, beta_, np.zeros(3), np.ones(3))
        return float(np.sum(g * y))

    dx, dgamma, dbeta = scratch["batch_norm_backward"](g, x, gamma)
    h = 1e-6
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        assert (loss(x + step, gamma, beta) - loss(x - step, gamma, beta)) / (2 * h) == pytest.approx(dx[index], abs=1e-7)
    for k in range(3):
        step = np.zeros(3)
        step[k] = h
        assert (loss(x, gamma + step, beta) - loss(x, gamma - step, beta)) / (2 * h) == pytest.approx(dgamma[k], abs=1e-7)
        assert (loss(x, gamma, beta + step) - loss(x, gamma, beta - step)) / (2 * h) == pytest.approx(dbeta[k], abs=1e-7)


def test_input_gradient_has_no_component_along_a_shift_or_a_rescaling(scratch):
    """BN's output ignores a per-feature shift over the batch (and, for epsilon = 0, a rescaling): dL/dx sums to 0
    and, without epsilon, is orthogonal to x_hat; epsilon leaves a component of relative size epsilon / (var + epsilon)."""
    rng = np.random.default_rng(1)
    x, g = rng.normal(2.0, 3.0, size=(16, 4)), rng.normal(size=(16, 4))
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0))
    dx, _, _ = scratch["batch_norm_backward"](g, x, np.ones(4), epsilon=0.0)
    assert np.abs(dx.sum(axis=0)).max() < 1e-12
    assert np.abs((dx * x_hat).sum(axis=0)).max() < 1e-12
    assert np.abs(dx).max() > 0.01
    dx_eps, _, _ = scratch["batch_norm_backward"](g, x, np.ones(4), epsilon=1e-3)
    assert np.abs(dx_eps.sum(axis=0)).max() < 1e-12
    assert 1e-8 < np.abs((dx_eps * x_hat).sum(axis=0)).max() < 1e-3
