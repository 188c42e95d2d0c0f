"""Chapter 13: the notebook's from-scratch Transformer code (cells tagged from-scratch) against Keras and TF."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers.checks import check_parity
from tests.notebook_code import scratch_namespace

NOTEBOOK = "13_transformers.ipynb"


@pytest.fixture(scope="module")
def ns():
    return scratch_namespace(NOTEBOOK)


@pytest.fixture(scope="module")
def small_gpt(ns):
    keras.utils.set_random_seed(5)
    return ns["build_gpt"](vocab_size=11, context=12, width=24, depth=2, heads=3)


@pytest.mark.parametrize("causal", [True, False])
def test_multi_head_attention_matches_keras(ns, causal):
    keras.utils.set_random_seed(0)
    x = tf.random.normal((3, 9, 20))
    mha = keras.layers.MultiHeadAttention(num_heads=5, key_dim=6)    # key_dim * heads != width on purpose
    reference, reference_weights = mha(x, x, use_causal_mask=causal, return_attention_scores=True)
    ours, our_weights, _ = ns["multi_head_attention"](x, [w.numpy() for w in mha.weights], causal=causal)
    check_parity("MHA outputs", ours, reference, atol=1e-5)
    check_parity("MHA weights", our_weights, reference_weights, atol=1e-6)


def test_causal_attention_ignores_the_future_and_rows_sum_to_one(ns):
    rng = np.random.default_rng(1)
    q, k, v = (tf.constant(rng.normal(size=(2, 7, 4)), tf.float32) for _ in range(3))
    out, weights = ns["attention"](q, k, v)
    w = weights.numpy()
    assert np.allclose(w.sum(-1), 1.0, atol=1e-6)
    assert np.all(np.triu(w, k=1) == 0.0)
    v_changed = v.numpy().copy()
    v_changed[:, 4:] += 10.0                          # the future changes: outputs 0..3 must not
    out_changed, _ = ns["attention"](q, k, tf.constant(v_changed))
    np.testing.assert_allclose(out_changed[:, :4], out[:, :4], atol=1e-6)
    assert np.abs(out_changed[:, 4:] - out[:, 4:]).min() > 1.0


def test_attention_without_scale_is_the_unscaled_formula(ns):
    rng = np.random.default_rng(2)
    q, k, v = (tf.constant(rng.normal(size=(5, 8)), tf.float32) for _ in range(3))
    _, weights = ns["attention"](q, k, v, causal=False, scale=False)
    check_parity("softmax(QK^T)", weights, tf.nn.softmax(tf.matmul(q, k, transpose_b=True)), atol=1e-6)
    _, scaled = ns["attention"](q, k, v, causal=False)
    check_parity("softmax(QK^T / sqrt d)", scaled, tf.nn.softmax(tf.matmul(q, k, transpose_b=True) / np.sqrt(8)),
                 atol=1e-6)


def test_layer_norm_matches_keras(ns):
    rng = np.random.default_rng(3)
    x = rng.normal(2.0, 3.0, size=(4, 5, 16)).astype("float32")
    for epsilon in (1e-5, 1e-3):
        layer = keras.layers.LayerNormalization(epsilon=epsilon)
        layer.build(x.shape)
        layer.set_weights([rng.normal(size=16), rng.normal(size=16)])
        check_parity(f"LayerNorm eps={epsilon}", ns["layer_norm"](x, *layer.get_weights(), epsilon=epsilon),
                     layer(x), atol=1e-5)


def test_gpt_forward_matches_the_keras_model_with_and_without_cache(ns, small_gpt):
    tokens = np.random.default_rng(4).integers(0, 11, size=(2, 12)).astype("int32")
    weights = ns["gpt_weights"](small_gpt)
    full, _, maps = ns["gpt_forward"](weights, tokens)
    check_parity("GPT logits", full, small_gpt(tokens), atol=1e-4)
    assert len(maps) == 2 and maps[0].shape == (2, 3, 12, 12)
    logits, cache, _ = ns["gpt_forward"](weights, tokens[:, :5])
    pieces = [logits]
    for t in range(5, 12):
        logits, cache, _ = ns["gpt_forward"](weights, tokens[:, t:t + 1], cache)
        pieces.append(logits)
    check_parity("cached GPT logits", tf.concat(pieces, axis=1), full, atol=1e-5)


def test_parameter_count_by_hand_formula_in_the_notebook_agrees_with_keras(ns, small_gpt):
    width, vocab, context, depth = 24, 11, 12, 2
    by_hand = (vocab * width + context * width + depth * (12 * width**2 + 13 * width) + 2 * width
               + width * vocab + vocab)
    assert small_gpt.count_params() == by_hand


def test_kv_cache_generates_the_same_tokens_as_the_uncached_model(ns, small_gpt):
    generate = ns["make_generator"](small_gpt, context=12)
    prompt = [1, 2, 3]
    for temperature, top_k in ((0, None), (1.0, 4)):
        # 40 new tokens with a context of 12: the window fills and is cut back several times
        cached = generate(prompt, 40, temperature, top_k=top_k, seed=7)
        uncached = generate(prompt, 40, temperature, top_k=top_k, seed=7, use_cache=False)
        assert cached == uncached
        assert len(cached) == 43 and cached[:3] == prompt
    assert len(set(generate(prompt, 40, 1.0, seed=8))) > 3          # sampling really samples


def test_top_k_probabilities(ns):
    logits = np.array([3.0, 1.0, 2.0, -1.0, 0.5])
    p = ns["top_k_probabilities"](logits, 0.7, top_k=2)
    values, indices = tf.math.top_k(logits / 0.7, k=2)
    reference = tf.scatter_nd(indices[:, None], tf.nn.softmax(values), shape=logits.shape)
    check_parity("top-k", p, reference, atol=1e-12)
    assert np.count_nonzero(p) == 2
    check_parity("no top-k", ns["top_k_probabilities"](logits), tf.nn.softmax(logits), atol=1e-12)


def test_model_switches_change_the_model(ns):
    keras.utils.set_random_seed(6)
    no_positions = ns["build_gpt"](11, 12, 24, 1, 3, positions=False)
    tokens = np.array([[1, 2, 3, 4, 5, 6]], dtype="int32")
    shuffled = np.array([[4, 2, 5, 1, 3, 6]], dtype="int32")
    check_parity("no positions: last logits under a shuffle", no_positions(shuffled)[0, -1], no_positions(tokens)[0, -1],
                 atol=1e-5)
    keras.utils.set_random_seed(6)
    leaky = ns["build_gpt"](11, 12, 24, 1, 3, causal=False)
    changed = tokens.copy()
    changed[0, -1] = 9
    assert np.max(np.abs(leaky(changed)[0, 0] - leaky(tokens)[0, 0])) > 1e-4   # position 0 sees the future
    post = ns["build_gpt"](11, 12, 24, 1, 3, post_ln=True)
    assert "final_ln" not in [layer.name for layer in post.layers]


@pytest.mark.parametrize("seconds", [12.0, 100.0])
def test_time_budget_schedule_is_keras_warmup_cosine_in_seconds(ns, seconds):
    budget = ns["TimeBudget"](peak_lr=3e-3, seconds=seconds)
    steps = 1000                                        # the budget read as a schedule of 1,000 steps
    keras_schedule = keras.optimizers.schedules.CosineDecay(0.0, 900, alpha=0.1, warmup_target=3e-3, warmup_steps=100)
    ours, theirs = [], []
    for step in range(0, steps + 1, 7):
        budget.spent = seconds * step / steps
        ours.append(budget.learning_rate())
        theirs.append(float(keras_schedule(step)))
    check_parity("time-budget schedule", ours, theirs, atol=1e-8)
    budget.spent = 2 * seconds                          # past the budget: stays at the floor, a tenth of the peak
    assert budget.learning_rate() == pytest.approx(3e-4)
    budget.spent = 0.0
    assert budget.learning_rate() == 0.0
