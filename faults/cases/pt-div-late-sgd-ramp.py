# fault: PyTorch: late: SGD whose learning rate climbs (0.05, 0.05, 0.05, 2, 20), tanh on Fashion-MNIST
# kind: fault
# half: held-out
# expect: divergence@5 update-ratio@5
# may: act-saturation oscillation slow loss-trend grad-explode grad-vanish overfitting nonfinite hidden-scale
# ok: rest
from _torchcase import out_path, run

run(out_path(), data="fashion", act="tanh", hidden=[128, 64], optimizer="sgd", lr=0.05, epochs=5,
    lr_at=lambda e: [0.05, 0.05, 0.05, 2.0, 20.0][e - 1])
