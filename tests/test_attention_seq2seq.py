"""Chapter 10: the notebook's from-scratch attention (cells tagged from-scratch) against Keras' layers."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers.checks import check_parity
from tests.notebook_code import scratch_namespace

NOTEBOOK = "10_attention_seq2seq.ipynb"


@pytest.fixture(scope="module")
def ns():
    return scratch_namespace(NOTEBOOK)


@pytest.fixture()
def tensors():
    rng = np.random.default_rng(11)
    q = rng.normal(size=(3, 5, 6)).astype("float32")
    v = rng.normal(size=(3, 7, 6)).astype("float32")
    k = rng.normal(size=(3, 7, 6)).astype("float32")
    mask = np.arange(7)[None, :] < np.array([[7], [3], [1]])
    return q, v, k, mask


def test_dot_product_attention_matches_keras_attention(ns, tensors):
    q, v, k, mask = tensors
    keras_context, keras_weights = keras.layers.Attention()([q, v, k], mask=[None, mask], return_attention_scores=True)
    context, weights = ns["dot_product_attention"](q, v, key=k, value_mask=mask)
    check_parity("context", context, keras_context, atol=1e-5)
    check_parity("weights", weights, keras_weights, atol=1e-6)


def test_dot_product_attention_without_mask_and_with_key_equal_to_value(ns, tensors):
    q, v, _, _ = tensors
    keras_context, keras_weights = keras.layers.Attention()([q, v], return_attention_scores=True)
    context, weights = ns["dot_product_attention"](q, v)
    check_parity("context", context, keras_context, atol=1e-5)
    check_parity("weights", weights, keras_weights, atol=1e-6)


def test_scaled_dot_product_attention_matches_keras_use_scale(ns, tensors):
    q, v, k, mask = tensors
    layer = keras.layers.Attention(use_scale=True)
    layer.build([q.shape, v.shape, k.shape])
    layer.scale.assign(0.25)
    keras_weights = layer([q, v, k], mask=[None, mask], return_attention_scores=True)[1]
    check_parity("scaled weights", ns["dot_product_attention"](q, v, key=k, value_mask=mask, scale=0.25)[1],
                 keras_weights, atol=1e-6)


def test_additive_attention_matches_keras_additive_attention(ns, tensors):
    q, v, k, mask = tensors
    keras.utils.set_random_seed(0)
    layer = keras.layers.AdditiveAttention()
    keras_context, keras_weights = layer([q, v, k], mask=[None, mask], return_attention_scores=True)
    context, weights = ns["additive_attention"](q, v, layer.scale.numpy(), key=k, value_mask=mask)
    check_parity("additive context", context, keras_context, atol=1e-5)
    check_parity("additive weights", weights, keras_weights, atol=1e-6)


@pytest.mark.parametrize("name", ["dot_product_attention", "additive_attention"])
def test_mask_removes_all_weight_from_padding_and_weights_are_distributions(ns, tensors, name):
    q, v, k, mask = tensors
    if name == "additive_attention":
        _, weights = ns[name](q, v, np.full(6, 0.5, "float32"), key=k, value_mask=mask)
    else:
        _, weights = ns[name](q, v, key=k, value_mask=mask)
    weights = weights.numpy()
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-6)
    assert np.all(weights[~np.broadcast_to(mask[:, None, :], weights.shape)] == 0.0)
    # the third example has a single real position: all its weight must sit there
    np.testing.assert_allclose(weights[2, :, 0], 1.0, atol=1e-6)


def test_additive_scores_use_the_score_vector(ns, tensors):
    # A zero score vector gives uniform weights over the real positions: the vector is really used.
    q, v, k, mask = tensors
    _, weights = ns["additive_attention"](q, v, np.zeros(6, "float32"), key=k, value_mask=mask)
    np.testing.assert_allclose(weights.numpy()[1, :, :3], 1 / 3, atol=1e-6)
    _, weights = ns["additive_attention"](q, v, np.ones(6, "float32") * 3, key=k, value_mask=mask)
    assert np.abs(weights.numpy()[1, :, :3] - 1 / 3).max() > 1e-2


def test_attention_context_is_the_weighted_average_of_values(ns, tensors):
    q, v, k, mask = tensors
    context, weights = ns["dot_product_attention"](q, v, key=k, value_mask=mask)
    np.testing.assert_allclose(context, tf.einsum("bqv,bvd->bqd", weights, v), atol=1e-5)


def test_hand_example_weights_and_context(ns):
    # The notebook's worked example: scores (0, 3, 0), so weights e^3 / (e^3 + 2) in the middle.
    values = tf.constant([[[1.0, 0.0], [0.0, 2.0], [-1.0, 0.0]]])
    context, weights = ns["dot_product_attention"](tf.constant([[[0.0, 1.5]]]), values)
    middle = np.exp(3.0) / (np.exp(3.0) + 2.0)
    np.testing.assert_allclose(weights.numpy().ravel(), [(1 - middle) / 2, middle, (1 - middle) / 2], atol=1e-6)
    np.testing.assert_allclose(context.numpy().ravel(), [0.0, 2 * middle], atol=1e-6)


def test_bahdanau_projections_then_additive_attention_match_keras(ns, tensors):
    # Exercise 2 of the notebook: bias-free projections in front of additive attention.
    q, v, k, mask = tensors
    keras.utils.set_random_seed(1)
    project_query, project_key = keras.layers.Dense(4, use_bias=False), keras.layers.Dense(4, use_bias=False)
    layer = keras.layers.AdditiveAttention()
    projected_q, projected_k = project_query(q), project_key(k)
    reference = layer([projected_q, v, projected_k], mask=[None, mask])
    context, _ = ns["additive_attention"](projected_q, v, layer.scale.numpy(), key=projected_k, value_mask=mask)
    check_parity("Bahdanau context", context, reference, atol=1e-5)
