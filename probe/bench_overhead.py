"""Overhead of the PyTorch probe (a benchmark, not a test).

The 784-128-128-10 relu MLP on MNIST (batch 100, Adam 0.001): epochs without the probe and epochs with
`Probe.watch` at the default sampling interval, alternated so that a busy machine slows both alike; and
blocks of steps alternately unwatched and watched; per-step medians; and the time of `Probe.first_batch`
(the first call in the process, and the median of later calls). Wall
time and this process's CPU time are both given: on a machine shared with other work the CPU time is
the steadier measure of what the probe adds.

    .venv/bin/python probe/bench_overhead.py [--repeats 3] [--every N] [--threads N] [--batches N]

MNIST comes from $PREFLIGHT_DATA/mnist or ../shared/data/mnist (gz IDX files).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import List, Tuple

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

    def epoch() -> Tuple[float, float, List[float]]:
        """(wall seconds, this process's CPU seconds, each step's CPU seconds) of one epoch."""
        steps: List[float] = []
        t0, c0 = time.perf_counter(), time.process_time()
        for xb, yb in batches:
            c = time.process_time()
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
            steps.append(time.process_time() - c)
        return time.perf_counter() - t0, time.process_time() - c0, steps

    epoch()  # warm-up (allocator, Adam state)
    every = args.every or DEFAULT_EVERY
    plain: List[Tuple[float, float, List[float]]] = []
    watched: List[Tuple[float, float, List[float]]] = []
    sampled = 0
    for r in range(args.repeats):
        plain.append(epoch())
        probe = Probe(model, classes=10, every=args.every).watch(opt)
        watched.append(epoch())
        sampled = probe.end_epoch()["sampled_steps"]
        probe.unwatch()
        print(f"  pair {r + 1}: unwatched {plain[-1][0]:.3f} s ({plain[-1][1]:.3f} s CPU), watched {watched[-1][0]:.3f} s "
              f"({watched[-1][1]:.3f} s CPU): {100 * (watched[-1][1] / plain[-1][1] - 1):+.1f}% CPU", flush=True)

    print(f"MLP 784-128-128-10, MNIST, batch {args.batch}, {nb} steps per epoch, Adam, "
          f"torch {torch.__version__} with {torch.get_num_threads()} thread(s), every {every} ({sampled} sampled steps an epoch)")
    for label, k in (("wall", 0), ("CPU", 1)):
        p = [t[k] for t in plain]
        w = [t[k] for t in watched]
        mp, mw = statistics.median(p), statistics.median(w)
        print(f"epochs, {label}: unwatched median {mp:.3f} s ({min(p):.3f}-{max(p):.3f}), "
              f"watched median {mw:.3f} s ({min(w):.3f}-{max(w):.3f}): {100 * (mw / mp - 1):+.1f}%")
    # Per step (medians shrug off the bursts a shared machine adds): the plain step, a watched step that is
    # not sampled (hooks that return at once), and a sampled step; the epoch's expected overhead from them.
    step_plain = statistics.median(c for t in plain for c in t[2])
    sampled_idx = {i for i in range(nb) if i % every == 0}
    step_idle = statistics.median(c for t in watched for i, c in enumerate(t[2]) if i not in sampled_idx)
    step_sampled = statistics.median(c for t in watched for i, c in enumerate(t[2]) if i in sampled_idx)
    # The sampled step's extra cost is read against the unsampled steps of the same epochs (neighbours in
    # time, so a load that drifts between epochs cancels); an unsampled step only calls two optimizer hooks
    # that return at once.
    expected = (step_sampled - step_idle) * len(sampled_idx) / (step_idle * nb)
    print(f"steps, CPU medians: plain {1000 * step_plain:.3f} ms (unwatched epochs), watched but not sampled "
          f"{1000 * step_idle:.3f} ms, sampled {1000 * step_sampled:.3f} ms: a sampled step costs "
          f"{1000 * (step_sampled - step_idle):.2f} ms more -> expected epoch overhead {100 * expected:+.1f}%")
    # Interleaved: blocks of `every` steps, alternately unwatched and watched (each watched block holds one
    # sampled step), the same number of steps as the epochs above; a load that comes and goes hits both.
    probe = Probe(model, classes=10, every=every)
    cpu = {False: 0.0, True: 0.0}
    i = 0
    for _ in range(args.repeats * nb // every):
        for watch in (False, True):
            if watch:
                probe.watch(opt)
            c = time.process_time()
            for _ in range(every):
                xb, yb = batches[i % nb]
                i += 1
                opt.zero_grad(set_to_none=True)
                F.cross_entropy(model(xb), yb).backward()
                opt.step()
            cpu[watch] += time.process_time() - c
            if watch:
                probe.unwatch()
    print(f"interleaved blocks of {every} steps, CPU: unwatched {cpu[False]:.3f} s, watched {cpu[True]:.3f} s: "
          f"{100 * (cpu[True] / cpu[False] - 1):+.1f}%")
    print(f"first_batch: first call {1000 * cold:.1f} ms, later calls median {1000 * statistics.median(warm):.1f} ms")

if __name__ == "__main__":
    main()
