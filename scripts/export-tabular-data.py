#!/usr/bin/env python3
"""Writes examples/data/breast-cancer.csv, the data set of examples/tabular.pf.

The Breast Cancer Wisconsin (Diagnostic) data set (Wolberg, Street, Mangasarian, 1995; UCI Machine
Learning Repository, CC BY 4.0), as scikit-learn bundles it. Run once, in a throwaway environment:

    python3 -m venv /tmp/sk && /tmp/sk/bin/pip install scikit-learn
    /tmp/sk/bin/python scripts/export-tabular-data.py

The output: a header row of the 30 feature names (spaces replaced by underscores) and `diagnosis`, then
one row per sample, the label as the class name (`malignant` or `benign`) so that `data` shows its
mapping of string labels to classes. Values are written with up to 10 significant digits, which keeps
the published values exactly.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

from sklearn.datasets import load_breast_cancer


def export(path: Path) -> int:
    bunch = load_breast_cancer()
    names = [str(n).replace(" ", "_") for n in bunch.feature_names]
    classes = [str(c) for c in bunch.target_names]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names + ["diagnosis"])
        for row, target in zip(bunch.data, bunch.target):
            w.writerow([format(float(v), ".10g") for v in row] + [classes[int(target)]])
    return len(bunch.data)


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    out = root / "examples" / "data" / "breast-cancer.csv"
    n = export(out)
    print(f"wrote {out} ({n} rows)", file=sys.stderr)


if __name__ == "__main__":
    main()
