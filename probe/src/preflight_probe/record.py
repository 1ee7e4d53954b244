"""The framework-independent half of the probe: turning reduced sums into statistics, choosing the
hidden layers the rules judge, averaging sampled steps over an epoch, and writing the record
(Preflight's export schema, version 2) atomically with NaN/Inf as JSON null."""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

SCHEMA_VERSION = 2

LAYER_TYPES = ("dense", "conv", "activation", "norm", "dropout", "pool", "embedding", "attention", "other")

# The per-module sums a framework half hands to module_stats: n: values; s: sum; ss: sum of squares;
# zeros: values == 0; above: values > 1; sat: outputs of a tanh/sigmoid whose pre-activation was beyond
# ±5; units: units (features or channels); dead: units never above 0; max: largest value.

# tanh(x) and sigmoid(x) are monotonic, so |x| > 5 can be read from the output alone.
TANH_5 = math.tanh(5.0)
SIGMOID_5 = 1.0 / (1.0 + math.exp(-5.0))
SIGMOID_M5 = 1.0 / (1.0 + math.exp(5.0))


def finite_or_none(x: Optional[float]) -> Optional[float]:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def module_stats(sums: Mapping[str, float]) -> Dict[str, Optional[float]]:
    """mean/std/max/fractions of one module's output from its reduced sums."""
    n = sums["n"]
    units = sums.get("units", 0.0)
    if n <= 0:
        return {"mean": None, "std": None, "max": None, "zero_fraction": None, "above_one_fraction": None,
                "dead_fraction": None, "saturated_fraction": None}
    mean = sums["s"] / n
    var = sums["ss"] / n - mean * mean if math.isfinite(mean) else float("nan")
    std = math.sqrt(max(0.0, var)) if math.isfinite(var) else float("nan")
    return {
        "mean": finite_or_none(mean),
        "std": finite_or_none(std),
        "max": finite_or_none(sums["max"]),
        "zero_fraction": sums["zeros"] / n,
        "above_one_fraction": sums["above"] / n,
        "dead_fraction": (sums["dead"] / units) if units > 0 else None,
        "saturated_fraction": sums["sat"] / n,
    }


def hidden_indices(layers: Sequence[Mapping[str, Any]]) -> List[int]:
    """Which module outputs the hidden-layer rules judge (the schema's choice): the outputs of activation
    modules except the model's last module; without activation modules, the outputs of every dense/conv
    module except the last one. `layers` are the module calls in forward order."""
    if not layers:
        return []
    last = len(layers) - 1
    acts = [i for i, l in enumerate(layers) if l["type"] == "activation" and i != last]
    if acts or any(l["type"] == "activation" for l in layers):
        return acts
    return [i for i, l in enumerate(layers) if l["type"] in ("dense", "conv") and i != last]


def hidden_activation(layers: Sequence[Mapping[str, Any]], hidden: Sequence[int]) -> Optional[str]:
    """The hidden activation's name when every hidden layer agrees (else None)."""
    names = {layers[i].get("activation") for i in hidden}
    if len(names) == 1:
        (a,) = names
        return a
    return None


def mlp_sizes(layers: Sequence[Mapping[str, Any]]) -> Optional[List[int]]:
    """[inputs, hidden…, outputs] when the forward order is a plain MLP (dense layers chained, with only
    activations, dropout and flattening between them), else None."""
    sizes: List[int] = []
    for l in layers:
        t = l["type"]
        if t == "dense":
            if "inputs" not in l or "outputs" not in l:
                return None
            if sizes and sizes[-1] != l["inputs"]:
                return None
            if not sizes:
                sizes.append(int(l["inputs"]))
            sizes.append(int(l["outputs"]))
        elif t in ("activation", "dropout") or l.get("flatten"):
            continue
        else:
            return None
    return sizes if len(sizes) >= 2 else None


def average(items: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
    """Field-wise mean of statistics dicts (a field that is None in any item stays None)."""
    out: Dict[str, Any] = {}
    if not items:
        return out
    for k, v in items[0].items():
        if isinstance(v, str) or k in ("name", "type"):
            out[k] = v
            continue
        vals = [it.get(k) for it in items]
        if any(x is None for x in vals):
            out[k] = None
        else:
            out[k] = finite_or_none(sum(float(x) for x in vals) / len(vals))
    return out


def clean(obj: Any) -> Any:
    """JSON-ready copy: NaN/Inf become None, numpy scalars become Python numbers, tuples become lists."""
    if isinstance(obj, Mapping):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    item = getattr(obj, "item", None)  # numpy / torch scalars
    if callable(item):
        return clean(item())
    return obj


def adopt_layer_config(config: Dict[str, Any], layers: Sequence[Mapping[str, Any]]) -> Optional[List[int]]:
    """Fills `config`'s activation (when every hidden activation agrees) and, for a plain MLP, its layer sizes,
    unless the user set them; returns the MLP's sizes or None."""
    act = hidden_activation(layers, hidden_indices(layers))
    if act is not None:
        config.setdefault("activation", act)
    sizes = mlp_sizes(layers)
    if sizes:
        config.setdefault("layers", sizes)
    return sizes


def run_record(probe: Any, engine: Mapping[str, Any], layers: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
    """One run of a schema-2 record from a probe's state (PyTorch's Probe or the Keras callback: both keep
    name, source, classes, config, first, epochs, nonfinite and warnings under those names)."""
    run: Dict[str, Any] = {
        "name": probe.name,
        "engine": dict(engine),
        "source": dict(probe.source),
        "classes": probe.classes,
        "layers": [{k: v for k, v in l.items() if k != "flatten"} for l in layers],
        "config": dict(probe.config),
        "first_batch": probe.first,
        "epochs": list(probe.epochs),
        "checks": [],
    }
    if probe.nonfinite is not None:
        run["nonfinite"] = probe.nonfinite
    if probe.warnings:
        run["probe_warnings"] = list(probe.warnings)
    return clean(run)


def write_record(path: "os.PathLike[str] | str", runs: Iterable[Mapping[str, Any]]) -> str:
    """Writes {"version": 2, "runs": [...]} to `path` atomically (temporary file in the same folder, then
    rename). Returns the path written."""
    path = os.fspath(path)
    text = json.dumps(clean({"version": SCHEMA_VERSION, "runs": list(runs)}), allow_nan=False, indent=1)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".preflight-", suffix=".json.tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def script_name() -> Optional[str]:
    """The running script, relative to the working folder when inside it."""
    arg = sys.argv[0] if sys.argv and sys.argv[0] not in ("", "-c", "-m") else None
    if not arg or not os.path.exists(arg):
        return None
    full = os.path.abspath(arg)
    rel = os.path.relpath(full)
    return full if rel.startswith("..") else rel


def numpy_sums(y: Any, unit_axis: int = -1, activation: Optional[str] = None) -> Dict[str, float]:
    """The sums module_stats reads, of one output array (numpy; sums in float64). Units lie along
    `unit_axis` (features, or channels)."""
    import numpy as np

    a = np.asarray(y)
    if not np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float32)
    s = float(a.sum(dtype=np.float64))
    ss = float(np.square(a, dtype=np.float64).sum())
    if activation == "tanh":
        sat = int((np.abs(a) > TANH_5).sum())
    elif activation == "sigmoid":
        sat = int(((a > SIGMOID_5) | (a < SIGMOID_M5)).sum())
    else:
        sat = 0
    if a.ndim <= 1:
        pos = np.array([(a > 0).sum()])
    else:
        u = np.moveaxis(a, unit_axis, -1)
        pos = (u > 0).reshape(-1, u.shape[-1]).sum(0)
    return {"n": float(a.size), "s": s, "ss": ss, "zeros": float((a == 0).sum()), "above": float((a > 1).sum()),
            "sat": float(sat), "nonfinite": 0.0 if math.isfinite(s) and math.isfinite(ss) else 1.0,
            "dead": float((pos == 0).sum()), "units": float(pos.size), "pos": pos,
            "max": float(a.max()) if a.size else float("nan")}


def output_kind(z: Any, axis: int = -1, tol: float = 1e-4) -> str:
    """"softmax" when the rows are probabilities, "log_softmax" when they are log-probabilities, else "logits"."""
    import numpy as np

    z = np.asarray(z, dtype=np.float64)
    if z.size == 0 or not np.all(np.isfinite(z)):
        return "logits"
    if z.min() >= -1e-6 and z.max() <= 1 + 1e-6 and np.all(np.abs(z.sum(axis) - 1) < tol):
        return "softmax"
    if z.max() <= 1e-6:
        m = z.max(axis, keepdims=True)
        lse = np.log(np.exp(z - m).sum(axis)) + np.squeeze(m, axis)
        if np.all(np.abs(lse) < tol):
            return "log_softmax"
    return "logits"


def probabilities(z: Any, kind: str, axis: int = -1) -> Any:
    import numpy as np

    z = np.asarray(z, dtype=np.float64)
    if kind == "softmax":
        return z
    if kind == "log_softmax":
        return np.exp(z)
    e = np.exp(z - z.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)
