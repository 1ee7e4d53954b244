"""The Keras 3 probe: `PreflightCallback(first_batch=(x, y), classes=10, path="run.json")`.

    model.fit(x, y, ..., callbacks=[PreflightCallback(first_batch=(x[:100], y[:100]), classes=10, path="run.json")])

- At the start of training, the first batch: one forward through the model with every leaf layer's
  output measured, the compiled loss, and one explicit gradient computation (torch autograd, jax.grad or
  tf.GradientTape, by backend); no optimiser step. Afterwards the model is as before (non-trainable
  variables such as batch-norm statistics and dropout seed states, torch's `.grad` and RNG).
- Every `every`-th training step (the first included): the same measurement on the first batch's samples
  with the weights of that moment, and the update ratio ‖Δw‖/‖w‖ of that step's optimiser update.
- Each epoch: Keras' logs (loss, accuracy, val_loss, val_accuracy), time, steps, the sampled steps' means.
- At the end of training the record is written to `path` (schema version 2), atomically.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import keras
import numpy as np

from . import record as R

DEFAULT_EVERY = 100

_ACTIVATION_NAMES = {"relu": "relu", "leaky_relu": "leaky_relu", "elu": "elu", "tanh": "tanh", "sigmoid": "sigmoid",
                     "softmax": "softmax", "log_softmax": "log_softmax", "gelu": "gelu", "silu": "silu", "swish": "silu",
                     "selu": "selu", "softplus": "softplus", "relu6": "relu6", "mish": "mish"}


def _activation_of(layer: Any) -> Optional[str]:
    fn = getattr(layer, "activation", None)
    if fn is None:
        return None
    name = getattr(fn, "__name__", None) or type(fn).__name__
    name = name.lower()
    if name == "linear":
        return None
    return _ACTIVATION_NAMES.get(name, name)


def layer_type(layer: Any) -> Tuple[str, Optional[str]]:
    """(schema type, activation name or None) of a Keras layer. Dense and convolution layers carry their
    fused activation's name (Dense(128, activation="relu") outputs post-activation values)."""
    cls = type(layer).__name__
    L = keras.layers
    if cls in ("Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"):
        name = {"ReLU": "relu", "LeakyReLU": "leaky_relu", "PReLU": "prelu", "ELU": "elu", "Softmax": "softmax"}.get(cls)
        return "activation", name or _activation_of(layer) or "linear"
    if isinstance(layer, (L.Dense, L.EinsumDense)):
        return "dense", _activation_of(layer)
    if "Conv" in cls:
        return "conv", _activation_of(layer)
    if "Normalization" in cls:
        return "norm", None
    if "Dropout" in cls:
        return "dropout", None
    if "Pooling" in cls:
        return "pool", None
    if isinstance(layer, L.Embedding):
        return "embedding", None
    if isinstance(layer, L.MultiHeadAttention):
        return "attention", None
    return "other", None


def _leaves(model: Any) -> List[Tuple[str, Any]]:
    """Leaf layers (MultiHeadAttention counts as one), named by their path of layer names."""
    out: List[Tuple[str, Any]] = []

    def walk(layer: Any, prefix: str) -> None:
        subs = [l for l in getattr(layer, "_layers", []) if isinstance(l, keras.layers.Layer)]
        if isinstance(layer, keras.layers.InputLayer):
            return
        if not subs or isinstance(layer, keras.layers.MultiHeadAttention):
            out.append((prefix or layer.name, layer))
            return
        for l in subs:
            walk(l, f"{prefix}.{l.name}" if prefix else l.name)

    walk(model, "")
    return out


def _numpy(t: Any) -> np.ndarray:
    if hasattr(t, "detach"):
        t = t.detach()
    return np.asarray(keras.ops.convert_to_numpy(t))


def _first(x: Any) -> Any:
    if isinstance(x, dict):
        for k in ("logits", "output", "out"):
            if k in x:
                return x[k]
        return next(iter(x.values()), None)
    if isinstance(x, (tuple, list)):
        return x[0] if x else None
    return x


class PreflightCallback(keras.callbacks.Callback):
    """Records what Preflight's rules need while `model.fit` trains. See the module's doc."""

    def __init__(self, first_batch: Optional[Tuple[Any, Any]] = None, classes: Optional[int] = 10,
                 path: Optional[str] = "run.json", name: str = "run", epsilon: float = 1e-7,
                 every: Optional[int] = None, loss: Optional[Callable[[Any, Any], Any]] = None) -> None:
        super().__init__()
        if classes is not None and (not isinstance(classes, int) or classes < 1):
            raise ValueError(f"PreflightCallback: classes must be a positive int or None (regression), not {classes!r}")
        if every is not None and (not isinstance(every, int) or every < 1):
            raise ValueError(f"PreflightCallback: every must be a positive int or None, not {every!r}")
        if not (0 < epsilon < 0.5):
            raise ValueError(f"PreflightCallback: epsilon must be in (0, 0.5), not {epsilon!r}")
        if first_batch is not None and (not isinstance(first_batch, (tuple, list)) or len(first_batch) != 2):
            raise ValueError("PreflightCallback: first_batch must be a pair (x, y)")
        self.batch = first_batch
        self.classes = classes
        self.path = path
        self.name = name
        self.epsilon = float(epsilon)
        self.every = every or DEFAULT_EVERY
        self.loss_fn = loss
        self.config: Dict[str, Any] = {"epsilon": self.epsilon}
        self.source: Dict[str, Optional[str]] = {"script": R.script_name(), "model": None}
        self.first: Optional[Dict[str, Any]] = None
        self.epochs: List[Dict[str, Any]] = []
        self.nonfinite: Optional[Dict[str, Any]] = None
        self.warnings: List[str] = []
        self._layers: Optional[List[Dict[str, Any]]] = None
        self._order: Dict[str, int] = {}
        self._epoch_pos: Dict[str, np.ndarray] = {}
        self._step = 0
        self._epoch_batches = 0
        self._epoch_t0 = time.perf_counter()
        self._samples: List[Dict[str, Any]] = []
        self._pending: Optional[List[Tuple[str, np.ndarray]]] = None
        self._pending_stats: Optional[Dict[str, Any]] = None
        self._failed = False

    # ---------------------------------------------------------------- measuring one pass

    def _weights(self) -> List[Tuple[str, Any, bool]]:
        """(name, variable, is a weight layer's kernel) for every trainable variable, in layer order."""
        order = {}
        kinds = {}
        for i, (n, l) in enumerate(_leaves(self.model)):
            for v in l.trainable_variables:
                order.setdefault(id(v), (self._order.get(n, 10 ** 6 + i), n))
                kinds.setdefault(id(v), layer_type(l)[0])
        items = []
        for j, v in enumerate(self.model.trainable_variables):
            pos, owner = order.get(id(v), (10 ** 7, None))
            w = len(v.shape) >= 2 and kinds.get(id(v)) not in ("embedding", "norm", None)
            vname = f"{owner}.{v.name}" if owner else v.path
            items.append((pos, j, vname, v, w))
        items.sort(key=lambda t: (t[0], t[1]))
        return [(n, v, w) for _, _, n, v, w in items]

    def _loss(self, x: Any, y: Any, y_pred: Any) -> Any:
        if self.loss_fn is not None:
            return self.loss_fn(y, y_pred)
        return self.model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)

    def _pass(self, x: Any, y: Any) -> Tuple[List[str], Dict[str, Dict[str, Any]], Dict[str, Dict[str, float]], np.ndarray, float, Dict[str, Optional[float]]]:
        """One forward (every leaf layer's output measured) and one gradient computation, no update; the
        model's state is restored afterwards."""
        model = self.model
        backend = keras.backend.backend()
        order: List[str] = []
        info: Dict[str, Dict[str, Any]] = {}
        sums: Dict[str, Dict[str, float]] = {}
        calls: Dict[str, int] = {}
        leaves = _leaves(model)

        def wrap(name: str, layer: Any) -> Callable[..., Any]:
            original = layer.call
            kind, act = layer_type(layer)

            def call(*args: Any, **kwargs: Any) -> Any:
                out = original(*args, **kwargs)
                try:
                    k = calls.get(name, 0) + 1
                    calls[name] = k
                    key = name if k == 1 else f"{name}#{k}"
                    t = _first(out)
                    a = _numpy(t)
                    if a.ndim == 0:
                        return out
                    axis = 1 if getattr(layer, "data_format", "channels_last") == "channels_first" and a.ndim >= 3 else -1
                    sums[key] = R.numpy_sums(a, axis, act)
                    if key not in info:
                        order.append(key)
                        d: Dict[str, Any] = {"name": key, "type": kind}
                        if act:
                            d["activation"] = act
                        d.update(self._sizes(layer, a))
                        if type(layer).__name__ == "Flatten":
                            d["flatten"] = True
                        d["parameters"] = int(sum(int(np.prod(v.shape)) for v in layer.weights)) if k == 1 else 0
                        info[key] = d
                except Exception as e:  # never break the forward
                    self._warn(f"measuring layer {name}", e)
                return out

            return call

        saved_state = [(v, np.array(_numpy(v.value))) for v in model.non_trainable_variables]
        wrapped = []
        torch_state: Any = None
        grads: Dict[int, Optional[float]] = {}
        try:
            for n, l in leaves:
                l.call = wrap(n, l)
                wrapped.append(l)
            xt = keras.ops.convert_to_tensor(x)
            yt = keras.ops.convert_to_tensor(y)
            trainable = list(model.trainable_variables)
            if backend == "torch":
                import torch

                torch_state = (torch.get_rng_state(), [(v, v.value.grad) for v in trainable])
                for v in trainable:
                    v.value.grad = None
                with torch.enable_grad():
                    y_pred = model(xt, training=True)
                    loss_t = self._loss(xt, yt, y_pred)
                    loss_t.backward()
                for v in trainable:
                    g = v.value.grad
                    grads[id(v)] = float(torch.linalg.vector_norm(g.detach().double())) if g is not None else None
                loss = float(loss_t.detach())
            elif backend == "tensorflow":
                import tensorflow as tf  # type: ignore

                with tf.GradientTape() as tape:
                    y_pred = model(xt, training=True)
                    loss_t = self._loss(xt, yt, y_pred)
                gs = tape.gradient(loss_t, [v.value for v in trainable])
                for v, g in zip(trainable, gs):
                    grads[id(v)] = float(tf.norm(tf.cast(g, tf.float64))) if g is not None else None
                loss = float(loss_t)
            elif backend == "jax":
                import jax  # type: ignore

                y_pred = model(xt, training=True)  # the eager pass the layer wrappers measure
                loss = float(self._loss(xt, yt, y_pred))
                for v, value in saved_state:
                    v.assign(value)
                for l in wrapped:
                    del l.call
                wrapped = []
                tv = [v.value for v in trainable]
                ntv = [v.value for v in model.non_trainable_variables]

                def f(tv: Any) -> Any:
                    pred, _ = model.stateless_call(tv, ntv, xt, training=True)
                    return self._loss(xt, yt, pred) if self.loss_fn is not None else \
                        model._compile_loss(yt, pred)

                gs = jax.grad(f)(tv)
                for v, g in zip(trainable, gs):
                    grads[id(v)] = float(np.linalg.norm(np.asarray(g, dtype=np.float64))) if g is not None else None
            else:
                raise RuntimeError(f"backend {backend!r} is not supported (torch, jax, tensorflow)")
            pred = _numpy(_first(y_pred))
        finally:
            for l in wrapped:
                del l.call
            for v, value in saved_state:
                v.assign(value)
            if torch_state is not None:
                import torch

                torch.set_rng_state(torch_state[0])
                for v, g in torch_state[1]:
                    v.value.grad = g
        named = {n: grads.get(id(v)) for n, v, _ in self._weights_for(order)}
        return order, info, sums, pred, loss, named

    def _weights_for(self, order: Sequence[str]) -> List[Tuple[str, Any, bool]]:
        self._order = {k.split("#")[0]: i for i, k in reversed(list(enumerate(order)))}
        return self._weights()

    @staticmethod
    def _sizes(layer: Any, out: np.ndarray) -> Dict[str, int]:
        d: Dict[str, int] = {}
        kind = layer_type(layer)[0]
        if kind in ("dense", "conv"):
            kernel = getattr(layer, "kernel", None)
            if kernel is not None and len(kernel.shape) >= 2:
                d["inputs"] = int(kernel.shape[-2]) if kind == "conv" or len(kernel.shape) == 2 else int(kernel.shape[0])
                d["outputs"] = int(kernel.shape[-1])
        elif kind == "embedding":
            d["inputs"], d["outputs"] = int(layer.input_dim), int(layer.output_dim)
        return d

    def _warn(self, where: str, e: BaseException) -> None:
        self.warnings.append(f"{where}: {type(e).__name__}: {e}")

    def _adopt(self, order: List[str], info: Dict[str, Dict[str, Any]]) -> None:
        if self._layers is not None:
            return
        self._layers = [dict(info[k]) for k in order]
        sizes = R.adopt_layer_config(self.config, self._layers)
        if self.source.get("model") is None:
            cls = type(self.model).__name__
            self.source["model"] = (f"MLP {'-'.join(map(str, sizes))} ({cls}, {len(order)} layers)" if sizes
                                    else f"{cls} ({len(order)} layers, {self.model.count_params()} parameters)")

    def _hidden(self, order: List[str], info: Dict[str, Dict[str, Any]], sums: Dict[str, Dict[str, float]]) -> List[Dict[str, Any]]:
        layers = [info[k] for k in order]
        return [{"name": order[i], "type": layers[i]["type"], **R.module_stats(sums[order[i]])}
                for i in R.hidden_indices(layers)]

    # ---------------------------------------------------------------- the first batch

    def measure_first_batch(self) -> Dict[str, Any]:
        """Measures the first batch now (on_train_begin calls it) and returns its entry."""
        assert self.batch is not None
        x, y = self.batch
        order, info, sums, pred, loss, grads = self._pass(x, y)
        self._adopt(order, info)
        xs = np.asarray(_numpy(keras.ops.convert_to_tensor(x)), dtype=np.float64)
        ya = np.asarray(_numpy(keras.ops.convert_to_tensor(y)))
        rows = int(pred.shape[0]) if pred.ndim else 1
        kind = None
        sat = low = high = acc = None
        width = int(pred.shape[-1]) if pred.ndim else 1
        if self.classes is not None and pred.ndim >= 1:
            kind = R.output_kind(pred)
            p = R.probabilities(pred, kind)
            low, high = float((p < self.epsilon).mean()), float((p > 1 - self.epsilon).mean())
            sat = low + high
            guess = pred.argmax(-1)
            if ya.shape == pred.shape:
                acc = float((guess == ya.argmax(-1)).mean())
            elif ya.reshape(-1).shape == guess.reshape(-1).shape:
                acc = float((guess.reshape(-1) == ya.reshape(-1).astype(np.int64)).mean())
        modules = []
        for k in order:
            s = R.module_stats(sums[k])
            s.pop("saturated_fraction")
            modules.append({"name": k, "type": info[k]["type"], **s})
        weights = [(n, g) for (n, _, w), g in zip(self._weights(), grads.values()) if w]
        nf = None
        for k in order:
            if sums[k]["nonfinite"] > 0:
                nf = {"module": k, "stage": "forward"}
                break
        if nf is None:
            for n, g in grads.items():
                if g is not None and not math.isfinite(g):
                    nf = {"module": n.rsplit(".", 1)[0], "stage": "backward"}
                    break
        entry = {
            "loss": loss, "saturated_fraction": sat, "low_fraction": low, "high_fraction": high, "accuracy": acc,
            "batch_size": rows, "input_min": float(xs.min()) if xs.size else None,
            "input_max": float(xs.max()) if xs.size else None, "output_kind": kind, "outputs": width,
            "grad_norms": [g for _, g in weights], "grad_norm_names": [n for n, _ in weights],
            "parameters": [{"name": n, "grad_norm": g} for n, g in grads.items()],
            "hidden": self._hidden(order, info, sums), "modules": modules, "nonfinite": nf,
        }
        self.first = R.clean(entry)
        self.config.setdefault("batch", rows)
        return self.first

    # ---------------------------------------------------------------- Keras' callback methods

    def on_train_begin(self, logs: Optional[Dict[str, Any]] = None) -> None:
        opt = getattr(self.model, "optimizer", None)
        if opt is not None:
            self.config.setdefault("optimizer", type(opt).__name__.lower())
            try:
                self.config.setdefault("learning_rate", float(_numpy(opt.learning_rate)))
            except Exception:
                pass
        if self.batch is not None and self.first is None:
            self.measure_first_batch()

    def on_epoch_begin(self, epoch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        self._epoch_t0 = time.perf_counter()
        self._epoch_batches = 0
        self._samples = []
        self._epoch_pos = {}

    def on_train_batch_begin(self, batch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        self._step += 1
        self._epoch_batches += 1
        if self._failed or (self._step - 1) % self.every:
            return
        try:
            stats: Dict[str, Any] = {"hidden": [], "grads": {}}
            if self.batch is not None:
                order, info, sums, _, _, grads = self._pass(*self.batch)
                self._adopt(order, info)
                stats = {"hidden": self._hidden(order, info, sums), "grads": grads, "order": order, "sums": sums}
                for h in stats["hidden"]:  # units active in any sampled step of the epoch
                    pos = sums[h["name"]]["pos"]
                    prev = self._epoch_pos.get(h["name"])
                    self._epoch_pos[h["name"]] = pos if prev is None or prev.shape != pos.shape else prev + pos
            kernels = [(n, np.array(_numpy(v.value), dtype=np.float64)) for n, v, w in self._weights() if w]
            self._pending, self._pending_stats = kernels, stats
        except Exception as e:
            self._fail("a sampled step", e)

    def on_train_batch_end(self, batch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        if self._pending is None:
            return
        try:
            before, stats = self._pending, self._pending_stats or {}
            self._pending = self._pending_stats = None
            now = {n: v for n, v, w in self._weights() if w}
            layers = []
            for n, w0 in before:
                w1 = np.asarray(_numpy(now[n].value), dtype=np.float64)
                wn = float(np.linalg.norm(w0))
                layers.append({"name": n, "grad_norm": R.finite_or_none(stats["grads"].get(n)),
                               "update_ratio": R.finite_or_none(float(np.linalg.norm(w1 - w0)) / wn) if wn > 0 else None})
            self._samples.append({"hidden": stats["hidden"], "layers": layers})
            if self.nonfinite is None:
                where = None
                for k in stats.get("order", []):
                    if stats["sums"][k]["nonfinite"] > 0:
                        where = ("forward", k)
                        break
                for l in layers:
                    if where is None and l["grad_norm"] is None and stats["grads"]:
                        where = ("backward", l["name"])
                    if where is None and l["update_ratio"] is None:
                        where = ("update", l["name"])
                if where is not None:
                    self.nonfinite = {"epoch": len(self.epochs) + 1, "batch": self._epoch_batches,
                                      "stage": where[0], "layer": where[1]}
        except Exception as e:
            self._fail("a sampled step", e)

    def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        logs = logs or {}

        def pick(prefix: str, names: Sequence[str]) -> Optional[float]:
            for n in names:
                if prefix + n in logs:
                    try:
                        return R.finite_or_none(float(logs[prefix + n]))
                    except (TypeError, ValueError):
                        return None
            return None

        accs = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy")
        seconds = time.perf_counter() - self._epoch_t0
        hidden, layers = [], []
        if self._samples:
            for h in self._samples[0]["hidden"]:
                avg = R.average([x for s in self._samples for x in s["hidden"] if x["name"] == h["name"]])
                pos = self._epoch_pos.get(h["name"])
                if pos is not None and pos.size:  # never above 0 in any sampled step, as Preflight counts
                    avg["dead_fraction"] = float((pos == 0).mean())
                hidden.append(avg)
            for l in self._samples[0]["layers"]:
                layers.append(R.average([x for s in self._samples for x in s["layers"] if x["name"] == l["name"]]))
        self.epochs.append({
            "epoch": len(self.epochs) + 1,
            "train_loss": pick("", ("loss",)), "train_accuracy": pick("", accs),
            "test_loss": pick("val_", ("loss",)), "test_accuracy": pick("val_", accs),
            "seconds": seconds, "samples_per_second": None, "batches": self._epoch_batches, "complete": True,
            "hidden": hidden, "layers": layers, "sampled_steps": len(self._samples),
        })

    def on_train_end(self, logs: Optional[Dict[str, Any]] = None) -> None:
        if self.path:
            self.save(self.path)

    def _fail(self, where: str, e: BaseException) -> None:
        import warnings

        self._warn(where, e)
        if not self._failed:
            warnings.warn(f"preflight probe: {where}: {e}; the probe stops sampling, training goes on", RuntimeWarning)
        self._failed = True
        self._pending = self._pending_stats = None

    # ---------------------------------------------------------------- the record

    def record(self) -> Dict[str, Any]:
        """The run as a schema-2 run object."""
        layers = self._layers
        if layers is None:
            layers = []
            for n, l in _leaves(self.model):
                kind, act = layer_type(l)
                d: Dict[str, Any] = {"name": n, "type": kind}
                if act:
                    d["activation"] = act
                layers.append(d)
        engine = {"name": "keras", "version": keras.__version__, "backend": keras.backend.backend()}
        return R.run_record(self, engine, layers)

    def save(self, path: str) -> str:
        """Writes the record (`{"version": 2, "runs": [this run]}`) atomically."""
        return R.write_record(path, [self.record()])
