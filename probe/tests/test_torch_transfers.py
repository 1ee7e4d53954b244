"""Only scalars cross to the host, once per sampled step and once for the first batch: every call the
probe's own code makes that brings a tensor's values to the host is counted."""

import sys

import torch
import torch.nn.functional as F
from torch import nn

from preflight_probe import Probe

SYNCS = ("item", "tolist", "cpu", "numpy", "__bool__", "__float__", "__int__", "__index__")


def count_probe_syncs(monkeypatch):
    calls = []
    for name in SYNCS:
        original = getattr(torch.Tensor, name)

        def wrapper(self, *a, _name=name, _original=original, **k):
            caller = sys._getframe(1).f_code.co_filename
            if "preflight_probe" in caller:
                calls.append((_name, tuple(self.shape)))
            return _original(self, *a, **k)

        monkeypatch.setattr(torch.Tensor, name, wrapper)
    return calls


def test_one_transfer_per_sampled_step_and_for_the_first_batch(monkeypatch):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 16), nn.Tanh(), nn.Linear(16, 3))
    x = torch.rand(8, 1, 8, 8)
    y = torch.randint(0, 3, (8,))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    probe = Probe(net, classes=3, every=2)
    calls = count_probe_syncs(monkeypatch)
    probe.first_batch(x, y, nn.CrossEntropyLoss())
    # one .cpu() of one vector, then its .tolist() on the host
    assert [c[0] for c in calls] == ["cpu", "tolist"] and len(calls[0][1]) == 1
    calls.clear()
    probe.watch(opt)
    for _ in range(4):  # steps 1 and 3 are sampled
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    assert [c[0] for c in calls] == ["cpu", "tolist"] * 2
    monkeypatch.undo()
    e = probe.end_epoch()
    assert e["sampled_steps"] == 2 and len(e["hidden"]) == 2
