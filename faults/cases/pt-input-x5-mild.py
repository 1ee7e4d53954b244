# fault: PyTorch: mild: pixels scaled to [0, 5] instead of [0, 1], 2 hidden relu
# kind: fault
# half: held-out
# expect: input-range@0
# may: saturation init-loss hidden-scale grad-explode dead-units update-ratio slow overfitting grad-vanish
# ok: rest
from _torchcase import out_path, run

run(out_path(), scale=5.0, hidden=[128, 128], epochs=3)
