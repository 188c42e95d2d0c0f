"""helpers.replay: the ring buffer keeps the newest transitions, samples uniformly, and survives a save/load."""

import numpy as np
import pytest

from helpers.replay import Batch, ReplayBuffer


def filled(capacity=5, count=3, seed=0):
    buffer = ReplayBuffer(capacity, (2,), seed=seed)
    for i in range(count):
        buffer.add([i, -i], i % 2, float(i), [i + 1, -i - 1], i == 2)
    return buffer


def test_add_stores_each_field_in_order():
    buffer = filled()
    assert len(buffer) == 3 and buffer.position == 3
    np.testing.assert_array_equal(buffer.states[:3], [[0, 0], [1, -1], [2, -2]])
    np.testing.assert_array_equal(buffer.next_states[:3], [[1, -1], [2, -2], [3, -3]])
    np.testing.assert_array_equal(buffer.actions[:3], [0, 1, 0])
    np.testing.assert_array_equal(buffer.rewards[:3], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(buffer.terminated[:3], [0.0, 0.0, 1.0])
    assert buffer.states.dtype == np.float32 and buffer.actions.dtype == np.int32


def test_a_full_buffer_overwrites_the_oldest_transitions():
    buffer = filled(capacity=4, count=6)
    assert len(buffer) == 4 and buffer.position == 2
    # slots 0 and 1 now hold transitions 4 and 5; 2 and 3 still hold 2 and 3
    np.testing.assert_array_equal(buffer.rewards, [4.0, 5.0, 2.0, 3.0])
    assert set(buffer.sample(200).rewards) == {2.0, 3.0, 4.0, 5.0}


def test_sample_draws_only_stored_transitions_and_keeps_them_whole():
    buffer = filled(capacity=100, count=3)
    batch = buffer.sample(500)
    assert isinstance(batch, Batch) and batch.states.shape == (500, 2) and batch.actions.shape == (500,)
    assert set(batch.rewards) == {0.0, 1.0, 2.0}
    # the fields of one row belong to the same transition (an empty slot would have next_state 0, not reward + 1)
    np.testing.assert_array_equal(batch.states[:, 0], batch.rewards)
    np.testing.assert_array_equal(batch.next_states[:, 0], batch.rewards + 1)
    np.testing.assert_array_equal(batch.terminated, (batch.rewards == 2.0).astype(np.float32))


def test_sample_is_uniform():
    buffer = filled(capacity=10, count=10)
    counts = np.bincount(buffer.sample(50_000).rewards.astype(int), minlength=10)
    # each of 10 slots expects 5,000 draws; the standard deviation is about 67
    assert np.all(np.abs(counts - 5_000) < 400), counts


def test_sample_many_minibatches_at_once():
    stack = filled(capacity=10, count=10).sample(8, count=3)
    assert stack.states.shape == (3, 8, 2) and stack.rewards.shape == (3, 8) and stack.terminated.shape == (3, 8)


def test_same_seed_same_minibatches_and_different_seed_different_ones():
    first = filled(seed=7).sample(16).rewards
    np.testing.assert_array_equal(first, filled(seed=7).sample(16).rewards)
    assert not np.array_equal(first, filled(seed=8).sample(16).rewards)


def test_save_and_load_restore_transitions_position_and_random_stream(tmp_path):
    buffer = filled(capacity=4, count=6, seed=3)
    buffer.sample(5)  # advance the generator: the saved state must be the current one, not the seed
    path = buffer.save(tmp_path / "replay.npz")
    restored = ReplayBuffer.load(path)
    assert (restored.capacity, restored.size, restored.position) == (4, 4, 2)
    for name in ("states", "actions", "rewards", "next_states", "terminated"):
        np.testing.assert_array_equal(getattr(restored, name), getattr(buffer, name))
    np.testing.assert_array_equal(restored.sample(32).rewards, buffer.sample(32).rewards)
    assert not list(tmp_path.glob("*.partial*"))


def test_save_of_a_partly_filled_buffer_keeps_its_capacity(tmp_path):
    restored = ReplayBuffer.load(filled(capacity=50, count=3).save(tmp_path / "r.npz"))
    assert restored.capacity == 50 and len(restored) == 3 and restored.states.shape == (50, 2)


def test_errors_are_clear():
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0, (2,))
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer(3, (2,)).sample(1)
    with pytest.raises(ValueError, match="shape"):
        ReplayBuffer(3, (2,)).add([1.0, 2.0, 3.0], 0, 0.0, [1.0, 2.0], False)
