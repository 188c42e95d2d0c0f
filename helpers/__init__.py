"""The course's shared helpers: set-up, data, plots and checks. Notebooks use ``import helpers``.

Modules: ``environment`` (setup, modes), ``data`` (dataset loaders), ``plotting`` (the course's
figures), ``checks`` (parity with Keras, quality targets), ``training`` (epoch logs, live progress), ``checkpoints``
(resume interrupted training), ``toy_losses`` (2-D losses for optimizers), ``replay`` (the replay
buffer of chapter 12), ``dqn`` (chapter 12's DQN agent and training loop; import it as
``helpers.dqn``, it needs gymnasium), ``course`` (repository address, notebook template, curriculum).
"""

from helpers.environment import import_tensorflow_quietly

import_tensorflow_quietly()  # before anything below imports TensorFlow

from helpers import distribute as distribute  # noqa: E402  (chapter 14: choose a strategy, local clusters)
from helpers import sequences as sequences  # noqa: E402  (chapter 10: dates in human formats -> ISO 8601)
from helpers.checkpoints import TrainingCheckpoint, resume_callback  # noqa: E402
from helpers.checks import check_parity, expect_quality  # noqa: E402
from helpers.data import (  # noqa: E402
    CIFAR10_CLASSES,
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    load_cifar10,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
    load_tiny_shakespeare,
)
from helpers.environment import Settings, course_mode, fast_precision_policy, setup  # noqa: E402,I001
from helpers.plotting import (  # noqa: E402
    plot_confusion_matrix,
    plot_curves,
    plot_heatmap,
    plot_history,
    plot_image_grid,
    plot_returns,
    plot_trajectories,
    running_mean,
)
from helpers.training import EpochLogger, LiveProgress, LiveProgressCallback, without_remapper  # noqa: E402

__all__ = [
    "CIFAR10_CLASSES", "EpochLogger", "FASHION_MNIST_CLASSES", "LiveProgress", "LiveProgressCallback", "MNIST_CLASSES",
    "Settings", "check_parity", "course_mode",
    "expect_quality", "fast_precision_policy", "load_cifar10", "load_dataset", "load_fashion_mnist", "load_mnist",
    "load_tiny_shakespeare", "plot_confusion_matrix", "plot_curves", "plot_heatmap", "plot_history",
    "plot_image_grid", "plot_returns", "plot_trajectories", "resume_callback", "running_mean", "setup",
    "TrainingCheckpoint", "without_remapper",
]
