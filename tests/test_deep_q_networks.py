"""Chapter 12's from-scratch code (executed from the notebook's cells) against Keras and direct computations."""

import gymnasium as gym
import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers.dqn import td_targets
from tests.notebook_code import scratch_namespace

NB = scratch_namespace("12_deep_q_networks.ipynb")
RNG = np.random.default_rng(12)


def test_q_learning_update_matches_the_worked_example_and_returns_the_td_error():
    table = np.array([[2.0, 0.0], [5.0, 3.0]])
    delta = NB["q_learning_update"](table, 0, 0, 1.0, 1, False, alpha=0.1, gamma=0.9)
    assert delta == pytest.approx(3.5) and table[0, 0] == pytest.approx(2.35)
    assert table[1].tolist() == [5.0, 3.0]  # nothing else changes


def test_q_learning_update_does_not_bootstrap_from_a_terminal_state():
    table = np.array([[2.0, 0.0], [5.0, 3.0]])
    NB["q_learning_update"](table, 0, 1, 1.0, 1, True, alpha=0.5, gamma=0.9)
    assert table[0, 1] == pytest.approx(0.5)  # 0 + 0.5 * (1 - 0)


def test_value_iteration_on_a_two_state_chain():
    # state 0: action 0 stays (reward 0), action 1 goes to terminal-ish state 1 with reward 1; state 1 loops
    transitions = {0: {0: [(1.0, 0, 0.0, False)], 1: [(1.0, 1, 1.0, True)]},
                   1: {0: [(1.0, 1, 0.0, True)], 1: [(1.0, 1, 0.0, True)]}}
    q = NB["value_iteration"](transitions, 2, 2, gamma=0.5)
    np.testing.assert_allclose(q, [[0.5, 1.0], [0.0, 0.0]], atol=1e-9)


def test_value_iteration_on_cliff_walking_gives_the_textbook_values():
    env = gym.make("CliffWalking-v1")
    q = NB["value_iteration"](env.unwrapped.P, 48, 4, gamma=1.0)
    assert q[36].max() == pytest.approx(-13)  # 13 steps along the cliff's edge
    assert q[36, 1] == pytest.approx(-100 - 13)  # stepping into the cliff: -100 and back to the start
    assert q[35, 2] == pytest.approx(-1)  # the step into the goal


def test_sweeps_of_q_learning_updates_with_alpha_one_reach_value_iteration():
    env = gym.make("CliffWalking-v1")
    model = env.unwrapped.P
    q = np.zeros((48, 4))
    for _ in range(60):  # deterministic model, alpha = 1: each sweep is one Bellman backup per pair
        for s in range(47):
            for a in range(4):
                ((_, s2, r, done),) = model[s][a]
                NB["q_learning_update"](q, s, a, r, s2, done, alpha=1.0, gamma=1.0)
    np.testing.assert_allclose(q[:47], NB["value_iteration"](model, 48, 4, gamma=1.0)[:47], atol=1e-9)


@pytest.mark.parametrize("delta", [0.5, 1.0, 2.0])
def test_huber_matches_keras(delta):
    targets = RNG.normal(0, 3, size=300).astype("float32")
    predictions = RNG.normal(0, 3, size=300).astype("float32")
    ours = NB["huber"](targets - predictions, delta)
    np.testing.assert_allclose(ours, keras.losses.Huber(delta=delta)(targets, predictions), rtol=1e-6, atol=1e-7)


def test_huber_gradient_is_the_clipped_error():
    targets = RNG.normal(0, 3, size=100).astype("float32")
    q = tf.Variable(RNG.normal(0, 3, size=100).astype("float32"))
    with tf.GradientTape() as tape:
        loss = NB["huber"](targets - q, 1.0)
    np.testing.assert_allclose(tape.gradient(loss, q), np.clip(q.numpy() - targets, -1, 1) / 100, atol=1e-8)


def direct_targets(rewards, terminated, online, target, gamma, double):
    out = []
    for i in range(len(rewards)):
        if terminated[i]:
            out.append(rewards[i])
        elif double:
            out.append(rewards[i] + gamma * target[i][int(np.argmax(online[i]))])
        else:
            out.append(rewards[i] + gamma * max(target[i]))
    return np.array(out)


@pytest.mark.parametrize("double", [False, True])
def test_targets_match_a_direct_loop_and_the_agents_td_targets(double):
    n = 128
    rewards = RNG.normal(size=n).astype("float32")
    terminated = (RNG.random(n) < 0.3).astype("float32")
    online = RNG.normal(size=(n, 3)).astype("float32")
    target = RNG.normal(size=(n, 3)).astype("float32")
    if double:
        ours = NB["double_dqn_targets"](rewards, terminated, online, target, 0.97)
    else:
        ours = NB["dqn_targets"](rewards, terminated, target, 0.97)
    np.testing.assert_allclose(ours, direct_targets(rewards, terminated, online, target, 0.97, double), atol=1e-6)
    np.testing.assert_allclose(ours, td_targets(rewards, terminated, online, target, 0.97, double), atol=1e-6)


def test_double_and_plain_targets_differ_where_the_networks_disagree():
    online = tf.constant([[1.0, 3.0]])
    target = tf.constant([[4.0, 2.0]])
    r, d = tf.constant([1.0]), tf.constant([0.0])
    assert float(NB["dqn_targets"](r, d, target, 0.9)[0]) == pytest.approx(4.6)
    assert float(NB["double_dqn_targets"](r, d, online, target, 0.9)[0]) == pytest.approx(2.8)


def test_discounted_returns_match_the_closed_form_and_a_sum():
    returns = NB["discounted_returns"](np.ones(500), 0.99)
    np.testing.assert_allclose(returns, (1 - 0.99 ** np.arange(500, 0, -1)) / 0.01, atol=1e-9)
    rewards = RNG.normal(size=20)
    expected = [sum(0.9**k * rewards[t + k] for k in range(20 - t)) for t in range(20)]
    np.testing.assert_allclose(NB["discounted_returns"](rewards, 0.9), expected, atol=1e-12)


def test_tabular_q_learning_matches_value_iteration_on_the_greedy_path():
    env = gym.make("CliffWalking-v1", max_episode_steps=500)
    q, returns = NB["run_q_learning"](env, 200)
    path, total = NB["greedy_path"](env, q)
    assert total == -13 and len(path) == 14 and len(returns) == 200
    q_star = NB["value_iteration"](env.unwrapped.P, 48, 4, gamma=1.0)
    np.testing.assert_allclose(q[path[:-1]].max(axis=1), q_star[path[:-1]].max(axis=1), atol=1e-6)


def test_the_agents_loss_is_our_huber_of_our_double_dqn_target():
    from helpers.dqn import DQNAgent, DQNConfig

    keras.utils.set_random_seed(0)
    agent = DQNAgent(DQNConfig(hidden_units=(32, 32)), 4, 2)
    agent.target.set_weights([w * 0.9 for w in agent.online.get_weights()])
    states, next_states = RNG.normal(size=(2, 64, 4)).astype("float32")
    actions = RNG.integers(0, 2, 64).astype("int32")
    rewards = RNG.normal(size=64).astype("float32")
    terminated = (RNG.random(64) < 0.25).astype("float32")
    y = NB["double_dqn_targets"](rewards, terminated, agent.online(next_states), agent.target(next_states), 0.99)
    q = tf.gather(agent.online(states), actions, axis=1, batch_dims=1)
    np.testing.assert_allclose(agent.loss(states, actions, rewards, next_states, terminated), NB["huber"](y - q),
                               rtol=1e-5)


def test_the_two_slipped_updates_reproduce_their_published_arithmetic():
    # bracket r + gamma max Q' - Q = 1 + 0.9 * 2 - 1.2 = 1.6; the article writes the new Q as 0.1 * 1.6 = 0.16
    for rule, expected in (("q_learning_update", 1.36), ("article_update", 0.16), ("sign_slip_update", 0.80)):
        table = np.array([[1.2, 0.0], [2.0, 0.5]])
        NB[rule](table, 0, 0, 1.0, 1, False, alpha=0.1, gamma=0.9)
        assert table[0, 0] == pytest.approx(expected), rule
        assert table[1].tolist() == [2.0, 0.5]


def test_the_articles_rule_converges_to_the_values_of_the_rescaled_task():
    # fixed point of Q <- alpha (r + gamma max Q' - Q): Q* of the task with rewards k r and discount k gamma,
    # k = alpha / (1 + alpha) (the notebook's derivation); alpha (1 + gamma) < 1 makes the sweeps contract
    env = gym.make("CliffWalking-v1")
    model = env.unwrapped.P
    alpha, gamma = 0.5, 0.9
    k = alpha / (1 + alpha)
    q = np.zeros((48, 4))
    for _ in range(400):
        for s in range(47):
            for a in range(4):
                ((_, s2, r, done),) = model[s][a]
                NB["article_update"](q, s, a, r, s2, done, alpha=alpha, gamma=gamma)
    rescaled = {s: {a: [(p, s2, k * r, d) for p, s2, r, d in moves] for a, moves in actions.items()}
                for s, actions in model.items()}
    expected = NB["value_iteration"](rescaled, 48, 4, gamma=k * gamma)
    np.testing.assert_allclose(q[:47], expected[:47], atol=1e-8)
    assert not np.allclose(q[:47], NB["value_iteration"](model, 48, 4, gamma=gamma)[:47], atol=1.0)
