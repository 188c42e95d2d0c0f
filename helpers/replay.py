"""Experience replay: a fixed-size store of transitions that a value-based agent samples uniformly.

Deep Q-learning (chapter 12) trains on random minibatches of past transitions
``(state, action, reward, next_state, terminated)`` instead of on the latest step only: consecutive
steps are strongly correlated, and a transition seen once would otherwise be thrown away. The buffer
is a ring: once ``capacity`` transitions are stored, each new one overwrites the oldest.

``terminated`` means the episode really ended (the pole fell): there is no future value to bootstrap
from. An episode cut off by a time limit (*truncated*) is not terminated, so store ``False`` for it.

The buffer owns its random generator, and ``save``/``load`` keep the transitions *and* that
generator's state, so a training run restored from a checkpoint draws the same minibatches as a run
that was never interrupted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np


class Batch(NamedTuple):
    """A minibatch of transitions; every field has the same leading dimensions."""

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_states: np.ndarray
    terminated: np.ndarray


class ReplayBuffer:
    """Ring buffer of transitions with uniform sampling (with replacement).

    Example::

        buffer = ReplayBuffer(capacity=50_000, observation_shape=(4,), seed=0)
        buffer.add(state, action, reward, next_state, terminated)
        batch = buffer.sample(64)            # Batch of arrays, batch.states.shape == (64, 4)
        stack = buffer.sample(64, count=32)  # 32 minibatches at once: stack.states.shape == (32, 64, 4)

    Args:
        capacity: the most transitions kept; older ones are overwritten first.
        observation_shape: shape of one state, e.g. ``(4,)`` for CartPole.
        seed: seeds the buffer's own ``numpy.random.Generator`` used by ``sample``.
    """

    def __init__(self, capacity: int, observation_shape: tuple[int, ...], seed: int | None = None) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)) or capacity < 1:
            raise ValueError(f"ReplayBuffer: capacity must be a positive integer, got {capacity!r}")
        self.capacity = int(capacity)
        self.observation_shape = tuple(int(d) for d in observation_shape)
        self.states = np.zeros((self.capacity, *self.observation_shape), dtype=np.float32)
        self.next_states = np.zeros_like(self.states)
        self.actions = np.zeros(self.capacity, dtype=np.int32)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.terminated = np.zeros(self.capacity, dtype=np.float32)
        self.position = 0
        """Index the next transition is written to."""
        self.size = 0
        """Number of transitions stored (at most ``capacity``)."""
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"ReplayBuffer({self.size}/{self.capacity} transitions, observation_shape={self.observation_shape})"

    def add(self, state: np.ndarray, action: int, reward: float, next_state: np.ndarray, terminated: bool) -> None:
        """Store one transition, overwriting the oldest one when the buffer is full."""
        state = np.asarray(state, dtype=np.float32)
        next_state = np.asarray(next_state, dtype=np.float32)
        for name, value in (("state", state), ("next_state", next_state)):
            if value.shape != self.observation_shape:
                raise ValueError(f"ReplayBuffer.add: {name} has shape {value.shape}, expected {self.observation_shape}")
        i = self.position
        self.states[i] = state
        self.actions[i] = action
        self.rewards[i] = reward
        self.next_states[i] = next_state
        self.terminated[i] = float(bool(terminated))
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, count: int | None = None) -> Batch:
        """Draw transitions uniformly at random, with replacement.

        Args:
            batch_size: transitions per minibatch.
            count: if given, draw ``count`` minibatches at once; every field then has leading
                dimensions ``(count, batch_size)`` instead of ``(batch_size,)``.

        Raises:
            ValueError: the buffer is empty, or a size is not positive.
        """
        if self.size == 0:
            raise ValueError("ReplayBuffer.sample: the buffer is empty; add transitions first")
        if batch_size < 1 or (count is not None and count < 1):
            raise ValueError(f"ReplayBuffer.sample: batch_size and count must be >= 1, got {batch_size}, {count}")
        shape = (batch_size,) if count is None else (count, batch_size)
        index = self.rng.integers(0, self.size, size=shape)
        return Batch(self.states[index], self.actions[index], self.rewards[index], self.next_states[index],
                     self.terminated[index])

    def save(self, path: str | Path) -> Path:
        """Write the transitions, the ring position and the generator state to one ``.npz`` file.

        The file is written next to ``path`` first and then renamed, so an interruption while
        saving leaves the previous file intact.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".partial.npz")
        n = self.size
        np.savez(temporary, states=self.states[:n], actions=self.actions[:n], rewards=self.rewards[:n],
                 next_states=self.next_states[:n], terminated=self.terminated[:n],
                 meta=np.array(json.dumps({"capacity": self.capacity, "position": self.position, "size": n,
                                           "observation_shape": list(self.observation_shape),
                                           "rng": self.rng.bit_generator.state})))
        os.replace(temporary, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> ReplayBuffer:
        """Rebuild a buffer written by ``save``: same transitions, position and random stream."""
        with np.load(Path(path)) as stored:
            meta = json.loads(str(stored["meta"]))
            buffer = cls(meta["capacity"], tuple(meta["observation_shape"]))
            n = meta["size"]
            for name in ("states", "actions", "rewards", "next_states", "terminated"):
                getattr(buffer, name)[:n] = stored[name]
        buffer.size, buffer.position = n, meta["position"]
        buffer.rng.bit_generator.state = meta["rng"]
        return buffer
