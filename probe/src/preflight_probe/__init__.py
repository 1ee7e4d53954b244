"""Preflight's probe: records what Preflight's checks need from a PyTorch or Keras training run, as a
Preflight record (export schema version 2) that `preflight check FILE.json` and `import FILE.json` read.

    from preflight_probe import Probe                      # PyTorch
    from preflight_probe.keras import PreflightCallback    # Keras 3
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["Probe", "__version__"]


def __getattr__(name: str) -> Any:
    # torch is imported only when the PyTorch probe is asked for (a Keras user may not have it).
    if name == "Probe":
        from .torch_probe import Probe
        return Probe
    raise AttributeError(f"module 'preflight_probe' has no attribute {name!r}")
