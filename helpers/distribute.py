"""Chapter 14's plumbing for ``tf.distribute``: pick a strategy for the hardware found, run local workers.

``choose_strategy()`` lets the same notebook code run on a Colab TPU, on one or several GPUs, or on a
CPU. ``run_workers()`` starts a small multi-worker cluster on this machine (one process per worker,
``TF_CONFIG`` pointing at free ports on 127.0.0.1), bounded in time, and always stops every process.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

STRATEGY_KINDS = ("TPUStrategy", "MirroredStrategy", "OneDeviceStrategy", "default")
"""What ``strategy_kind`` can answer, from the most to the least parallel hardware."""


def strategy_kind(tpu_found: bool, num_gpus: int) -> str:
    """The strategy that suits the hardware: a TPU wins, then several GPUs, then one GPU, else the default.

    Args:
        tpu_found: a TPU cluster resolver connected (a Colab TPU runtime).
        num_gpus: how many GPUs TensorFlow lists.

    Returns:
        One of ``STRATEGY_KINDS``.
    """
    if num_gpus < 0:
        raise ValueError(f"strategy_kind: num_gpus must be >= 0, got {num_gpus}")
    if tpu_found:
        return "TPUStrategy"
    if num_gpus >= 2:
        return "MirroredStrategy"
    if num_gpus == 1:
        return "OneDeviceStrategy"
    return "default"


def _connect_tpu():
    """The connected TPU cluster resolver, or None when there is no TPU (the usual case off Colab)."""
    import tensorflow as tf

    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()  # finds Colab's TPU by itself
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.NotFoundError):
        return None
    return resolver


def choose_strategy(look_for_tpu: bool = True):
    """A ``tf.distribute.Strategy`` for what this machine has (see ``strategy_kind``).

    TPU: ``TPUStrategy`` (the TPU is connected and initialised here). Several GPUs: ``MirroredStrategy``
    over all of them. One GPU: ``OneDeviceStrategy("/gpu:0")``. Otherwise TensorFlow's default strategy
    (one replica on the default device), under which ``strategy.scope()`` and ``strategy.run`` work too.

    Args:
        look_for_tpu: try to connect to a TPU first (a few seconds' probe; pass False to skip it).
    """
    import tensorflow as tf

    resolver = _connect_tpu() if look_for_tpu else None
    kind = strategy_kind(resolver is not None, len(tf.config.list_physical_devices("GPU")))
    if kind == "TPUStrategy":
        return tf.distribute.TPUStrategy(resolver)
    if kind == "MirroredStrategy":
        return tf.distribute.MirroredStrategy()
    if kind == "OneDeviceStrategy":
        return tf.distribute.OneDeviceStrategy("/gpu:0")
    return tf.distribute.get_strategy()


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that were free a moment ago (bound to port 0, then released)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def tf_config(ports: list[int], index: int) -> str:
    """The ``TF_CONFIG`` value (JSON) of worker ``index`` in a cluster of workers on 127.0.0.1 at ``ports``.

    Worker 0 is the chief: by convention it alone writes checkpoints and logs.
    """
    if not 0 <= index < len(ports):
        raise ValueError(f"tf_config: index {index} is outside a cluster of {len(ports)} workers")
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    return json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})


def _read(log: IO[str]) -> str:
    """Everything written so far to an open log file."""
    log.seek(0)
    return log.read()


def run_workers(code: str, args: list[str] | tuple[str, ...] = (), num_workers: int = 2,
                timeout: float = 120.0) -> list[str]:
    """Run ``code`` as a Python program in ``num_workers`` processes that form one ``TF_CONFIG`` cluster.

    Each process gets its own ``TF_CONFIG`` (``tf_config``) and ``sys.argv[1:] == args``; TensorFlow's
    C++ log lines are silenced. Every process is killed when the call returns, whatever happened.

    Returns:
        The standard output of each worker, in worker order.

    Raises:
        TimeoutError: the workers did not all finish within ``timeout`` seconds (all are killed).
        RuntimeError: a worker exited with an error; the message holds the end of its stderr.
    """
    ports = free_ports(num_workers)
    with tempfile.TemporaryDirectory(prefix="workers-") as folder, contextlib.ExitStack() as files:
        script = Path(folder) / "worker.py"
        script.write_text(code, encoding="utf-8")
        processes, logs = [], []
        try:
            for index in range(num_workers):
                env = dict(os.environ, TF_CONFIG=tf_config(ports, index), TF_CPP_MIN_LOG_LEVEL="3")
                # Output goes to files, not pipes: a worker that writes a lot while we wait for another one
                # would fill its pipe, block, and stall the whole cluster.
                stdout = files.enter_context(open(Path(folder) / f"worker{index}.out", "w+", encoding="utf-8"))
                stderr = files.enter_context(open(Path(folder) / f"worker{index}.err", "w+", encoding="utf-8"))
                logs.append((stdout, stderr))
                processes.append(subprocess.Popen([sys.executable, str(script), *args], env=env, cwd=folder,
                                                  stdout=stdout, stderr=stderr, text=True))
            deadline = time.monotonic() + timeout
            for index, process in enumerate(processes):
                try:
                    process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    raise TimeoutError(f"run_workers: worker {index} still running after {timeout} s") from None
                if process.returncode != 0:
                    raise RuntimeError(f"run_workers: worker {index} exited with {process.returncode}:\n"
                                       f"{_read(logs[index][1])[-2000:]}")
            return [_read(stdout) for stdout, _ in logs]
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                process.wait()
