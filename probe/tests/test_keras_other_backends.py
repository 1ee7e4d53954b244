"""The Keras callback on the jax backend (scripts/setup-python installs jax's CPU build in the suite's .venv;
skipped where jax is not installed). Keras picks its backend once per process, so the check runs in a child
process."""

import importlib.util
import os
import subprocess
import sys

import pytest

SCRIPT = r'''
import numpy as np, keras, jax, jax.numpy as jnp
from keras import layers
from preflight_probe.keras import PreflightCallback
keras.utils.set_random_seed(0)
m = keras.Sequential([keras.Input((20,)), layers.Dense(16, activation="relu"), layers.Dense(5)])
m.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
r = np.random.default_rng(0)
x = r.random((64, 20), dtype=np.float32); y = r.integers(0, 5, 64)
cb = PreflightCallback(first_batch=(x, y), classes=5, path=None)
cb.set_model(m)
fb = cb.measure_first_batch()
(w1, b1), (w2, b2) = [(np.asarray(l.kernel.numpy()), np.asarray(l.bias.numpy())) for l in m.layers]
def loss(ws):
    h = jnp.maximum(x @ ws[0] + b1, 0)
    z = h @ ws[1] + b2
    return -jnp.mean(jax.nn.log_softmax(z)[jnp.arange(64), y])
g = jax.grad(loss)([w1, w2])
h = np.maximum(x @ w1 + b1, 0)
assert abs(fb["loss"] - float(loss([w1, w2]))) < 1e-5 * abs(fb["loss"]), fb["loss"]
assert abs(fb["hidden"][0]["mean"] - h.mean()) < 1e-5 * h.mean()
for got, want in zip(fb["grad_norms"], g):
    assert abs(got - float(jnp.linalg.norm(want))) < 1e-4 * got, (got, float(jnp.linalg.norm(want)))
m.fit(x, y, batch_size=32, epochs=1, callbacks=[cb], verbose=0)
assert cb.record()["engine"]["backend"] == "jax" and cb.epochs[0]["sampled_steps"] == 1
print("ok")
'''


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_jax_backend():
    env = dict(os.environ, KERAS_BACKEND="jax")
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-3000:]
