"""A deep Q-network (DQN / Double DQN) agent for small gymnasium environments such as CartPole-v1.

Chapter 12 derives every piece (the TD target, the Huber loss, replay, the target network, the
epsilon schedule) and checks them against this module; ``tools/dqn_seeds.py`` uses the same code to
train several seeds. The pieces:

* ``td_targets``: ``r + gamma * (1 - terminated) * Q_target(s', a*)`` with ``a*`` chosen by the
  online network (Double DQN) or by the target network itself (DQN).
* ``DQNAgent``: online, target and best-so-far networks, an Adam optimizer and two compiled
  functions: greedy actions for a batch of states, and a burst of gradient steps on stacked minibatches.
* ``run_greedy_episodes`` / ``evaluate_greedy``: many evaluation episodes stepped in lock-step, one
  batched network call per time step.
* ``train_dqn``: the training loop, with periodic greedy evaluation (the best network is kept);
  ``LoopCheckpoint`` saves its state at episode boundaries, so it resumes exactly after an interruption.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf

from helpers.checkpoints import DEFAULT_ROOT, TrainingCheckpoint
from helpers.replay import ReplayBuffer


@dataclass(frozen=True)
class DQNConfig:
    """Every knob of a DQN run. Step counts are environment steps unless the name says otherwise.

    The defaults solve CartPole-v1. They follow the DQN settings RL Baselines3 Zoo publishes for it
    (a 256-256 MLP, Adam at 2.3e-3, bursts of 128 gradient steps every 256 environment steps, epsilon
    from 1 to 0.04 over the first 8,000 steps, gradients clipped by their global norm at 10 as
    Stable-Baselines3's ``max_grad_norm`` does), with a Double DQN target and a target network
    refreshed every 64 gradient steps (twice per burst).
    """

    total_steps: int = 50_000
    """Environment steps of training (the budget)."""
    hidden_units: tuple[int, ...] = (256, 256)
    learning_rate: float = 2.3e-3
    gamma: float = 0.99
    batch_size: int = 64
    buffer_capacity: int = 50_000
    learning_starts: int = 1_000
    """Random-ish experience collected before the first gradient step."""
    train_every: int = 256
    """Run ``gradient_steps`` gradient steps every ``train_every`` environment steps."""
    gradient_steps: int = 128
    train_at_episode_end: bool = False
    """Train only when an episode ends (``gradient_steps`` steps per episode) instead of every ``train_every`` steps."""
    target_update_every: int | None = 64
    """Gradient steps between copies of the online weights into the target network; None: no target network."""
    double: bool = True
    """Double DQN: the online network picks the next action, the target network values it."""
    epsilon_start: float = 1.0
    epsilon_end: float = 0.04
    epsilon_decay_steps: int = 8_000
    huber_delta: float = 1.0
    clip_norm: float | None = 10.0
    """Clip the gradient by its *global* norm over all weights (Keras' ``global_clipnorm``), as chapter 09
    teaches: the whole update is scaled down, so its direction is kept. None: no clipping."""
    eval_every: int = 2_048
    eval_episodes: int = 20
    stop_at_return: float | None = 500.0
    """Stop as soon as a greedy evaluation reaches this mean return (None: always use the whole budget)."""
    checkpoint_every: int = 4_096
    env_id: str = "CartPole-v1"


def linear_epsilon(step: int, start: float, end: float, decay_steps: int) -> float:
    """Exploration rate: ``start`` at step 0, straight down to ``end`` at ``decay_steps``, then ``end``."""
    if decay_steps <= 0:
        return end
    fraction = min(max(step, 0) / decay_steps, 1.0)
    return start + fraction * (end - start)


def td_targets(rewards: tf.Tensor, terminated: tf.Tensor, next_q_online: tf.Tensor, next_q_target: tf.Tensor,
               gamma: float, double: bool) -> tf.Tensor:
    """Bootstrapped Q-learning targets for a batch, shape ``(batch,)``.

    DQN: ``y = r + gamma (1 - terminated) max_a Q_target(s', a)``.
    Double DQN: ``y = r + gamma (1 - terminated) Q_target(s', argmax_a Q_online(s', a))``.
    """
    if double:
        next_actions = tf.argmax(next_q_online, axis=1, output_type=tf.int32)
        next_values = tf.gather(next_q_target, next_actions, axis=1, batch_dims=1)
    else:
        next_values = tf.reduce_max(next_q_target, axis=1)
    return rewards + gamma * (1.0 - terminated) * next_values


def build_q_network(observation_size: int, n_actions: int, hidden_units: tuple[int, ...] = (128, 128),
                    name: str = "q_network") -> keras.Model:
    """An MLP from a state to one Q-value per action (ReLU hidden layers, linear outputs)."""
    layers = [keras.Input((observation_size,))]
    layers += [keras.layers.Dense(units, activation="relu") for units in hidden_units]
    layers.append(keras.layers.Dense(n_actions))
    return keras.Sequential(layers, name=name)


class DQNAgent:
    """Online, target and best-so-far Q-networks with compiled acting and training steps.

    ``greedy_actions`` and ``q_values`` are ``tf.function``s with a fixed input signature (one trace,
    any batch size), so acting costs one compiled call per environment step, never ``model.predict``.
    ``train`` runs a burst of gradient steps on stacked minibatches inside one compiled call.
    """

    def __init__(self, config: DQNConfig, observation_size: int, n_actions: int) -> None:
        self.config = config
        self.n_actions = n_actions
        self.online = build_q_network(observation_size, n_actions, config.hidden_units, "online")
        self.target = build_q_network(observation_size, n_actions, config.hidden_units, "target")
        self.best = build_q_network(observation_size, n_actions, config.hidden_units, "best")
        self.target.set_weights(self.online.get_weights())
        self.best.set_weights(self.online.get_weights())
        self.optimizer = keras.optimizers.Adam(config.learning_rate, global_clipnorm=config.clip_norm)
        self.optimizer.build(self.online.trainable_variables)
        self.loss_fn = keras.losses.Huber(delta=config.huber_delta)
        self.gradient_steps = tf.Variable(0, dtype=tf.int64, trainable=False, name="gradient_steps")
        self.clipped_steps = tf.Variable(0, dtype=tf.int64, trainable=False, name="clipped_steps")
        """Gradient steps whose global gradient norm exceeded ``config.clip_norm`` (so the clip scaled them down)."""

        states = tf.TensorSpec([None, observation_size], tf.float32)
        self._q = {name: tf.function(network.__call__, input_signature=[states])
                   for name, network in (("online", self.online), ("best", self.best))}
        stacked = [tf.TensorSpec([None, None, observation_size], tf.float32), tf.TensorSpec([None, None], tf.int32),
                   tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([None, None, observation_size], tf.float32),
                   tf.TensorSpec([None, None], tf.float32)]
        self._train = tf.function(self._train_burst, input_signature=stacked)
        # TF counts traces per Python function across all instances and warns ("triggered tf.function
        # retracing") when a script builds several agents quickly (a seed sweep, smoke mode). Each agent
        # owns its variables, so one trace per agent is by design, not the accident the warning is for.
        self._train._omit_frequent_tracing_warning = True

    def trackables(self) -> dict[str, object]:
        """What a checkpoint must save: the three networks, the optimizer and the step counters."""
        return {"online": self.online, "target": self.target, "best": self.best, "optimizer": self.optimizer,
                "gradient_steps": self.gradient_steps, "clipped_steps": self.clipped_steps}

    def q_values(self, states: np.ndarray, network: str = "online") -> np.ndarray:
        """Q-values of a batch of states, shape ``(batch, n_actions)``; ``network`` is "online" or "best"."""
        return self._q[network](np.asarray(states, dtype=np.float32)).numpy()

    def greedy_actions(self, states: np.ndarray, network: str = "online") -> np.ndarray:
        """argmax_a Q(s, a) for a batch of states."""
        return self.q_values(states, network).argmax(axis=1)

    def act(self, state: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
        """Epsilon-greedy: a uniformly random action with probability ``epsilon``, else the greedy one."""
        if rng.random() < epsilon:
            return int(rng.integers(self.n_actions))
        return int(self.greedy_actions(state[None])[0])

    def sync_target(self) -> None:
        """Copy the online weights into the target network."""
        for target, online in zip(self.target.weights, self.online.weights):
            target.assign(online)

    def keep_best(self) -> None:
        """Copy the online weights into the best-so-far network."""
        for best, online in zip(self.best.weights, self.online.weights):
            best.assign(online)

    def loss(self, states: tf.Tensor, actions: tf.Tensor, rewards: tf.Tensor, next_states: tf.Tensor,
             terminated: tf.Tensor) -> tf.Tensor:
        """Huber loss between Q(s, a) and the (constant) TD targets of one minibatch."""
        next_q_online = self.online(next_states)
        next_q_target = next_q_online if self.config.target_update_every is None else self.target(next_states)
        targets = tf.stop_gradient(td_targets(rewards, terminated, next_q_online, next_q_target,
                                              self.config.gamma, self.config.double))
        predicted = tf.gather(self.online(states), actions, axis=1, batch_dims=1)
        return self.loss_fn(targets, predicted)

    def _train_burst(self, states, actions, rewards, next_states, terminated):
        total = tf.constant(0.0)
        count = tf.shape(states)[0]
        for i in tf.range(count):
            with tf.GradientTape() as tape:
                loss = self.loss(states[i], actions[i], rewards[i], next_states[i], terminated[i])
            gradients = tape.gradient(loss, self.online.trainable_variables)
            if self.config.clip_norm is not None:  # count only; the optimizer's global_clipnorm does the clipping
                clipped = tf.linalg.global_norm(gradients) > self.config.clip_norm
                self.clipped_steps.assign_add(tf.cast(clipped, tf.int64))
            self.optimizer.apply(gradients, self.online.trainable_variables)
            self.gradient_steps.assign_add(1)
            if self.config.target_update_every is not None:
                if self.gradient_steps % self.config.target_update_every == 0:
                    self.sync_target()
            total += loss
        return total / tf.cast(count, tf.float32)

    def train(self, batch) -> float:
        """Gradient steps on stacked minibatches (fields shaped ``(steps, batch, ...)``); mean loss."""
        return float(self._train(*batch))


@dataclass
class Episodes:
    """Greedy episodes run side by side: per episode, the states, actions and rewards in order."""

    states: list[np.ndarray]
    actions: list[np.ndarray]
    rewards: list[np.ndarray]

    @property
    def returns(self) -> np.ndarray:
        """Undiscounted return of each episode."""
        return np.array([r.sum() for r in self.rewards])


def run_greedy_episodes(policy: Callable[[np.ndarray], np.ndarray], episodes: int, seed: int,
                        env_id: str = "CartPole-v1", max_episode_steps: int | None = None) -> Episodes:
    """Run ``episodes`` episodes of a deterministic policy in lock-step (one batched call per time step).

    Args:
        policy: maps a batch of states ``(n, obs)`` to actions ``(n,)``, e.g. ``agent.greedy_actions``.
        seed: episode ``i`` starts from ``env.reset(seed=seed + i)``.
        max_episode_steps: override the environment's time limit (None: the registered one, 500 for CartPole-v1).
    """
    envs = [gym.make(env_id, max_episode_steps=max_episode_steps) for _ in range(episodes)]
    current = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(envs)]).astype(np.float32)
    history: list[tuple[list, list, list]] = [([], [], []) for _ in range(episodes)]
    active = np.arange(episodes)
    while active.size:
        actions = np.asarray(policy(current[active]))
        still = []
        for i, action in zip(active, actions):
            states, taken, rewards = history[i]
            states.append(current[i].copy())
            taken.append(int(action))
            current[i], reward, terminated, truncated, _ = envs[i].step(int(action))
            rewards.append(float(reward))
            if not (terminated or truncated):
                still.append(i)
        active = np.array(still, dtype=int)
    for env in envs:
        env.close()
    return Episodes([np.array(h[0]) for h in history], [np.array(h[1]) for h in history],
                    [np.array(h[2]) for h in history])


def evaluate_greedy(agent: DQNAgent, episodes: int = 100, seed: int = 10_000, network: str = "best",
                    env_id: str | None = None) -> np.ndarray:
    """Returns of ``episodes`` greedy episodes of one of the agent's networks ("best" or "online")."""
    policy = lambda states: agent.greedy_actions(states, network)  # noqa: E731
    return run_greedy_episodes(policy, episodes, seed, env_id or agent.config.env_id).returns


@dataclass
class TrainingLog:
    """What a training run records (plain lists, so a checkpoint can store it as JSON)."""

    episode_returns: list[float] = field(default_factory=list)
    episode_end_steps: list[int] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_means: list[float] = field(default_factory=list)
    start_q: list[float] = field(default_factory=list)
    """At each evaluation: mean over the evaluation episodes' first states of max_a Q(s, a)."""
    loss_steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    best_step: int = 0
    best_mean: float = float("-inf")
    steps_done: int = 0
    """Environment steps of training: the budget counts these and nothing else."""
    eval_env_steps: int = 0
    """Environment steps played by the greedy evaluations, on their own environments (outside the budget)."""
    episodes_done: int = 0
    resumed_from: int = 0
    """Environment step the run was restored from (0: it started from scratch)."""


class SimulatedInterruption(RuntimeError):
    """Raised by ``train_dqn(..., interrupt_at=step)`` to imitate a crash or a Colab disconnect."""


def clear_checkpoint(name: str, root: str | Path = DEFAULT_ROOT) -> None:
    """Delete a run's checkpoint folder, so the next ``train_dqn`` starts from scratch."""
    shutil.rmtree(Path(root) / name, ignore_errors=True)


def _episode_seed(seed: int, episode: int) -> int:
    return int(np.random.SeedSequence([seed, episode]).generate_state(1)[0])


class LoopCheckpoint:
    """Saves and restores everything a ``train_dqn`` loop needs to continue exactly where it stopped.

    The agent's networks, optimizer and gradient-step counter go into a TensorFlow checkpoint
    (``TrainingCheckpoint``); the replay buffer into ``replay.npz``; the training log and the state of
    the exploration generator into ``loop.json`` (written to a temporary file first, then renamed, so an
    interruption mid-write never leaves half a file). A save happens at the first episode end after
    every ``every`` environment steps.
    """

    def __init__(self, name: str, root: str | Path, agent: DQNAgent, every: int) -> None:
        self.name, self.root, self.every = name, root, every
        self.tf_checkpoint = TrainingCheckpoint(name, root=root, **agent.trackables())
        self.directory = self.tf_checkpoint.directory
        self.last_saved = 0

    def restore(self, rng: np.random.Generator) -> tuple[ReplayBuffer, TrainingLog] | None:
        """Restore the networks and ``rng`` in place; return the saved buffer and log (None: nothing saved)."""
        restored = self.tf_checkpoint.restore()
        if not restored:
            return None
        buffer = ReplayBuffer.load(self.directory / "replay.npz")
        state = json.loads((self.directory / "loop.json").read_text())
        if state["log"]["steps_done"] != restored:
            raise RuntimeError(f"checkpoint {self.directory}: networks at step {restored} but loop state "
                               f"at step {state['log']['steps_done']}; delete it with clear_checkpoint()")
        history = TrainingLog(**state["log"])
        history.resumed_from = restored
        rng.bit_generator.state = state["rng"]
        self.last_saved = history.steps_done
        return buffer, history

    def save_if_due(self, history: TrainingLog, buffer: ReplayBuffer, rng: np.random.Generator) -> None:
        """Save at an episode end once ``every`` steps have passed since the last save."""
        if history.steps_done - self.last_saved < self.every:
            return
        self.tf_checkpoint.save(history.steps_done)
        buffer.save(self.directory / "replay.npz")
        loop = json.dumps({"log": asdict(history), "rng": rng.bit_generator.state})
        temporary = self.directory / "loop.json.partial"
        temporary.write_text(loop)
        os.replace(temporary, self.directory / "loop.json")
        self.last_saved = history.steps_done

    def delete(self) -> None:
        """Remove the run's checkpoint folder (the run completed)."""
        self.tf_checkpoint.delete()
        clear_checkpoint(self.name, self.root)


def _evaluate(agent: DQNAgent, config: DQNConfig, seed: int, history: TrainingLog) -> float:
    """Greedy evaluation of the online network; records it in ``history`` and keeps the best weights."""
    episodes = run_greedy_episodes(agent.greedy_actions, config.eval_episodes, seed=1_000_000 + seed,
                                   env_id=config.env_id)
    mean = float(episodes.returns.mean())
    history.eval_env_steps += sum(len(actions) for actions in episodes.actions)
    first_states = np.stack([s[0] for s in episodes.states])
    history.eval_steps.append(history.steps_done)
    history.eval_means.append(mean)
    history.start_q.append(float(agent.q_values(first_states).max(axis=1).mean()))
    if mean > history.best_mean:
        history.best_mean, history.best_step = mean, history.steps_done
        agent.keep_best()
    return mean


def train_dqn(config: DQNConfig, seed: int = 0, *, checkpoint_name: str | None = None,
              checkpoint_root: str | Path = DEFAULT_ROOT, interrupt_at: int | None = None,
              log: Callable[[str], None] | None = print) -> tuple[DQNAgent, TrainingLog]:
    """Train a DQN agent; return it (``agent.best`` holds the best evaluated network) and its log.

    Every ``config.eval_every`` steps the online network plays ``config.eval_episodes`` greedy
    episodes; the best-scoring weights are copied into ``agent.best``, and training stops early once
    the mean reaches ``config.stop_at_return``.

    With ``checkpoint_name``, the networks, optimizer, replay buffer, random generators and log are
    saved at the first episode end after every ``config.checkpoint_every`` steps (``LoopCheckpoint``),
    and a later call with the same name resumes from the last save and ends exactly as an
    uninterrupted run would. The checkpoint is deleted when the run completes. ``interrupt_at`` raises
    ``SimulatedInterruption`` after that many environment steps (to demonstrate resuming).

    Seeds Keras, TensorFlow, NumPy and Python with ``seed`` (``keras.utils.set_random_seed``).
    """
    keras.utils.set_random_seed(seed)
    env = gym.make(config.env_id)
    observation_size = int(np.prod(env.observation_space.shape))
    agent = DQNAgent(config, observation_size, int(env.action_space.n))
    buffer = ReplayBuffer(config.buffer_capacity, (observation_size,), seed=seed)
    rng = np.random.default_rng([seed, 1])
    history = TrainingLog()
    say = log or (lambda message: None)

    checkpoint = None
    if checkpoint_name is not None:
        checkpoint = LoopCheckpoint(checkpoint_name, checkpoint_root, agent, config.checkpoint_every)
        restored = checkpoint.restore(rng)
        if restored is not None:
            buffer, history = restored
            say(f"resumed from the checkpoint at step {history.resumed_from:,} (episode {history.episodes_done})")

    def train_burst() -> None:
        history.losses.append(agent.train(buffer.sample(config.batch_size, count=config.gradient_steps)))
        history.loss_steps.append(history.steps_done)

    state, _ = env.reset(seed=_episode_seed(seed, history.episodes_done))
    episode_return = 0.0
    for step in range(history.steps_done, config.total_steps):
        epsilon = linear_epsilon(step, config.epsilon_start, config.epsilon_end, config.epsilon_decay_steps)
        action = agent.act(state, epsilon, rng)
        next_state, reward, terminated, truncated, _ = env.step(action)
        buffer.add(state, action, reward, next_state, terminated)  # truncated is not terminated
        state, episode_return = next_state, episode_return + float(reward)
        history.steps_done = step + 1
        learning = history.steps_done >= config.learning_starts
        if learning and not config.train_at_episode_end and history.steps_done % config.train_every == 0:
            train_burst()
        if terminated or truncated:
            history.episode_returns.append(episode_return)
            history.episode_end_steps.append(history.steps_done)
            history.episodes_done += 1
            if learning and config.train_at_episode_end:
                train_burst()
            state, _ = env.reset(seed=_episode_seed(seed, history.episodes_done))
            episode_return = 0.0
            if checkpoint is not None:
                checkpoint.save_if_due(history, buffer, rng)
        if history.steps_done % config.eval_every == 0:
            mean = _evaluate(agent, config, seed, history)
            recent = np.mean(history.episode_returns[-20:]) if history.episode_returns else float("nan")
            say(f"step {history.steps_done:>6,} · episodes {history.episodes_done:>4} · training return "
                f"(last 20) {recent:5.1f} · greedy {mean:5.1f} · epsilon {epsilon:.2f}")
            if config.stop_at_return is not None and mean >= config.stop_at_return:
                say(f"greedy evaluation reached {config.stop_at_return:g}: stop at step {history.steps_done:,}")
                break
        if interrupt_at is not None and history.steps_done == interrupt_at:
            last_saved = checkpoint.last_saved if checkpoint is not None else 0
            raise SimulatedInterruption(f"interrupted at step {interrupt_at:,}; last checkpoint at step {last_saved:,}")
    env.close()
    if not history.eval_steps:  # never evaluated (a tiny smoke run): the last weights are the best we have
        agent.keep_best()
        history.best_step = history.steps_done
    if checkpoint is not None:
        checkpoint.delete()
    return agent, history
