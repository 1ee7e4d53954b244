"""The PyTorch probe's first batch, checked against statistics computed here independently (numpy)."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from preflight_probe import Probe


def mlp(hidden=(32, 16), inputs=20, classes=5, std=None):
    layers, n = [], inputs
    for h in hidden:
        layers += [nn.Linear(n, h), nn.ReLU()]
        n = h
    layers.append(nn.Linear(n, classes))
    net = nn.Sequential(*layers)
    if std is not None:
        for m in net:
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=std, a=-2 * std, b=2 * std)
                nn.init.zeros_(m.bias)
    return net


def batch(rows=64, inputs=20, classes=5, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(rows, inputs, generator=g), torch.randint(0, classes, (rows,), generator=g)


def numpy_forward(net, x):
    """Post-activation outputs of each hidden layer and the logits, in float64 numpy."""
    h = x.numpy().astype(np.float64)
    hidden = []
    lin = [m for m in net if isinstance(m, nn.Linear)]
    for i, m in enumerate(lin):
        h = h @ m.weight.detach().numpy().astype(np.float64).T + m.bias.detach().numpy()
        if i < len(lin) - 1:
            h = np.maximum(h, 0)
            hidden.append(h)
    return hidden, h


def test_mlp_first_batch_matches_an_independent_computation():
    torch.manual_seed(0)
    net = mlp(std=2.0)
    x, y = batch()
    probe = Probe(net, classes=5, name="bad", epsilon=1e-7)
    fb = probe.first_batch(x, y, nn.CrossEntropyLoss())
    hidden, logits = numpy_forward(net, x)
    z = logits - logits.max(1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    assert fb["loss"] == pytest.approx(-logp[np.arange(64), y.numpy()].mean(), rel=1e-5)
    assert fb["low_fraction"] == pytest.approx((p < 1e-7).mean(), abs=1e-12)
    assert fb["high_fraction"] == pytest.approx((p > 1 - 1e-7).mean(), abs=1e-12)
    assert fb["saturated_fraction"] == pytest.approx(fb["low_fraction"] + fb["high_fraction"])
    assert fb["saturated_fraction"] > 0.2  # std 2 saturates; a fixture that cannot tell would be useless
    assert fb["accuracy"] == pytest.approx((logits.argmax(1) == y.numpy()).mean())
    assert fb["output_kind"] == "logits" and fb["outputs"] == 5 and fb["batch_size"] == 64
    assert fb["input_min"] == pytest.approx(float(x.min())) and fb["input_max"] == pytest.approx(float(x.max()))
    assert [h["name"] for h in fb["hidden"]] == ["1", "3"]
    for h, a in zip(fb["hidden"], hidden):
        assert h["mean"] == pytest.approx(a.mean(), rel=1e-5)
        assert h["std"] == pytest.approx(a.std(), rel=1e-4)
        assert h["max"] == pytest.approx(a.max(), rel=1e-5)
        assert h["zero_fraction"] == pytest.approx((a == 0).mean())
        assert h["above_one_fraction"] == pytest.approx((a > 1).mean())
        assert h["dead_fraction"] == pytest.approx((a.max(0) <= 0).mean())
        assert h["saturated_fraction"] == 0.0
    # gradient norms, by torch autograd on a fresh copy of the loss
    loss = F.cross_entropy(net(x), y)
    grads = torch.autograd.grad(loss, list(net.parameters()))
    names = [n for n, _ in net.named_parameters()]
    expect = {n: float(g.norm()) for n, g in zip(names, grads)}
    assert fb["grad_norm_names"] == ["0.weight", "2.weight", "4.weight"]
    for n, g in zip(fb["grad_norm_names"], fb["grad_norms"]):
        assert g == pytest.approx(expect[n], rel=1e-5)
    assert [q["name"] for q in fb["parameters"]] == names
    assert fb["nonfinite"] is None
    rec = probe.record()
    assert rec["config"]["layers"] == [20, 32, 16, 5] and rec["config"]["activation"] == "relu"
    assert [l["type"] for l in rec["layers"]] == ["dense", "activation", "dense", "activation", "dense"]
    assert rec["layers"][0]["parameters"] == 20 * 32 + 32


def test_dead_units_are_counted_per_unit():
    torch.manual_seed(0)
    net = mlp(hidden=(8,))
    with torch.no_grad():
        net[0].weight[:3].zero_()
        net[0].bias[:3] = -1.0  # three units never above 0
        net[0].weight[3:].abs_()
        net[0].bias[3:] = 0.1   # the others always positive
    x, y = batch()
    fb = Probe(net, classes=5).first_batch(x, y, nn.CrossEntropyLoss())
    assert fb["hidden"][0]["dead_fraction"] == pytest.approx(3 / 8)
    assert fb["hidden"][0]["zero_fraction"] == pytest.approx(3 / 8)


def test_the_model_is_left_as_it_was():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(20, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 5))
    net.eval()
    net[3].train()  # a mixed state must come back exactly
    x, y = batch()
    # known gradients on some parameters, none on others
    net[0].weight.grad = torch.full_like(net[0].weight, 0.25)
    grad_obj = net[0].weight.grad
    flags = [m.training for m in net.modules()]
    bn = (net[1].running_mean.clone(), net[1].running_var.clone(), net[1].num_batches_tracked.clone())
    torch.manual_seed(123)
    state = torch.get_rng_state()
    probe = Probe(net, classes=5)
    probe.first_batch(x, y, nn.CrossEntropyLoss())  # runs in training mode: dropout draws, BN updates
    assert [m.training for m in net.modules()] == flags
    assert net[0].weight.grad is grad_obj and torch.all(grad_obj == 0.25)
    assert all(p.grad is None for n, p in net.named_parameters() if n != "0.weight")
    assert torch.equal(net[1].running_mean, bn[0]) and torch.equal(net[1].running_var, bn[1])
    assert torch.equal(net[1].num_batches_tracked, bn[2])
    assert torch.equal(torch.get_rng_state(), state)
    # and no hook is left on any module
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in net.modules())


def test_the_pass_ran_in_training_mode_and_changed_what_is_restored():
    # the restore test above means something only if the pass really touched these things
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(20, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 5)).eval()
    seen = {}

    def spy(m, i, o):
        seen["training"] = m.training

    net[1].register_forward_hook(spy)
    x, y = batch()
    Probe(net, classes=5).first_batch(x, y, nn.CrossEntropyLoss())
    assert seen["training"] is True
    seen.clear()
    Probe(net, classes=5).first_batch(x, y, nn.CrossEntropyLoss(), train=False)
    assert seen["training"] is False


class SoftmaxEnd(nn.Module):
    def __init__(self, base, how):
        super().__init__()
        self.base, self.how = base, how

    def forward(self, x):
        z = self.base(x)
        return F.softmax(z, -1) if self.how == "softmax" else F.log_softmax(z, -1)


@pytest.mark.parametrize("how", ["module-softmax", "module-log_softmax", "softmax", "log_softmax"])
def test_output_kind_is_detected_and_saturation_is_of_probabilities(how):
    torch.manual_seed(0)
    base = mlp(std=2.0)
    x, y = batch()
    ref = Probe(base, classes=5).first_batch(x, y, nn.CrossEntropyLoss())
    if how == "module-softmax":
        net, kind, loss = nn.Sequential(base, nn.Softmax(-1)), "softmax", lambda o, t: F.nll_loss(torch.log(o + 1e-12), t)
    elif how == "module-log_softmax":
        net, kind, loss = nn.Sequential(base, nn.LogSoftmax(-1)), "log_softmax", nn.NLLLoss()
    elif how == "softmax":
        net, kind, loss = SoftmaxEnd(base, "softmax"), "softmax", lambda o, t: F.nll_loss(torch.log(o + 1e-12), t)
    else:
        net, kind, loss = SoftmaxEnd(base, "log_softmax"), "log_softmax", nn.NLLLoss()
    fb = Probe(net, classes=5).first_batch(x, y, loss)
    assert fb["output_kind"] == kind
    assert fb["saturated_fraction"] == pytest.approx(ref["saturated_fraction"], abs=0.02)
    assert fb["accuracy"] == ref["accuracy"]
    if how.startswith("module"):
        # the final softmax module is not a hidden layer
        assert [h["name"] for h in fb["hidden"]] == ["0.1", "0.3"]


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc1, self.fc2, self.act = nn.Linear(d, d), nn.Linear(d, d), nn.ReLU()

    def forward(self, x):
        return self.act(x + self.fc2(self.act(self.fc1(x))))  # residual; one ReLU module used twice


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(20, 16)
        self.layers = nn.ModuleList([Block(16), Block(16)])

    def forward(self, x):
        x = self.inp(x)
        for b in self.layers:
            x = b(x)
        return x


class TwoHeads(nn.Module):
    def __init__(self, as_dict):
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Sequential(nn.Sequential(nn.Linear(16, 5)))
        self.aux = nn.Linear(16, 1)
        self.as_dict = as_dict

    def forward(self, x):
        h = self.encoder(x)
        if self.as_dict:
            return {"aux": self.aux(h), "logits": self.head(h)}
        return self.head(h), self.aux(h)


@pytest.mark.parametrize("as_dict", [False, True])
def test_nested_residual_tuple_and_dict_outputs(as_dict):
    torch.manual_seed(0)
    net = TwoHeads(as_dict)
    x, y = batch()
    pick = (lambda o: o["logits"]) if as_dict else (lambda o: o[0])
    fb = Probe(net, classes=5).first_batch(x, y, lambda o, t: F.cross_entropy(pick(o), t))
    names = [m["name"] for m in fb["modules"]]
    assert names[:4] == ["encoder.inp", "encoder.layers.0.fc1", "encoder.layers.0.act", "encoder.layers.0.fc2"]
    assert "encoder.layers.0.act#2" in names and "encoder.layers.1.act#2" in names
    assert [h["name"] for h in fb["hidden"]] == ["encoder.layers.0.act", "encoder.layers.0.act#2",
                                                 "encoder.layers.1.act", "encoder.layers.1.act#2"]
    assert fb["outputs"] == 5
    # the logits the probe judged are the head's
    logits = pick(net(x)).detach()
    assert fb["accuracy"] == pytest.approx(float((logits.argmax(1) == y).float().mean()))
    # the second call of a reused module is measured on its own output
    with torch.no_grad():
        h = net.encoder.inp(x)
        b = net.encoder.layers[0]
        second = torch.relu(h + b.fc2(torch.relu(b.fc1(h))))
    m2 = next(m for m in fb["modules"] if m["name"] == "encoder.layers.0.act#2")
    assert m2["mean"] == pytest.approx(float(second.mean()), rel=1e-5)
    assert fb["grad_norm_names"][0] == "encoder.inp.weight" and fb["grad_norm_names"][-1] in ("head.0.0.weight", "aux.weight")


def test_cnn_statistics_are_per_channel():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 6, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 13 * 13, 10))
    with torch.no_grad():
        net[0].weight[:2].zero_()
        net[0].bias[:2] = -0.5       # 2 of 6 channels dead
        net[0].weight[2:].abs_()
        net[0].bias[2:] = 0.01
    x = torch.rand(16, 1, 28, 28)
    y = torch.randint(0, 10, (16,))
    probe = Probe(net, classes=10)
    fb = probe.first_batch(x, y, nn.CrossEntropyLoss())
    relu = fb["hidden"][0]
    assert relu["name"] == "1" and relu["dead_fraction"] == pytest.approx(2 / 6)
    pool = next(m for m in fb["modules"] if m["name"] == "2")
    assert pool["type"] == "pool" and pool["dead_fraction"] == pytest.approx(2 / 6)
    rec = probe.record()
    assert rec["layers"][0] == {"name": "0", "type": "conv", "inputs": 1, "outputs": 6, "parameters": 60}
    assert "layers" not in rec["config"]  # not a plain MLP
    assert fb["grad_norm_names"] == ["0.weight", "4.weight"]


class TinyTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(16, 4)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens)).mean(1))


def test_small_transformer():
    torch.manual_seed(0)
    net = TinyTransformer()
    tokens = torch.randint(0, 50, (8, 12))
    y = torch.randint(0, 4, (8,))
    probe = Probe(net, classes=4)
    fb = probe.first_batch(tokens, y, nn.CrossEntropyLoss())
    rec = probe.record()
    types = {l["name"]: l["type"] for l in rec["layers"]}
    assert types["embed"] == "embedding" and types["encoder.layers.0.self_attn"] == "attention"
    assert types["encoder.layers.1.linear1"] == "dense" and types["encoder.layers.0.norm1"] == "norm"
    assert "encoder.layers.0.self_attn.out_proj" not in types
    # no activation modules (the layers use F.relu): hidden = the dense outputs except the last module's
    assert "encoder.layers.0.linear1" in [h["name"] for h in fb["hidden"]]
    assert "head" not in [h["name"] for h in fb["hidden"]]
    # per-feature units on (batch, tokens, features): linear1 has 32 units
    assert "encoder.layers.0.self_attn.in_proj_weight" in fb["grad_norm_names"]
    assert "embed.weight" not in fb["grad_norm_names"]
    assert fb["grad_norm_names"][-1] == "head.weight"
    assert all(g is not None and g > 0 for g in fb["grad_norms"])


def test_regression_has_no_class_statistics():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(20, 8), nn.Tanh(), nn.Linear(8, 1))
    x, _ = batch()
    t = torch.randn(64, 1)
    probe = Probe(net, classes=None)
    fb = probe.first_batch(x, t, nn.MSELoss())
    assert fb["loss"] == pytest.approx(float(F.mse_loss(net(x), t).detach()), rel=1e-5)
    for k in ("saturated_fraction", "low_fraction", "high_fraction", "accuracy", "output_kind"):
        assert fb[k] is None
    assert probe.record()["classes"] is None
    assert fb["hidden"][0]["name"] == "1" and fb["hidden"][0]["saturated_fraction"] == 0.0


def test_tanh_saturation_is_of_pre_activations_beyond_5():
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3))
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].bias.copy_(torch.tensor([6.0, -7.0, 4.0, 0.0]))  # two of four units beyond ±5
    x = torch.rand(10, 2)
    fb = Probe(net, classes=3).first_batch(x, torch.zeros(10, dtype=torch.long), nn.CrossEntropyLoss())
    assert fb["hidden"][0]["saturated_fraction"] == pytest.approx(0.5)


class Blowup(nn.Module):
    def forward(self, x):
        return x * float("inf")


def test_first_nonfinite_module_in_forward_order():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(20, 8), nn.ReLU(), Blowup(), nn.Linear(8, 5), nn.ReLU(), nn.Linear(5, 5))
    x, y = batch()
    x[0, 0] = 1.0  # keep at least one positive unit so inf appears
    probe = Probe(net, classes=5)
    fb = probe.first_batch(x, y, nn.CrossEntropyLoss())
    assert fb["nonfinite"] == {"module": "2", "stage": "forward"}
    assert fb["loss"] is None  # NaN/Inf are None in the entry and null in the file
    text = json.dumps(probe.record(), allow_nan=False)  # NaN/Inf written as null
    assert "NaN" not in text and "Infinity" not in text


def test_first_batch_inside_no_grad():
    torch.manual_seed(0)
    net = mlp()
    x, y = batch()
    with torch.no_grad():
        fb = Probe(net, classes=5).first_batch(x, y, nn.CrossEntropyLoss())
    assert all(g is not None and g > 0 for g in fb["grad_norms"])


def test_bad_arguments_are_refused_with_their_name():
    net = mlp()
    with pytest.raises(TypeError, match="model"):
        Probe("not a model")
    with pytest.raises(ValueError, match="classes"):
        Probe(net, classes=0)
    with pytest.raises(ValueError, match="every"):
        Probe(net, every=0)
    with pytest.raises(ValueError, match="epsilon"):
        Probe(net, epsilon=0.0)
