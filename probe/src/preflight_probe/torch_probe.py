"""The PyTorch probe: `Probe(model, classes=10, name="run", epsilon=1e-7, every=None)`.

- `first_batch(inputs, targets, loss_fn)`: one forward (hooks on every leaf module) and one backward,
  no optimiser step; the model is left exactly as it was (train/eval flags, every `.grad`, buffers, RNG).
- `watch(optimizer)`: from then on every `every`-th optimiser step is sampled: the outputs of the leaf
  modules in that step's forward, the gradient norms (step pre-hook) and the update ratios ‖Δw‖/‖w‖
  (step post-hook).
- `end_epoch(...)`, `save(path)`: one epoch entry; the record (schema version 2), atomically.

Statistics are reduced on the model's device into a few scalars per module; under torch.distributed
the sums, counts and maxima are all-reduced across ranks; one host transfer per sampled step.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.distributed as dist
from torch import nn

from . import record as R

DEFAULT_EVERY = 100
"""Sample one optimiser step in this many when `every` is not given (see bench_overhead.py)."""

_F64 = torch.float64

_ACTIVATIONS: Dict[type, str] = {}
for _cls, _name in [
    ("ReLU", "relu"), ("ReLU6", "relu6"), ("LeakyReLU", "leaky_relu"), ("PReLU", "prelu"), ("RReLU", "rrelu"),
    ("ELU", "elu"), ("SELU", "selu"), ("CELU", "celu"), ("GELU", "gelu"), ("SiLU", "silu"), ("Mish", "mish"),
    ("Tanh", "tanh"), ("Sigmoid", "sigmoid"), ("Hardtanh", "hardtanh"), ("Hardsigmoid", "hard_sigmoid"),
    ("Hardswish", "hard_swish"), ("Softplus", "softplus"), ("Softsign", "softsign"), ("Softmax", "softmax"),
    ("LogSoftmax", "log_softmax"), ("Softmin", "softmin"), ("LogSigmoid", "log_sigmoid"),
    ("Tanhshrink", "tanhshrink"), ("GLU", "glu"), ("Threshold", "threshold"), ("Hardshrink", "hardshrink"),
    ("Softshrink", "softshrink"),
]:
    if hasattr(nn, _cls):
        _ACTIVATIONS[getattr(nn, _cls)] = _name

_NORMS = tuple(getattr(nn, c) for c in ("LayerNorm", "GroupNorm", "LocalResponseNorm", "RMSNorm") if hasattr(nn, c))
_POOLS = tuple(getattr(nn.modules.pooling, c) for c in
               ("_MaxPoolNd", "_AvgPoolNd", "_AdaptiveAvgPoolNd", "_AdaptiveMaxPoolNd", "_LPPoolNd", "_MaxUnpoolNd")
               if hasattr(nn.modules.pooling, c))
# Modules hooked as one unit although they have children (their children are not called as modules).
_ATOMIC = (nn.MultiheadAttention,)


def layer_type(m: nn.Module) -> Tuple[str, Optional[str]]:
    """(schema type, activation name or None) of a module."""
    for cls, name in _ACTIVATIONS.items():
        if type(m) is cls or isinstance(m, cls):
            return "activation", name
    if isinstance(m, (nn.Linear, nn.Bilinear)):
        return "dense", None
    if isinstance(m, nn.modules.conv._ConvNd):
        return "conv", None
    if isinstance(m, nn.modules.batchnorm._NormBase) or isinstance(m, _NORMS):
        return "norm", None
    if isinstance(m, nn.modules.dropout._DropoutNd):
        return "dropout", None
    if _POOLS and isinstance(m, _POOLS):
        return "pool", None
    if isinstance(m, (nn.Embedding, nn.EmbeddingBag)):
        return "embedding", None
    if isinstance(m, nn.MultiheadAttention):
        return "attention", None
    return "other", None


def _sizes(m: nn.Module) -> Dict[str, int]:
    if isinstance(m, nn.Linear):
        return {"inputs": m.in_features, "outputs": m.out_features}
    if isinstance(m, nn.Bilinear):
        return {"inputs": m.in1_features + m.in2_features, "outputs": m.out_features}
    if isinstance(m, nn.modules.conv._ConvNd):
        return {"inputs": m.in_channels, "outputs": m.out_channels}
    if isinstance(m, (nn.Embedding, nn.EmbeddingBag)):
        return {"inputs": m.num_embeddings, "outputs": m.embedding_dim}
    if isinstance(m, nn.MultiheadAttention):
        return {"inputs": m.embed_dim, "outputs": m.embed_dim}
    return {}


def first_tensor(x: Any) -> Optional[torch.Tensor]:
    """The tensor a module's or model's output stands for: itself; a tuple's/list's first tensor; a dict's
    'logits' (or 'out') entry or its first tensor."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, Mapping):
        for k in ("logits", "out", "output"):
            if k in x:
                t = first_tensor(x[k])
                if t is not None:
                    return t
        for v in x.values():
            t = first_tensor(v)
            if t is not None:
                return t
        return None
    if isinstance(x, (tuple, list)):
        for v in x:
            t = first_tensor(v)
            if t is not None:
                return t
    return None


def _unwrap(model: nn.Module) -> nn.Module:
    wrappers = (nn.parallel.DistributedDataParallel, nn.DataParallel)
    while isinstance(model, wrappers):
        model = model.module
    return model


def _world() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def _rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def _collective_device(fallback: torch.device) -> torch.device:
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return fallback if fallback.type == "cpu" else torch.device("cpu")


class _Acc:
    """One module call's sums on the device (over every captured forward of a step): `sums` holds
    (sum, sum of squares, zeros, values above 1, tanh/sigmoid beyond ±5) in float64, `mx` the largest
    value, `pos` each unit's count of values above 0; `n` (values) is known on the host."""

    __slots__ = ("n", "sums", "mx", "pos")

    def __init__(self, n: int, sums: torch.Tensor, mx: torch.Tensor, pos: torch.Tensor) -> None:
        self.n, self.sums, self.mx, self.pos = n, sums, mx, pos

    def add(self, other: "_Acc") -> None:
        self.n += other.n
        self.sums = self.sums + other.sums
        self.mx = torch.maximum(self.mx, other.mx)
        if self.pos.shape == other.pos.shape:
            self.pos = self.pos + other.pos


class _Sink:
    """Where the leaf hooks put what they see."""

    def __init__(self, capture_all: bool) -> None:
        self.capture_all = capture_all
        self.order: List[str] = []
        self.info: Dict[str, Dict[str, Any]] = {}
        self.acc: Dict[str, _Acc] = {}
        self.rows = 0  # samples in the captured training forwards


def _tensor_sums(y: torch.Tensor, unit_dim: int, activation: Optional[str]) -> _Acc:
    """A handful of reductions on the device; nothing crosses to the host."""
    y = y.detach()
    if not y.is_floating_point():
        y = y.float()
    if activation == "tanh":
        sat = torch.sum(y.abs() > R.TANH_5, dtype=_F64)
    elif activation == "sigmoid":
        sat = torch.sum((y > R.SIGMOID_5) | (y < R.SIGMOID_M5), dtype=_F64)
    else:
        sat = torch.zeros((), dtype=_F64, device=y.device)
    # a NaN/Inf value makes the float64 sum or sum of squares non-finite: no separate count needed
    sums = torch.stack([torch.sum(y, dtype=_F64), torch.sum(torch.square(y), dtype=_F64),
                        torch.sum(y == 0, dtype=_F64), torch.sum(y > 1, dtype=_F64), sat])
    if y.dim() <= 1:
        pos = torch.sum(y > 0, dtype=_F64).reshape(1)
    else:
        d = unit_dim % y.dim()
        yy = y if d == y.dim() - 1 else y.movedim(d, -1)
        pos = torch.sum((yy > 0).reshape(-1, yy.shape[-1]), 0, dtype=_F64)
    return _Acc(y.numel(), sums, y.max(), pos)


class Probe:
    """Records what Preflight's rules need from a PyTorch model. See the module's doc."""

    def __init__(self, model: nn.Module, classes: Optional[int] = 10, name: str = "run",
                 epsilon: float = 1e-7, every: Optional[int] = None) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"Probe: model must be a torch.nn.Module, not {type(model).__name__}")
        if classes is not None and (not isinstance(classes, int) or classes < 1):
            raise ValueError(f"Probe: classes must be a positive int or None (regression), not {classes!r}")
        if every is not None and (not isinstance(every, int) or every < 1):
            raise ValueError(f"Probe: every must be a positive int or None, not {every!r}")
        if not (0 < epsilon < 0.5):
            raise ValueError(f"Probe: epsilon must be in (0, 0.5), not {epsilon!r}")
        self.model = model
        self.inner = _unwrap(model)
        self.classes = classes
        self.name = name
        self.epsilon = float(epsilon)
        self.every = every if every is not None else DEFAULT_EVERY
        self.config: Dict[str, Any] = {"epsilon": self.epsilon}
        seed = torch.initial_seed()
        if seed < 2 ** 53:  # a seed the script set (torch's own default is a random 64-bit number)
            self.config["seed"] = seed
        self.source: Dict[str, Optional[str]] = {"script": R.script_name(), "model": None}
        self.warnings: List[str] = []
        self.first: Optional[Dict[str, Any]] = None
        self.epochs: List[Dict[str, Any]] = []
        self.nonfinite: Optional[Dict[str, Any]] = None
        self._layers: Optional[List[Dict[str, Any]]] = None
        self._order: Dict[str, int] = {}  # module name -> forward position (first call)
        # leaf modules (atomic ones count as leaves; their children are skipped)
        self._leaves: List[Tuple[str, nn.Module]] = []
        skip: List[str] = []
        self._root_leaf: Optional[str] = None
        for n, m in self.inner.named_modules():
            if any(s == "" or n.startswith(s + ".") for s in skip):
                continue
            atomic = isinstance(m, _ATOMIC)
            if atomic:
                skip.append(n)
            if atomic or next(m.children(), None) is None:
                if n == "":
                    n = self._root_leaf = "model"
                self._leaves.append((n, m))
        self._leaf_index = {n: m for n, m in self._leaves}
        self._kinds = {id(m): layer_type(m) for _, m in self._leaves}
        self._handles: List[Any] = []
        self._sink: Optional[_Sink] = None
        self._calls: Dict[str, int] = {}
        self._channels_first = False
        # watching
        self._optimizer: Optional[torch.optim.Optimizer] = None
        self._watch_handles: List[Any] = []
        self._step = 0
        self._sampling = False
        self._pending: Optional[Tuple[List[Tuple[str, torch.Tensor]], List[Tuple[str, torch.Tensor]], torch.Tensor]] = None
        self._samples: List[Dict[str, Any]] = []
        self._epoch_batches = 0
        self._epoch_t0 = time.perf_counter()
        self._in_first_batch = False
        self._failed = False
        self._weights: Optional[List[Tuple[str, nn.Parameter]]] = None
        self._epoch_pos: Dict[str, torch.Tensor] = {}
        self._sink_step: Optional[_Sink] = None  # the sampled step's forward, between the step's two hooks

    # ---------------------------------------------------------------- hooks

    def _install(self) -> None:
        if self._handles:
            return
        for n, m in self._leaves:
            self._handles.append(m.register_forward_hook(self._make_hook(n, m)))
        self._handles.append(self.inner.register_forward_pre_hook(self._on_forward_start))

    def _remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def _on_forward_start(self, module: nn.Module, args: Any) -> None:
        self._calls = {}
        self._channels_first = False
        sink = self._sink
        if sink is not None and not sink.capture_all and module.training and torch.is_grad_enabled():
            x = first_tensor(args)
            if x is not None and x.dim() >= 1:
                sink.rows += int(x.shape[0])

    def _make_hook(self, name: str, module: nn.Module) -> Callable[..., None]:
        kind, activation = self._kinds[id(module)]

        def hook(mod: nn.Module, inputs: Any, output: Any) -> None:
            sink = self._sink
            if sink is None:
                return
            try:
                if not sink.capture_all and not (self.inner.training and torch.is_grad_enabled()):
                    return
                k = self._calls.get(name, 0) + 1
                self._calls[name] = k
                if kind in ("dense", "embedding", "attention"):
                    self._channels_first = False
                elif kind == "conv":
                    self._channels_first = True
                y = first_tensor(output)
                if y is None or y.dim() == 0:
                    return
                key = name if k == 1 else f"{name}#{k}"
                if y.dim() >= 4 or kind == "conv" or (y.dim() == 3 and self._channels_first):
                    unit_dim = 1
                else:
                    unit_dim = -1
                acc = _tensor_sums(y, unit_dim, activation)
                if key in sink.acc:
                    sink.acc[key].add(acc)
                else:
                    sink.order.append(key)
                    info: Dict[str, Any] = {"name": key, "type": kind}
                    if activation:
                        info["activation"] = activation
                    info.update(_sizes(mod))
                    if isinstance(mod, nn.Flatten):
                        info["flatten"] = True
                    info["parameters"] = sum(p.numel() for p in mod.parameters()) if k == 1 else 0
                    sink.info[key] = info
                    sink.acc[key] = acc
            except Exception as e:  # never break the user's forward
                self._fail(f"forward hook of {name}", e)

        return hook

    def _fail(self, where: str, e: BaseException) -> None:
        msg = f"{where}: {type(e).__name__}: {e}"
        self.warnings.append(msg)
        if not self._failed:
            warnings.warn(f"preflight probe: {msg}; the probe stops sampling, training goes on", RuntimeWarning)
        self._failed = True
        self._sampling = False
        self._sink = None
        if not self._in_first_batch:
            self._remove()

    # ---------------------------------------------------------------- reduction

    def _fetch(self, sink: _Sink, global_sums: Sequence[torch.Tensor], global_max: Sequence[torch.Tensor],
               local: Sequence[torch.Tensor], device: torch.device) -> Tuple[List[Dict[str, float]], List[float], List[float], List[float]]:
        """All-reduces the sums (SUM) and maxima (MAX) across ranks, counts dead units on the device, and
        brings everything to the host in one transfer. Returns (per-module sums, the global sums, the
        global maxima, the local values) as floats."""
        accs = [sink.acc[k] for k in sink.order]
        M, F = len(accs), 5
        units = [a.pos.numel() for a in accs]
        parts: List[torch.Tensor] = []
        if accs:
            parts += [torch.stack([a.sums.to(device) for a in accs]).reshape(-1),
                      torch.tensor([float(a.n) for a in accs], dtype=_F64, device=device),
                      torch.cat([a.pos.to(device) for a in accs])]
        parts += [t.reshape(-1).to(device, _F64) for t in global_sums]
        maxes: List[torch.Tensor] = []
        if accs:
            maxes.append(torch.stack([a.mx.to(device, _F64) for a in accs]))
        maxes += [t.reshape(-1).to(device, _F64) for t in global_max]
        sumvec = torch.cat(parts) if parts else torch.zeros(0, dtype=_F64, device=device)
        maxvec = torch.cat(maxes) if maxes else torch.zeros(0, dtype=_F64, device=device)
        if _world() > 1:
            cdev = _collective_device(device)
            sv, mv = sumvec.to(cdev), maxvec.to(cdev)
            dist.all_reduce(sv, op=dist.ReduceOp.SUM)
            dist.all_reduce(mv, op=dist.ReduceOp.MAX)
            sumvec, maxvec = sv.to(device), mv.to(device)
        pos_start = (F + 1) * M
        out_parts = [sumvec[:pos_start]]
        if accs:
            pos = sumvec[pos_start:pos_start + sum(units)]
            owner = torch.repeat_interleave(torch.arange(M, device=device), torch.tensor(units, device=device))
            dead = torch.zeros(M, dtype=_F64, device=device).index_add_(0, owner, (pos == 0).to(_F64))
            out_parts.append(dead)
            off = pos_start
            for a, u in zip(accs, units):
                a.pos = pos[off - pos_start:off - pos_start + u]  # the reduced counts, kept on the device
                off += u
        out_parts += [sumvec[pos_start + sum(units):], maxvec] + [t.reshape(-1).to(device, _F64) for t in local]
        host = torch.cat(out_parts).cpu().tolist()  # the one host transfer
        out: List[Dict[str, float]] = []
        for i in range(M):
            s, ss, zeros, above, sat = host[F * i:F * (i + 1)]
            out.append({"n": host[F * M + i], "s": s, "ss": ss, "zeros": zeros, "above": above, "sat": sat,
                        "nonfinite": 0.0 if math.isfinite(s) and math.isfinite(ss) else 1.0,
                        "dead": host[pos_start + i], "units": float(units[i])})
        p = pos_start + M
        n_gs = sum(t.numel() for t in global_sums)
        gs = host[p:p + n_gs]
        p += n_gs
        for i in range(M):
            out[i]["max"] = host[p + i]
        p += M
        n_gm = sum(t.numel() for t in global_max)
        gm = host[p:p + n_gm]
        return out, gs, gm, host[p + n_gm:]

    # ---------------------------------------------------------------- helpers

    def _owner(self, pname: str) -> Optional[str]:
        """The leaf module (by name) a parameter belongs to: its own module, or the atomic leaf above it."""
        parts = pname.split(".")[:-1]
        while parts:
            n = ".".join(parts)
            if n in self._leaf_index:
                return n
            parts.pop()
        return self._root_leaf

    def _params(self) -> List[Tuple[str, nn.Parameter, bool]]:
        """(name, parameter, is a weight layer's weight) in forward order of their modules."""
        items = []
        by_name = self._leaf_index
        for i, (n, p) in enumerate(self.inner.named_parameters()):
            owner = self._owner(n)
            kind = self._kinds[id(by_name[owner])][0] if owner in by_name else "other"
            is_weight = p.dim() >= 2 and kind not in ("embedding", "norm") and p.requires_grad
            pos = self._order.get(owner, len(self._order) + 1) if owner else len(self._order) + 1
            items.append((pos, i, n, p, is_weight))
        items.sort(key=lambda t: (t[0], t[1]))
        return [(n, p, w) for _, _, n, p, w in items]

    def _layers_from(self, sink: _Sink) -> List[Dict[str, Any]]:
        return [dict(sink.info[k]) for k in sink.order]

    def _describe(self, layers: List[Dict[str, Any]]) -> str:
        sizes = R.mlp_sizes(layers)
        params = sum(p.numel() for p in self.inner.parameters())
        cls = type(self.inner).__name__
        if sizes:
            return f"MLP {'-'.join(str(s) for s in sizes)} ({cls}, {len(layers)} modules)"
        return f"{cls} ({len(layers)} modules, {params} parameters)"

    def _adopt_layers(self, sink: _Sink) -> None:
        if self._layers is not None or not sink.order:
            return
        self._layers = self._layers_from(sink)
        for i, k in enumerate(sink.order):
            base = k.split("#")[0]
            self._order.setdefault(base, i)
        sizes = R.adopt_layer_config(self.config, self._layers)
        if self.source.get("model") is None:
            self.source["model"] = self._describe(self._layers)

    def _stats_lists(self, sink: _Sink, mods: List[Dict[str, float]]) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
        layers = self._layers_from(sink)
        modules = []
        for k, d in zip(sink.order, mods):
            s = R.module_stats(d)
            s.pop("saturated_fraction")
            modules.append({"name": k, "type": sink.info[k]["type"], **s})
        hidden = []
        for i in R.hidden_indices(layers):
            k = sink.order[i]
            hidden.append({"name": k, "type": layers[i]["type"], **R.module_stats(mods[i])})
        return hidden, modules

    # ---------------------------------------------------------------- first batch

    def first_batch(self, inputs: Any, targets: Any, loss_fn: Callable[[Any, Any], torch.Tensor], *,
                    train: bool = True) -> Dict[str, Any]:
        """One forward and backward on (inputs, targets), no optimiser step; records the first batch and
        returns its entry. `inputs`: a tensor, a tuple/list (unpacked as positional arguments) or a dict
        (keyword arguments). The pass runs in training mode (`train=False`: eval mode); afterwards every
        module's train/eval flag, every parameter's `.grad`, every buffer and the RNG state are restored."""
        model, inner = self.model, self.inner
        params = list(inner.parameters())
        saved_grads = [p.grad for p in params]
        flags = [(m, m.training) for m in model.modules()]
        with torch.no_grad():
            buffers = [(b, b.detach().clone()) for b in inner.buffers()]
        rng = torch.get_rng_state()
        cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
        sink = _Sink(capture_all=True)
        previous_sink, was_installed = self._sink, bool(self._handles)
        self._in_first_batch = True
        try:
            model.train(train)
            for p in params:
                p.grad = None
            self._install()
            self._sink = sink
            self._calls, self._channels_first = {}, False
            with torch.enable_grad():  # also when called inside torch.no_grad()
                if isinstance(inputs, Mapping):
                    output = model(**inputs)
                elif isinstance(inputs, (tuple, list)):
                    output = model(*inputs)
                else:
                    output = model(inputs)
                self._sink = None
                loss = loss_fn(output, targets)
                if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                    raise TypeError("first_batch: loss_fn must return a scalar tensor (mean over the batch)")
                loss.backward()
            if _world() > 1 and not isinstance(model, nn.parallel.DistributedDataParallel):
                self._average_grads(params)
            entry = self._first_entry(sink, inputs, output, targets, loss)
        finally:
            self._sink = previous_sink
            if not was_installed:
                self._remove()
            self._in_first_batch = False
            for p, g in zip(params, saved_grads):
                p.grad = g
            with torch.no_grad():
                for b, v in buffers:
                    b.copy_(v)
            for m, f in flags:
                m.training = f
            torch.set_rng_state(rng)
            if cuda_rng is not None:
                torch.cuda.set_rng_state_all(cuda_rng)
        self.first = R.clean(entry)
        return self.first

    def _average_grads(self, params: Sequence[nn.Parameter]) -> None:
        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        dev = _collective_device(flat.device)
        f = flat.to(dev)
        dist.all_reduce(f, op=dist.ReduceOp.SUM)
        f = (f / _world()).to(flat.device)
        off = 0
        for g in grads:
            g.copy_(f[off:off + g.numel()].reshape(g.shape))
            off += g.numel()

    def _class_dim(self, out: torch.Tensor) -> int:
        if out.dim() >= 3 and self.classes is not None and out.shape[1] == self.classes and out.shape[-1] != self.classes:
            return 1
        return -1

    def _first_entry(self, sink: _Sink, inputs: Any, output: Any, targets: Any, loss: torch.Tensor) -> Dict[str, Any]:
        self._adopt_layers(sink)
        x = first_tensor(inputs)
        out = first_tensor(output)
        if out is None:
            raise TypeError("first_batch: the model's output holds no tensor")
        device = out.device
        out = out.detach()
        rows = out.shape[0] if out.dim() >= 1 else 1
        width = out.shape[-1] if out.dim() >= 1 else 1
        zero = torch.zeros((), dtype=_F64, device=device)
        has_classes = self.classes is not None and out.dim() >= 1
        # class statistics for the three readings of the output (logits, probabilities, log-probabilities);
        # the flags say which one the output is; the host picks after the one transfer
        cls_stats = [zero] * 8
        correct = zero
        acc_rows = 0
        if has_classes:
            cd = self._class_dim(out)
            width = out.shape[cd]
            z = out.to(_F64)
            tol = 1e-4
            finite = torch.isfinite(z).all()
            is_prob = finite & ((z >= -1e-6) & (z <= 1 + 1e-6)).all() & ((z.sum(cd) - 1).abs() < tol).all()
            is_logp = finite & (z <= 1e-6).all() & (torch.logsumexp(z, cd).abs() < tol).all()
            cls_stats = [is_prob.to(_F64), is_logp.to(_F64)]
            for p in (torch.softmax(z, cd), z, z.exp()):
                cls_stats += [torch.sum(p < self.epsilon, dtype=_F64), torch.sum(p > 1 - self.epsilon, dtype=_F64)]
            t = targets.detach() if isinstance(targets, torch.Tensor) else None
            if t is not None:
                pred = z.argmax(cd)
                if not t.is_floating_point() and t.shape == pred.shape:
                    correct = torch.sum(pred == t.to(pred.device), dtype=_F64)
                    acc_rows = pred.numel()
                elif t.is_floating_point() and t.shape == z.shape:
                    correct = torch.sum(pred == t.to(device).argmax(cd), dtype=_F64)
                    acc_rows = pred.numel()
        count_p = float(out.numel()) if has_classes else 0.0
        # gradients: one norm per parameter (DDP's gradients are already the global batch's)
        named = self._params()
        nan = torch.full((), float("nan"), dtype=_F64, device=device)
        norms = [torch.linalg.vector_norm(p.grad.detach().to(_F64)).to(device) if p.grad is not None else nan
                 for _, p, _ in named]
        xin = x.detach() if x is not None and x.numel() else None
        if xin is not None and not xin.is_floating_point():
            xin = xin.float()
        counts = torch.tensor([float(rows), float(acc_rows), count_p], dtype=_F64, device=device)
        gsum = [loss.detach().to(_F64) * rows, counts, correct] + cls_stats
        gmax = [xin.max().to(_F64) if xin is not None else nan, -xin.min().to(_F64) if xin is not None else nan]
        local = [torch.stack(norms)] if norms else []
        mods, gs, gm, lc = self._fetch(sink, gsum, gmax, local, device)
        loss_sum, n_rows, n_acc, n_p, n_correct = gs[:5]
        kind: Optional[str] = None
        n_low = n_high = 0.0
        if has_classes:
            world = _world()
            flag_prob, flag_logp = gs[5] == world, gs[6] == world
            kind = "softmax" if flag_prob else ("log_softmax" if flag_logp else "logits")
            k = {"logits": 0, "softmax": 1, "log_softmax": 2}[kind]
            n_low, n_high = gs[7 + 2 * k], gs[8 + 2 * k]
        hidden, modules = self._stats_lists(sink, mods)
        grad = [v if v == v else None for v in lc]
        weights = [(n, g) for (n, _, w), g in zip(named, grad) if w]
        nonfinite = None
        for k, d in zip(sink.order, mods):
            if d["nonfinite"] > 0:
                nonfinite = {"module": k, "stage": "forward"}
                break
        if nonfinite is None:
            for (n, _, _), g in zip(named, grad):
                if g is not None and not math.isfinite(g):
                    nonfinite = {"module": self._owner(n) or n, "stage": "backward"}
                    break
        entry: Dict[str, Any] = {
            "loss": loss_sum / n_rows if n_rows else None,
            "saturated_fraction": (n_low + n_high) / n_p if has_classes and n_p else None,
            "low_fraction": n_low / n_p if has_classes and n_p else None,
            "high_fraction": n_high / n_p if has_classes and n_p else None,
            "accuracy": n_correct / n_acc if has_classes and n_acc else None,
            "batch_size": int(n_rows),
            "input_min": -gm[1] if xin is not None else None,
            "input_max": gm[0] if xin is not None else None,
            "output_kind": kind,
            "outputs": int(width),
            "grad_norms": [g for _, g in weights],
            "grad_norm_names": [n for n, _ in weights],
            "parameters": [{"name": n, "grad_norm": g} for (n, _, _), g in zip(named, grad)],
            "hidden": hidden,
            "modules": modules,
            "nonfinite": nonfinite,
        }
        self.config.setdefault("batch", int(n_rows))
        return entry

    # ---------------------------------------------------------------- watching

    def watch(self, optimizer: torch.optim.Optimizer) -> "Probe":
        """Samples every `every`-th optimiser step from now on (the first step is sampled)."""
        if self._optimizer is not None:
            raise RuntimeError("watch: this probe already watches an optimizer")
        self._optimizer = optimizer
        self._watch_handles = [optimizer.register_step_pre_hook(self._on_step_pre),
                               optimizer.register_step_post_hook(self._on_step_post)]
        g = optimizer.param_groups[0] if optimizer.param_groups else {}
        self.config.setdefault("optimizer", type(optimizer).__name__.lower())
        if "lr" in g:
            lr = g["lr"]
            self.config.setdefault("learning_rate", float(lr.item() if isinstance(lr, torch.Tensor) else lr))
        if "momentum" in g and g["momentum"]:
            self.config.setdefault("momentum", float(g["momentum"]))
        self._epoch_t0 = time.perf_counter()
        self._arm()
        return self

    def unwatch(self) -> None:
        """Stops watching (removes every hook the probe put on the model and the optimiser)."""
        for h in self._watch_handles:
            h.remove()
        self._watch_handles = []
        self._optimizer = None
        self._sampling = False
        self._sink = None
        self._remove()

    def _arm(self) -> None:
        if self._failed:
            return
        self._sampling = True
        self._sink = _Sink(capture_all=False)
        self._install()

    def _on_step_pre(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        self._step += 1
        self._epoch_batches += 1
        if not self._sampling:
            return
        try:
            self._sink_step = self._sink
            self._sink = None
            if self._weights is None or self._layers is None:
                self._weights = [(n, p) for n, p, w in self._params() if w]
            named = self._weights
            device = named[0][1].device if named else torch.device("cpu")
            nan = torch.full((), float("nan"), device=device)
            norms = [torch.linalg.vector_norm(p.grad.detach()).to(device, torch.float32) if p.grad is not None else nan
                     for _, p in named]
            before = [(n, p.detach().clone()) for n, p in named]
            self._pending = (named, before, torch.stack(norms).to(_F64) if norms else torch.zeros(0, dtype=_F64, device=device))
        except Exception as e:
            self._fail("optimizer step pre-hook", e)

    def _on_step_post(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        try:
            if self._pending is not None:
                named, before, sq = self._pending
                self._pending = None
                sink = self._sink_step or _Sink(capture_all=False)
                self._sink_step = None
                self._remove()
                self._sampling = False
                self._adopt_layers(sink)
                device = sq.device
                diff = [torch.linalg.vector_norm(p.detach() - b).to(device, torch.float32) for (_, p), (_, b) in zip(named, before)]
                wn = [torch.linalg.vector_norm(b).to(device, torch.float32) for _, b in before]
                local = [sq, torch.stack(diff + wn)] if named else []
                mods, _, _, lc = self._fetch(sink, [], [], local, device)
                k = len(named)
                gnorm, dn, wnorm = lc[:k], lc[k:2 * k], lc[2 * k:3 * k]
                hidden, _ = self._stats_lists(sink, mods)
                for h in hidden:  # units active in any sampled step of the epoch
                    pos = sink.acc[h["name"]].pos
                    prev = self._epoch_pos.get(h["name"])
                    self._epoch_pos[h["name"]] = pos if prev is None or prev.shape != pos.shape else prev + pos
                layers = []
                for (n, _), g, d, w in zip(named, gnorm, dn, wnorm):
                    layers.append({"name": n, "grad_norm": R.finite_or_none(g),
                                   "update_ratio": R.finite_or_none(d / w) if w > 0 else None})
                self._samples.append({"hidden": hidden, "layers": layers, "rows": sink.rows})
                if self.nonfinite is None:
                    self._note_nonfinite(sink, mods, layers, dn, wnorm, named)
            if self._step % self.every == 0:
                self._arm()
        except Exception as e:
            self._fail("optimizer step post-hook", e)

    def _note_nonfinite(self, sink: _Sink, mods: List[Dict[str, float]], layers: List[Dict[str, Any]],
                        dnorm: List[float], wnorm: List[float], named: List[Tuple[str, nn.Parameter]]) -> None:
        where = None
        for k, d in zip(sink.order, mods):
            if d["nonfinite"] > 0:
                where = ("forward", k)
                break
        if where is None:
            for l in layers:
                if l["grad_norm"] is None:
                    where = ("backward", l["name"])
                    break
        if where is None:
            # A non-finite step or weight, not an undefined ratio: weights that are all zero (init zeros) have
            # no ‖Δw‖/‖w‖, and that is no NaN in training.
            for l, d, w in zip(layers, dnorm, wnorm):
                if not (math.isfinite(d) and math.isfinite(w)):
                    where = ("update", l["name"])
                    break
        if where is not None:
            self.nonfinite = {"epoch": len(self.epochs) + 1, "batch": self._epoch_batches,
                              "stage": where[0], "layer": where[1]}

    # ---------------------------------------------------------------- epochs and saving

    def end_epoch(self, train_loss: Optional[float] = None, train_accuracy: Optional[float] = None,
                  test_loss: Optional[float] = None, test_accuracy: Optional[float] = None, *,
                  complete: bool = True) -> Dict[str, Any]:
        """Closes an epoch: the given metrics (any may be None), time, steps, and the sampled steps' averages.
        Under torch.distributed every rank must call it (the values are averaged across ranks)."""
        seconds = time.perf_counter() - self._epoch_t0
        values = [train_loss, train_accuracy, test_loss, test_accuracy]
        # samples: the steps times the mean batch of the sampled steps (unsampled steps are not looked at)
        seen = [x["rows"] for x in self._samples if x["rows"]]
        rows = round(self._epoch_batches * sum(seen) / len(seen)) if seen else 0
        if _world() > 1:
            vec = [float(v) if v is not None else 0.0 for v in values] + [1.0 if v is not None else 0.0 for v in values] + [float(rows)]
            t = torch.tensor(vec, dtype=_F64, device=_collective_device(torch.device("cpu")))
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
            host = t.cpu().tolist()
            values = [host[i] / host[4 + i] if host[4 + i] > 0 else None for i in range(4)]
            rows = int(host[8])
        hidden_avg: List[Dict[str, Any]] = []
        layers_avg: List[Dict[str, Any]] = []
        if self._samples:
            names = [h["name"] for h in self._samples[0]["hidden"]]
            for n in names:
                items = [h for s in self._samples for h in s["hidden"] if h["name"] == n]
                hidden_avg.append(R.average(items))
            # dead units over the epoch: never above 0 in any sampled step (as Preflight counts over the epoch),
            # not the mean of each step's share
            names_pos = [h["name"] for h in hidden_avg if h["name"] in self._epoch_pos]
            if names_pos:
                dead = torch.stack([(self._epoch_pos[n] == 0).sum().to(_F64) / self._epoch_pos[n].numel()
                                    for n in names_pos]).cpu().tolist()
                for h in hidden_avg:
                    if h["name"] in self._epoch_pos:
                        h["dead_fraction"] = dead[names_pos.index(h["name"])]
            for l in self._samples[0]["layers"]:
                items = [x for s in self._samples for x in s["layers"] if x["name"] == l["name"]]
                layers_avg.append(R.average(items))
        entry = {
            "epoch": len(self.epochs) + 1,
            "train_loss": R.finite_or_none(values[0]), "train_accuracy": R.finite_or_none(values[1]),
            "test_loss": R.finite_or_none(values[2]), "test_accuracy": R.finite_or_none(values[3]),
            "seconds": seconds,
            "samples_per_second": (rows / seconds) if rows and seconds > 0 else None,
            "batches": self._epoch_batches, "complete": bool(complete),
            "hidden": hidden_avg, "layers": layers_avg, "sampled_steps": len(self._samples),
        }
        self.epochs.append(entry)
        self._samples = []
        self._epoch_pos = {}
        self._epoch_batches = 0
        self._epoch_t0 = time.perf_counter()
        return entry

    def record(self) -> Dict[str, Any]:
        """The run as a schema-2 run object."""
        layers = self._layers
        if layers is None:  # nothing seen yet: registration order
            layers = []
            for n, m in self._leaves:
                kind, act = self._kinds[id(m)]
                l: Dict[str, Any] = {"name": n, "type": kind}
                if act:
                    l["activation"] = act
                l.update(_sizes(m))
                l["parameters"] = sum(p.numel() for p in m.parameters())
                layers.append(l)
        engine = {"name": "pytorch", "version": torch.__version__.split("+")[0], "backend": None}
        return R.run_record(self, engine, layers)

    def save(self, path: str) -> Optional[str]:
        """Writes the record (`{"version": 2, "runs": [this run]}`) atomically. Under torch.distributed only
        rank 0 writes (the others return None)."""
        if _rank() != 0:
            return None
        return R.write_record(path, [self.record()])
