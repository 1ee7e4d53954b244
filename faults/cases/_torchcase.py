"""What the PyTorch cases share: data, an MLP, and a short training loop recorded by the probe.

A case calls `run(path, ...)` with its configuration, optionally with `setup` (changes the model after the
initialisation: the fault) and `lr_at` (the learning rate per epoch: a late fault). The record goes to `path`
(the bench passes it as the script's first argument). One thread, a fixed seed: the same case writes the same
numbers on every run.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Callable, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from preflight_probe import Probe, idx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ACTS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "elu": nn.ELU}


def load(name: str, limit: int, scale: float) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """(x, y, x_test, y_test, classes): the first `limit` samples of each split, pixels / 255 × `scale`."""
    if name == "synthetic":
        g = np.random.default_rng(7)
        centres = g.normal(0.0, 1.0, size=(10, 64))
        def draw(n: int) -> Tuple[np.ndarray, np.ndarray]:
            yy = g.integers(0, 10, size=n)
            xx = centres[yy] + g.normal(0.0, 1.5, size=(n, 64))
            xx = (xx - xx.min()) / (xx.max() - xx.min())
            return xx.astype("float32"), yy
        xtr, ytr = draw(limit)
        xte, yte = draw(max(200, limit // 5))
    else:
        a, b, c, d = idx.load("fashion-mnist" if name == "fashion" else name)
        xtr = a[:limit].reshape(min(limit, len(a)), -1).astype("float32") / 255.0
        xte = c[:limit].reshape(min(limit, len(c)), -1).astype("float32") / 255.0
        ytr, yte = b[:limit], d[:limit]
    t = lambda v: torch.from_numpy(np.ascontiguousarray(v))
    return (t(xtr * scale), t(ytr.astype("int64")), t(xte * scale), t(yte.astype("int64")), 10)


def mlp(inputs: int, hidden: List[int], outputs: int, act: str, init: str) -> nn.Sequential:
    layers: List[nn.Module] = []
    n = inputs
    for h in hidden:
        layers += [nn.Linear(n, h), ACTS[act]()]
        n = h
    layers.append(nn.Linear(n, outputs))
    net = nn.Sequential(*layers)
    for m in net:
        if isinstance(m, nn.Linear):
            if init == "glorot":
                nn.init.xavier_uniform_(m.weight)
            elif init == "he":
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            elif init.startswith("truncnormal:"):
                s = float(init.split(":")[1])
                nn.init.trunc_normal_(m.weight, std=s, a=-2 * s, b=2 * s)
            elif init.startswith("normal:"):
                nn.init.normal_(m.weight, std=float(init.split(":")[1]))
            elif init == "zeros":
                nn.init.zeros_(m.weight)
            else:
                raise ValueError(f"unknown init {init}")
            nn.init.zeros_(m.bias)
    return net


def run(path: str, *, data: str = "mnist", limit: int = 2000, scale: float = 1.0, hidden: List[int] = [128, 128],
        act: str = "relu", init: str = "glorot", optimizer: str = "adam", lr: float = 1e-3, momentum: float = 0.0,
        batch: int = 100, epochs: int = 3, outputs: Optional[int] = None, seed: int = 1,
        setup: Optional[Callable[[nn.Sequential], None]] = None,
        lr_at: Optional[Callable[[int], float]] = None, name: str = "case") -> None:
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    x, y, xt, yt, classes = load(data, limit, scale)
    net = mlp(x.shape[1], hidden, outputs or classes, act, init)
    if setup is not None:
        setup(net)
    probe = Probe(net, classes=classes, name=name, every=5)
    probe.config.update({"init": init, "dataset": data, "seed": seed, "batch": batch, "limit": limit,
                         "input_min": float(x.min()), "input_max": float(x.max())})
    probe.first_batch(x[:batch], y[:batch], nn.CrossEntropyLoss())
    if optimizer == "adam":
        opt: torch.optim.Optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    elif optimizer == "rmsprop":
        opt = torch.optim.RMSprop(net.parameters(), lr=lr, alpha=0.9, eps=1e-7)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    probe.watch(opt)
    g = torch.Generator().manual_seed(seed)
    for epoch in range(1, epochs + 1):
        if lr_at is not None:
            for group in opt.param_groups:
                group["lr"] = lr_at(epoch)
        order = torch.randperm(len(x), generator=g)
        loss_sum = 0.0
        correct = steps = 0
        for b in range(len(x) // batch):
            i = order[b * batch:(b + 1) * batch]
            opt.zero_grad()
            out = net(x[i])
            loss = F.cross_entropy(out, y[i])
            loss.backward()
            opt.step()
            loss_sum += loss.item()
            correct += int((out.argmax(1) == y[i]).sum())
            steps += 1
        with torch.no_grad():
            out = net(xt)
            test_loss = F.cross_entropy(out, yt).item()
            test_acc = (out.argmax(1) == yt).float().mean().item()
        train_loss = loss_sum / steps
        probe.end_epoch(train_loss=train_loss, train_accuracy=correct / (steps * batch),
                        test_loss=test_loss, test_accuracy=test_acc)
        if not math.isfinite(train_loss):
            break
    probe.save(path)


def out_path() -> str:
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} RECORD.json")
    return sys.argv[1]
