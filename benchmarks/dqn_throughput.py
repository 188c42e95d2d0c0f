"""DQN environment steps per second: the course's loop against the pattern many tutorials use.

Both train the same Q-network on CartPole-v1 with the same replay buffer, batch size, warm-up,
one gradient step per environment step and a target network. The course's loop
(``helpers.dqn.train_dqn``) acts through a compiled ``tf.function`` and trains in a compiled step;
the naive loop calls ``model.predict`` for every action and ``model.fit`` for every minibatch.
"""

from __future__ import annotations

import time

import gymnasium as gym
import keras
import numpy as np

from helpers.dqn import DQNConfig, build_q_network, linear_epsilon, train_dqn
from helpers.replay import ReplayBuffer


def config_for(steps: int, learning_starts: int) -> DQNConfig:
    """A budget-only configuration: no evaluation, no early stop, no checkpoints."""
    return DQNConfig(total_steps=steps, learning_starts=learning_starts, eval_every=steps + 1,
                     stop_at_return=None, epsilon_decay_steps=steps)


def course_steps_per_second(steps: int, learning_starts: int, seed: int = 0) -> float:
    start = time.perf_counter()
    train_dqn(config_for(steps, learning_starts), seed=seed, log=None)
    return steps / (time.perf_counter() - start)


def naive_steps_per_second(steps: int, learning_starts: int, seed: int = 0) -> float:
    """The tutorial pattern: ``predict`` per action, ``predict`` for targets and ``fit`` per minibatch."""
    config = config_for(steps, learning_starts)
    keras.utils.set_random_seed(seed)
    env = gym.make(config.env_id)
    online = build_q_network(4, 2, config.hidden_units, "online")
    target = build_q_network(4, 2, config.hidden_units, "target")
    target.set_weights(online.get_weights())
    online.compile(optimizer=keras.optimizers.Adam(config.learning_rate, global_clipnorm=config.clip_norm),
                   loss=keras.losses.Huber(config.huber_delta))
    buffer = ReplayBuffer(config.buffer_capacity, (4,), seed=seed)
    rng = np.random.default_rng(seed)
    state, _ = env.reset(seed=seed)
    start = time.perf_counter()
    for step in range(steps):
        epsilon = linear_epsilon(step, config.epsilon_start, config.epsilon_end, config.epsilon_decay_steps)
        if rng.random() < epsilon:
            action = int(rng.integers(2))
        else:
            action = int(online.predict(state[None], verbose=0)[0].argmax())
        next_state, reward, terminated, truncated, _ = env.step(action)
        buffer.add(state, action, reward, next_state, terminated)
        state = next_state
        if terminated or truncated:
            state, _ = env.reset()
        if step + 1 >= config.learning_starts:
            batch = buffer.sample(config.batch_size)
            next_q = target.predict(batch.next_states, verbose=0)
            targets = online.predict(batch.states, verbose=0)
            targets[np.arange(config.batch_size), batch.actions] = (
                batch.rewards + config.gamma * (1 - batch.terminated) * next_q.max(axis=1))
            online.fit(batch.states, targets, verbose=0)
            if (step + 1 - config.learning_starts) % config.target_update_every == 0:
                target.set_weights(online.get_weights())
    env.close()
    return steps / (time.perf_counter() - start)


def measure(steps: int = 3000, learning_starts: int = 1000, repeats: int = 3) -> dict[str, float]:
    """Median steps/s of each loop, runs interleaved (course, naive, course, naive, ...)."""
    course, naive = [], []
    for repeat in range(repeats):
        course.append(course_steps_per_second(steps, learning_starts, seed=repeat))
        naive.append(naive_steps_per_second(steps, learning_starts, seed=repeat))
    return {"course loop (tf.function act + train)": float(np.median(course)),
            "naive loop (predict per step, fit per minibatch)": float(np.median(naive))}
