# fault: PyTorch: late: a learning-rate schedule that climbs (Adam 1e-3, 1e-3, 1e-3, 0.3, 3): diverges only at epoch 4
# kind: fault
# half: calibration
# expect: divergence@5 update-ratio@5
# may: dead-units oscillation slow loss-trend grad-explode overfitting nonfinite hidden-scale grad-vanish
# ok: rest
from _torchcase import out_path, run

run(out_path(), hidden=[128, 128], epochs=5, lr_at=lambda e: [1e-3, 1e-3, 1e-3, 0.3, 3.0][e - 1])
