#!/usr/bin/env python3
"""The seed study in Keras 3 (torch backend), recorded by Preflight's probe.

Sequential MLPs 784-128…-10: Dense(128, relu) hidden layers, Dense(10, softmax) output, sparse
categorical cross-entropy, Adam 0.001, batch 100, inputs scaled to [0, 1]; kernels GlorotUniform or
TruncatedNormal(stddev=0.5), biases zero; 2, 3 and 4 hidden layers; --seeds seeds (5 by default).
Each network trains one epoch on the first --samples training images (20000 = 200 steps by default)
with `PreflightCallback(first_batch=…)` in `fit`'s callbacks, validated on the test set. The script
prints the first-batch table and the `preflight check` command that judges the records.

    .venv/bin/python examples/keras/study.py [--out out/keras-study] [--samples 20000] [--seeds 5]

KERAS_BACKEND defaults to torch here (jax works as well: KERAS_BACKEND=jax with jax installed).
MNIST: the gz IDX files in $PREFLIGHT_DATA/mnist or ../shared/data/mnist.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Dict, List, Tuple  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

from preflight_probe import idx  # noqa: E402
from preflight_probe.keras import PreflightCallback  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build(depth: int, init: str, seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)

    def kernel() -> keras.initializers.Initializer:
        return (keras.initializers.GlorotUniform() if init == "glorot"
                else keras.initializers.TruncatedNormal(stddev=0.5))

    layers: List[keras.layers.Layer] = [keras.Input((784,))]
    layers += [keras.layers.Dense(128, activation="relu", kernel_initializer=kernel()) for _ in range(depth)]
    layers.append(keras.layers.Dense(10, activation="softmax", kernel_initializer=kernel()))
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def short(path: str) -> str:
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith("..") else rel


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "keras-study"))
    ap.add_argument("--samples", type=int, default=20000, help="training images per network (one epoch)")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--depths", type=int, nargs="+", default=[2, 3, 4])
    args = ap.parse_args()
    if keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(1)  # small models gain little from more threads; a busy machine loses much

    xtr, ytr, xte, yte = idx.load("mnist")
    x = xtr.reshape(len(xtr), -1).astype("float32") / 255.0
    xt = xte.reshape(len(xte), -1).astype("float32") / 255.0
    os.makedirs(args.out, exist_ok=True)
    rows: Dict[Tuple[str, int], List[float]] = {}
    t0 = time.perf_counter()
    for init in ("glorot", "truncnormal"):
        for depth in args.depths:
            for seed in range(1, args.seeds + 1):
                model = build(depth, init, seed)
                order = np.random.default_rng(seed).permutation(len(x))[:args.samples]
                xs, ys = x[order], ytr[order]
                name = f"keras-{'glorot' if init == 'glorot' else 'truncnormal0.5'}-{depth}h-seed{seed}"
                path = os.path.join(args.out, name + ".json")
                probe = PreflightCallback(first_batch=(xs[:100], ys[:100]), classes=10, path=path, name=name)
                probe.config.update({"init": init, "dataset": "mnist", "scale": "unit", "seed": seed})
                if init == "truncnormal":
                    probe.config["init_std"] = 0.5
                model.fit(xs, ys, batch_size=100, epochs=1, shuffle=False, validation_data=(xt, yte),
                          callbacks=[probe], verbose=0)
                fb = probe.first
                assert fb is not None
                rows.setdefault((init, depth), []).append(100 * fb["saturated_fraction"])
                e = probe.epochs[-1]
                print(f"  {name}: first-batch saturated {100 * fb['saturated_fraction']:.1f}% "
                      f"({fb['output_kind']} output), test accuracy {100 * (e['test_accuracy'] or 0):.2f}%", flush=True)
    print(f"\n{sum(len(v) for v in rows.values())} networks in {time.perf_counter() - t0:.0f} s "
          f"(Keras {keras.__version__}, backend {keras.backend.backend()}); first-batch saturated share:")
    for (init, depth), sat in rows.items():
        label = "glorot" if init == "glorot" else "truncnormal 0.5"
        print(f"  {label:<16}{depth} hidden  {statistics.mean(sat):5.1f}% ({min(sat):.1f}-{max(sat):.1f})")
    binary = short(os.path.join(ROOT, ".build", "release", "preflight"))
    print(f"\nJudge the records with Preflight's rules:\n  {binary} check {short(args.out)}/*.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
