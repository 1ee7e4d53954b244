#!/usr/bin/env python3
"""Writes the zoo's small data sets (numpy only; run from anywhere, deterministic). Each is an .npz with
x_train, y_train, x_test, y_test: 16 features, 3 classes drawn around fixed centres, features in [0, 1] unless
said otherwise.

    imbalanced.npz  training classes 1000 / 60 / 40 (largest 25x the smallest); test 100 per class
    unseen.npz      class 2 only in the test split (training: classes 0 and 1, 500 each)
    range5.npz      balanced, 400 per class, features in [0, 5] (a mild scaling fault)
"""

from __future__ import annotations

import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
g = np.random.default_rng(15)
CENTRES = g.uniform(0.2, 0.8, size=(3, 16))


def draw(counts: list[int]) -> tuple[np.ndarray, np.ndarray]:
    y = np.concatenate([np.full(n, k) for k, n in enumerate(counts)]).astype(np.int64)
    x = CENTRES[y] + g.normal(0.0, 0.12, size=(len(y), 16))
    order = g.permutation(len(y))
    return np.clip(x[order], 0.0, 1.0).astype(np.float32), y[order]


def write(name: str, train: list[int], test: list[int], scale: float = 1.0) -> None:
    x, y = draw(train)
    xt, yt = draw(test)
    np.savez_compressed(os.path.join(HERE, name), x_train=x * scale, y_train=y, x_test=xt * scale, y_test=yt)


write("imbalanced.npz", [1000, 60, 40], [100, 100, 100])
write("unseen.npz", [500, 500, 0], [100, 100, 100])
write("range5.npz", [400, 400, 400], [100, 100, 100], scale=5.0)
