"""Chapter 07's from-scratch convolution, pooling and shape arithmetic, checked against TensorFlow and Keras.

The functions under test are the notebook's own cells tagged ``from-scratch`` (tests/notebook_code.py).
"""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.notebook_code import scratch_namespace

NOTEBOOK = "07_convolutional_networks.ipynb"


@pytest.fixture(scope="module")
def ns():
    return scratch_namespace(NOTEBOOK)


RNG = np.random.default_rng(7)
SHAPES = [(2, 7, 8, 3), (1, 6, 6, 2), (3, 9, 5, 1), (1, 28, 28, 1)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kernel_hw", [(3, 3), (4, 4), (2, 5), (1, 1), (5, 5)])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_matches_tf_nn_conv2d(ns, shape, kernel_hw, stride, padding):
    if padding == "valid" and (shape[1] < kernel_hw[0] or shape[2] < kernel_hw[1]):
        pytest.skip("window larger than the image")
    x = RNG.normal(size=shape).astype("float32")
    kernel = RNG.normal(size=(*kernel_hw, shape[-1], 4)).astype("float32")
    ours = ns["conv2d"](x, kernel, stride, padding)
    reference = tf.nn.conv2d(x, kernel, strides=stride, padding=padding.upper()).numpy()
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, atol=1e-5, rtol=0)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("pool", [1, 2, 3])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_max_pool2d_matches_tf_nn_max_pool2d(ns, shape, pool, stride, padding):
    x = RNG.normal(size=shape).astype("float32")
    ours = ns["max_pool2d"](x, pool, stride, padding)
    reference = tf.nn.max_pool2d(x, ksize=pool, strides=stride, padding=padding.upper()).numpy()
    assert ours.shape == reference.shape
    np.testing.assert_array_equal(ours, reference)


def test_max_pool2d_same_padding_never_returns_the_padding_value(ns):
    x = -np.ones((1, 5, 5, 1))  # all negative: zero padding would win the max, -inf padding must not
    assert ns["max_pool2d"](x, 3, 2, "same").max() == -1.0


def test_same_padding_puts_the_odd_pixel_after(ns):
    assert ns["same_padding"](28, 3, 2) == (0, 1)
    assert ns["same_padding"](6, 4, 1) == (1, 2)
    assert ns["same_padding"](28, 3, 1) == (1, 1)
    assert ns["same_padding"](28, 1, 2) == (0, 0)


@pytest.mark.parametrize("size, kernel, stride, padding",
                         list(itertools.product([5, 7, 8, 28, 32], [1, 2, 3, 5], [1, 2, 3], ["valid", "same"])))
def test_conv_output_length_matches_keras(ns, size, kernel, stride, padding):
    layer = keras.layers.Conv2D(1, kernel, strides=stride, padding=padding)
    expected = layer.compute_output_shape((None, size, size, 1))[1]
    assert ns["conv_output_length"](size, kernel, stride, padding) == expected


@pytest.mark.parametrize("kernel, c_in, c_out", [(3, 1, 32), (3, 32, 64), (5, 3, 16), (1, 64, 128)])
def test_conv2d_params_matches_keras(ns, kernel, c_in, c_out):
    layer = keras.layers.Conv2D(c_out, kernel)
    layer.build((None, 32, 32, c_in))
    assert ns["conv2d_params"](kernel, c_in, c_out) == layer.count_params()


def test_dense_params_matches_keras(ns):
    layer = keras.layers.Dense(128)
    layer.build((None, 1600))
    assert ns["dense_params"](1600, 128) == layer.count_params() == 204_928


def test_chapter_cnn_shapes_and_parameters_by_hand(ns):
    """The notebook's table: every layer's output shape and parameter count from the formulas."""
    length, params = ns["conv_output_length"], ns["conv2d_params"]
    h1 = length(28, 3)
    h2 = length(h1, 2, 2)
    h3 = length(h2, 3)
    h4 = length(h3, 2, 2)
    assert (h1, h2, h3, h4) == (26, 13, 11, 5)
    total = params(3, 1, 32) + params(3, 32, 64) + ns["dense_params"](h4 * h4 * 64, 128) + ns["dense_params"](128, 10)
    model = keras.Sequential([
        keras.Input((28, 28, 1)), keras.layers.Conv2D(32, 3), keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 3), keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
        keras.layers.Dense(128), keras.layers.Dropout(0.5), keras.layers.Dense(10)])
    assert tuple(model.layers[3].output.shape[1:]) == (h4, h4, 64)
    assert total == model.count_params() == 225_034


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_forward_runs_a_keras_cnn_exactly(ns, padding):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        keras.Input((12, 12, 2)),
        keras.layers.Conv2D(4, 3, activation="relu", padding=padding),
        keras.layers.MaxPooling2D(2, padding=padding),
        keras.layers.Conv2D(5, 3, strides=2, activation="relu", padding=padding),
        keras.layers.Flatten(),
        keras.layers.Dense(6, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(3),
    ])
    x = RNG.normal(size=(4, 12, 12, 2)).astype("float32")
    np.testing.assert_allclose(ns["forward"](x, model.layers), model.predict(x, verbose=0), atol=1e-4, rtol=0)


def test_forward_refuses_layers_it_does_not_know(ns):
    with pytest.raises(TypeError, match="BatchNormalization"):
        ns["forward"](np.zeros((1, 4)), [keras.layers.BatchNormalization()])


def test_conv2d_detects_a_vertical_edge(ns):
    image = np.zeros((1, 6, 6, 1))
    image[0, :, 3:, 0] = 1.0
    kernel = np.array([[-1.0, 0.0, 1.0]] * 3).reshape(3, 3, 1, 1)
    out = ns["conv2d"](image, kernel)[0, :, :, 0]
    np.testing.assert_array_equal(out, np.tile([0.0, 3.0, 3.0, 0.0], (4, 1)))


def test_keep_validation_logits_matches_keras_validation_data(ns):
    """The notebook's callback writes the same val_loss/val_accuracy per epoch as fit(validation_data=...),
    and keeps logits equal to the model's predictions on the validation images."""
    x = RNG.normal(size=(96, 6, 6, 1)).astype("float32")
    y = RNG.integers(0, 3, size=96)
    x_val, y_val = RNG.normal(size=(40, 6, 6, 1)).astype("float32"), RNG.integers(0, 3, size=40)
    histories, keeper = [], None
    for ours in (False, True):
        keras.utils.set_random_seed(5)
        model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                                  keras.layers.Flatten(), keras.layers.Dense(3)])
        model.compile(optimizer=keras.optimizers.SGD(0.1), metrics=["accuracy"],
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        if ours:
            keeper = ns["KeepValidationLogits"](x_val, y_val, batch_size=16)
            history = model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0, callbacks=[keeper])
        else:
            history = model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0, validation_data=(x_val, y_val))
        histories.append(history.history)
    keras_run, our_run = histories
    for key in ("val_loss", "val_accuracy"):
        np.testing.assert_allclose(our_run[key], keras_run[key], atol=1e-5, rtol=0)
    assert len(keeper.logits) == 3 and keeper.logits[0].shape == (40, 3)
    assert not np.allclose(keeper.logits[0], keeper.logits[-1])          # one set of logits per epoch
    np.testing.assert_allclose(keeper.logits[-1], model.predict(x_val, verbose=0), atol=1e-6)
