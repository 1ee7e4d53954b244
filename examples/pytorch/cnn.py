#!/usr/bin/env python3
"""A small CNN on Fashion-MNIST, three ways, recorded by Preflight's probe.

    good      He initialisation (torch's kaiming_normal_), Adam 0.001
    bad-init  every weight drawn from normal(0, 1), Adam 0.001
    lr-1      He initialisation, Adam with learning rate 1.0
(biases zero in all three).

Network: conv 3x3 16 - relu - maxpool 2 - conv 3x3 32 - relu - maxpool 2 - dense 64 - relu - dense 10.
Each run: the first batch (before any update), then --epochs short epochs of --batches steps of 64
samples (3 x 100 by default; each ends with the loss and accuracy on 2000 test samples), one step in
20 sampled. Records go to the output folder; the script prints the
`preflight check` command that judges them. What it says (seed 1): bad-init fails the first-batch
rules (saturation, init-loss, hidden-scale); lr-1 fails dead-units, grad-vanish, update-ratio and
divergence; good passes everything but a dead-units warning for its dense layer, which is real: about
40% of those 64 relu units never fire on 10,000 training images after 100-300 steps.

    .venv/bin/python examples/pytorch/cnn.py [--out out/pytorch-cnn] [--epochs 3] [--batches 100]

Fashion-MNIST: $PREFLIGHT_DATA/fashion-mnist, ../shared/data/fashion-mnist or Debian's
/usr/share/datasets/fashion-mnist (`apt-get install dataset-fashion-mnist`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from preflight_probe import Probe, idx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10))


def short(path: str) -> str:
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith("..") else rel


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "pytorch-cnn"))
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batches", type=int, default=100, help="steps of 64 samples per epoch")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: these small models gain little from more, and on a busy machine "
                         "more threads can be many times slower)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    try:
        xtr, ytr, xte, yte = idx.load("fashion-mnist")
    except FileNotFoundError as e:
        print(f"cnn.py: {e}\n(on Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist)", file=sys.stderr)
        return 1
    x = torch.from_numpy(xtr.astype("float32")[:, None] / 255.0)
    y = torch.from_numpy(ytr.astype("int64"))
    xt = torch.from_numpy(xte[:2000].astype("float32")[:, None] / 255.0)
    yt = torch.from_numpy(yte[:2000].astype("int64"))
    os.makedirs(args.out, exist_ok=True)

    for name, lr, bad in (("good", 1e-3, False), ("bad-init", 1e-3, True), ("lr-1", 1.0, False)):
        torch.manual_seed(args.seed)
        net = build()
        for m in net:
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                if bad:
                    nn.init.normal_(m.weight, 0.0, 1.0)
                else:
                    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")  # He: normal, std sqrt(2/fan_in)
                nn.init.zeros_(m.bias)
        probe = Probe(net, classes=10, name=name, every=20)  # short epochs: sample more often than the default
        probe.config.update({"dataset": "fashion", "scale": "unit"})
        if bad:
            probe.config.update({"init": "normal", "init_std": 1.0})
        order = torch.randperm(len(x))
        fb = probe.first_batch(x[order[:64]], y[order[:64]], nn.CrossEntropyLoss())
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        probe.watch(opt)
        t0 = time.perf_counter()
        step = 0
        for epoch in range(args.epochs):
            loss_sum = correct = 0.0
            for _ in range(args.batches):
                i = order[(step * 64) % (len(x) - 64):][:64]
                step += 1
                opt.zero_grad()
                out = net(x[i])
                loss = F.cross_entropy(out, y[i])
                loss.backward()
                opt.step()
                loss_sum += loss.item()
                correct += (out.argmax(1) == y[i]).sum().item()
            net.eval()
            with torch.no_grad():
                out = net(xt)
                test_loss, test_acc = F.cross_entropy(out, yt).item(), (out.argmax(1) == yt).float().mean().item()
            net.train()
            probe.end_epoch(train_loss=loss_sum / args.batches, train_accuracy=correct / (64 * args.batches),
                            test_loss=test_loss, test_accuracy=test_acc, complete=False)
        path = os.path.join(args.out, name + ".json")
        probe.save(path)
        e = probe.epochs[-1]
        print(f"{name:>8}: first batch saturated {100 * fb['saturated_fraction']:.1f}%, loss {fb['loss']:.3g}; "
              f"after {step} steps test accuracy {100 * e['test_accuracy']:.1f}% ({time.perf_counter() - t0:.0f} s) -> {short(path)}",
              flush=True)
    binary = short(os.path.join(ROOT, ".build", "release", "preflight"))
    print(f"\nJudge the records with Preflight's rules:\n  {binary} check {short(args.out)}/*.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
