# fault: PyTorch: Adam learning rate 1.0, 3 hidden relu
# kind: fault
# half: held-out
# expect: divergence@3 update-ratio@1
# may: dead-units oscillation slow loss-trend grad-explode overfitting nonfinite hidden-scale grad-vanish
# ok: rest
# quick: yes
from _torchcase import out_path, run

run(out_path(), hidden=[128, 128, 128], lr=1.0, epochs=3)
