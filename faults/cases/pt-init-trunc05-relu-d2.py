# fault: PyTorch: truncated normal std 0.5, 2 hidden relu (the study's bad init)
# kind: fault
# half: held-out
# expect: saturation@0 init-loss@0 hidden-scale@0
# may: grad-explode dead-units update-ratio loss-trend slow overfitting divergence oscillation grad-vanish nonfinite
# ok: rest
# quick: yes
from _torchcase import out_path, run

run(out_path(), init="truncnormal:0.5", hidden=[128, 128], epochs=3)
