# fault: PyTorch: raw 0-255 Fashion-MNIST pixels, 1 hidden relu of 256, SGD
# kind: fault
# half: calibration
# expect: input-range@0 saturation@0 init-loss@0 hidden-scale@0 grad-explode@0
# may: dead-units update-ratio loss-trend slow overfitting divergence oscillation nonfinite grad-vanish
# ok: rest
from _torchcase import out_path, run

run(out_path(), data="fashion", scale=255.0, hidden=[256], optimizer="sgd", lr=0.01, epochs=3)
