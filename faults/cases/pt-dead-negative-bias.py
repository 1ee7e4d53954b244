# fault: PyTorch: the first layer's biases set to -10 (a bad bias init): every relu unit of layer 1 is dead
# kind: fault
# half: calibration
# expect: dead-units@0 loss-trend@3
# may: slow grad-vanish update-ratio
# ok: rest
import torch

from _torchcase import out_path, run


def bias(net: torch.nn.Sequential) -> None:
    with torch.no_grad():
        net[0].bias.fill_(-10.0)


run(out_path(), hidden=[128, 128], setup=bias, epochs=3)
