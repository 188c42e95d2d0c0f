"""``setup()``: seeds, course mode and the one-line environment report every notebook starts with."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from typing import TypeVar

MODES = ("default", "smoke")
"""Valid values of the ``COURSE_MODE`` environment variable (unset means ``default``)."""

T = TypeVar("T")


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with its C++ start-up chatter hidden (oneDNN, CUDA-probe and absl lines).

    TensorFlow's C++ core writes those lines straight to the process's stderr before any setting can
    silence them, and notebooks would store them under the first cell. ``TF_CPP_MIN_LOG_LEVEL=3``
    (set unless you set it yourself) silences the later ones; errors still arrive as Python exceptions.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)


def course_mode(mode: str | None = None) -> str:
    """Return the course mode: ``mode`` when given (checked), else the one named by ``COURSE_MODE``.

    ``COURSE_MODE`` unset or empty means ``"default"``; its value is read case-insensitively.
    Functions with a ``mode`` argument (the data loaders) pass it through here, so ``None`` means
    "follow ``COURSE_MODE``".

    Raises:
        ValueError: ``mode`` or ``COURSE_MODE`` is not one of ``MODES`` (a typo must not silently run
            the wrong mode).
    """
    choices = ", ".join(repr(m) for m in MODES)
    if mode is not None:
        if mode not in MODES:
            raise ValueError(f"mode={mode!r} is not a course mode; choose one of {choices} or None.")
        return mode
    raw = os.environ.get("COURSE_MODE", "")
    mode = raw.strip().lower() or "default"
    if mode not in MODES:
        raise ValueError(
            f"COURSE_MODE={raw!r} is not a course mode. Leave it unset for the full run, or set it to "
            f"one of: {choices}."
        )
    return mode


@dataclass(frozen=True)
class Settings:
    """What ``setup()`` decided; notebooks read their sizes from it with ``pick``."""

    mode: str
    seed: int
    device: str
    deterministic: bool

    @property
    def smoke(self) -> bool:
        """True in smoke mode (tiny data, few steps: CI executes every notebook this way)."""
        return self.mode == "smoke"

    def pick(self, *, default: T, smoke: T) -> T:
        """Choose a setting by mode, e.g. ``EPOCHS = settings.pick(default=5, smoke=1)``."""
        return smoke if self.smoke else default


def gpu_names() -> list[str]:
    """Model names of the GPUs TensorFlow sees (empty without a GPU)."""
    import tensorflow as tf

    return [tf.config.experimental.get_device_details(g).get("device_name", g.name)
            for g in tf.config.list_physical_devices("GPU")]


def describe_device() -> str:
    """Name the device TensorFlow will use: the GPU model(s) if any, else the CPU and its core count."""
    gpus = gpu_names()
    if gpus:
        return "GPU: " + ", ".join(gpus)
    return f"CPU only ({os.cpu_count()} cores)"


def fast_precision_policy(device: str | None = None, cpu_flags: str | None = None) -> str:
    """The Keras dtype policy that trains fastest here, for ``keras.mixed_precision.set_global_policy``.

    - On a GPU: ``"mixed_float16"`` (tensor cores; ``model.compile`` adds loss scaling by itself).
    - On a CPU with bfloat16 matrix units (Intel AMX, the ``amx_bf16`` flag of ``/proc/cpuinfo``):
      ``"mixed_bfloat16"``.
    - Anywhere else ``"float32"``: without those units 16-bit arithmetic is emulated and slower.

    A mixed policy computes in 16 bits and keeps the weights in float32; give the layer that makes
    the logits ``dtype="float32"`` so the loss is computed in full precision.

    Args:
        device: as returned by ``describe_device()`` (looked up when ``None``).
        cpu_flags: the CPU's flags (read from ``/proc/cpuinfo`` when ``None``; empty if unreadable).
    """
    device = describe_device() if device is None else device
    if device.startswith("GPU"):
        return "mixed_float16"
    if cpu_flags is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
                cpu_flags = cpuinfo.read()
        except OSError:                              # not Linux: no cheap way to ask, stay safe
            cpu_flags = ""
    return "mixed_bfloat16" if "amx_bf16" in cpu_flags.split() else "float32"


def setup(seed: int = 42, deterministic: bool | None = None) -> Settings:
    """Prepare a notebook: seed everything, pick the mode, set the plot style, print one report line.

    Args:
        seed: seeds Python's ``random``, NumPy, TensorFlow and Keras (``keras.utils.set_random_seed``).
            The environment variable ``COURSE_SEED`` (a non-negative integer) overrides it, so a whole
            chapter can be re-run with another seed to check that its results are not luck
            (``python -m tools.run_notebooks --seed 1 --out /tmp/seed1 08``).
        deterministic: turn on TensorFlow op determinism. ``None`` (the default) turns it on where the
            device supports it well: on the CPU always; on a GPU it stays off, because some GPU
            kernels have no deterministic version and the rest run slower.

    Returns:
        The ``Settings`` the notebook uses (mode, seed, device).
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"setup: seed must be a non-negative integer, got {seed!r}")
    override = os.environ.get("COURSE_SEED", "").strip()
    if override:
        if not override.isdigit():
            raise ValueError(f"COURSE_SEED={override!r} is not a non-negative integer; unset it or set e.g. COURSE_SEED=1")
        seed = int(override)
    mode = course_mode()
    import keras
    import numpy as np
    import tensorflow as tf

    from helpers.plotting import use_course_style

    keras.utils.set_random_seed(seed)
    device = describe_device()
    if deterministic is None:
        deterministic = not device.startswith("GPU")
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    use_course_style()
    print(
        f"TensorFlow {tf.__version__} · Keras {keras.__version__} · NumPy {np.__version__} · "
        f"Python {platform.python_version()} · {device} · mode: {mode} · seed {seed}"
        f"{' · deterministic ops' if deterministic else ''}"
    )
    return Settings(mode=mode, seed=seed, device=device, deterministic=deterministic)
