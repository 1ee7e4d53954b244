"""Under torch.distributed (DDP, gloo, two CPU processes) the record equals one process's over the same
global batch: statistics are reduced across ranks, not taken from rank 0's shard; only rank 0 writes."""

import json
import math
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn

from preflight_probe import Probe

ROWS = 48


def make_model():
    torch.manual_seed(7)
    net = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 5))
    with torch.no_grad():
        net[0].weight[0].fill_(0.2)
        net[0].bias[0] = -3.0  # unit 0 is active only on the second half of the batch (scaled inputs)
    return net


def make_batch():
    g = torch.Generator().manual_seed(3)
    x = torch.rand(ROWS, 20, generator=g)
    x[ROWS // 2:] *= 3.0
    y = torch.randint(0, 5, (ROWS,), generator=g)
    return x, y


def run(model, x, y, path):
    """What a training script does: first batch, one watched SGD step, an epoch, save."""
    probe = Probe(model, classes=5, name="ddp", every=1)
    probe.first_batch(x, y, nn.CrossEntropyLoss())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    probe.watch(opt)
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    probe.end_epoch(train_loss=loss.item())
    return probe.save(path)


def worker(rank, world, port, folder):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        x, y = make_batch()
        per = ROWS // world
        shard = slice(rank * per, (rank + 1) * per)
        ddp = nn.parallel.DistributedDataParallel(make_model())
        written = run(ddp, x[shard], y[shard], os.path.join(folder, f"rank{rank}.json"))
        assert (written is None) == (rank != 0)
    finally:
        dist.destroy_process_group()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def numbers(a, b, path=""):
    """Pairs of numbers at the same place in two JSON values (and the structure must match)."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            yield from numbers(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (u, v) in enumerate(zip(a, b)):
            yield from numbers(u, v, f"{path}[{i}]")
    elif isinstance(a, (int, float)) and not isinstance(a, bool):
        yield path, a, b
    else:
        assert a == b, path


def test_two_processes_give_the_one_process_record(tmp_path):
    for attempt in range(3):  # the free port may be taken by another program before rank 0 binds it
        try:
            mp.spawn(worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
            break
        except mp.ProcessRaisedException as e:
            if attempt == 2 or "address already in use" not in str(e).lower():
                raise
    assert sorted(os.listdir(tmp_path)) == ["rank0.json"]  # only rank 0 wrote
    ddp = json.loads((tmp_path / "rank0.json").read_text())["runs"][0]

    x, y = make_batch()
    single = json.loads(open(run(make_model(), x, y, str(tmp_path / "one.json"))).read())["runs"][0]
    half = Probe(make_model(), classes=5).first_batch(x[:ROWS // 2], y[:ROWS // 2], nn.CrossEntropyLoss())

    fb_d, fb_s = ddp["first_batch"], single["first_batch"]
    assert fb_d["batch_size"] == ROWS
    for where, u, v in numbers(fb_d, fb_s, "first_batch"):
        assert math.isclose(u, v, rel_tol=1e-5, abs_tol=1e-9), (where, u, v)
    for key in ("hidden", "layers"):
        for where, u, v in numbers(ddp["epochs"][0][key], single["epochs"][0][key], key):
            assert math.isclose(u, v, rel_tol=1e-5, abs_tol=1e-9), (where, u, v)
    assert ddp["epochs"][0]["train_loss"] == pytest.approx(single["epochs"][0]["train_loss"], rel=1e-5)
    # the fixture can tell a reduced record from rank 0's shard alone
    assert half["hidden"][0]["dead_fraction"] > fb_s["hidden"][0]["dead_fraction"]
    assert half["hidden"][0]["mean"] < 0.9 * fb_s["hidden"][0]["mean"]
    assert half["input_max"] < fb_s["input_max"]
