"""Two-parameter losses for watching optimizers move, and runners that record their paths.

Chapters 01-04 draw optimizer trajectories on these surfaces and check hand-written optimizers
against Keras step for step: ``keras_trajectory`` feeds a Keras optimizer exactly the gradients a
from-scratch loop would use, so the two paths can be compared with ``helpers.check_parity``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Gradient = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ToyLoss:
    """A 2-D loss: vectorised ``loss(x, y)``, its ``gradient(theta)``, the minimum and a view."""

    name: str
    loss: Callable[[np.ndarray, np.ndarray], np.ndarray]
    gradient: Gradient
    minimum: tuple[float, float]
    start: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    max_curvature: float | None = None
    """Largest Hessian eigenvalue L, where it is constant (quadratics): GD converges iff lr < 2/L."""

    def value(self, theta: np.ndarray) -> float:
        """The loss at one point ``theta = (x, y)``."""
        theta = np.asarray(theta, dtype=float)
        return float(self.loss(theta[0], theta[1]))


def quadratic(condition_number: float = 100.0, start: tuple[float, float] = (-9.0, 1.0)) -> ToyLoss:
    """``L(x, y) = (x**2 + condition_number * y**2) / 2``: curvatures 1 and kappa, minimum at 0."""
    if condition_number < 1:
        raise ValueError(f"quadratic: condition_number must be >= 1, got {condition_number}")
    curvatures = np.array([1.0, float(condition_number)])
    return ToyLoss(
        name=f"quadratic (κ = {condition_number:g})",
        loss=lambda x, y: 0.5 * (x**2 + condition_number * y**2),
        gradient=lambda theta: curvatures * np.asarray(theta, dtype=float),
        minimum=(0.0, 0.0), start=start, xlim=(-10.0, 10.0), ylim=(-3.0, 3.0),
        max_curvature=float(condition_number),
    )


def rosenbrock(a: float = 1.0, b: float = 100.0, start: tuple[float, float] = (-1.5, 2.0)) -> ToyLoss:
    """Rosenbrock's banana valley ``(a - x)**2 + b (y - x**2)**2``, minimum at ``(a, a**2)``."""
    def gradient(theta: np.ndarray) -> np.ndarray:
        x, y = np.asarray(theta, dtype=float)
        return np.array([-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)])

    return ToyLoss(
        name="Rosenbrock", loss=lambda x, y: (a - x) ** 2 + b * (y - x**2) ** 2, gradient=gradient,
        minimum=(a, a**2), start=start, xlim=(-2.0, 2.0), ylim=(-1.0, 3.0),
    )


def run_steps(step: Callable[[np.ndarray, np.ndarray], np.ndarray], gradient: Gradient,
              start: tuple[float, float] | np.ndarray, steps: int) -> np.ndarray:
    """Apply ``theta = step(theta, gradient(theta))`` ``steps`` times; return all points, shape (steps + 1, 2).

    ``step`` may keep its own state (velocity, accumulators) in a closure or an object.
    """
    theta = np.asarray(start, dtype=float).copy()
    path = [theta.copy()]
    for _ in range(steps):
        theta = np.asarray(step(theta, gradient(theta)), dtype=float)
        path.append(theta.copy())
    return np.array(path)


def keras_trajectory(optimizer, gradient: Gradient, start: tuple[float, float] | np.ndarray,
                     steps: int) -> np.ndarray:
    """Run a Keras optimizer on a 2-D variable with the given gradient function; shape (steps + 1, 2).

    The variable is float64 so the comparison with a NumPy loop measures the algorithm, not float32
    round-off. Keras keeps hyper-parameters such as the learning rate in float32, so expect agreement
    to about 1e-7 relative, not to the last float64 digit.
    """
    import keras

    variable = keras.Variable(np.asarray(start, dtype="float64"), dtype="float64")
    path = [np.array(variable.numpy())]
    for _ in range(steps):
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(gradient(variable.numpy()), "float64"), variable)])
        path.append(np.array(variable.numpy()))
    return np.array(path)


def steps_to_tolerance(path: np.ndarray, loss: ToyLoss, tolerance: float) -> int | None:
    """First step index whose loss is within ``tolerance`` of the minimum's, or None if never."""
    target = loss.value(np.array(loss.minimum)) + tolerance
    values = loss.loss(path[:, 0], path[:, 1])
    hits = np.nonzero(values <= target)[0]
    return int(hits[0]) if hits.size else None
