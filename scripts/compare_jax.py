#!/usr/bin/env python3
"""The bench's reference: the same MLP trained with JAX on the same CPU, for `scripts/bench --compare`.

784-128-...-10 relu, Glorot-uniform weights, zero biases, softmax cross-entropy, Adam (lr 1e-3,
beta1 0.9, beta2 0.999, eps 1e-7 as Keras), batch 100, MNIST from the IDX gz files. One jitted
`lax.scan` runs a whole epoch, the fastest way we know to drive JAX here. Prints one line:
`jax samples/s: MEDIAN MIN MAX` over the epochs after the first (which includes compilation).
"""
import argparse, gzip, os, struct, sys, time

def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    import numpy as np
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="folder holding mnist/train-images-idx3-ubyte.gz …")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=2)
    args = ap.parse_args()
    import numpy as np
    import jax, jax.numpy as jnp
    folder = os.path.join(args.data, "mnist")
    x = read_idx(os.path.join(folder, "train-images-idx3-ubyte.gz")).reshape(60000, 784)
    y = read_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz")).astype(np.int32)
    sizes = [784] + [128] * args.hidden + [10]
    key = jax.random.PRNGKey(1)
    params = []
    for i in range(len(sizes) - 1):
        key, k = jax.random.split(key)
        lim = (6.0 / (sizes[i] + sizes[i + 1])) ** 0.5
        params.append((jax.random.uniform(k, (sizes[i], sizes[i + 1]), jnp.float32, -lim, lim), jnp.zeros(sizes[i + 1], jnp.float32)))

    def loss_fn(p, xb, yb):
        h = xb
        for w, b in p[:-1]:
            h = jax.nn.relu(h @ w + b)
        logits = h @ p[-1][0] + p[-1][1]
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), yb[:, None], axis=1))

    b1, b2, eps, lr = 0.9, 0.999, 1e-7, 1e-3
    def step(state, batch):
        p, m, v, t = state
        xb, yb = batch
        xb = xb.astype(jnp.float32) / 255.0
        l, g = jax.value_and_grad(loss_fn)(p, xb, yb)
        t = t + 1
        m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
        v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
        lrt = lr * jnp.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        p = jax.tree_util.tree_map(lambda p, m, v: p - lrt * m / (jnp.sqrt(v) + eps), p, m, v)
        return (p, m, v, t), l

    @jax.jit
    def epoch(state, xs, ys):
        return jax.lax.scan(step, state, (xs, ys))

    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    state = (params, zeros, zeros, jnp.float32(0))
    rng = np.random.default_rng(1)
    rates = []
    for e in range(args.epochs + 1):
        perm = rng.permutation(60000)
        xs = jnp.asarray(x[perm].reshape(600, 100, 784))
        ys = jnp.asarray(y[perm].reshape(600, 100))
        t0 = time.perf_counter()
        state, losses = epoch(state, xs, ys)
        losses.block_until_ready()
        dt = time.perf_counter() - t0
        if e > 0:
            rates.append(60000 / dt)
    rates.sort()
    print("jax samples/s: %.0f %.0f %.0f (jax %s, last epoch mean loss %.4f)" % (
        rates[len(rates) // 2], rates[0], rates[-1], jax.__version__, float(losses.mean())))

if __name__ == "__main__":
    sys.exit(main())
