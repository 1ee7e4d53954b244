"""End to end: records the probe writes are judged by Preflight's own `preflight check` (the binary at
.build/release/preflight, or $PREFLIGHT_BIN). Skipped when the binary is absent or has no `check`
subcommand, and (the study's networks) when MNIST is not found."""

import json
import os
import subprocess

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from preflight_probe import Probe, idx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("PREFLIGHT_BIN") or os.path.join(ROOT, ".build", "release", "preflight")


def preflight_check_available():
    if not os.access(BIN, os.X_OK):
        return False
    r = subprocess.run([BIN, "check", "--help"], capture_output=True, text=True, timeout=60)
    return r.returncode == 0 and "preflight check" in r.stdout


pytestmark = pytest.mark.skipif(not preflight_check_available(),
                                reason=f"no `preflight check` at {BIN} (build it: swift build -c release)")


def check(*files, strict=False):
    args = [BIN, "check", "--json"] + (["--strict"] if strict else []) + [str(f) for f in files]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    return r.returncode, json.loads(r.stdout) if r.stdout.strip() else None, r.stderr


def verdicts(doc, name):
    run = next(r for r in doc["runs"] if r["name"] == name)
    return {c["rule"]: c["verdict"] for c in run["checks"]}


@pytest.fixture(scope="module")
def mnist():
    try:
        xtr, ytr, _, _ = idx.load("mnist")
    except FileNotFoundError as e:
        pytest.skip(str(e))
    return (torch.from_numpy(xtr[:6000].reshape(6000, -1).astype("float32") / 255.0),
            torch.from_numpy(ytr[:6000].astype("int64")))


def study_record(tmp, x, y, init, name, steps=30):
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))
    for m in net:
        if isinstance(m, nn.Linear):
            if init == "glorot":
                nn.init.xavier_uniform_(m.weight)
            else:
                nn.init.trunc_normal_(m.weight, std=0.5, a=-1.0, b=1.0)
            nn.init.zeros_(m.bias)
    probe = Probe(net, classes=10, name=name, every=5)
    probe.config.update({"init": init, "dataset": "mnist", "scale": "unit"})
    probe.first_batch(x[:100], y[:100], nn.CrossEntropyLoss())
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    probe.watch(opt)
    for b in range(steps):
        opt.zero_grad()
        F.cross_entropy(net(x[b * 100:(b + 1) * 100]), y[b * 100:(b + 1) * 100]).backward()
        opt.step()
    probe.end_epoch(complete=False)
    path = tmp / f"{name}.json"
    probe.save(str(path))
    return path


def test_the_study_verdicts(tmp_path, mnist):
    x, y = mnist
    good = study_record(tmp_path, x, y, "glorot", "good")
    bad = study_record(tmp_path, x, y, "truncnormal", "bad")
    code, doc, err = check(good, bad)
    assert code == 0, err
    g, b = verdicts(doc, "good"), verdicts(doc, "bad")
    for rule in ("saturation", "init-loss", "hidden-scale"):
        assert g[rule] == "ok", (rule, g)
        assert b[rule] == "fail", (rule, b)
    assert "fail" not in g.values(), g
    # the CI gate
    assert check(bad, strict=True)[0] == 2
    assert check(good, strict=True)[0] == 0


def test_a_regression_record_says_not_run_for_class_rules(tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    probe = Probe(net, classes=None, name="reg")
    probe.first_batch(torch.rand(64, 8), torch.randn(64, 1), nn.MSELoss())
    path = tmp_path / "reg.json"
    probe.save(str(path))
    code, doc, err = check(path)
    assert code == 0, err
    assert verdicts(doc, "reg")["saturation"] == "not-run"
