"""Chapter 10: the notebook's from-scratch code (cells tagged from-scratch): attention against Keras' layers, and the
decoders (greedy, beam search, sequence log-probability) against each other and against exhaustive search."""

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


class TinySeq2Seq(keras.Model):
    """An untrained encoder-decoder with the notebook's encode/decode interface, for the decoders' tests."""

    def __init__(self, vocab_size=6, units=8):
        super().__init__()
        self.source_embedding = keras.layers.Embedding(vocab_size, 4, mask_zero=True)
        self.encoder = keras.layers.GRU(units, return_sequences=True, return_state=True)
        self.target_embedding = keras.layers.Embedding(vocab_size, 4)
        self.decoder = keras.layers.GRU(units, return_sequences=True, return_state=True)
        self.attention = keras.layers.Attention()
        self.head = keras.layers.Dense(vocab_size, kernel_initializer=keras.initializers.RandomNormal(stddev=2.0))

    def encode(self, source):
        mask = tf.not_equal(source, 0)
        states, final_state = self.encoder(self.source_embedding(source), mask=mask)
        return states, final_state, mask

    def decode(self, decoder_input, state, encoder_states, source_mask):
        outputs, state = self.decoder(self.target_embedding(decoder_input), initial_state=state)
        context, weights = self.attention([outputs, encoder_states], mask=[None, source_mask],
                                          return_attention_scores=True)
        return self.head(tf.concat([outputs, context], axis=-1)), state, weights

    def call(self, inputs):
        source, decoder_input = inputs
        states, final_state, mask = self.encode(source)
        return self.decode(decoder_input, final_state, states, mask)[0]


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(3)
    model = TinySeq2Seq()
    source = np.random.default_rng(3).integers(3, 6, size=(40, 5)).astype("int32")
    source[::3, 3:] = 0                                   # some shorter sources, padded
    return model, source


def test_beam_search_with_width_one_is_greedy_decoding(ns, tiny):
    model, source = tiny
    greedy = ns["after_eos_to_pad"](ns["greedy_decode"](model, source, steps=6)[0])
    beam, _ = ns["beam_search"](model, source, 1, 6, bos=ns["BOS"], eos=ns["EOS"])
    assert np.array_equal(beam, greedy)
    assert (greedy == ns["EOS"]).any() and (greedy == 0).any()       # the comparison covers finished outputs


def test_beam_scores_are_the_teacher_forced_log_probabilities(ns, tiny):
    model, source = tiny
    tokens, scores = ns["beam_search"](model, source, 3, 6, bos=ns["BOS"], eos=ns["EOS"])
    np.testing.assert_allclose(scores, ns["sequence_log_prob"](model, source, tokens, bos=ns["BOS"], eos=ns["EOS"]),
                               atol=1e-4)


def test_a_wide_enough_beam_finds_the_most_probable_sequence(ns, tiny):
    # With k = V**T nothing is ever pruned: beam search becomes exhaustive search over all outputs of T tokens.
    model, source = tiny
    source, vocab, steps = source[:12], 6, 3
    bos, eos = ns["BOS"], ns["EOS"]
    every = np.stack(np.meshgrid(*[np.arange(vocab)] * steps, indexing="ij"), axis=-1).reshape(-1, steps)
    best = []
    for row in source:
        log_probs = ns["sequence_log_prob"](model, np.repeat(row[None], len(every), axis=0), every, bos=bos, eos=eos)
        best.append(log_probs.max())
    _, scores = ns["beam_search"](model, source, vocab**steps, steps, bos=bos, eos=eos)
    np.testing.assert_allclose(scores, best, atol=1e-4)
    _, greedy_scores = ns["beam_search"](model, source, 1, steps, bos=bos, eos=eos)
    assert np.all(greedy_scores <= scores + 1e-6) and np.any(greedy_scores < scores - 1e-3)


def test_after_eos_to_pad(ns):
    eos = ns["EOS"]
    tokens = np.array([[5, eos, 7, 8], [5, 6, 7, 8], [eos, eos, 3, 4]])
    expected = np.array([[5, eos, 0, 0], [5, 6, 7, 8], [eos, 0, 0, 0]])
    assert np.array_equal(ns["after_eos_to_pad"](tokens), expected)
