# fault: PyTorch: raw pixels with SGD 1e6: the weights overflow to Inf and NaN
# kind: fault
# half: held-out
# expect: nonfinite@1 input-range@0 divergence@1
# may: saturation init-loss hidden-scale grad-explode dead-units update-ratio loss-trend slow oscillation overfitting grad-vanish
# ok: rest
from _torchcase import out_path, run

run(out_path(), scale=255.0, hidden=[128, 128], optimizer="sgd", lr=1e6, epochs=3)
