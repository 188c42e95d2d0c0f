"""Chapter 01's from-scratch code (the notebook's own cells) against closed forms, the tape and Keras.

Every parity check of notebooks/01_gradient_descent.ipynb is repeated here with the same settings,
plus the chapter's claims: the 2/L stability limit, convergence to the closed-form regression, the
1/B law of minibatch noise and what unshuffled minibatches do.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers.data import load_mnist
from helpers.toy_losses import keras_trajectory, quadratic, rosenbrock
from tests.data_files import local_file
from tests.notebook_code import scratch_namespace

NOTEBOOK = "01_gradient_descent.ipynb"


@pytest.fixture(scope="module")
def scratch() -> dict:
    return scratch_namespace(NOTEBOOK)


def assert_parity(ours, theirs, atol: float, rtol: float = 0.0) -> None:
    """The notebook's check_parity criterion: same shape, finite, max |ours - theirs| <= atol + rtol * max |theirs|."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape
    assert np.all(np.isfinite(ours)) and np.all(np.isfinite(theirs))
    assert np.abs(ours - theirs).max() <= atol + rtol * np.abs(theirs).max()


@pytest.fixture(scope="module")
def regression() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The notebook's synthetic regression data (seed 0), and its closed-form solution."""
    rng = np.random.default_rng(0)
    n = 200
    x1 = rng.normal(size=n)
    x2 = 0.8 * x1 + 0.6 * rng.normal(size=n)
    X = np.column_stack([x1, x2, np.ones(n)])
    y = X @ np.array([3.0, -2.0, 1.0]) + 0.5 * rng.normal(size=n)
    return X, y, np.linalg.lstsq(X, y, rcond=None)[0]


def test_gradient_descent_on_a_parabola_follows_the_closed_form(scratch):
    a, theta_star, lr = 4.0, 3.0, 0.1
    path = scratch["gradient_descent"](lambda t: a * (t - theta_star), 0.0, lr, 8)
    assert path.shape == (9,)
    assert_parity(path, theta_star + (1 - lr * a) ** np.arange(9) * (0.0 - theta_star), atol=1e-12)


def test_gradient_descent_returns_the_start_and_does_not_modify_it(scratch):
    start = np.array([-1.5, 2.0])
    path = scratch["gradient_descent"](rosenbrock().gradient, start, 1e-3, 5)
    assert path.shape == (6, 2)
    np.testing.assert_array_equal(path[0], [-1.5, 2.0])
    np.testing.assert_array_equal(start, [-1.5, 2.0])
    assert not np.allclose(path[1], path[0])


def test_tape_gradient_matches_the_hand_derived_gradients(scratch):
    tape_gradient = scratch["tape_gradient"]
    banana = rosenbrock()
    point = np.array(banana.start)
    assert_parity(banana.gradient(point), tape_gradient(lambda t: banana.loss(t[0], t[1]), point), atol=1e-9)
    assert_parity(4.0 * (0.5 - 3.0), tape_gradient(lambda t: 2.0 * (t - 3.0) ** 2, 0.5), atol=1e-12)


@pytest.mark.parametrize("kappa", [2.0, 10.0, 100.0, 1000.0])
def test_stability_limit_is_two_over_l(scratch, kappa):
    """Just below 2/L gradient descent converges; just above, it diverges (the notebook's bisection)."""
    toy = quadratic(kappa)
    gradient_descent = scratch["gradient_descent"]
    start_loss = toy.value(toy.start)
    below = gradient_descent(toy.gradient, toy.start, 0.99 * 2 / kappa, 3000)
    with np.errstate(over="ignore", invalid="ignore"):
        above = gradient_descent(toy.gradient, toy.start, 1.01 * 2 / kappa, 3000)
    assert toy.value(below[-1]) < 1e-4 * start_loss
    assert not toy.value(above[-1]) < start_loss


@pytest.mark.parametrize("toy, lr", [(quadratic(10.0), 0.18), (rosenbrock(), 1e-3)], ids=["valley", "rosenbrock"])
def test_gradient_descent_matches_keras_sgd_over_many_steps(scratch, toy, lr):
    ours = scratch["gradient_descent"](toy.gradient, toy.start, lr, 300)
    theirs = keras_trajectory(keras.optimizers.SGD(learning_rate=lr), toy.gradient, toy.start, 300)
    assert_parity(ours, theirs, atol=0.0, rtol=1e-6)
    # Given the float32 learning rate Keras really uses, the paths agree to float64 round-off.
    exact = scratch["gradient_descent"](toy.gradient, toy.start, float(np.float32(lr)), 300)
    assert_parity(exact, theirs, atol=0.0, rtol=1e-12)


def test_mse_gradient_matches_the_tape_and_gd_reaches_the_closed_form(scratch, regression):
    X, y, w_closed = regression
    w0 = np.zeros(3)
    tape = scratch["tape_gradient"](lambda w: tf.reduce_mean((tf.linalg.matvec(X, w) - y) ** 2), w0)
    assert_parity(scratch["mse_gradient"](w0, X, y), tape, atol=1e-10)
    assert scratch["mse_loss"](w0, X, y) == pytest.approx(np.mean(y**2))
    L = np.linalg.eigvalsh(2 / len(X) * X.T @ X).max()
    path = scratch["gradient_descent"](lambda w: scratch["mse_gradient"](w, X, y), w0, 1 / L, 200)
    assert_parity(path[-1], w_closed, atol=1e-8)


def test_one_keras_sgd_step_and_full_batch_fit_equal_hand_written_gd(scratch, regression):
    X, y, _ = regression
    w0, eta = np.zeros(3), 0.1

    def dense_model():
        model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
        model.layers[0].set_weights([w0[:2].reshape(2, 1), w0[2:]])
        return model

    model = dense_model()
    optimizer = keras.optimizers.SGD(learning_rate=eta)
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y[:, None], model(X[:, :2]))
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    kernel, bias = model.get_weights()
    assert_parity(np.concatenate([kernel[:, 0], bias]), w0 - eta * scratch["mse_gradient"](w0, X, y), atol=1e-5)

    model = dense_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=eta), loss="mse")
    model.fit(tf.data.Dataset.from_tensors((X[:, :2], y[:, None])).repeat(100), epochs=1, shuffle=False, verbose=0)
    kernel, bias = model.get_weights()
    ours = scratch["gradient_descent"](lambda w: scratch["mse_gradient"](w, X, y), w0, eta, 100)[-1]
    assert_parity(np.concatenate([kernel[:, 0], bias]), ours, atol=1e-5)
    assert np.abs(ours - w0).max() > 0.5  # the run moved far, so the agreement is not trivial


def test_softmax_cross_entropy_matches_keras_and_the_tape(scratch):
    rng = np.random.default_rng(1)
    X = rng.random((64, 784))
    y = rng.integers(0, 10, size=64)
    W, b = rng.normal(scale=0.05, size=(784, 10)), rng.normal(scale=0.05, size=10)
    loss, grad_W, grad_b = scratch["softmax_cross_entropy"](W, b, X, y)
    W_var, b_var = tf.Variable(W), tf.Variable(b)
    with tf.GradientTape() as tape:
        keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")(
            y, tf.matmul(X, W_var) + b_var)
    tape_W, tape_b = tape.gradient(keras_loss, [W_var, b_var])
    assert_parity(loss, keras_loss, atol=1e-12)
    assert_parity(grad_W, tape_W, atol=1e-12)
    assert_parity(grad_b, tape_b, atol=1e-12)
    zero_loss = scratch["softmax_cross_entropy"](np.zeros((784, 10)), np.zeros(10), X, y)[0]
    assert zero_loss == pytest.approx(np.log(10), abs=1e-12)


def test_softmax_cross_entropy_is_stable_for_huge_logits(scratch):
    X = np.array([[1000.0, -1000.0]])
    loss, grad_W, _ = scratch["softmax_cross_entropy"](np.eye(2), np.zeros(2), X, np.array([1]))
    assert np.isfinite(loss) and loss == pytest.approx(2000.0)
    assert np.all(np.isfinite(grad_W))


def test_full_batch_sgd_epoch_is_one_gradient_descent_step(scratch):
    rng = np.random.default_rng(0)
    X, y = rng.random((40, 784)), rng.integers(0, 10, size=40)
    W, b = np.zeros((784, 10)), np.zeros(10)
    losses = scratch["sgd_epoch"](scratch["softmax_cross_entropy"], [W, b], X, y, 0.5, batch_size=40)
    _, grad_W, grad_b = scratch["softmax_cross_entropy"](np.zeros((784, 10)), np.zeros(10), X, y)
    assert losses.shape == (1,) and losses[0] == pytest.approx(np.log(10))
    assert_parity(W, -0.5 * grad_W, atol=1e-12)
    assert_parity(b, -0.5 * grad_b, atol=1e-12)


def test_sgd_epoch_makes_n_over_b_steps_and_learns_a_separable_problem(scratch):
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=3.0, size=(3, 5))
    y = rng.integers(0, 3, size=300)
    X = centers[y] + rng.normal(size=(300, 5))
    W, b = np.zeros((5, 3)), np.zeros(3)
    losses = scratch["sgd_epoch"](scratch["softmax_cross_entropy"], [W, b], X, y, 0.1, 32, np.random.default_rng(1))
    assert len(losses) == 300 // 32
    assert np.mean((X @ W + b).argmax(axis=1) == y) > 0.9


def test_minibatch_gradient_is_unbiased_and_its_noise_falls_as_one_over_b(scratch):
    rng = np.random.default_rng(0)
    X, y = rng.random((2000, 20)), rng.integers(0, 4, size=2000)
    W, b = rng.normal(scale=0.1, size=(20, 4)), np.zeros(4)
    f = scratch["softmax_cross_entropy"]
    _, exact_W, _ = f(W, b, X, y)
    noise = {}
    for B in (1, 16):
        samples = [f(W, b, X[batch], y[batch])[1] for batch in rng.integers(0, 2000, size=(4000, B))]
        noise[B] = np.mean([np.sum((g - exact_W) ** 2) for g in samples])
        if B == 16:
            assert_parity(np.mean(samples, axis=0), exact_W, atol=0.02)
    assert noise[1] / noise[16] == pytest.approx(16, rel=0.15)


def test_unshuffled_sorted_minibatches_end_up_predicting_the_last_class(scratch):
    """The notebook's pitfall on the smoke subset of MNIST: 1 epoch in label order predicts mostly '9'."""
    local_file("mnist.npz")
    (x, y), _ = load_mnist(mode="smoke")
    X = x.reshape(len(x), -1).astype("float32") / 255.0
    X_train, y_train, X_val, y_val = X[:-200], y[:-200], X[-200:], y[-200:]
    by_label = np.argsort(y_train, kind="stable")
    results = {}
    for name, order_rng in (("sorted", None), ("shuffled", np.random.default_rng(0))):
        W, b = np.zeros((784, 10), "float32"), np.zeros(10, "float32")
        scratch["sgd_epoch"](scratch["softmax_cross_entropy"], [W, b], X_train[by_label], y_train[by_label], 0.1, 64,
                             order_rng)
        results[name] = (X_val @ W + b).argmax(axis=1)
    assert np.mean(results["sorted"] == 9) > 0.8
    assert np.mean(results["shuffled"] == y_val) > 0.6


def random_mlp(rng: np.random.Generator, inputs: int = 784, hidden: int = 100, classes: int = 10) -> list[np.ndarray]:
    return [rng.normal(scale=np.sqrt(2 / inputs), size=(inputs, hidden)), rng.normal(scale=0.1, size=hidden),
            rng.normal(scale=np.sqrt(1 / hidden), size=(hidden, classes)), rng.normal(scale=0.1, size=classes)]


def test_mlp_backprop_matches_keras_and_the_tape(scratch):
    """The notebook's section 7: backprop by hand vs tf.GradientTape through a float64 Keras model."""
    rng = np.random.default_rng(3)
    params = random_mlp(rng)
    X, y = rng.random((64, 784)), rng.integers(0, 10, size=64)
    loss, *ours = scratch["mlp_loss_and_gradients"](*params, X, y)
    model = keras.Sequential([keras.Input(shape=(784,), dtype="float64"),
                              keras.layers.Dense(100, activation="relu", dtype="float64"),
                              keras.layers.Dense(10, dtype="float64")])
    model.set_weights(params)
    with tf.GradientTape() as tape:
        keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")(y, model(X))
    theirs = tape.gradient(keras_loss, model.trainable_variables)
    assert_parity(loss, keras_loss, atol=1e-12)
    for g_ours, g_tape, param in zip(ours, theirs, params):
        assert g_ours.shape == param.shape
        assert_parity(g_ours, g_tape, atol=1e-12)
        assert np.abs(g_ours).max() > 1e-6  # a gradient of zeros would not be a check


def test_mlp_backprop_matches_finite_differences(scratch):
    """Independent of TensorFlow: central differences on a few entries of every parameter."""
    rng = np.random.default_rng(0)
    params = random_mlp(rng, inputs=6, hidden=5, classes=3)
    X, y = rng.normal(size=(12, 6)), rng.integers(0, 3, size=12)
    f = scratch["mlp_loss_and_gradients"]
    _, *grads = f(*params, X, y)
    h = 1e-6
    for which, (param, grad) in enumerate(zip(params, grads)):
        for index in list(np.ndindex(param.shape))[:4]:
            plus = [p.copy() for p in params]
            minus = [p.copy() for p in params]
            plus[which][index] += h
            minus[which][index] -= h
            numeric = (f(*plus, X, y)[0] - f(*minus, X, y)[0]) / (2 * h)
            assert numeric == pytest.approx(grad[index], abs=1e-7)


def test_inactive_relu_units_get_no_gradient(scratch):
    rng = np.random.default_rng(1)
    params = random_mlp(rng, inputs=6, hidden=5, classes=3)
    params[1][:2] = -100.0  # units 0 and 1 are inactive for every example
    X, y = rng.normal(size=(20, 6)), rng.integers(0, 3, size=20)
    _, dW1, db1, dW2, _ = scratch["mlp_loss_and_gradients"](*params, X, y)
    assert np.all(dW1[:, :2] == 0) and np.all(db1[:2] == 0) and np.all(dW2[:2] == 0)
    assert np.abs(dW1[:, 2:]).max() > 0


def test_sgd_epoch_trains_the_mlp_on_a_problem_softmax_regression_cannot_solve(scratch):
    """Two interleaved classes (XOR of the signs): a hidden layer is needed, and backprop must be right."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(2000, 2))
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(int)
    W, b = np.zeros((2, 2)), np.zeros(2)
    mlp = random_mlp(rng, inputs=2, hidden=32, classes=2)
    for _ in range(30):
        scratch["sgd_epoch"](scratch["softmax_cross_entropy"], [W, b], X, y, 0.5, 32, rng)
        scratch["sgd_epoch"](scratch["mlp_loss_and_gradients"], mlp, X, y, 0.5, 32, rng)
    linear_accuracy = np.mean((X @ W + b).argmax(axis=1) == y)
    mlp_accuracy = np.mean((np.maximum(X @ mlp[0] + mlp[1], 0) @ mlp[2] + mlp[3]).argmax(axis=1) == y)
    assert linear_accuracy < 0.7
    assert mlp_accuracy > 0.95
