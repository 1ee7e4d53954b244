# fault: PyTorch: tanh with weights normal std 1, 2 hidden of 128
# kind: fault
# half: held-out
# expect: act-saturation@0 init-loss@0 saturation@0
# may: hidden-scale grad-vanish grad-explode update-ratio loss-trend slow overfitting divergence oscillation
# ok: rest
from _torchcase import out_path, run

run(out_path(), act="tanh", hidden=[128, 128], init="normal:1", epochs=3)
