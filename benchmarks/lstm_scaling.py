"""How the Tiny Shakespeare character model's training cost grows with sequence length and batch size."""

from __future__ import annotations

import statistics
import time

import keras
import numpy as np
import tensorflow as tf


def build_char_model(vocabulary: int, embedding: int = 64, units: int = 256) -> keras.Model:
    """Embedding -> LSTM (one output per time step) -> logits over the vocabulary."""
    return keras.Sequential([
        keras.Input((None,), dtype="int32"),
        keras.layers.Embedding(vocabulary, embedding),
        keras.layers.LSTM(units, return_sequences=True),
        keras.layers.Dense(vocabulary),
    ])


def epoch_cost(text: str, sequence_length: int, batch_size: int, characters: int,
               repeats: int = 3) -> dict[str, float]:
    """Train on ``characters`` characters cut into (input, next-character) windows: one warm-up epoch
    (tracing excluded), then ``repeats`` timed epochs. Returns the median epoch seconds, the number
    of batches in an epoch, the median milliseconds per batch and characters per second."""
    vocabulary = sorted(set(text))
    ids = np.array([vocabulary.index(c) for c in text[: characters + 1]], dtype=np.int32)
    windows = len(ids) // (sequence_length + 1)
    chunks = ids[: windows * (sequence_length + 1)].reshape(windows, sequence_length + 1)
    dataset = tf.data.Dataset.from_tensor_slices((chunks[:, :-1], chunks[:, 1:])).batch(batch_size).cache()
    keras.utils.set_random_seed(0)
    model = build_char_model(len(vocabulary))
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(dataset, epochs=1, verbose=0, shuffle=False)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(dataset, epochs=1, verbose=0, shuffle=False)
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    batches = int(dataset.cardinality())
    return {"epoch_seconds": seconds, "batches": batches, "ms_per_batch": 1000 * seconds / batches,
            "characters_per_second": windows * sequence_length / seconds}
