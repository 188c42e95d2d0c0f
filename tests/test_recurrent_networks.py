"""Chapter 09: the notebook's from-scratch RNN code (cells tagged from-scratch) against Keras and TF."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers.checks import check_parity
from tests.notebook_code import scratch_namespace

NOTEBOOK = "09_recurrent_networks.ipynb"


@pytest.fixture(scope="module")
def ns():
    return scratch_namespace(NOTEBOOK)


@pytest.fixture()
def x():
    return np.random.default_rng(3).normal(size=(4, 12, 5)).astype("float32")


def test_simple_rnn_matches_keras_simple_rnn(ns, x):
    keras.utils.set_random_seed(0)
    layer = keras.layers.SimpleRNN(7, return_sequences=True)
    reference = layer(x)
    ours = ns["simple_rnn"](x, *[w.numpy() for w in layer.weights])
    check_parity("SimpleRNN states", ours, reference, atol=1e-5)


def test_simple_rnn_uses_the_recurrent_weights(ns, x):
    # A loop that forgot h_{t-1} would still match Keras at t = 1, but not later.
    keras.utils.set_random_seed(0)
    layer = keras.layers.SimpleRNN(7, return_sequences=True)
    reference = layer(x).numpy()
    kernel, recurrent, bias = (w.numpy() for w in layer.weights)
    without_memory = ns["simple_rnn"](x, kernel, np.zeros_like(recurrent), bias).numpy()
    np.testing.assert_allclose(without_memory[:, 0], reference[:, 0], atol=1e-6)
    assert np.abs(without_memory[:, 1:] - reference[:, 1:]).max() > 1e-2


def test_bptt_by_hand_matches_the_tape_through_keras(ns, x):
    keras.utils.set_random_seed(1)
    layer = keras.layers.SimpleRNN(6, return_sequences=True)
    x_tensor = tf.constant(x)
    grad_states = np.random.default_rng(4).normal(size=(4, 12, 6)).astype("float32")
    with tf.GradientTape() as tape:
        tape.watch(x_tensor)
        states = layer(x_tensor)
        loss = tf.reduce_sum(grad_states * states)
    tape_grads = tape.gradient(loss, [*layer.trainable_weights, x_tensor])
    weights = [w.numpy().astype("float64") for w in layer.weights]
    by_hand = ns["simple_rnn_backward"](x.astype("float64"), states.numpy().astype("float64"), weights[0], weights[1],
                                        grad_states.astype("float64"))
    for name, ours, reference in zip(["d_kernel", "d_recurrent", "d_bias", "d_x"], by_hand, tape_grads):
        check_parity(name, ours, reference, atol=1e-4)


def test_gradient_profile_of_our_loop_matches_keras(ns):
    x = np.random.default_rng(5).normal(size=(8, 30, 3)).astype("float32")
    keras.utils.set_random_seed(2)
    layer = keras.layers.SimpleRNN(10)
    reference = ns["input_gradient_norms"](layer, x)
    weights = [w.numpy() for w in layer.weights]
    ours = ns["input_gradient_norms"](lambda seq: ns["simple_rnn"](seq, *weights)[:, -1], x)
    assert ours.shape == (30,)
    check_parity("gradient profile", ours, reference, atol=1e-5)
    assert reference[-1] < reference[0]  # index k = steps back: the oldest input matters least here


def _gradients():
    rng = np.random.default_rng(6)
    return [tf.constant(rng.normal(size=(3, 4)) * 5, tf.float32), tf.constant(rng.normal(size=4) * 0.1, tf.float32)]


def _keras_sgd_step(gradients, **clip_option):
    variables = [keras.Variable(tf.zeros_like(g)) for g in gradients]
    keras.optimizers.SGD(learning_rate=1.0, **clip_option).apply_gradients(zip(gradients, variables))
    return [-v.numpy() for v in variables]


def test_global_norm_clipping_matches_tf_and_keras(ns):
    gradients = _gradients()
    ours = ns["clip_by_global_norm"](gradients, 1.0)
    for mine, tf_reference, keras_reference in zip(ours, tf.clip_by_global_norm(gradients, 1.0)[0],
                                                   _keras_sgd_step(gradients, global_clipnorm=1.0)):
        check_parity("global clip vs tf", mine, tf_reference, atol=1e-6)
        check_parity("global clip vs keras", mine, keras_reference, atol=1e-6)
    assert float(tf.linalg.global_norm(ours)) == pytest.approx(1.0, rel=1e-5)


def test_per_tensor_norm_clipping_matches_keras_clipnorm(ns):
    gradients = _gradients()
    for mine, keras_reference in zip(ns["clip_each_by_norm"](gradients, 1.0), _keras_sgd_step(gradients, clipnorm=1.0)):
        check_parity("per-tensor clip vs keras", mine, keras_reference, atol=1e-6)


def test_clipping_leaves_small_gradients_alone(ns):
    small = [tf.constant([0.1, -0.2]), tf.constant([[0.05]])]
    for clip in (ns["clip_by_global_norm"], ns["clip_each_by_norm"]):
        for mine, original in zip(clip(small, 1.0), small):
            np.testing.assert_allclose(mine, original, rtol=1e-6)


def test_softmax_with_temperature(ns):
    logits = np.array([2.0, 1.0, 0.0, -1.0, 500.0])
    for temperature in (0.5, 1.0, 1.5):
        ours = ns["softmax_with_temperature"](logits, temperature)
        check_parity(f"softmax tau={temperature}", ours, tf.nn.softmax(tf.constant(logits / temperature)), atol=1e-12)
        assert ours.sum() == pytest.approx(1.0)
    flat = ns["softmax_with_temperature"](logits[:4], 1e6)
    np.testing.assert_allclose(flat, 0.25, atol=1e-5)  # a very high temperature approaches uniform


def test_lstm_solution_matches_keras_lstm(ns, x):
    keras.utils.set_random_seed(3)
    layer = keras.layers.LSTM(6, return_sequences=True)
    reference = layer(x)
    check_parity("LSTM states", ns["lstm"](x, *[w.numpy() for w in layer.weights]), reference, atol=1e-5)


def test_article_clipping_formula_never_clips(ns):
    # The pitfall's formula, min(|g| * max, g): it raises on a gradient array, and on numbers it bounds nothing.
    article_clip = ns["article_clip"]
    with pytest.raises(ValueError):
        article_clip(np.array([250.0, -0.5, 80.0]), 1.0)
    for g in (1e6, 3.0, -3.0, -1e6):
        for max_value in (1.0, 5.0):
            assert article_clip(g, max_value) == g  # the identity whenever max >= 1
    assert article_clip(1e6, 0.5) == 5e5 and article_clip(-1e6, 0.5) == -1e6  # below 1: a constant factor, or nothing
    clipped = ns["clip_by_global_norm"]([tf.constant([1e6, -1e6])], 1.0)[0]
    assert float(tf.norm(clipped)) == pytest.approx(1.0, rel=1e-6)  # real clipping bounds the norm


def test_adam_spike_without_clipping_stalls_later_steps():
    # The notebook's claim about clipping under Adam: a gradient spike does not make a long step (Adam divides by
    # sqrt(v)), but it fills v, and later steps shrink by orders of magnitude; global_clipnorm prevents that.
    def step_lengths(**clip_option):
        weight, optimizer = keras.Variable(0.0), keras.optimizers.Adam(learning_rate=0.01, **clip_option)
        lengths = []
        for step in range(150):
            before = float(weight.numpy())
            optimizer.apply_gradients([(tf.constant(1e6 if step == 20 else 1.0), weight)])
            lengths.append(abs(float(weight.numpy()) - before) / 0.01)
        return np.array(lengths)

    unclipped, clipped = step_lengths(), step_lengths(global_clipnorm=1.0)
    assert unclipped[20] < 1.0  # the spike's own step is shorter than the learning rate
    assert unclipped[149] < 1e-2 * unclipped[19]  # ...but once its momentum has decayed, the steps collapse
    assert clipped[149] == pytest.approx(clipped[19], rel=1e-3)  # with clipping nothing changes


def test_every_random_choice_derives_from_the_settings_seed():
    # COURSE_SEED (python -m tools.run_notebooks --seed N) must really change the chapter: no literal seeds in its code.
    import re

    import nbformat

    from tests.notebook_code import NOTEBOOKS

    notebook = nbformat.read(NOTEBOOKS / NOTEBOOK, as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    literal = re.compile(r"(default_rng|set_random_seed|RandomState)\(\s*\d|seed\s*=\s*\d")
    offending = [line.strip() for line in code.splitlines()
                 if literal.search(line) and "helpers.setup(seed=42)" not in line]
    assert not offending, f"literal seeds (derive them from settings.seed): {offending}"
    assert "settings.seed" in code
