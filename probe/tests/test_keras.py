"""The Keras 3 callback (KERAS_BACKEND=torch, set in conftest), checked against independent computations."""

import json

import numpy as np
import pytest

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
if keras.backend.backend() != "torch":
    pytest.skip("these tests run with KERAS_BACKEND=torch", allow_module_level=True)

from keras import layers  # noqa: E402

from preflight_probe.keras import PreflightCallback  # noqa: E402


def data(rows=64, inputs=20, classes=5, seed=0):
    r = np.random.default_rng(seed)
    return r.random((rows, inputs), dtype=np.float32), r.integers(0, classes, rows)


def mlp(out_activation="softmax", init="glorot_uniform", optimizer="adam"):
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((20,)),
                          layers.Dense(16, activation="relu", kernel_initializer=init),
                          layers.Dense(12, activation="relu", kernel_initializer=init),
                          layers.Dense(5, activation=out_activation, kernel_initializer=init)])
    m.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=out_activation is None),
              metrics=["accuracy"])
    return m


def kernels(m):
    return [(l.kernel.numpy().astype(np.float64), l.bias.numpy().astype(np.float64)) for l in m.layers]


def test_first_batch_matches_an_independent_computation(tmp_path):
    m = mlp(out_activation=None, init=keras.initializers.TruncatedNormal(stddev=1.0, seed=1))
    x, y = data()
    cb = PreflightCallback(first_batch=(x, y), classes=5, path=None)
    cb.set_model(m)
    fb = cb.measure_first_batch()
    # numpy forward
    (w1, b1), (w2, b2), (w3, b3) = kernels(m)
    h1 = np.maximum(x @ w1 + b1, 0)
    h2 = np.maximum(h1 @ w2 + b2, 0)
    z = h2 @ w3 + b3
    z = z - z.max(1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    assert fb["output_kind"] == "logits"
    assert fb["loss"] == pytest.approx(-np.log(p[np.arange(64), y]).mean(), rel=1e-5)
    assert fb["saturated_fraction"] == pytest.approx(((p < 1e-7) | (p > 1 - 1e-7)).mean())
    assert fb["saturated_fraction"] > 0.05  # the wide init saturates: a fixture that can tell
    assert fb["accuracy"] == pytest.approx((p.argmax(1) == y).mean())
    assert [h["name"] for h in fb["hidden"]] == ["dense", "dense_1"]
    for h, a in zip(fb["hidden"], (h1, h2)):
        assert h["mean"] == pytest.approx(a.mean(), rel=1e-5)
        assert h["std"] == pytest.approx(a.std(), rel=1e-4)
        assert h["dead_fraction"] == pytest.approx((a.max(0) <= 0).mean())
    # gradients by torch autograd on the same weights, written out by hand
    W = [torch.tensor(w, requires_grad=True) for w, _ in kernels(m)]
    B = [torch.tensor(b) for _, b in kernels(m)]
    t = torch.tensor(x, dtype=torch.float64)
    t = torch.relu(t @ W[0] + B[0])
    t = torch.relu(t @ W[1] + B[1])
    loss = torch.nn.functional.cross_entropy(t @ W[2] + B[2], torch.tensor(y))
    g = torch.autograd.grad(loss, W)
    assert fb["grad_norm_names"] == ["dense.kernel", "dense_1.kernel", "dense_2.kernel"]
    for got, want in zip(fb["grad_norms"], g):
        assert got == pytest.approx(float(want.norm()), rel=1e-4)


def test_a_softmax_output_is_detected():
    m = mlp(out_activation="softmax")
    x, y = data()
    cb = PreflightCallback(first_batch=(x, y), classes=5, path=None)
    cb.set_model(m)
    assert cb.measure_first_batch()["output_kind"] == "softmax"


def test_the_model_is_left_as_it_was():
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((20,)), layers.Dense(16), layers.BatchNormalization(), layers.ReLU(),
                          layers.Dropout(0.5), layers.Dense(5)])
    m.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = data()
    before = [v.numpy().copy() for v in m.variables]
    m.layers[0].kernel.value.grad = torch.full(tuple(m.layers[0].kernel.shape), 0.5)
    rng = torch.get_rng_state()
    cb = PreflightCallback(first_batch=(x, y), classes=5, path=None)
    cb.set_model(m)
    fb = cb.measure_first_batch()
    assert fb["hidden"][0]["name"] == "re_lu"  # activation layers are the hidden layers here
    after = [v.numpy() for v in m.variables]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))  # weights, BN statistics, seed states
    assert torch.all(m.layers[0].kernel.value.grad == 0.5) and m.layers[-1].kernel.value.grad is None
    assert torch.equal(torch.get_rng_state(), rng)
    assert all("call" not in l.__dict__ for l in m.layers)  # no wrapper left behind


def test_fit_records_epochs_and_update_ratios(tmp_path):
    m = mlp(out_activation=None, optimizer=keras.optimizers.SGD(0.1))
    x, y = data(rows=32)
    path = tmp_path / "keras.json"
    cb = PreflightCallback(first_batch=(x, y), classes=5, path=str(path), name="k", every=2)
    w0 = [k for k, _ in kernels(m)]
    m.fit(x, y, batch_size=32, epochs=3, shuffle=False, validation_data=(x, y), callbacks=[cb], verbose=0)
    run = json.loads(path.read_text())["runs"][0]
    assert run["name"] == "k" and run["engine"] == {"name": "keras", "version": keras.__version__, "backend": "torch"}
    assert run["config"]["optimizer"] == "sgd" and run["config"]["learning_rate"] == pytest.approx(0.1)
    assert run["config"]["layers"] == [20, 16, 12, 5] and run["config"]["activation"] == "relu"
    assert [e["batches"] for e in run["epochs"]] == [1, 1, 1]
    assert [e["sampled_steps"] for e in run["epochs"]] == [1, 0, 1]  # steps 1 and 3
    e1 = run["epochs"][0]
    assert e1["train_loss"] == pytest.approx(run["first_batch"]["loss"], rel=1e-5)  # one step on this batch
    assert e1["test_accuracy"] is not None and e1["train_accuracy"] is not None
    # the probe batch is the training batch here, so SGD's update is lr·g with the measured g
    for layer, w in zip(e1["layers"], w0):
        assert layer["update_ratio"] == pytest.approx(0.1 * layer["grad_norm"] / np.linalg.norm(w), rel=1e-4)
    assert run["epochs"][1]["hidden"] == [] and run["epochs"][1]["layers"] == []


def test_cnn_channels_and_regression():
    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 1))
    h = layers.Conv2D(4, 3, activation="relu", bias_initializer=keras.initializers.Constant([-9.0, 0.1, 0.1, 0.1]),
                      kernel_initializer=keras.initializers.Constant(0.01))(inp)
    h = layers.Flatten()(h)
    out = layers.Dense(1)(h)
    m = keras.Model(inp, out)
    m.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).random((16, 8, 8, 1), dtype=np.float32)
    t = np.random.default_rng(1).random((16, 1), dtype=np.float32)
    cb = PreflightCallback(first_batch=(x, t), classes=None, path=None)
    cb.set_model(m)
    fb = cb.measure_first_batch()
    assert fb["hidden"][0]["name"] == "conv2d" and fb["hidden"][0]["dead_fraction"] == pytest.approx(1 / 4)
    assert fb["saturated_fraction"] is None and fb["accuracy"] is None and fb["output_kind"] is None
    rec = cb.record()
    assert rec["classes"] is None and rec["layers"][0]["type"] == "conv" and rec["layers"][0]["outputs"] == 4


def test_first_nonfinite_layer():
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((20,)), layers.Dense(8, activation="relu"),
                          layers.Lambda(lambda t: t * float("inf"), name="blowup"), layers.Dense(5)])
    m.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = data()
    cb = PreflightCallback(first_batch=(x, y), classes=5, path=None)
    cb.set_model(m)
    fb = cb.measure_first_batch()
    assert fb["nonfinite"] == {"module": "blowup", "stage": "forward"}
    assert fb["loss"] is None
    assert "NaN" not in json.dumps(cb.record(), allow_nan=False)
