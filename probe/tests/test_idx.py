"""The examples' IDX reader."""

import gzip
import struct

import numpy as np
import pytest

from preflight_probe import idx


def write(path, arr, code=0x08):
    data = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(data)


def test_reads_gzip_and_raw(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write(tmp_path / "a.gz", a)
    write(tmp_path / "b", a)
    assert np.array_equal(idx.read_idx(str(tmp_path / "a.gz")), a)
    assert np.array_equal(idx.read_idx(str(tmp_path / "b")), a)
    f = np.array([1.5, -2.0], dtype=np.float32)
    write(tmp_path / "f", f, code=0x0D)
    assert np.array_equal(idx.read_idx(str(tmp_path / "f")), f)


def test_bad_files_name_the_file(tmp_path):
    (tmp_path / "x").write_bytes(b"\x01\x02\x08\x01")
    with pytest.raises(ValueError, match="x: not an IDX file"):
        idx.read_idx(str(tmp_path / "x"))
    write(tmp_path / "t", np.zeros((4, 4), dtype=np.uint8))
    (tmp_path / "t").write_bytes((tmp_path / "t").read_bytes()[:-3])
    with pytest.raises(ValueError, match="t: 13 bytes of data"):
        idx.read_idx(str(tmp_path / "t"))


def test_load_finds_a_folder_or_lists_where_it_looked(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for stem, arr in zip(idx.FILES, (np.zeros((3, 2, 2), np.uint8), np.arange(3, dtype=np.uint8),
                                     np.ones((1, 2, 2), np.uint8), np.array([7], np.uint8))):
        write(folder / (stem + ".gz"), arr)
    monkeypatch.setenv("PREFLIGHT_DATA", str(tmp_path))
    xtr, ytr, xte, yte = idx.load("mnist")
    assert xtr.shape == (3, 2, 2) and list(ytr) == [0, 1, 2] and list(yte) == [7]
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        idx.load("nothing-here")
