import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import pytest  # noqa: E402

torch = pytest.importorskip("torch")
torch.set_num_threads(1)
