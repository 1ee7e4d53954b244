"""Weights that are all zero (init zeros) have no update ratio ‖Δw‖/‖w‖: the probe writes null for it and no
NaN event, since training had none (found by the fault zoo: a zero-initialised network was reported as
stopped on NaN at its first step). A step that really makes a weight NaN still is one."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from preflight_probe import Probe


def train(net, x, y, lr, steps=3):
    probe = Probe(net, classes=5, every=1)
    probe.first_batch(x, y, nn.CrossEntropyLoss())
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    probe.watch(opt)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    probe.end_epoch(train_loss=1.0)
    return probe


def data():
    g = torch.Generator().manual_seed(3)
    return torch.rand(32, 20, generator=g), torch.randint(0, 5, (32,), generator=g)


def test_zero_weights_give_no_update_ratio_and_no_nan_event():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 5))
    for m in net:
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)
    x, y = data()
    probe = train(net, x, y, lr=0.1)
    assert probe.nonfinite is None
    layers = probe.epochs[-1]["layers"]
    assert [l["update_ratio"] for l in layers] == [None, None]
    assert all(l["grad_norm"] == 0.0 for l in layers)


def test_a_step_that_makes_the_weights_nan_is_still_reported():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 5))
    x, y = data()
    probe = Probe(net, classes=5, every=1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    probe.watch(opt)
    opt.zero_grad()
    F.cross_entropy(net(x), y).backward()
    net[0].weight.grad[0, 0] = math.nan
    opt.step()
    assert probe.nonfinite is not None and probe.nonfinite["stage"] in ("backward", "update")
