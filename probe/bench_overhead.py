"""Overhead of the PyTorch probe (a benchmark, not a test).

The 784-128-128-10 relu MLP on MNIST (batch 100, Adam 0.001): epochs without the probe and epochs with
`Probe.watch` at the default sampling interval, alternated so that a busy machine slows both alike; and
the time of `Probe.first_batch` (the first call in the process, and the median of later calls).

    .venv/bin/python probe/bench_overhead.py [--repeats 3] [--every N] [--threads N] [--batches N]

MNIST comes from $PREFLIGHT_DATA/mnist or ../shared/data/mnist (gz IDX files).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import List

import torch
import torch.nn.functional as F
from torch import nn

from preflight_probe import Probe, idx
from preflight_probe.torch_probe import DEFAULT_EVERY


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3, help="pairs of (unwatched, watched) epochs (default 3)")
    ap.add_argument("--every", type=int, default=None, help=f"sampling interval (default: the probe's, {DEFAULT_EVERY})")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1; 0: torch's choice)")
    ap.add_argument("--batches", type=int, default=None, help="batches per epoch (default: all 600)")
    ap.add_argument("--batch", type=int, default=100, help="batch size (default 100)")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    xtr, ytr, _, _ = idx.load("mnist")
    x = torch.from_numpy(xtr.reshape(len(xtr), -1).astype("float32") / 255.0)
    y = torch.from_numpy(ytr.astype("int64"))
    torch.manual_seed(0)
    order = torch.randperm(len(x))
    x, y = x[order], y[order]
    nb = len(x) // args.batch if args.batches is None else min(args.batches, len(x) // args.batch)
    batches = [(x[i * args.batch:(i + 1) * args.batch], y[i * args.batch:(i + 1) * args.batch]) for i in range(nb)]

    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    # first_batch: the first call in the process (hooks, first forward through them), then warm calls
    t = time.perf_counter()
    Probe(model, classes=10).first_batch(batches[0][0], batches[0][1], nn.CrossEntropyLoss())
    cold = time.perf_counter() - t
    warm: List[float] = []
    for _ in range(7):
        t = time.perf_counter()
        Probe(model, classes=10).first_batch(batches[0][0], batches[0][1], nn.CrossEntropyLoss())
        warm.append(time.perf_counter() - t)

    def epoch() -> float:
        t0 = time.perf_counter()
        for xb, yb in batches:
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
        return time.perf_counter() - t0

    epoch()  # warm-up (allocator, Adam state)
    plain: List[float] = []
    watched: List[float] = []
    sampled = 0
    for r in range(args.repeats):
        plain.append(epoch())
        probe = Probe(model, classes=10, every=args.every).watch(opt)
        watched.append(epoch())
        sampled = probe.end_epoch()["sampled_steps"]
        probe.unwatch()
        print(f"  pair {r + 1}: unwatched {plain[-1]:.3f} s, watched {watched[-1]:.3f} s "
              f"({100 * (watched[-1] / plain[-1] - 1):+.1f}%)", flush=True)

    every = args.every or DEFAULT_EVERY
    mp, mw = statistics.median(plain), statistics.median(watched)
    ratios = [w / p for p, w in zip(plain, watched)]
    print(f"MLP 784-128-128-10, MNIST, batch {args.batch}, {nb} steps per epoch, Adam, "
          f"torch {torch.__version__} with {torch.get_num_threads()} thread(s)")
    print(f"unwatched epoch: median {mp:.3f} s ({min(plain):.3f}-{max(plain):.3f})")
    print(f"watched epoch (every {every}, {sampled} sampled steps): median {mw:.3f} s ({min(watched):.3f}-{max(watched):.3f})")
    print(f"overhead: {100 * (mw / mp - 1):+.1f}% (medians); per pair {', '.join(f'{100 * (q - 1):+.1f}%' for q in ratios)}")
    print(f"per sampled step: {1000 * (mw - mp) / max(sampled, 1):.2f} ms extra; a plain step takes {1000 * mp / nb:.2f} ms")
    print(f"first_batch: first call {1000 * cold:.1f} ms, later calls median {1000 * statistics.median(warm):.1f} ms")


if __name__ == "__main__":
    main()
