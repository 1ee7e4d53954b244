#!/usr/bin/env python3
"""The seed study in PyTorch, recorded by Preflight's probe.

MLPs 784-128…-10 (relu hidden layers, softmax + cross-entropy) on MNIST with inputs scaled to [0, 1],
Adam 0.001, batch 100; weights Glorot-uniform (torch's xavier_uniform_) or truncated normal std 0.5
(redrawn beyond 2 std, as TensorFlow/Keras do); biases zero; 2, 3 and 4 hidden layers; 5 seeds each.
Each network: the probe records the first batch (before any update), then watches --batches training
steps (200 by default: a third of an epoch, to keep the run short) and the test set's loss and accuracy.
One record per network goes to the output folder; the script prints the first-batch table and the
`preflight check` command that judges the records.

    .venv/bin/python examples/pytorch/study.py [--out out/pytorch-study] [--batches 200] [--seeds 5]

MNIST: the gz IDX files in $PREFLIGHT_DATA/mnist or ../shared/data/mnist.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from preflight_probe import Probe, idx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build(depth: int, init: str, width: int = 128) -> nn.Sequential:
    layers: List[nn.Module] = []
    n = 784
    for _ in range(depth):
        layers += [nn.Linear(n, width), nn.ReLU()]
        n = width
    layers.append(nn.Linear(n, 10))
    net = nn.Sequential(*layers)
    for m in net:
        if isinstance(m, nn.Linear):
            if init == "glorot":
                nn.init.xavier_uniform_(m.weight)
            else:
                nn.init.trunc_normal_(m.weight, mean=0.0, std=0.5, a=-1.0, b=1.0)
            nn.init.zeros_(m.bias)
    return net


def short(path: str) -> str:
    """The path relative to the working folder when it lies inside it."""
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith("..") else rel


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "pytorch-study"), help="folder for the records")
    ap.add_argument("--batches", type=int, default=200, help="training steps per network (600 = one epoch)")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--depths", type=int, nargs="+", default=[2, 3, 4])
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: these small models gain little from more, and on a busy machine "
                         "more threads can be many times slower)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    xtr, ytr, xte, yte = idx.load("mnist")
    x = torch.from_numpy(xtr.reshape(len(xtr), -1).astype("float32") / 255.0)
    y = torch.from_numpy(ytr.astype("int64"))
    xt = torch.from_numpy(xte.reshape(len(xte), -1).astype("float32") / 255.0)
    yt = torch.from_numpy(yte.astype("int64"))
    os.makedirs(args.out, exist_ok=True)
    steps = min(args.batches, len(x) // 100)

    rows: Dict[Tuple[str, int], List[dict]] = {}
    t0 = time.perf_counter()
    for init in ("glorot", "truncnormal"):
        for depth in args.depths:
            for seed in range(1, args.seeds + 1):
                torch.manual_seed(seed)
                net = build(depth, init)
                order = torch.randperm(len(x))
                name = f"{'glorot' if init == 'glorot' else 'truncnormal0.5'}-{depth}h-seed{seed}"
                probe = Probe(net, classes=10, name=name)
                probe.config.update({"init": init, "dataset": "mnist", "scale": "unit", "seed": seed})
                if init == "truncnormal":
                    probe.config["init_std"] = 0.5
                first = order[:100]
                fb = probe.first_batch(x[first], y[first], nn.CrossEntropyLoss())
                opt = torch.optim.Adam(net.parameters(), lr=1e-3)
                probe.watch(opt)
                loss_sum = correct = 0.0
                for b in range(steps):
                    i = order[b * 100:(b + 1) * 100]
                    opt.zero_grad()
                    out = net(x[i])
                    loss = F.cross_entropy(out, y[i])
                    loss.backward()
                    opt.step()
                    loss_sum += loss.item()
                    correct += (out.argmax(1) == y[i]).sum().item()
                with torch.no_grad():
                    out = net(xt)
                    test_loss = F.cross_entropy(out, yt).item()
                    test_acc = (out.argmax(1) == yt).float().mean().item()
                probe.end_epoch(train_loss=loss_sum / steps, train_accuracy=correct / (100 * steps),
                                test_loss=test_loss, test_accuracy=test_acc, complete=steps == len(x) // 100)
                probe.save(os.path.join(args.out, name + ".json"))
                rows.setdefault((init, depth), []).append({**fb, "test_accuracy": test_acc})
                print(f"  {name}: first-batch saturated {100 * fb['saturated_fraction']:.1f}%, "
                      f"test accuracy after {steps} steps {100 * test_acc:.2f}%", flush=True)

    print(f"\n{len(sum(rows.values(), []))} networks in {time.perf_counter() - t0:.0f} s; first batch, "
          f"{args.seeds} seeds (mean and min-max):")
    print(f"{'init':<16}{'hidden':>6}  {'saturated':>22}  {'h1 mean':>8}  {'hN mean':>8}  {'test acc':>8}")
    for (init, depth), fbs in rows.items():
        sat = [100 * f["saturated_fraction"] for f in fbs]
        h1 = statistics.mean(f["hidden"][0]["mean"] for f in fbs)
        hn = statistics.mean(f["hidden"][-1]["mean"] for f in fbs)
        acc = statistics.mean(100 * f["test_accuracy"] for f in fbs)
        label = "glorot" if init == "glorot" else "truncnormal 0.5"
        cell = f"{statistics.mean(sat):.1f}% ({min(sat):.1f}-{max(sat):.1f})"
        print(f"{label:<16}{depth:>6}  {cell:>22}  {h1:>8.3f}  {hn:>8.3f}  {acc:>7.2f}%")
    out = short(args.out)
    binary = short(os.path.join(ROOT, ".build", "release", "preflight"))
    print(f"\nJudge the records with Preflight's rules:\n  {binary} check {out}/*.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
