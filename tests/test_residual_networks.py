"""Chapter 08's residual block: builders, from-scratch inference and parameter counts, checked against Keras.

The functions under test are the notebook's own cells tagged ``from-scratch`` (tests/notebook_code.py).
"""

import keras
import numpy as np
import pytest

from tests.notebook_code import scratch_namespace

NOTEBOOK = "08_residual_networks.ipynb"


@pytest.fixture(scope="module")
def ns():
    return scratch_namespace(NOTEBOOK)


def randomize_batch_norm(model, rng):
    """Non-trivial moving statistics, so that a wrong normalization formula cannot pass."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights([rng.normal(1, 0.3, gamma.shape), rng.normal(0, 0.3, beta.shape),
                               rng.normal(0, 0.5, mean.shape), rng.uniform(0.3, 3.0, variance.shape)])


@pytest.mark.parametrize("c_in, filters, stride, size", [
    (16, 16, 1, (9, 10)), (16, 32, 2, (9, 10)), (8, 8, 2, (8, 8)), (3, 8, 1, (7, 7)), (32, 64, 2, (16, 16))])
def test_residual_block_forward_matches_the_keras_block(ns, c_in, filters, stride, size):
    rng = np.random.default_rng(c_in + filters + stride)
    inputs = keras.Input((*size, c_in))
    model = keras.Model(inputs, ns["residual_block"](inputs, filters, stride, "blk"))
    randomize_batch_norm(model, rng)
    x = rng.normal(size=(3, *size, c_in)).astype("float32")
    weights = ns["block_weights"](model, "blk")
    assert ("proj_conv" in weights) == (stride != 1 or c_in != filters)
    ours = ns["residual_block_forward"](x, weights, stride)
    np.testing.assert_allclose(ours, model.predict(x, verbose=0), atol=1e-5, rtol=0)


def test_batch_norm_inference_matches_keras(ns):
    rng = np.random.default_rng(0)
    layer = keras.layers.BatchNormalization()
    layer.build((None, 5))
    params = [rng.normal(1, 0.3, 5), rng.normal(0, 0.3, 5), rng.normal(0, 1, 5), rng.uniform(0.2, 2, 5)]
    layer.set_weights(params)
    x = rng.normal(size=(4, 5)).astype("float32")
    np.testing.assert_allclose(ns["batch_norm_inference"](x, *params), layer(x, training=False), atol=1e-5)


def test_from_scratch_block_includes_the_shortcut(ns):
    """The popular wrong 'ResNet' (no skip) is a plain block: with the same weights it computes something else."""
    rng = np.random.default_rng(1)
    inputs = keras.Input((6, 6, 8))
    residual = keras.Model(inputs, ns["residual_block"](inputs, 8, 1, "blk"))
    plain = keras.Model(inputs, ns["plain_block"](inputs, 8, 1, "blk"))
    randomize_batch_norm(residual, rng)
    plain.set_weights(residual.get_weights())  # same layers, same names: only the shortcut differs
    x = np.abs(rng.normal(size=(2, 6, 6, 8))).astype("float32")
    ours = ns["residual_block_forward"](x, ns["block_weights"](residual, "blk"))
    np.testing.assert_allclose(ours, residual.predict(x, verbose=0), atol=1e-5)
    assert np.abs(ours - plain.predict(x, verbose=0)).max() > 0.1


@pytest.mark.parametrize("widths, blocks", [((16, 32, 64), 1), ((16, 32, 64), 3), ((8, 16, 32), 2), ((32, 64), 2)])
def test_resnet_params_by_hand_matches_keras(ns, widths, blocks):
    model = ns["build_net"](ns["residual_block"], widths, blocks)
    assert ns["resnet_params"](widths, blocks) == model.count_params()


def test_residual_block_params_counts_the_projection(ns):
    assert ns["residual_block_params"](16, 16) == 2 * 9 * 16 * 16 + 2 * 4 * 16
    assert ns["residual_block_params"](16, 32) == 9 * 16 * 32 + 9 * 32 * 32 + 2 * 4 * 32 + 16 * 32 + 4 * 32


@pytest.mark.parametrize("blocks", [1, 7])
def test_plain_and_residual_nets_have_the_same_depth(ns, blocks):
    residual = ns["build_net"](ns["residual_block"], (8, 16, 32), blocks, stem_stride=2)
    plain = ns["build_net"](ns["plain_block"], (8, 16, 32), blocks, stem_stride=2)

    def main_path_convs(model):
        return [layer.name for layer in model.layers
                if isinstance(layer, keras.layers.Conv2D) and not layer.name.endswith("proj_conv")]

    assert main_path_convs(residual) == main_path_convs(plain)
    assert len(main_path_convs(plain)) == 6 * blocks + 1  # + the dense layer: 6n + 2 weighted layers
    adds = [layer for layer in residual.layers if isinstance(layer, keras.layers.Add)]
    assert len(adds) == 3 * blocks and not any(isinstance(layer, keras.layers.Add) for layer in plain.layers)
    assert residual.output.shape == plain.output.shape == (None, 10)


@pytest.mark.parametrize("widths", [(24, 48, 96, 192), (8, 16, 32, 64)])
def test_resnet9_layout_and_parameters(ns, widths):
    """Section 4's ResNet-9: 8 convolutions, two blocks with identity shortcuts, 4x4 pixels before pooling."""
    model = ns["build_resnet9"](widths)
    convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convolutions) == 8 and all(layer.kernel.shape[:2] == (3, 3) for layer in convolutions)
    adds = [layer for layer in model.layers if isinstance(layer, keras.layers.Add)]
    assert [add.name for add in adds] == ["s1_block_add", "s3_block_add"]
    assert all(add.input[0].shape == add.input[1].shape for add in adds)  # identities: nothing to project
    assert model.get_layer("s3_pool").output.shape == (None, 4, 4, widths[3])
    stem, *stages = widths
    by_hand = 9 * 3 * stem + 4 * stem                                     # stem conv + BN
    for c_in, filters in zip(widths, stages):
        by_hand += 9 * c_in * filters + 4 * filters                       # each stage's conv + BN
    by_hand += ns["residual_block_params"](stages[0], stages[0]) + ns["residual_block_params"](stages[2], stages[2])
    assert model.count_params() == by_hand + stages[2] * 10 + 10


def test_logits_stay_float32_under_mixed_precision(ns):
    """Section 4 builds its ResNet-9 under a 16-bit policy; the loss must still get float32 logits."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = ns["build_resnet9"]((8, 16, 32, 64))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert model.get_layer("stem_conv").compute_dtype == "bfloat16"
    assert model.get_layer("stem_conv").kernel.dtype == "float32"
    outputs = model(np.zeros((2, 32, 32, 3), "float32"))
    assert outputs.dtype == "float32" and outputs.shape == (2, 10)


def test_the_asserted_target_is_the_stated_one():
    """The CIFAR-10 target is asserted exactly as the title cell and the README's course map state it."""
    import json
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    cells = json.loads((root / "notebooks" / NOTEBOOK).read_text())["cells"]
    sources = ["".join(cell["source"]) for cell in cells]
    asserted = {float(x) for s in sources for x in re.findall(r"at_least=([\d.]+)", s) if "CIFAR-10" in s}
    assert len(asserted) == 1, asserted
    (floor,) = asserted
    title = re.search(r"\*\*Target:\*\* at least \*\*(\d+)% test accuracy\*\*", sources[0])
    assert title and int(title.group(1)) == round(100 * floor)
    assert f"`>= {floor:.2f}`" in sources[0]
    row = next(line for line in (root / "README.md").read_text().splitlines() if f"notebooks/{NOTEBOOK}" in line)
    assert f"≥{round(100 * floor)}% test accuracy" in row
