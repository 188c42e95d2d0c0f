"""helpers.distribute: the strategy choice, TF_CONFIG, free ports and bounded worker processes."""

from __future__ import annotations

import json
import os
import time

import pytest
import tensorflow as tf

from helpers import distribute


@pytest.mark.parametrize(("tpu", "gpus", "expected"), [
    (True, 0, "TPUStrategy"), (True, 4, "TPUStrategy"), (False, 8, "MirroredStrategy"),
    (False, 2, "MirroredStrategy"), (False, 1, "OneDeviceStrategy"), (False, 0, "default")])
def test_strategy_kind(tpu, gpus, expected):
    assert distribute.strategy_kind(tpu, gpus) == expected


def test_strategy_kind_rejects_a_negative_count():
    with pytest.raises(ValueError, match="num_gpus"):
        distribute.strategy_kind(False, -1)


def test_choose_strategy_on_a_cpu_is_the_default_one_replica_strategy():
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this test is about a machine without accelerators")
    strategy = distribute.choose_strategy()            # also probes for a TPU: none here
    assert strategy is tf.distribute.get_strategy()
    assert strategy.num_replicas_in_sync == 1
    with strategy.scope():
        variable = tf.Variable(1.0)
    assert float(strategy.run(lambda: variable * 2)) == 2.0


def test_free_ports_are_distinct_and_valid():
    ports = distribute.free_ports(3)
    assert len(set(ports)) == 3 and all(1024 <= p < 65536 for p in ports)


def test_tf_config_names_the_cluster_and_the_task():
    config = json.loads(distribute.tf_config([1234, 5678], 1))
    assert config == {"cluster": {"worker": ["127.0.0.1:1234", "127.0.0.1:5678"]},
                      "task": {"type": "worker", "index": 1}}
    with pytest.raises(ValueError, match="outside"):
        distribute.tf_config([1234], 1)


def test_run_workers_gives_each_worker_its_config_and_arguments():
    code = "import json, os, sys; print(json.loads(os.environ['TF_CONFIG'])['task']['index'], sys.argv[1])"
    assert distribute.run_workers(code, args=["hello"], num_workers=3, timeout=60) == ["0 hello\n", "1 hello\n",
                                                                                       "2 hello\n"]


def test_run_workers_does_not_stall_when_a_later_worker_writes_a_lot(tmp_path):
    # Worker 1 writes far more than a pipe holds (64 KiB) and then signals; worker 0 waits for that signal.
    # Read through pipes one worker at a time, worker 1 would block on its full pipe and worker 0 wait forever.
    code = ("import json, os, sys, time\n"
            "index = json.loads(os.environ['TF_CONFIG'])['task']['index']\n"
            "flag = os.path.join(sys.argv[1], 'done')\n"
            "if index == 1:\n"
            "    sys.stderr.write('x' * 1_000_000); sys.stdout.write('y' * 1_000_000); open(flag, 'w').close()\n"
            "else:\n"
            "    while not os.path.exists(flag): time.sleep(0.05)\n"
            "print(index)\n")
    outputs = distribute.run_workers(code, args=[str(tmp_path)], num_workers=2, timeout=30)
    assert outputs[0] == "0\n" and len(outputs[1]) == 1_000_002


def test_run_workers_reports_a_failing_worker():
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        distribute.run_workers("1 / 0", num_workers=2, timeout=60)


def test_run_workers_kills_every_worker_after_the_timeout(tmp_path):
    code = "import os, sys, time; open(os.path.join(sys.argv[1], str(os.getpid())), 'w').close(); time.sleep(60)"
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        distribute.run_workers(code, args=[str(tmp_path)], num_workers=2, timeout=3)
    assert time.monotonic() - start < 20
    pids = [int(p.name) for p in tmp_path.iterdir()]
    assert len(pids) == 2
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
