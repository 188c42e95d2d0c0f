"""The MNIST CNN's training throughput: tf.data pipeline vs plain ``model.fit(numpy arrays)``,
and the achieved GFLOP/s of its training step as a fraction of the machine's matmul rate."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from benchmarks.timing import median_rates


def build_mnist_cnn() -> keras.Model:
    """The CNN architecture of chapter 07's MNIST model (two conv blocks, dropout, dense head)."""
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Dropout(0.25),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10),
    ])


def forward_flops(model: keras.Model) -> int:
    """Multiply-add FLOPs (2 per MAC) of one example's forward pass through Conv2D and Dense layers."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, channels_out = layer.output.shape
            kernel_h, kernel_w, channels_in, _ = layer.kernel.shape
            total += 2 * height * width * channels_out * kernel_h * kernel_w * channels_in
        elif isinstance(layer, keras.layers.Dense):
            fan_in, fan_out = layer.kernel.shape
            total += 2 * fan_in * fan_out
    return int(total)


def compiled(model: keras.Model) -> keras.Model:
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def measure(x: np.ndarray, y: np.ndarray, batch_size: int = 128, repeats: int = 3) -> dict[str, float]:
    """Samples per second of one epoch over ``x`` for both input paths (after one warm-up epoch each)."""
    x = (x.astype("float32") / 255.0)[..., None]
    dataset = (tf.data.Dataset.from_tensor_slices((x, y)).cache().shuffle(10_000, seed=0)
               .batch(batch_size).prefetch(tf.data.AUTOTUNE))
    keras.utils.set_random_seed(0)
    with_pipeline, with_arrays = compiled(build_mnist_cnn()), compiled(build_mnist_cnn())
    with_pipeline.fit(dataset, epochs=1, verbose=0, shuffle=False)  # the dataset shuffles itself
    with_arrays.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)

    def pipeline_epoch() -> int:
        with_pipeline.fit(dataset, epochs=1, verbose=0, shuffle=False)  # the dataset shuffles itself
        return len(x)

    def arrays_epoch() -> int:
        with_arrays.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=True)
        return len(x)

    rates = median_rates({"tf.data (cache, shuffle, batch, prefetch)": pipeline_epoch,
                          "model.fit(numpy arrays)": arrays_epoch}, repeats)
    flops = forward_flops(with_pipeline)
    return {**rates, "forward_mflops_per_sample": flops / 1e6,
            # a training step costs about 3 forward passes (forward + two backward products)
            "training_gflops": 3 * flops * rates["tf.data (cache, shuffle, batch, prefetch)"] / 1e9}
