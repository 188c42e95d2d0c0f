"""helpers.dqn: targets, loss, target-network copies, greedy episodes, and exact resumption of training."""

from dataclasses import replace

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers.dqn import (
    DQNAgent,
    DQNConfig,
    SimulatedInterruption,
    clear_checkpoint,
    evaluate_greedy,
    linear_epsilon,
    run_greedy_episodes,
    td_targets,
    train_dqn,
)
from helpers.replay import Batch

TINY = DQNConfig(total_steps=900, hidden_units=(16, 16), learning_starts=200, train_every=100, gradient_steps=8,
                 target_update_every=4, epsilon_decay_steps=500, eval_every=300, eval_episodes=2,
                 checkpoint_every=250, stop_at_return=None)


def test_linear_epsilon_goes_straight_down_then_stays():
    values = [linear_epsilon(s, 1.0, 0.1, 100) for s in (0, 50, 100, 1000)]
    np.testing.assert_allclose(values, [1.0, 0.55, 0.1, 0.1])
    assert linear_epsilon(5, 1.0, 0.1, 0) == 0.1


def test_td_targets_by_hand():
    rewards = tf.constant([1.0, 1.0, 0.5])
    terminated = tf.constant([0.0, 1.0, 0.0])
    online = tf.constant([[1.0, 3.0], [5.0, 0.0], [2.0, 1.0]])
    target = tf.constant([[4.0, 2.0], [7.0, 9.0], [6.0, 8.0]])
    # DQN: r + 0.9 max target; Double: r + 0.9 target[argmax online]; terminated rows keep r only
    np.testing.assert_allclose(td_targets(rewards, terminated, online, target, 0.9, double=False),
                               [1 + 0.9 * 4, 1.0, 0.5 + 0.9 * 8], rtol=1e-6)
    np.testing.assert_allclose(td_targets(rewards, terminated, online, target, 0.9, double=True),
                               [1 + 0.9 * 2, 1.0, 0.5 + 0.9 * 6], rtol=1e-6)


def random_batch(rng, n=32, count=None):
    shape = (n,) if count is None else (count, n)
    return Batch(rng.normal(size=(*shape, 4)).astype("float32"), rng.integers(0, 2, shape).astype("int32"),
                 rng.normal(size=shape).astype("float32"), rng.normal(size=(*shape, 4)).astype("float32"),
                 (rng.random(shape) < 0.2).astype("float32"))


@pytest.mark.parametrize("double,use_target", [(True, True), (False, True), (True, False)])
def test_loss_is_the_huber_loss_of_the_td_error(double, use_target):
    keras.utils.set_random_seed(0)
    config = replace(TINY, double=double, target_update_every=4 if use_target else None)
    agent = DQNAgent(config, 4, 2)
    agent.target.set_weights([w + 0.1 for w in agent.online.get_weights()])  # make the two networks differ
    batch = random_batch(np.random.default_rng(1))
    q_next_online = agent.online(batch.next_states).numpy()
    q_next_target = agent.target(batch.next_states).numpy() if use_target else q_next_online
    if double:
        next_values = q_next_target[np.arange(32), q_next_online.argmax(1)]
    else:
        next_values = q_next_target.max(1)
    targets = batch.rewards + 0.99 * (1 - batch.terminated) * next_values
    errors = agent.online(batch.states).numpy()[np.arange(32), batch.actions] - targets
    huber = np.where(np.abs(errors) <= 1, 0.5 * errors**2, np.abs(errors) - 0.5).mean()
    np.testing.assert_allclose(agent.loss(*batch).numpy(), huber, rtol=1e-5)


def test_a_burst_takes_gradient_steps_and_copies_the_target_every_k_steps():
    keras.utils.set_random_seed(0)
    agent = DQNAgent(TINY, 4, 2)  # target copied every 4 gradient steps
    before = agent.online.get_weights()
    agent.train(random_batch(np.random.default_rng(2), count=6))
    assert int(agent.gradient_steps.numpy()) == 6
    assert any(not np.array_equal(a, b) for a, b in zip(before, agent.online.get_weights()))
    # the target holds the weights after step 4, so it differs from the online weights after step 6
    assert any(not np.array_equal(a, b) for a, b in zip(agent.target.get_weights(), agent.online.get_weights()))
    agent.train(random_batch(np.random.default_rng(3), count=2))  # steps 7 and 8: copy at 8
    for target, online in zip(agent.target.get_weights(), agent.online.get_weights()):
        np.testing.assert_array_equal(target, online)


def test_greedy_actions_and_epsilon_greedy():
    keras.utils.set_random_seed(0)
    agent = DQNAgent(TINY, 4, 2)
    states = np.random.default_rng(4).normal(size=(50, 4)).astype("float32")
    np.testing.assert_array_equal(agent.greedy_actions(states), agent.online(states).numpy().argmax(1))
    rng = np.random.default_rng(5)
    greedy = [agent.act(states[0], 0.0, rng) for _ in range(20)]
    assert set(greedy) == {int(agent.greedy_actions(states[:1])[0])}
    assert set(agent.act(states[0], 1.0, rng) for _ in range(100)) == {0, 1}


def test_greedy_episodes_run_in_lockstep_and_are_reproducible():
    always_left = lambda states: np.zeros(len(states), dtype=int)  # noqa: E731
    first = run_greedy_episodes(always_left, 5, seed=3)
    again = run_greedy_episodes(always_left, 5, seed=3)
    np.testing.assert_array_equal(first.returns, again.returns)
    assert all(8 <= r <= 12 for r in first.returns)  # pushing one way topples the pole in about 10 steps
    assert [len(s) for s in first.states] == list(first.returns.astype(int))
    capped = run_greedy_episodes(lambda s: (s[:, 2] + s[:, 3] > 0).astype(int), 2, seed=0, max_episode_steps=50)
    assert list(capped.returns) == [50.0, 50.0]  # a simple balancing rule survives the 50-step limit


def test_training_resumed_after_an_interruption_ends_exactly_like_an_uninterrupted_run(tmp_path):
    agent, log = train_dqn(TINY, seed=1, log=None)
    with pytest.raises(SimulatedInterruption, match="last checkpoint at step"):
        train_dqn(TINY, seed=1, checkpoint_name="run", checkpoint_root=tmp_path, interrupt_at=600, log=None)
    assert (tmp_path / "run" / "replay.npz").exists()
    messages = []
    resumed, resumed_log = train_dqn(TINY, seed=1, checkpoint_name="run", checkpoint_root=tmp_path,
                                     log=messages.append)
    assert messages[0].startswith("resumed from the checkpoint at step")
    assert 250 <= resumed_log.resumed_from < 600
    assert resumed_log.episode_returns == log.episode_returns and resumed_log.losses == log.losses
    assert resumed_log.eval_means == log.eval_means
    for ours, reference in zip(resumed.online.get_weights() + resumed.best.get_weights(),
                               agent.online.get_weights() + agent.best.get_weights()):
        np.testing.assert_array_equal(ours, reference)
    assert not (tmp_path / "run").exists()  # a completed run removes its checkpoint


def test_training_records_what_it_did_and_one_update_per_episode_mode():
    agent, log = train_dqn(TINY, seed=2, log=None)
    assert log.steps_done == 900 and log.eval_steps == [300, 600, 900]
    assert sum(log.episode_returns) <= 900 and log.episode_end_steps == sorted(log.episode_end_steps)
    assert len(log.losses) == len(range(200, 901, 100)) and int(agent.gradient_steps.numpy()) == 8 * len(log.losses)
    assert log.best_mean == max(log.eval_means)
    per_episode, per_episode_log = train_dqn(replace(TINY, train_at_episode_end=True, gradient_steps=1), seed=2,
                                             log=None)
    episodes_after_start = sum(1 for s in per_episode_log.episode_end_steps if s >= 200)
    assert int(per_episode.gradient_steps.numpy()) == episodes_after_start == len(per_episode_log.losses)
    returns = evaluate_greedy(agent, episodes=3, seed=0)
    assert returns.shape == (3,) and np.all(returns >= 1)


def test_clear_checkpoint_removes_a_stale_run(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "loop.json").write_text("{}")
    clear_checkpoint("old", tmp_path)
    assert not (tmp_path / "old").exists()
    clear_checkpoint("never_existed", tmp_path)  # no error


def test_the_seed_script_reports_every_seed(capsys):
    from tools.dqn_seeds import main

    status = main(["--seeds", "3", "4", "--steps", "300", "--episodes", "2"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines[1:3]] == ["seed 3", "seed 4"]
    assert "over 2 episodes" in lines[1] and "300 steps trained" in lines[1]
    assert lines[-1].startswith("0 of 2 seeds solved") and status == 1  # 300 untrained steps cannot solve it


def test_the_optimizer_clips_the_global_norm_and_the_agent_counts_clipped_steps():
    keras.utils.set_random_seed(0)
    batch = random_batch(np.random.default_rng(6), count=5)
    counts = {}
    for clip in (1e-6, 1e6, None):
        agent = DQNAgent(replace(TINY, clip_norm=clip), 4, 2)
        assert agent.optimizer.global_clipnorm == clip and agent.optimizer.clipnorm is None
        agent.train(batch)
        counts[clip] = int(agent.clipped_steps.numpy())
    assert counts == {1e-6: 5, 1e6: 0, None: 0}


def test_a_global_clip_keeps_the_direction_of_the_gradient():
    # SGD with global_clipnorm (what the agent's Adam uses) scales every tensor by one factor
    keras.utils.set_random_seed(0)
    agent = DQNAgent(TINY, 4, 2)
    batch = random_batch(np.random.default_rng(7))
    with tf.GradientTape() as tape:
        loss = agent.loss(*batch)
    gradients = tape.gradient(loss, agent.online.trainable_variables)
    norm = float(tf.linalg.global_norm(gradients))
    before = [v.numpy() for v in agent.online.trainable_variables]
    sgd = keras.optimizers.SGD(1.0, global_clipnorm=norm / 10)
    sgd.apply(gradients, agent.online.trainable_variables)
    for old, variable, gradient in zip(before, agent.online.trainable_variables, gradients):
        np.testing.assert_allclose(old - variable.numpy(), gradient.numpy() / 10, rtol=1e-4, atol=1e-7)


def test_evaluation_episodes_are_outside_the_training_budget(monkeypatch):
    import gymnasium as gym

    made = []
    real_make = gym.make

    class CountingEnv(gym.Wrapper):
        def __init__(self, env):
            super().__init__(env)
            self.steps = 0

        def step(self, action):
            self.steps += 1
            return self.env.step(action)

    def counting_make(*args, **kwargs):
        made.append(CountingEnv(real_make(*args, **kwargs)))
        return made[-1]

    monkeypatch.setattr(gym, "make", counting_make)
    agent, log = train_dqn(TINY, seed=3, log=None)
    training_env, evaluation_envs = made[0], made[1:]
    assert training_env.steps == log.steps_done == TINY.total_steps  # the budget: training steps only
    assert len(evaluation_envs) == len(log.eval_steps) * TINY.eval_episodes
    assert sum(env.steps for env in evaluation_envs) == log.eval_env_steps > 0
    assert log.eval_env_steps == round(sum(log.eval_means) * TINY.eval_episodes)  # CartPole pays 1 per step
