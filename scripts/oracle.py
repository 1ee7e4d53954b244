#!/usr/bin/env python3
"""An independent NumPy reference for the numbers Preflight records (see docs/export.md).

    oracle.py first-batch SESSION.npz RUN DATA    recompute a run's first-batch record
    oracle.py update-ratio BEFORE.npz AFTER.npz RUN    ||W_after - W_before|| / ||W_before|| per weight layer

SESSION.npz is a file written by `save`: numpy.load reads each run's weights from it (RUN/W1, RUN/b1, ...);
its session.json entry gives the run's configuration and the first batch's sample indices. DATA is the
training data the run was made with: a folder of IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
gz or raw) or a Keras-style .npz (x_train, y_train). Prints one JSON object.

Everything is computed in float64 from the float32 weights and inputs, except the softmax whose shares below
epsilon and above 1 - epsilon are counted: those thresholds sit at the resolution of float32, so that softmax
is evaluated in float32 as the program defines it (probabilities of float32 logits).

A run with `batchnorm on` (session.json's config "batchNorm": true) normalises each hidden unit's
pre-activation by the batch's mean and biased variance (epsilon 1e-3), then gamma * xhat + beta (RUN/gammaK,
RUN/betaK) goes through the activation: the first batch uses the batch's own statistics, as training does.
"""
from __future__ import annotations

import gzip
import json
import os
import sys
import zipfile
from typing import Any

import numpy as np


def session_json(path: str) -> dict[str, Any]:
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("session.json"))


def saved_run(session: dict[str, Any], name: str) -> dict[str, Any]:
    for r in session["runs"]:
        if r["name"] == name:
            return r
    raise SystemExit(f"oracle: no run {name!r} in the session (runs: {[r['name'] for r in session['runs']]})")


def norm_params(path: str, folder: str, hidden: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each hidden layer's batch-normalisation gamma and beta."""
    archive = np.load(path)
    return [(archive[f"{folder}/gamma{h + 1}"].astype(np.float64), archive[f"{folder}/beta{h + 1}"].astype(np.float64))
            for h in range(hidden)]


NORM_EPSILON = 1e-3


def weights(path: str, folder: str, layers: int) -> list[tuple[np.ndarray, np.ndarray]]:
    archive = np.load(path)
    return [(archive[f"{folder}/W{l + 1}"].astype(np.float64), archive[f"{folder}/b{l + 1}"].astype(np.float64))
            for l in range(layers)]


def read_idx(path: str) -> np.ndarray:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def training_data(source: str) -> tuple[np.ndarray, np.ndarray]:
    """Training images as (count, features) bytes and their labels."""
    if os.path.isdir(source):
        def find(base: str) -> str:
            for name in (base, base + ".gz"):
                if os.path.exists(os.path.join(source, name)):
                    return os.path.join(source, name)
            raise SystemExit(f"oracle: {source} has no {base}[.gz]")
        images = read_idx(find("train-images-idx3-ubyte"))
        labels = read_idx(find("train-labels-idx1-ubyte"))
    else:
        archive = np.load(source)
        images, labels = archive["x_train"], archive["y_train"]
    return images.reshape(images.shape[0], -1), labels.astype(np.int64)


def activate(kind: str, z: np.ndarray) -> np.ndarray:
    if kind == "relu":
        return np.maximum(z, 0)
    if kind == "tanh":
        return np.tanh(z)
    if kind == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if kind == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    if kind == "elu":
        return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))
    if kind == "linear":
        return z
    raise SystemExit(f"oracle: unknown activation {kind!r}")


def derivative(kind: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    if kind == "relu":
        return (z > 0).astype(np.float64)
    if kind == "tanh":
        return 1 - a * a
    if kind == "sigmoid":
        return a * (1 - a)
    if kind == "leaky_relu":
        return np.where(z > 0, 1.0, 0.01)
    if kind == "elu":
        return np.where(z > 0, 1.0, a + 1)
    return np.ones_like(z)


def first_batch(session_path: str, run_name: str, data: str) -> dict[str, Any]:
    session = session_json(session_path)
    run = saved_run(session, run_name)
    config = run["config"]
    record = run.get("firstBatch") or run.get("probedFirstBatch")
    if record is None or record.get("sampleIndices") is None:
        raise SystemExit(f"oracle: run {run_name} has no first-batch sample indices (train or `check` first)")
    indices = np.array(record["sampleIndices"], dtype=np.int64)
    sizes: list[int] = config["layers"]
    kind: str = config["activation"]
    epsilon = float(config["epsilon"])
    params = weights(session_path, run["folder"], len(sizes) - 1)
    norms_bn = norm_params(session_path, run["folder"], len(sizes) - 2) if config.get("batchNorm") else None

    images, labels = training_data(data)
    # The network's input: the bytes times the float32 scale, as the program converts them.
    scale = np.float32(1 / 255) if config["data"].get("scaleUnit", True) else np.float32(1)
    x = (images[indices].astype(np.float32) * scale).astype(np.float64)
    y = labels[indices]
    rows = len(indices)

    hidden: list[dict[str, float]] = []
    zs: list[np.ndarray] = []
    acts: list[np.ndarray] = [x]
    # With batch normalisation: each hidden layer's normalised pre-activations and 1/sqrt(var + eps).
    xhats: list[np.ndarray] = []
    inv_stds: list[np.ndarray] = []
    a = x
    for h, (w, b) in enumerate(params[:-1]):
        z = a @ w + b
        if norms_bn is not None:
            inv = 1 / np.sqrt(z.var(axis=0) + NORM_EPSILON)
            xhat = (z - z.mean(axis=0)) * inv
            xhats.append(xhat)
            inv_stds.append(inv)
            z = norms_bn[h][0] * xhat + norms_bn[h][1]   # the activation's input
        a = activate(kind, z)
        zs.append(z)
        acts.append(a)
        relu_like = kind in ("relu", "leaky_relu", "elu")
        hidden.append({
            "mean": float(a.mean()), "std": float(a.std()), "max": float(a.max()),
            "zero_fraction": float((a == 0).mean()), "above_one_fraction": float((a > 1).mean()),
            "dead_fraction": float((~(a > 0).any(axis=0)).mean()) if relu_like else 0.0,
            "saturated_fraction": float((np.abs(z) > 5).mean()) if kind in ("tanh", "sigmoid") else 0.0,
        })
    w_out, b_out = params[-1]
    logits = a @ w_out + b_out

    # Shares of the softmax below epsilon and above 1 - epsilon, in float32.
    l32 = logits.astype(np.float32)
    e32 = np.exp(l32 - l32.max(axis=1, keepdims=True))
    p32 = e32 * (np.float32(1) / e32.sum(axis=1, keepdims=True, dtype=np.float32))
    eps32 = np.float32(epsilon)
    low = float((p32 < eps32).mean())
    high = float((p32 > np.float32(1) - eps32).mean())

    # Loss (clipped to [epsilon, 1 - epsilon]), accuracy and the gradients, in float64.
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    picked = np.clip(p[np.arange(rows), y], epsilon, 1 - epsilon)
    loss = float(-np.log(picked).mean())
    accuracy = float((logits.argmax(axis=1) == y).mean())
    delta = p.copy()
    delta[np.arange(rows), y] -= 1
    delta /= rows                       # d(mean loss)/d(logits)
    norms = [0.0] * len(params)
    for l in range(len(params) - 1, -1, -1):
        norms[l] = float(np.linalg.norm(acts[l].T @ delta))
        if l > 0:
            delta = (delta @ params[l][0].T) * derivative(kind, zs[l - 1], acts[l])
            if norms_bn is not None:
                # Through the normalisation: d/dz = gamma/sigma * (d - mean(d) - xhat * mean(d * xhat)).
                xhat = xhats[l - 1]
                delta = norms_bn[l - 1][0] * inv_stds[l - 1] * (
                    delta - delta.mean(axis=0) - xhat * (delta * xhat).mean(axis=0))

    return {"loss": loss, "saturated_fraction": low + high, "low_fraction": low, "high_fraction": high,
            "accuracy": accuracy, "hidden": hidden, "grad_norms": norms,
            "sample_indices": [int(i) for i in indices]}


def update_ratio(before: str, after: str, run_name: str) -> dict[str, Any]:
    r0 = saved_run(session_json(before), run_name)
    r1 = saved_run(session_json(after), run_name)
    layers = len(r0["config"]["layers"]) - 1
    w0 = weights(before, r0["folder"], layers)
    w1 = weights(after, r1["folder"], layers)
    return {"update_ratio": [float(np.linalg.norm(b[0] - a[0]) / np.linalg.norm(a[0])) for a, b in zip(w0, w1)]}


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[0] == "first-batch":
        out = first_batch(argv[1], argv[2], argv[3])
    elif len(argv) == 4 and argv[0] == "update-ratio":
        out = update_ratio(argv[1], argv[2], argv[3])
    else:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
