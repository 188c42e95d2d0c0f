"""Chapter 14: data-parallel gradients by hand, MirroredStrategy and a two-worker cluster against one device.

The code under test is the notebook's own (cells tagged ``from-scratch``, tests/notebook_code.py). Logical
devices can only be configured before TensorFlow starts, so the MirroredStrategy check runs in a fresh
process; the multi-worker check starts two worker processes with ``helpers.distribute.run_workers``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.notebook_code import scratch_namespace

NOTEBOOK = "14_scaling_up.ipynb"


@pytest.fixture(scope="module")
def ns():
    return scratch_namespace(NOTEBOOK)


def flat(arrays):
    return np.concatenate([np.ravel(np.asarray(a)) for a in arrays])


def small_problem(batch=24):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(batch, 5)).astype("float32")
    y = rng.integers(0, 3, size=batch)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(7, activation="tanh"), keras.layers.Dense(3)])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    return model, x, y, loss


@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
def test_sliced_gradients_with_the_global_batch_equal_the_full_batch_gradient(ns, replicas):
    model, x, y, loss = small_problem()
    ours = ns["sliced_gradients"](model, x, y, loss, n_replicas=replicas)
    reference = ns["full_batch_gradients"](model, x, y, loss)
    np.testing.assert_allclose(flat(ours), flat(reference), atol=1e-6, rtol=0)


@pytest.mark.parametrize("replicas", [2, 3, 4])
def test_per_replica_mean_scales_the_gradient_by_the_number_of_replicas(ns, replicas):
    model, x, y, loss = small_problem()
    wrong = ns["sliced_gradients"](model, x, y, loss, n_replicas=replicas, global_batch=False)
    reference = ns["full_batch_gradients"](model, x, y, loss)
    np.testing.assert_allclose(flat(wrong), replicas * flat(reference), atol=1e-5, rtol=1e-5)


MIRRORED_CHECK = textwrap.dedent("""
    import os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tensorflow as tf
    import keras
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    rng = np.random.default_rng(3)
    x = rng.normal(size=(32, 5)).astype("float32")
    y = rng.integers(0, 3, size=32)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")

    def build():
        keras.utils.set_random_seed(0)
        return keras.Sequential([keras.Input((5,)), keras.layers.Dense(7, activation="tanh"), keras.layers.Dense(3)])

    def step(strategy, global_batch):
        with strategy.scope():
            model, optimizer = build(), keras.optimizers.SGD(0.5)
            optimizer.build(model.trainable_variables)
        def replica_step(xs, ys):
            with tf.GradientTape() as tape:
                per_example = loss_fn(ys, model(xs))
                loss = (tf.nn.compute_average_loss(per_example, global_batch_size=len(x)) if global_batch
                        else tf.reduce_mean(per_example))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(len(x))
        batch = next(iter(strategy.experimental_distribute_dataset(dataset)))
        tf.function(lambda b: strategy.run(replica_step, args=b))(batch)
        return np.concatenate([w.numpy().ravel() for w in model.trainable_variables])

    before = np.concatenate([w.ravel() for w in build().get_weights()])
    one = step(tf.distribute.MirroredStrategy(devices[:1]), True)
    two = step(tf.distribute.MirroredStrategy(devices), True)
    wrong = step(tf.distribute.MirroredStrategy(devices), False)
    print(len(devices), float(np.max(np.abs(one - two))),
          float(np.median((wrong - before)[np.abs(one - before) > 1e-6] / (one - before)[np.abs(one - before) > 1e-6])))
""")


def test_mirrored_strategy_on_two_logical_cpus_matches_one_device():
    completed = subprocess.run([sys.executable, "-c", MIRRORED_CHECK], capture_output=True, text=True, timeout=180)
    assert completed.returncode == 0, completed.stderr[-2000:]
    n_devices, difference, update_ratio = completed.stdout.split()
    assert int(n_devices) == 2
    assert float(difference) < 1e-6, "one SGD step on 2 replicas must equal one step on 1 device"
    assert abs(float(update_ratio) - 2.0) < 1e-3, "a per-replica mean must double the update on 2 replicas"


@pytest.mark.parametrize("shard", [True, False])
def test_two_workers_match_one_process_only_with_sharded_input(ns, tmp_path, shard):
    from helpers import distribute

    distribute.run_workers(ns["WORKER_CODE"], args=[str(tmp_path), "shard" if shard else "noshard"], timeout=180)
    results = [dict(np.load(tmp_path / f"worker{i}.npz")) for i in range(2)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.weights.h5", "worker0.npz", "worker1.npz"]
    weights = [flat(r[f"arr_{i}"] for i in range(4)) for r in results]
    np.testing.assert_array_equal(weights[0], weights[1])          # the all-reduce keeps the copies identical

    program = {}
    exec(ns["WORKER_CODE"], program)  # noqa: S102
    model, _, steps = program["train"](tf.distribute.get_strategy(), program["make_dataset"]())
    single = flat(model.get_weights())
    if shard:
        assert int(results[0]["steps"]) == steps
        np.testing.assert_allclose(weights[0], single, atol=1e-5, rtol=0)
    else:
        assert int(results[0]["steps"]) == 2 * steps, "without sharding each worker walks the whole dataset"
        assert np.max(np.abs(weights[0] - single)) > 1e-3
