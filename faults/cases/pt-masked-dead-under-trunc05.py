# fault: PyTorch: masked: layer 1's biases at -10 (every unit of it dead) under a bad init (truncated normal 0.5)
# kind: fault
# half: calibration
# expect: dead-units@0 saturation@0 init-loss@0
# may: hidden-scale grad-vanish grad-explode update-ratio loss-trend slow overfitting divergence oscillation nonfinite
# ok: rest
import torch

from _torchcase import out_path, run


def bias(net: torch.nn.Sequential) -> None:
    with torch.no_grad():
        net[0].bias.fill_(-10.0)


run(out_path(), init="truncnormal:0.5", hidden=[256, 128, 64], setup=bias, epochs=3)
