"""Section 6: the course's recipes against the reference recipes people would use instead.

Each comparison trains both recipes in this process, one after the other and interleaved over seeds, on the
same data (``helpers.data``, so offline from ``COURSE_DATA_DIR``) and on the same machine, and counts
training seconds the same way for both (``SecondsClock``: the time inside training batches, data pipeline
included; evaluations made for the curves are not counted). The references are re-implemented from their
published descriptions (cited in ``REFERENCES``); where we differ, ``section`` says so.

- MNIST: keras.io's "Simple MNIST convnet" against chapter 07's CNN and recipe, test accuracy against seconds.
- CIFAR-10: the TensorFlow "Convolutional Neural Network" tutorial's CNN (10 epochs) against chapter 08's
  ResNet-9 given the seconds the tutorial took (its warm-up + cosine schedule sized in seconds).
- CartPole-v1: RL Baselines3 Zoo's DQN hyper-parameters run through ``helpers.dqn`` against ``DQNConfig()``.
- Tiny Shakespeare: chapter 09's GRU against chapter 13's GPT at the same time budget.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from benchmarks.__main__ import replace_section, table

REFERENCES = {
    "mnist": "https://keras.io/examples/vision/mnist_convnet/",
    "cifar": "https://www.tensorflow.org/tutorials/images/cnn",
    "dqn": "https://github.com/DLR-RM/rl-baselines3-zoo/blob/master/hyperparams/dqn.yml",
}
MNIST_TARGET = 0.992  # chapter 07's target (README and title cell)


@dataclass(frozen=True)
class Sizes:
    """Every size of the section; ``QUICK`` only checks the code path."""

    mnist_seeds: tuple[int, ...] = (0, 1, 2)
    mnist_seconds: float = 50.0  # training seconds per MNIST run (each recipe is stopped by this clock)
    mnist_train: int | None = None  # None: the recipes' own training sets (54,000 and 55,000 images)
    mnist_test: int | None = None
    cifar_seed: int = 0
    cifar_train: int | None = None  # None: chapter 08's 22,500 training images of the offline half
    cifar_test: int | None = None
    cifar_tutorial_epochs: int = 10
    dqn_seeds: tuple[int, ...] = (42, 43, 44, 45, 46)  # 42 is chapter 12's seed
    dqn_steps: int = 50_000
    dqn_learning_starts: int = 1_000
    dqn_eval_every: int = 2_048
    dqn_eval_episodes: int = 20
    dqn_test_episodes: int = 100
    char_seed: int = 0
    char_seconds: float = 60.0
    char_points: int = 6


FULL = Sizes()
QUICK = Sizes(mnist_seeds=(0,), mnist_seconds=2.0, mnist_train=1024, mnist_test=512, cifar_train=512,
              cifar_test=256, cifar_tutorial_epochs=1, dqn_seeds=(0,), dqn_steps=600, dqn_learning_starts=256,
              dqn_eval_every=256, dqn_eval_episodes=2, dqn_test_episodes=2, char_seconds=2.0, char_points=2)


# --------------------------------------------------------------------------------------------- shared plumbing
def _keras():
    import helpers  # noqa: F401, I001  (imports TensorFlow quietly)
    import keras
    import tensorflow as tf

    return keras, tf


class SecondsClock:
    """A Keras callback that counts training seconds (inside train batches, the first one excepted: it traces
    the model) and stops at ``budget``.

    ``schedule(fraction_of_budget_spent) -> learning rate``, when given, is assigned before every batch
    (a schedule sized in seconds, as chapter 13's ``TimeBudget``); ``at_epoch_end(seconds)`` and
    ``every`` (seconds between calls of ``at_point``) record quality for the curves, off the clock.
    """

    def __new__(cls, *args, **kwargs):  # build the Keras subclass lazily (no TensorFlow import at module load)
        keras, _ = _keras()

        class _Clock(keras.callbacks.Callback):
            def __init__(self, budget=math.inf, schedule=None, at_epoch_end=None, every=None, at_point=None):
                super().__init__()
                self.budget, self.schedule, self.at_epoch_end = budget, schedule, at_epoch_end
                self.every, self.at_point = every, at_point
                self.spent, self.steps, self.points_done = 0.0, 0, 0

            def on_train_batch_begin(self, batch, logs=None):
                if self.schedule is not None:
                    self.model.optimizer.learning_rate.assign(self.schedule(min(self.spent / self.budget, 1.0)))
                self.started = time.perf_counter()

            def on_train_batch_end(self, batch, logs=None):
                self.steps += 1
                if self.steps > 1:  # the first step traces and compiles the model: not counted (as in chapter 13)
                    self.spent += time.perf_counter() - self.started
                if self.every is not None and self.spent >= self.every * (self.points_done + 1):
                    self.points_done += 1
                    self.at_point(self.spent)
                if self.spent >= self.budget:
                    self.model.stop_training = True

            def on_epoch_end(self, epoch, logs=None):
                if self.at_epoch_end is not None:
                    self.at_epoch_end(self.spent)

        return _Clock(*args, **kwargs)


def warmup_cosine(peak: float, warmup: float, start: float, end: float) -> Callable[[float], float]:
    """Learning rate at a fraction ``f`` of the budget: linear from ``start`` to ``peak`` over the first
    ``warmup`` of it, then cosine from ``peak`` down to ``end`` (Keras' CosineDecay with warm-up, in seconds)."""

    def rate(f: float) -> float:
        if f < warmup:
            return start + (peak - start) * f / warmup
        return end + (peak - end) * 0.5 * (1 + math.cos(math.pi * (f - warmup) / (1 - warmup)))

    return rate


def _first_reaching(seconds: list[float], values: list[float], target: float) -> float | None:
    return next((s for s, v in zip(seconds, values) if v >= target), None)


def _figure(path: Path, title: str, xlabel: str, ylabel: str, curves: dict[str, list[tuple[list, list]]],
            hline: tuple[float, str] | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for index, (name, runs) in enumerate(curves.items()):
        for run, (x, y) in enumerate(runs):
            ax.plot(x, y, "o-", color=f"C{index}", alpha=0.8, markersize=3, label=name if run == 0 else None)
    if hline is not None:
        ax.axhline(hline[0], color="black", linestyle=":", label=hline[1])
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _from_scratch(notebook: str, name: str):
    """A name defined by a chapter's ``from-scratch`` cells (tests/notebook_code.py), so the benchmark trains the
    very code the reader sees."""
    from tests.notebook_code import scratch_namespace

    return scratch_namespace(notebook)[name]


# ------------------------------------------------------------------------------------------------------ MNIST
def _keras_io_mnist_model(keras):
    """keras.io "Simple MNIST convnet" (fchollet): conv 32 -> pool -> conv 64 -> pool -> flatten -> dropout 0.5
    -> dense 10 softmax; 34,826 parameters."""
    layers = keras.layers
    return keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
                             layers.MaxPooling2D(2), layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
                             layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax")],
                            name="keras_io_convnet")


def _chapter07_model(keras):
    """Chapter 07's CNN (mirrors its cell ``build_cnn``, without augmentation): 225,034 parameters."""
    layers = keras.layers
    return keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
                             layers.MaxPooling2D(2), layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
                             layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dropout(0.5),
                             layers.Dense(10)], name="chapter07_cnn")


def _mnist_run(recipe: str, seed: int, data, sizes: Sizes) -> dict:
    keras, tf = _keras()
    (x_train, y_train), (x_test, y_test) = data
    keras.utils.set_random_seed(seed)
    x_test_float = x_test.astype("float32") / 255.0
    seconds, accuracies = [0.0], [0.1]  # before training: chance

    def measure(spent: float) -> None:  # test accuracy after every epoch: a measuring device, selects nothing
        predictions = model.predict(x_test_float, batch_size=1000, verbose=0).argmax(axis=1)
        seconds.append(spent)
        accuracies.append(float(np.mean(predictions == y_test)))

    clock = SecondsClock(budget=sizes.mnist_seconds, at_epoch_end=measure)
    if recipe == "keras.io":
        # validation_split=0.1 trains on the first 90% (54,000 images); batch 128, Adam(), 15 epochs, fit shuffles
        n = len(x_train) * 9 // 10
        model = _keras_io_mnist_model(keras)
        model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.Adam(), metrics=["accuracy"])
        model.fit(x_train[:n].astype("float32") / 255.0, keras.utils.to_categorical(y_train[:n], 10),
                  batch_size=128, epochs=15, verbose=0, callbacks=[clock])
    else:
        # chapter 07: 55,000 training images (5,000 kept for validation), tf.data, Adam 3e-3 with cosine decay
        # to zero over 8 epochs, batch 128 (mirrors its cells make_dataset and compile_and_fit)
        n = len(x_train) - (5000 if sizes.mnist_train is None else len(x_train) // 12)
        dataset = (tf.data.Dataset.from_tensor_slices((x_train[:n], y_train[:n]))
                   .map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y), num_parallel_calls=tf.data.AUTOTUNE)
                   .cache().shuffle(n, seed=seed).batch(128).prefetch(tf.data.AUTOTUNE))
        model = _chapter07_model(keras)
        schedule = keras.optimizers.schedules.CosineDecay(3e-3, decay_steps=8 * int(dataset.cardinality()))
        model.compile(optimizer=keras.optimizers.Adam(schedule),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        model.fit(dataset, epochs=8, verbose=0, shuffle=False, callbacks=[clock])
    return {"seconds": seconds, "accuracy": accuracies, "epochs": len(seconds) - 1, "images": n}


def mnist(sizes: Sizes) -> dict:
    from helpers.data import load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist(mode="default")  # the whole set; quick mode subsets it here
    x_train, x_test = x_train[..., None], x_test[..., None]
    if sizes.mnist_train:
        x_train, y_train = x_train[:sizes.mnist_train], y_train[:sizes.mnist_train]
    if sizes.mnist_test:
        x_test, y_test = x_test[:sizes.mnist_test], y_test[:sizes.mnist_test]
    data = ((x_train, y_train), (x_test, y_test))
    runs: dict[str, list[dict]] = {"keras.io": [], "chapter 07": []}
    for seed in sizes.mnist_seeds:  # interleaved: A, B, A, B, ...
        for recipe in runs:
            runs[recipe].append(_mnist_run(recipe, seed, data, sizes))
            run = runs[recipe][-1]
            print(f"    MNIST {recipe}, seed {seed}: {run['epochs']} epochs in {run['seconds'][-1]:.0f} s, "
                  f"test accuracy {run['accuracy'][-1]:.4f}", flush=True)
    return runs


# --------------------------------------------------------------------------------------------------- CIFAR-10
def _tutorial_cnn(keras):
    """The TensorFlow CNN tutorial's model: conv 32, pool, conv 64, pool, conv 64, flatten, dense 64, dense 10."""
    layers = keras.layers
    return keras.Sequential([keras.Input((32, 32, 3)), layers.Conv2D(32, 3, activation="relu"),
                             layers.MaxPooling2D(2), layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
                             layers.Conv2D(64, 3, activation="relu"), layers.Flatten(),
                             layers.Dense(64, activation="relu"), layers.Dense(10)], name="tf_tutorial_cnn")


def cifar(sizes: Sizes) -> dict:
    import warnings

    from helpers.data import load_cifar10
    from helpers.environment import fast_precision_policy

    keras, tf = _keras()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the offline-copy notice; the section states it
        (x_full, y_full), (x_test, y_test) = load_cifar10(mode="default")
    y_full, y_test = y_full[:, 0], y_test[:, 0]
    # chapter 08's split: the last 2,500 images are its validation set, unused here (nothing is tuned)
    x_train, y_train = x_full[:-2500], y_full[:-2500]
    if sizes.cifar_train:
        x_train, y_train = x_train[:sizes.cifar_train], y_train[:sizes.cifar_train]
    if sizes.cifar_test:
        x_test, y_test = x_test[:sizes.cifar_test], y_test[:sizes.cifar_test]
    x_test_float = x_test.astype("float32") / 255.0
    seed = sizes.cifar_seed
    results = {}

    def curve_recorder(model, store):
        def measure(spent):
            logits = model.predict(x_test_float, batch_size=500, verbose=0)
            store["seconds"].append(spent)
            store["accuracy"].append(float(np.mean(np.asarray(logits).argmax(axis=1) == y_test)))
        return measure

    # The tutorial: float32, Adam(), from-logits cross-entropy, 10 epochs, fit's default batch of 32, shuffled.
    keras.mixed_precision.set_global_policy("float32")
    keras.utils.set_random_seed(seed)
    tutorial = _tutorial_cnn(keras)
    tutorial.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                     metrics=["accuracy"])
    store = {"seconds": [0.0], "accuracy": [0.1]}
    clock = SecondsClock(at_epoch_end=curve_recorder(tutorial, store))
    history = tutorial.fit(x_train.astype("float32") / 255.0, y_train, epochs=sizes.cifar_tutorial_epochs,
                           verbose=0, callbacks=[clock])
    results["TF tutorial CNN"] = {**store, "steps": clock.steps, "parameters": tutorial.count_params(),
                                  "train_accuracy": float(history.history["accuracy"][-1])}
    budget = clock.spent
    print(f"    CIFAR-10 tutorial: {sizes.cifar_tutorial_epochs} epochs in {budget:.0f} s, "
          f"test accuracy {store['accuracy'][-1]:.4f}", flush=True)

    # Chapter 08's ResNet-9 (its from-scratch cells), widths (16, 32, 64, 128), mixed precision where the CPU
    # has bfloat16 units, flip + 2-pixel translation, SGD Nesterov 0.9 with weight decay 2e-3, label smoothing
    # 0.2, batch 128; its warm-up (first 1/8, from peak/20) + cosine to zero is sized in seconds: the budget.
    build_resnet9 = _from_scratch("08_residual_networks.ipynb", "build_resnet9")
    policy = fast_precision_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(seed)
        resnet = build_resnet9((16, 32, 64, 128))
        layers = keras.layers
        augment = keras.Sequential([layers.RandomFlip("horizontal", seed=seed),
                                    layers.RandomTranslation(2 / 32, 2 / 32, fill_mode="constant",
                                                             interpolation="nearest", seed=seed)])
        dataset = (tf.data.Dataset.from_tensor_slices((x_train, keras.utils.to_categorical(y_train, 10)))
                   .map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y)).cache()
                   .shuffle(len(x_train), seed=seed).batch(128)
                   .map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
                   .prefetch(tf.data.AUTOTUNE))
        resnet.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=2e-3),
                       loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2),
                       metrics=["accuracy"])
        store = {"seconds": [0.0], "accuracy": [0.1]}
        clock = SecondsClock(budget=budget, schedule=warmup_cosine(0.1, 1 / 8, 0.1 / 20, 0.0),
                             at_epoch_end=curve_recorder(resnet, store))
        resnet.fit(dataset, epochs=1000, verbose=0, shuffle=False, callbacks=[clock])
        results["chapter 08 ResNet-9"] = {**store, "steps": clock.steps, "parameters": resnet.count_params(),
                                          "policy": policy}
    finally:
        keras.mixed_precision.set_global_policy("float32")
    print(f"    CIFAR-10 chapter 08: {clock.steps} steps in {clock.spent:.0f} s, "
          f"test accuracy {store['accuracy'][-1]:.4f}", flush=True)
    return {"runs": results, "budget": budget, "train": len(x_train), "test": len(x_test)}


# ------------------------------------------------------------------------------------------------ CartPole DQN
def dqn_configs(sizes: Sizes):
    """Chapter 12's ``DQNConfig()`` and RL Baselines3 Zoo's CartPole-v1 recipe in the same agent.

    Zoo (dqn.yml): n_timesteps 5e4, lr 2.3e-3, batch 64, buffer 100,000, learning_starts 1,000, gamma 0.99,
    target_update_interval 10, train_freq 256, gradient_steps 128, exploration_fraction 0.16,
    exploration_final_eps 0.04, net_arch [256, 256]; SB3's DQN defaults: vanilla (not Double) DQN targets,
    Huber (smooth L1) loss, max_grad_norm 10, tau 1. SB3 counts target_update_interval in environment steps
    and calls it after every one: with gradient steps only in bursts of 128 every 256 environment steps, the
    target equals the online network at the start of every burst and stays fixed during it, which is
    ``target_update_every=128`` gradient steps here. exploration_fraction 0.16 of 50,000 steps is an epsilon
    decay over 8,000 steps.
    """
    from helpers.dqn import DQNConfig

    common = dict(total_steps=sizes.dqn_steps, learning_starts=sizes.dqn_learning_starts,
                  eval_every=sizes.dqn_eval_every, eval_episodes=sizes.dqn_eval_episodes)
    chapter = replace(DQNConfig(), **common)
    zoo = replace(DQNConfig(), **common, double=False, target_update_every=128, buffer_capacity=100_000,
                  learning_rate=2.3e-3, batch_size=64, gamma=0.99, train_every=256, gradient_steps=128,
                  epsilon_start=1.0, epsilon_end=0.04, epsilon_decay_steps=int(0.16 * sizes.dqn_steps),
                  hidden_units=(256, 256), huber_delta=1.0, clip_norm=10.0)
    return {"RL Zoo": zoo, "chapter 12": chapter}


def _dqn_run(config, seed: int, sizes: Sizes) -> dict:
    from helpers.dqn import evaluate_greedy, train_dqn

    times: list[float] = []
    start = time.perf_counter()

    def log(message: str) -> None:
        if message.startswith("step"):  # one message per greedy evaluation, in order
            times.append(time.perf_counter() - start)

    agent, history = train_dqn(config, seed=seed, log=log)
    seconds = time.perf_counter() - start
    test = evaluate_greedy(agent, episodes=sizes.dqn_test_episodes, seed=20_000, network="best")
    solved = bool(test.mean() >= 475 and history.best_step <= sizes.dqn_steps and history.eval_steps)
    best_index = history.eval_steps.index(history.best_step) if history.best_step in history.eval_steps else -1
    return {"solved": solved, "test_mean": float(test.mean()), "steps": history.best_step,
            "seconds_to_best": times[best_index] if times else seconds, "seconds": seconds,
            "steps_done": history.steps_done, "curve": (times, list(history.eval_means))}


def cartpole(sizes: Sizes) -> dict:
    _, tf = _keras()
    configs = dqn_configs(sizes)
    runs: dict[str, list[dict]] = {name: [] for name in configs}
    for seed in sizes.dqn_seeds:
        for name, config in configs.items():
            run = _dqn_run(config, seed, sizes)
            runs[name].append(run)
            print(f"    CartPole {name}, seed {seed}: {'solved' if run['solved'] else 'NOT solved'} "
                  f"(test mean {run['test_mean']:.1f}) with the network of step {run['steps']:,}, "
                  f"{run['seconds_to_best']:.0f} s", flush=True)
    return runs


# ------------------------------------------------------------------------------------------ character models
def characters(sizes: Sizes) -> dict:
    from helpers.data import load_tiny_shakespeare

    keras, tf = _keras()
    text = load_tiny_shakespeare(mode="default")
    vocabulary = sorted(set(text))
    lookup = {c: i for i, c in enumerate(vocabulary)}
    ids = np.array([lookup[c] for c in text], dtype=np.int32)
    cut_val, cut_test = int(0.90 * len(ids)), int(0.95 * len(ids))  # chapters 09 and 13: 90 / 5 / 5 %
    train_ids, val_ids = ids[:cut_val], ids[cut_val:cut_test]
    context, batch = 64, 32
    n = (len(val_ids) - 1) // context  # chapter 13's tiled validation windows of 64 characters
    x_val = val_ids[:n * context].reshape(n, context)
    y_val = val_ids[1:n * context + 1].reshape(n, context)
    if sizes.char_seconds < 10:
        x_val, y_val = x_val[:64], y_val[:64]
    x_curve, y_curve = x_val[::4], y_val[::4]
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    seed, budget = sizes.char_seed, sizes.char_seconds
    results = {}

    def train(name, model, optimizer, schedule, x, y):
        store = {"seconds": [0.0], "val_loss": [float(loss_fn(y_curve, model(x_curve, training=False)))]}

        def point(spent):
            store["seconds"].append(spent)
            store["val_loss"].append(float(loss_fn(y_curve, model(x_curve, training=False))))

        model.compile(optimizer=optimizer, loss=loss_fn)
        clock = SecondsClock(budget=budget, schedule=schedule, every=budget / sizes.char_points, at_point=point)
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False, callbacks=[clock])
        final = float(loss_fn(y_val, model.predict(x_val, batch_size=256, verbose=0)))
        results[name] = {**store, "final": final, "steps": clock.steps, "parameters": model.count_params()}
        print(f"    {name}: {clock.steps} steps in {clock.spent:.0f} s, validation loss {final:.3f}", flush=True)

    # Chapter 09's recipe (mirrors its cells make_dataset, build_char_model and compile_char_model): embedding
    # 64, GRU 256, windows of 200 + 1 characters shuffled, batch 32, Adam 1e-2 with cosine decay to a tenth
    # (sized in seconds here), global-norm clipping at 1.
    keras.utils.set_random_seed(seed)
    windows = train_ids[:len(train_ids) // 201 * 201].reshape(-1, 201)
    windows = windows[np.random.default_rng(seed).permutation(len(windows))]
    windows = np.concatenate([windows] * 8)  # more windows than any budget here can use
    tokens = keras.Input(shape=(None,), dtype="int32")
    states = keras.layers.GRU(256, return_sequences=True)(keras.layers.Embedding(len(vocabulary), 64)(tokens))
    gru = keras.Model(tokens, keras.layers.Dense(len(vocabulary))(states), name="chapter09_gru")
    train("GRU (chapter 09)", gru, keras.optimizers.Adam(1e-2, global_clipnorm=1.0),
          warmup_cosine(1e-2, 0.0, 1e-2, 1e-3), windows[:, :-1], windows[:, 1:])

    # Chapter 13's recipe (its from-scratch build_gpt; mirrors its cells random_windows and adamw): context 64,
    # width 128, 4 blocks, 4 heads, random windows, batch 32, AdamW 5e-3 (beta_2 0.99, weight decay 0.1,
    # not on biases, norms and embeddings), 10% warm-up then cosine to a tenth, global-norm clipping at 1.
    build_gpt = _from_scratch("13_transformers.ipynb", "build_gpt")
    keras.utils.set_random_seed(seed)
    gpt = build_gpt(len(vocabulary), context, 128, 4, 4)
    starts = np.random.default_rng(seed).integers(0, len(train_ids) - context, size=4_000 * batch)  # more than needed
    windows = train_ids[starts[:, None] + np.arange(context + 1)]
    optimizer = keras.optimizers.AdamW(5e-3, weight_decay=0.1, beta_2=0.99, global_clipnorm=1.0)
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta", "table", "embeddings"])
    train("GPT (chapter 13)", gpt, optimizer, warmup_cosine(5e-3, 0.1, 0.0, 5e-4), windows[:, :-1], windows[:, 1:])
    return results


def draw_figures(data: dict, folder: Path) -> None:
    """The four figures (quality against seconds) from the measurements, as PNG files in ``folder``."""
    sizes, budget = data["sizes"], data["sizes"]["char_seconds"]
    _figure(folder / "anchors_mnist.png", f"MNIST: test accuracy against seconds ({len(sizes['mnist_seeds'])} seeds each)",
            "training seconds (this machine)", "test accuracy",
            {f"{name} recipe": [(r["seconds"][1:], r["accuracy"][1:]) for r in rs] for name, rs in data["mnist"].items()},
            hline=(MNIST_TARGET, f"{MNIST_TARGET:.1%}"))
    _figure(folder / "anchors_cifar10.png", "CIFAR-10 (offline half): test accuracy against seconds, one run each",
            "training seconds (this machine)", "test accuracy",
            {name: [(r["seconds"][1:], r["accuracy"][1:])] for name, r in data["cifar"]["runs"].items()})
    _figure(folder / "anchors_cartpole.png",
            f"CartPole-v1: greedy return against seconds ({len(sizes['dqn_seeds'])} seeds each)",
            "training seconds, evaluations included (this machine)", "mean greedy return (20 episodes)",
            {name: [r["curve"] for r in rs] for name, rs in data["dqn"].items()}, hline=(475, "solved threshold 475"))
    _figure(folder / "anchors_characters.png", f"Tiny Shakespeare: validation loss, {budget:.0f} s each, one run",
            "training seconds (this machine)", "validation loss (nats/char, 64-character windows)",
            {name: [(r["seconds"], r["val_loss"])] for name, r in data["char"].items()})


# ---------------------------------------------------------------------------------------------------- report
HEADING = "## 6. Against reference recipes"


def _median(values):
    return statistics.median(values) if values else float("nan")


def _seconds_to(runs: list[dict], target: float) -> list[float | None]:
    return [_first_reaching(r["seconds"], r["accuracy"], target) for r in runs]


def _fmt_reach(values: list[float | None], budget: float) -> str:
    return ", ".join(f"{v:.0f} s" if v is not None else f"not in {budget:.0f} s" for v in values)


def _span(runs: list[dict]) -> str:
    low, high = min(r["epochs"] for r in runs), max(r["epochs"] for r in runs)
    return f"{low}" if low == high else f"{low}-{high}"


def render_mnist(data: dict, figure: str) -> str:
    sizes, runs = data["sizes"], data["mnist"]
    budget, seeds = sizes["mnist_seconds"], sizes["mnist_seeds"]
    names = {"keras.io": "keras.io convnet", "chapter 07": "chapter 07 CNN"}
    rows, stats = [], {}
    for recipe, recipe_runs in runs.items():
        reach = _seconds_to(recipe_runs, MNIST_TARGET)
        final = [r["accuracy"][-1] for r in recipe_runs]
        reached = [v for v in reach if v is not None]
        stats[recipe] = {"reach": reach, "median_reach": _median(reached) if len(reached) * 2 > len(reach) else None,
                         "final": _median(final), "spread": (min(final), max(final))}
        rows.append([names[recipe], f"{recipe_runs[0]['images']:,}",
                     ", ".join(str(r["epochs"]) for r in recipe_runs),
                     f"{stats[recipe]['final']:.4f} ({min(final):.4f}-{max(final):.4f})",
                     _fmt_reach(reach, budget), f"{len(reached)} of {len(reach)}"])
    ours, theirs = stats["chapter 07"], stats["keras.io"]
    error_ratio = (1 - theirs["final"]) / (1 - ours["final"])
    if ours["median_reach"] is not None and theirs["median_reach"] is not None:
        faster = theirs["median_reach"] / ours["median_reach"]
        head = (f"chapter 07's recipe reaches {MNIST_TARGET:.1%} in {ours['median_reach']:.0f} s against "
                f"{theirs['median_reach']:.0f} s (median): {faster:.2f}x {'faster' if faster > 1 else 'slower'}")
    elif ours["median_reach"] is not None:
        count = sum(v is not None for v in theirs["reach"])
        head = (f"chapter 07's recipe reaches {MNIST_TARGET:.1%} in {ours['median_reach']:.0f} s (median of "
                f"{len(seeds)} seeds), keras.io's within {budget:.0f} s in {count} of {len(seeds)}")
    elif theirs["median_reach"] is not None:
        count = sum(v is not None for v in ours["reach"])
        head = (f"keras.io's recipe reaches {MNIST_TARGET:.1%} in {theirs['median_reach']:.0f} s (median of "
                f"{len(seeds)} seeds), chapter 07's within {budget:.0f} s in {count} of {len(seeds)}")
    else:
        head = f"neither recipe reaches {MNIST_TARGET:.1%} within {budget:.0f} s in most seeds"
    winner = "chapter 07" if ours["final"] > theirs["final"] else "keras.io"
    verdict = (f"**Verdict (MNIST):** {head}; at {budget:.0f} s the median test accuracy is {ours['final']:.4f} "
               f"(chapter 07) against {theirs['final']:.4f} (keras.io), so {winner} wins with "
               f"{max(error_ratio, 1 / error_ratio):.2f}x fewer test errors. Why: both nets do nearly the same "
               "convolution work per image (the same two convolutions), so they run about the same epochs per "
               "second; " + ("chapter 07's 128-unit dense layer and its 3x higher peak learning rate, decayed to "
                             "zero, turn those epochs into more accuracy (this benchmark does not separate the two)."
                             if winner == "chapter 07" else
                             "the smaller keras.io net, at a constant 1e-3, converts them into accuracy faster "
                             "than chapter 07's schedule, which is still at a high learning rate when cut off."))
    return (f"### MNIST: keras.io's \"Simple MNIST convnet\" against chapter 07\n\n"
            f"Reference: [{REFERENCES['mnist']}]({REFERENCES['mnist']}) (fchollet): Conv 32 3x3, MaxPool, Conv 64 3x3, "
            "MaxPool, Flatten, Dropout 0.5, Dense 10 softmax (34,826 parameters); Adam (learning rate 1e-3), "
            "batch 128, 15 epochs, `validation_split=0.1` (so it trains on 54,000 images). Chapter 07: the same "
            "two convolutions, then Dense 128 and Dropout 0.5 (225,034 parameters); Adam with a peak of 3e-3 and "
            "cosine decay to zero over 8 epochs, batch 128, 55,000 images through `tf.data`.\n\n"
            f"Each run follows its own recipe as published and is stopped by the clock at {budget:.0f} training "
            f"seconds: by then {_span(runs['chapter 07'])} of chapter 07's 8 epochs and {_span(runs['keras.io'])} of "
            "keras.io's 15 have started (the last one cut off), so this compares the two at the same seconds, with "
            "chapter 07's schedule mostly done and keras.io's about half done, not at their full lengths (whether "
            f"keras.io's last epochs reach {MNIST_TARGET:.1%} is not measured here; its page promises about 99%). "
            f"Seeds {', '.join(map(str, seeds))}, runs interleaved. Test accuracy (10,000 images) "
            "is measured after every epoch and at the cut-off, off the clock: a measuring device, nothing is "
            "selected with it. Neither recipe's own validation pass is run (they select nothing here either).\n\n"
            + table(["recipe", "training images", "epochs run, the last one cut off (per seed)",
                      f"test accuracy at {budget:.0f} s, median (range)", f"seconds to {MNIST_TARGET:.1%} (per seed)",
                      "seeds reaching it"], rows)
            + f"\n\n![MNIST test accuracy against training seconds, every run]({figure})\n\n{verdict}")


def render_cifar(data: dict, figure: str) -> str:
    result = data["cifar"]
    tutorial, resnet = result["runs"]["TF tutorial CNN"], result["runs"]["chapter 08 ResNet-9"]
    budget = result["budget"]
    rows = [["TF tutorial CNN", f"{tutorial['parameters']:,}", f"{data['sizes']['cifar_tutorial_epochs']} epochs, "
             f"{tutorial['steps']:,} steps of 32", f"{tutorial['seconds'][-1]:.0f}", f"{tutorial['accuracy'][-1]:.4f}"],
            ["chapter 08 ResNet-9", f"{resnet['parameters']:,}",
             f"{resnet['steps']:,} steps of 128 ({resnet['steps'] * 128 / result['train']:.1f} epochs)",
             f"{resnet['seconds'][-1]:.0f}", f"{resnet['accuracy'][-1]:.4f}"]]
    a_t, a_r = tutorial["accuracy"][-1], resnet["accuracy"][-1]
    winner, loser = ("chapter 08's ResNet-9", "the tutorial's CNN") if a_r > a_t else ("the tutorial's CNN",
                                                                                       "chapter 08's ResNet-9")
    gap = tutorial.get("train_accuracy", float("nan")) - a_t
    errors = max((1 - a_t) / (1 - a_r), (1 - a_r) / (1 - a_t))
    if a_r > a_t:
        why = ("batch normalization and the residual blocks let the ResNet train at a learning rate of 0.1, "
               "augmentation and label smoothing regularize it, and on this CPU it computes in "
               f"{resnet.get('policy', 'float32')}")
        if gap > 0.05:
            why += (f"; the tutorial's CNN ends at {tutorial['train_accuracy']:.1%} training accuracy against "
                    f"{a_t:.1%} on the test set: without augmentation it over-fits 22,500 images")
    else:
        why = ("in so few seconds the ResNet sees too few images for its warm-up and cosine schedule to pay off, "
               "while the small CNN takes many cheap steps")
    verdict = (f"**Verdict (CIFAR-10):** in the same {budget:.0f} training seconds, {winner} reaches "
               f"{max(a_t, a_r):.1%} test accuracy against {min(a_t, a_r):.1%} for {loser} "
               f"({max(a_t, a_r) / min(a_t, a_r):.2f}x the accuracy, {errors:.2f}x fewer errors; one run each). "
               f"Why: {why}.")
    return ("### CIFAR-10: the TensorFlow CNN tutorial against chapter 08 at equal time\n\n"
            f"Reference: [{REFERENCES['cifar']}]({REFERENCES['cifar']}): Conv 32, MaxPool, Conv 64, MaxPool, Conv 64 "
            "(3x3, ReLU), Flatten, Dense 64, Dense 10; Adam, from-logits cross-entropy, 10 epochs, Keras' default "
            "batch of 32, no augmentation. Where we differ: both recipes train on the same "
            f"{result['train']:,} images (the offline half of CIFAR-10 minus chapter 08's 2,500 validation "
            "images; the tutorial uses all 50,000), and the tutorial's `validation_data=test` pass is not run "
            f"(the test set, {result['test']:,} images, is measured after every epoch, off the clock, and selects "
            "nothing). Chapter 08's ResNet-9 (widths 16/32/64/128, its from-scratch `build_resnet9`) keeps its "
            "recipe (flip + 2-pixel translation, SGD with Nesterov momentum 0.9 and weight decay 2e-3, label "
            "smoothing 0.2, batch 128, mixed precision where the CPU has bfloat16 units) but gets exactly the "
            "seconds the tutorial took, with its warm-up (first eighth) + cosine schedule sized in seconds "
            f"instead of 4 epochs (at this rate its 4 epochs, {4 * math.ceil(result['train'] / 128):,} steps, would take "
            f"about {4 * math.ceil(result['train'] / 128) * budget / resnet['steps']:.0f} s). One run each (seed 0), "
            "to keep the section within its 20-minute budget.\n\n"
            + table(["recipe", "parameters", "training", "training seconds", "test accuracy"], rows)
            + f"\n\n![CIFAR-10 test accuracy against training seconds]({figure})\n\n{verdict}")


def render_cartpole(data: dict, figure: str) -> str:
    runs, sizes = data["dqn"], data["sizes"]
    rows, stats = [], {}
    for name, recipe_runs in runs.items():
        solved = [r for r in recipe_runs if r["solved"]]
        stats[name] = {"solved": len(solved), "steps": _median([r["steps"] for r in solved]),
                       "seconds": _median([r["seconds_to_best"] for r in solved])}
        per_seed = ", ".join(f"{r['steps']:,} / {r['seconds_to_best']:.0f} s" if r["solved"] else
                             f"failed (test {r['test_mean']:.0f})" for r in recipe_runs)
        rows.append([name, f"{len(solved)} of {len(recipe_runs)}",
                     f"{stats[name]['steps']:,.0f}" if solved else "-",
                     f"{stats[name]['seconds']:.0f}" if solved else "-", per_seed])
    ours, zoo = stats["chapter 12"], stats["RL Zoo"]
    if ours["solved"] and zoo["solved"]:
        step_ratio, time_ratio = zoo["steps"] / ours["steps"], zoo["seconds"] / ours["seconds"]
        faster = "chapter 12's defaults solve" if time_ratio > 1 else "the RL Zoo recipe solves"
        head = (f"{faster} sooner: median {ours['steps']:,.0f} (chapter 12) against {zoo['steps']:,.0f} (zoo) "
                f"environment steps, zoo / chapter {step_ratio:.2f}x, and {ours['seconds']:.0f} s against "
                f"{zoo['seconds']:.0f} s, {time_ratio:.2f}x, over the runs that solved")
        ranges = {name: (min(r["steps"] for r in rs if r["solved"]), max(r["steps"] for r in rs if r["solved"]))
                  for name, rs in runs.items() if any(r["solved"] for r in rs)}
        (a, b), (c, d) = ranges["chapter 12"], ranges["RL Zoo"]
        overlap = a <= d and c <= b
        spread = (f"Per seed the steps range over {a:,}-{b:,} (chapter 12) and {c:,}-{d:,} (zoo): "
                  + (f"the ranges overlap, so {len(sizes['dqn_seeds'])} seeds show the medians' direction, not a "
                     "settled ranking." if overlap else "the ranges do not overlap."))
    else:
        solver = "chapter 12's defaults" if ours["solved"] else "the RL Zoo recipe" if zoo["solved"] else "neither"
        best = {name: _median([max(r["curve"][1], default=0.0) for r in rs]) for name, rs in runs.items()}
        high, low = max(best.values()), max(min(best.values()), 1e-9)
        head = (f"{solver} solved within the budget; best greedy evaluation, median: {best['chapter 12']:.0f} "
                f"(chapter 12) against {best['RL Zoo']:.0f} (zoo), {high / low:.2f}x")
        spread = ""
    verdict = (f"**Verdict (CartPole DQN):** {head}; failures: chapter 12 {len(runs['chapter 12']) - ours['solved']} "
               f"of {len(runs['chapter 12'])}, RL Zoo {len(runs['RL Zoo']) - zoo['solved']} of {len(runs['RL Zoo'])}. "
               "Why: the recipes differ only in the target (Double DQN against the target network's own maximum) "
               "and in how often it moves (twice per burst of 128 gradient steps against once), and this benchmark "
               "does not separate the two; Double DQN curbs the over-estimation that chapter 12 measures in its "
               "section 8. " + spread).rstrip()
    return ("### CartPole-v1: RL Baselines3 Zoo's DQN recipe against chapter 12's defaults\n\n"
            f"Reference: [rl-baselines3-zoo `hyperparams/dqn.yml`]({REFERENCES['dqn']}), CartPole-v1 (\"Almost "
            "Tuned\"): `n_timesteps` 5e4, `learning_rate` 2.3e-3, `batch_size` 64, `buffer_size` 100000, "
            "`learning_starts` 1000, `gamma` 0.99, `target_update_interval` 10, `train_freq` 256, "
            "`gradient_steps` 128, `exploration_fraction` 0.16, `exploration_final_eps` 0.04, `net_arch` [256, "
            "256]; with Stable-Baselines3's DQN defaults: plain DQN targets, Huber (smooth L1) loss, "
            "`max_grad_norm` 10, `tau` 1. Both recipes run through the course's own agent (`helpers.dqn`), so "
            "only the recipe differs. Units: SB3 counts `target_update_interval` in environment steps and checks "
            "it after every one; gradient steps come in bursts of 128 every 256 environment steps, so the target "
            "is a copy of the online network at the start of each burst and fixed during it: "
            "`target_update_every=128` gradient steps here. `exploration_fraction` 0.16 of 50,000 steps is "
            "epsilon 1 -> 0.04 over 8,000 steps, as in `DQNConfig()`.\n\n"
            "Chapter 12's `DQNConfig()` differs from the zoo in: Double DQN targets (the zoo: plain DQN); the "
            "target network refreshed every 64 gradient steps, twice per burst (the zoo: once per burst); a "
            "replay buffer of 50,000 (the zoo: 100,000; no difference within a 50,000-step budget). Everything "
            "else is the zoo's. Not mapped: SB3 acts uniformly at random before `learning_starts` (here epsilon "
            "is already about 0.9 there), PyTorch's Adam epsilon 1e-8 and weight initialisation (here Keras': "
            "1e-7, Glorot uniform).\n\n"
            f"Measured as chapter 12 does: a greedy evaluation of 20 episodes every 2,048 environment steps "
            "keeps the best network and stops the run at a mean of 500; the run has solved CartPole-v1 when that "
            "network's greedy mean over 100 test episodes (seeds from 20,000) reaches gymnasium's registered "
            f"reward threshold, 475, within {sizes['dqn_steps']:,} environment steps; otherwise it counts as a "
            f"failure. Seconds are the run's wall-clock up to the evaluation that produced that network, "
            f"evaluation episodes included (they are part of the loop). Seeds {', '.join(map(str, sizes['dqn_seeds']))}, "
            "the two recipes interleaved.\n\n"
            + table(["recipe", "solved", "median steps to solve", "median seconds to solve",
                      "per seed: steps / seconds"], rows)
            + f"\n\n![CartPole-v1 greedy evaluation return against seconds, every run]({figure})\n\n{verdict}")


def render_characters(data: dict, figure: str) -> str:
    runs, budget = data["char"], data["sizes"]["char_seconds"]
    rows = [[name, f"{r['parameters']:,}", str(r["steps"]), f"{r['final']:.3f}"] for name, r in runs.items()]
    gru, gpt = runs["GRU (chapter 09)"], runs["GPT (chapter 13)"]
    winner = "chapter 09's GRU" if gru["final"] < gpt["final"] else "chapter 13's GPT"
    high, low = max(gru["final"], gpt["final"]), min(gru["final"], gpt["final"])
    verdict = (f"**Verdict (characters):** at {budget:.0f} training seconds each, {winner} has the lower validation "
               f"loss, {low:.3f} against {high:.3f} nats/char ({high / low:.2f}x; one run each). Why: in the "
               f"budget the GRU takes {gru['steps']} steps of 32 x 200 characters "
               f"({(gru['steps'] - 1) * 6400 / budget:,.0f} characters/s) and the GPT {gpt['steps']} steps of 32 x 64 "
               f"({(gpt['steps'] - 1) * 2048 / budget:,.0f} characters/s); "
               + (f"the recurrent model reads {gru['steps'] * 6400 / (gpt['steps'] * 2048):.1f}x more characters "
                  "per second and wins even on 64-character windows, each read from a zero state; the GPT's "
                  "attention needs longer training to pay off (chapter 13's main run trains it for 1,000 steps)."
                  if winner == "chapter 09's GRU" else
                  "attention over 64 characters learns more per step than the GRU's recurrence, and at this "
                  "budget that outweighs the GRU's larger throughput."))
    return ("### Character models: chapter 09's GRU against chapter 13's GPT\n\n"
            "Both on Tiny Shakespeare with the chapters' split (90 / 5 / 5 %), each with its chapter's recipe and "
            f"the same {budget:.0f} training seconds; the learning-rate schedules are sized in seconds (chapter 13's "
            "time-budget idea) since a step count cannot be given in advance. GRU (chapter 09): embedding 64, "
            "GRU 256, shuffled windows of 200 characters, batch 32, Adam 1e-2 with cosine decay to a tenth, "
            "global-norm clipping at 1. GPT (chapter 13's from-scratch `build_gpt`): context 64, width 128, 4 "
            "blocks of 4 heads, random windows, batch 32, AdamW 5e-3 (beta_2 0.99, weight decay 0.1), 10% "
            "warm-up then cosine to a tenth, clipping at 1. Validation loss on chapter 13's 871 windows of 64 "
            "characters for both (a quarter of them for the curve, off the clock); the GRU, trained on "
            "200-character windows, is evaluated on 64-character ones like the GPT. Chapter 13 races the two "
            "at 6 s, both on its 64-character windows with AdamW; here each keeps its own chapter's recipe, at "
            "ten times the budget. One run each (seed 0).\n\n"
            + table(["model", "parameters", "training steps", "validation loss (nats/char)"], rows)
            + f"\n\n![validation loss against training seconds]({figure})\n\n{verdict}")


def render(data: dict, report: Path) -> str:
    """The section's markdown from the measured ``data`` (also saved as JSON next to the figures)."""
    folder = report.stem
    command = "python -m benchmarks --only anchors" + (" --quick" if data["quick"] else "")
    parts = [HEADING,
             "Does the course reach the same quality faster than the well-known recipes, or better quality in the "
             "same time, on this machine? Each reference is re-implemented from its published description and "
             "trained in the same process as the course's recipe, on the same data and machine, with training "
             "seconds counted the same way (inside training steps, the first step, which traces the model, "
             "excepted; evaluations off the clock unless said otherwise). Each comparison links its figure, a PNG "
             f"file in `{folder}/` next to this report, with the measurements in `{folder}/anchors.json`."
             + (" **Quick mode: tiny sizes, the figures mean nothing.**" if data["quick"] else ""),
             render_mnist(data, f"{folder}/anchors_mnist.png"),
             render_cifar(data, f"{folder}/anchors_cifar10.png"),
             render_cartpole(data, f"{folder}/anchors_cartpole.png"),
             render_characters(data, f"{folder}/anchors_characters.png"),
             f"Written by `{command}` on {data['date']}; the section took {data['total']:.0f} s "
             f"({data['cores']} cores)."
             + (f" The text was rendered again from `{folder}/anchors.json` by `python -m benchmarks.anchors` (same "
                "measurements, no new training)." if data.get("rendered_again") else "")]
    return "\n\n".join(parts)


def section(quick: bool, report: Path) -> str:
    """Run the four comparisons and return the section's markdown; figures and the measurements (JSON) go to
    the folder named after the report (docs/benchmarks.md -> docs/benchmarks/)."""
    import json
    import os
    from dataclasses import asdict

    _, tf = _keras()
    tf.config.experimental.enable_op_determinism()  # as helpers.setup does in the notebooks
    sizes = QUICK if quick else FULL
    folder = report.parent / report.stem
    started = time.perf_counter()
    print("  MNIST ...", flush=True)
    mnist_runs = mnist(sizes)
    print("  CIFAR-10 ...", flush=True)
    cifar_result = cifar(sizes)
    print("  CartPole ...", flush=True)
    dqn_runs = cartpole(sizes)
    print("  characters ...", flush=True)
    char_runs = characters(sizes)
    data = {"quick": quick, "sizes": asdict(sizes), "mnist": mnist_runs, "cifar": cifar_result, "dqn": dqn_runs,
            "char": char_runs, "total": time.perf_counter() - started, "date": time.strftime("%Y-%m-%d"),
            "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "anchors.json").write_text(json.dumps(data, indent=1))
    draw_figures(data, folder)
    return render(data, report)


if __name__ == "__main__":  # re-render the section of a report from its saved measurements (no training)
    import json
    import sys

    report = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/benchmarks.md")
    data = {**json.loads((report.parent / report.stem / "anchors.json").read_text()), "rendered_again": True}
    draw_figures(data, report.parent / report.stem)
    replace_section(report, render(data, report))
    print(f"re-rendered {HEADING!r} in {report}")
