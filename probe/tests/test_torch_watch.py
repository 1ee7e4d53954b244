"""Watching an optimiser: sampled steps, gradient norms, update ratios, epochs, saving."""

import json
import os

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from preflight_probe import Probe
from preflight_probe import torch_probe


def setup(seed=0, lr=0.1):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 5))
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.rand(32, 20, generator=g)
    y = torch.randint(0, 5, (32,), generator=g)
    return net, torch.optim.SGD(net.parameters(), lr=lr), x, y


def step(net, opt, x, y):
    opt.zero_grad()
    loss = F.cross_entropy(net(x), y)
    loss.backward()
    opt.step()
    return loss.item()


def test_every_nth_step_is_sampled_from_the_first():
    net, opt, x, y = setup()
    probe = Probe(net, classes=5, every=4).watch(opt)
    for _ in range(10):
        step(net, opt, x, y)
    e = probe.end_epoch(train_loss=0.5)
    assert e["batches"] == 10 and e["sampled_steps"] == 3  # steps 1, 5, 9
    assert e["epoch"] == 1 and e["train_loss"] == 0.5 and e["test_loss"] is None and e["complete"] is True
    assert e["samples_per_second"] > 0
    for _ in range(3):
        step(net, opt, x, y)
    e2 = probe.end_epoch()
    assert e2["epoch"] == 2 and e2["batches"] == 3 and e2["sampled_steps"] == 1  # step 13


def test_sampled_step_statistics_match_an_independent_computation():
    net, opt, x, y = setup(lr=0.05)
    probe = Probe(net, classes=5, every=1000).watch(opt)  # only the first step is sampled
    w = [m.weight.detach().clone() for m in net if isinstance(m, nn.Linear)]
    # the first step, by hand
    with torch.no_grad():
        h1 = torch.relu(net[0](x))
        h2 = torch.relu(net[2](h1))
    loss = F.cross_entropy(net(x), y)
    grads = torch.autograd.grad(loss, [m.weight for m in net if isinstance(m, nn.Linear)])
    step(net, opt, x, y)
    for _ in range(5):
        step(net, opt, x, y)
    e = probe.end_epoch()
    assert e["sampled_steps"] == 1
    assert [h["name"] for h in e["hidden"]] == ["1", "3"]
    for h, a in zip(e["hidden"], (h1, h2)):
        assert h["mean"] == pytest.approx(float(a.mean()), rel=1e-5)
        assert h["dead_fraction"] == pytest.approx(float((a.max(0).values <= 0).float().mean()))
    assert [l["name"] for l in e["layers"]] == ["0.weight", "2.weight", "4.weight"]
    for l, g, w0 in zip(e["layers"], grads, w):
        assert l["grad_norm"] == pytest.approx(float(g.norm()), rel=1e-5)
        # plain SGD: Δw = -lr·g
        assert l["update_ratio"] == pytest.approx(0.05 * float(g.norm()) / float(w0.norm()), rel=1e-4)


def test_gradient_accumulation_counts_every_forward_of_the_step():
    net, opt, x, y = setup()
    probe = Probe(net, classes=5, every=1000).watch(opt)
    with torch.no_grad():
        full = torch.relu(net[0](x))
    opt.zero_grad()
    for part in (slice(0, 16), slice(16, 32)):  # two micro-batches, one optimiser step
        F.cross_entropy(net(x[part]), y[part]).backward()
    opt.step()
    e = probe.end_epoch()
    h = e["hidden"][0]
    assert h["mean"] == pytest.approx(float(full.mean()), rel=1e-5)
    assert h["max"] == pytest.approx(float(full.max()), rel=1e-6)
    assert h["dead_fraction"] == pytest.approx(float((full.max(0).values <= 0).float().mean()))
    assert e["samples_per_second"] is not None and e["batches"] == 1


def test_evaluation_forwards_are_not_sampled():
    net, opt, x, y = setup()
    probe = Probe(net, classes=5, every=2).watch(opt)
    step(net, opt, x, y)  # step 1 sampled; step 2 not; step 3 armed
    step(net, opt, x, y)
    net.eval()
    with torch.no_grad():
        net(x * 100)  # an evaluation pass while a sampled step is armed
    net.train()
    step(net, opt, x, y)
    e = probe.end_epoch()
    assert e["sampled_steps"] == 2
    assert all(h["max"] < 50 for h in e["hidden"])  # nothing of the ×100 pass got in
    assert e["batches"] == 3


def test_epoch_dead_units_are_those_never_active_in_any_sampled_step():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
        net[0].bias.zero_()
    opt = torch.optim.SGD(net.parameters(), lr=0.0)  # the weights stay put
    probe = Probe(net, classes=2, every=1).watch(opt)
    y = torch.zeros(8, dtype=torch.long)
    for x in (torch.tensor([[1.0, 0.0]]).repeat(8, 1), torch.tensor([[0.0, 1.0]]).repeat(8, 1)):
        step(net, opt, x, y)  # unit 0 fires on the first batch only, unit 1 on the second, unit 2 never
    e = probe.end_epoch()
    assert e["sampled_steps"] == 2
    assert e["hidden"][0]["dead_fraction"] == pytest.approx(1 / 3)  # each step alone: 2/3
    assert e["hidden"][0]["zero_fraction"] == pytest.approx(2 / 3)
    step(net, opt, torch.tensor([[1.0, 0.0]]).repeat(8, 1), y)
    assert probe.end_epoch()["hidden"][0]["dead_fraction"] == pytest.approx(2 / 3)  # a new epoch starts afresh


class Mixed(nn.Module):
    """A last layer in bfloat16: outputs, gradients and weights of two precisions in one step."""

    def __init__(self):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 5).to(torch.bfloat16)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)).to(torch.bfloat16)).float()


def test_mixed_precision():
    torch.manual_seed(0)
    net = Mixed()
    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(32, 20, generator=g), torch.randint(0, 5, (32,), generator=g)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    probe = Probe(net, classes=5, every=1)
    fb = probe.first_batch(x, y, nn.CrossEntropyLoss())
    assert fb["grad_norm_names"] == ["fc1.weight", "fc2.weight"] and all(v > 0 for v in fb["grad_norms"])
    probe.watch(opt)
    for _ in range(2):
        step(net, opt, x, y)
    e = probe.end_epoch()
    assert not probe.warnings, probe.warnings
    assert e["sampled_steps"] == 2 and [h["name"] for h in e["hidden"]] == ["act"]
    assert all(l["grad_norm"] > 0 and l["update_ratio"] > 0 for l in e["layers"])


def test_unwatch_removes_every_hook():
    net, opt, x, y = setup()
    probe = Probe(net, classes=5, every=1).watch(opt)
    step(net, opt, x, y)
    probe.unwatch()
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in net.modules())
    assert not opt._optimizer_step_pre_hooks and not opt._optimizer_step_post_hooks


def test_a_failing_probe_never_breaks_training(monkeypatch):
    net, opt, x, y = setup()
    ref_net, ref_opt, _, _ = setup()
    probe = Probe(net, classes=5, every=1).watch(opt)

    def broken(*a, **k):
        raise RuntimeError("simulated")

    monkeypatch.setattr(torch_probe, "_tensor_sums", broken)
    with pytest.warns(RuntimeWarning, match="stops sampling"):
        losses = [step(net, opt, x, y) for _ in range(3)]
    ref = [step(ref_net, ref_opt, x, y) for _ in range(3)]
    assert losses == ref  # training went on, identically
    probe.end_epoch()
    rec = probe.record()
    assert any("simulated" in w for w in rec["probe_warnings"])


def test_nonfinite_during_training_is_located():
    net, opt, x, y = setup()
    probe = Probe(net, classes=5, every=1).watch(opt)
    step(net, opt, x, y)
    step(net, opt, x, y)
    with torch.no_grad():
        net[2].weight[0, 0] = float("nan")  # the second dense layer's output turns NaN at step 3
    step(net, opt, x, y)
    step(net, opt, x, y)
    probe.end_epoch()
    assert probe.record()["nonfinite"] == {"epoch": 1, "batch": 3, "stage": "forward", "layer": "2"}


def test_a_nonfinite_update_is_located():
    net, opt, x, y = setup()
    probe = Probe(net, classes=5, every=1).watch(opt)
    step(net, opt, x, y)
    opt.zero_grad()
    F.cross_entropy(net(x), y).backward()
    net[4].weight.grad[0, 0] = float("inf")  # the output layer's gradient
    opt.step()
    probe.end_epoch()
    assert probe.record()["nonfinite"] == {"epoch": 1, "batch": 2, "stage": "backward", "layer": "4.weight"}


def test_save_writes_schema_2_atomically(tmp_path):
    net, opt, x, y = setup()
    probe = Probe(net, classes=5, name="good", every=2)
    probe.config["init"] = "glorot"
    probe.first_batch(x, y, nn.CrossEntropyLoss())
    probe.watch(opt)
    for _ in range(4):
        step(net, opt, x, y)
    probe.end_epoch(train_loss=float("nan"), train_accuracy=0.5, test_loss=1.0, test_accuracy=0.4)
    path = tmp_path / "out" / "run.json"
    assert probe.save(str(path)) == str(path)
    assert sorted(os.listdir(path.parent)) == ["run.json"]  # no temporary file left
    text = path.read_text()
    assert "NaN" not in text
    doc = json.loads(text)
    assert doc["version"] == 2 and len(doc["runs"]) == 1
    run = doc["runs"][0]
    assert run["name"] == "good" and run["engine"]["name"] == "pytorch" and run["engine"]["backend"] is None
    assert run["classes"] == 5 and run["checks"] == []
    assert run["config"]["optimizer"] == "sgd" and run["config"]["learning_rate"] == 0.1
    assert run["config"]["init"] == "glorot" and run["config"]["batch"] == 32
    assert run["epochs"][0]["train_loss"] is None and run["epochs"][0]["test_accuracy"] == 0.4
    assert run["epochs"][0]["batches"] == 4 and run["epochs"][0]["sampled_steps"] == 2
    assert run["source"]["model"].startswith("MLP 20-16-16-5")
    allowed = {"dense", "conv", "activation", "norm", "dropout", "pool", "embedding", "attention", "other"}
    assert all(l["type"] in allowed for l in run["layers"])
    for f in ("zero_fraction", "above_one_fraction", "dead_fraction"):
        assert all(0 <= h[f] <= 1 for h in run["first_batch"]["hidden"] + run["epochs"][0]["hidden"])
    # counts are integers
    assert isinstance(run["first_batch"]["batch_size"], int) and isinstance(run["epochs"][0]["batches"], int)
    # a second save replaces the file
    probe.name = "again"
    probe.save(str(path))
    assert json.loads(path.read_text())["runs"][0]["name"] == "again"


def test_a_failed_save_leaves_the_old_file(tmp_path, monkeypatch):
    net, _, x, y = setup()
    probe = Probe(net, classes=5)
    probe.first_batch(x, y, nn.CrossEntropyLoss())
    path = tmp_path / "run.json"
    probe.save(str(path))
    before = path.read_text()
    probe.config["bad"] = object()  # not JSON-serialisable
    with pytest.raises(TypeError):
        probe.save(str(path))
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["run.json"]
