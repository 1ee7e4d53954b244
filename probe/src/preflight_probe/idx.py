"""A small reader of IDX files (MNIST, Fashion-MNIST; gzip or raw) for the examples and the benchmark.

Folders are looked up as Preflight does: `$PREFLIGHT_DATA/<name>`, then `../shared/data/<name>` next to
the repository, then (Fashion-MNIST) Debian's `/usr/share/datasets/fashion-mnist`.
"""

from __future__ import annotations

import gzip
import os
import struct
from typing import List, Optional, Tuple

import numpy as np

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
           0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def read_idx(path: str) -> np.ndarray:
    """The array an IDX file holds (a `.gz` file is decompressed)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number)")
    code, ndim = data[2], data[3]
    if code not in _DTYPES:
        raise ValueError(f"{path}: unknown IDX element type 0x{code:02x}")
    if len(data) < 4 + 4 * ndim:
        raise ValueError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    dtype = np.dtype(_DTYPES[code])
    count = int(np.prod(shape)) if shape else 1
    body = data[4 + 4 * ndim:]
    if len(body) != count * dtype.itemsize:
        raise ValueError(f"{path}: {len(body)} bytes of data for shape {shape} (expected {count * dtype.itemsize})")
    return np.frombuffer(body, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def candidates(name: str) -> List[str]:
    here = os.path.dirname(os.path.abspath(__file__))
    places = []
    if os.environ.get("PREFLIGHT_DATA"):
        places.append(os.path.join(os.environ["PREFLIGHT_DATA"], name))
    # the repository's parent (…/probe/src/preflight_probe -> repo/..), and the working folder's parent
    for root in (os.path.join(here, "..", "..", "..", ".."), os.path.join(os.getcwd(), "..")):
        places.append(os.path.normpath(os.path.join(root, "shared", "data", name)))
    if name == "fashion-mnist":
        places.append("/usr/share/datasets/fashion-mnist")
    return places


def _find(folder: str, stem: str) -> Optional[str]:
    for suffix in (".gz", ""):
        p = os.path.join(folder, stem + suffix)
        if os.path.isfile(p):
            return p
    return None


def load(name: str = "mnist", folder: Optional[str] = None) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, train labels, test images, test labels) of MNIST-style IDX files; images uint8 (N, 28, 28)."""
    places = [folder] if folder else candidates(name)
    for place in places:
        paths = [_find(place, s) for s in FILES]
        if all(paths):
            return tuple(read_idx(p) for p in paths)  # type: ignore[return-value]
    raise FileNotFoundError(f"{name}: the four IDX files ({', '.join(FILES)}, .gz or raw) are in none of: "
                            + ", ".join(places) + " (set PREFLIGHT_DATA to the folder holding " + name + "/)")
