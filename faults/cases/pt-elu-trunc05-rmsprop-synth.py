# fault: PyTorch: truncated normal std 0.5 with elu, 3 hidden of 256, RMSprop, synthetic data
# kind: fault
# half: calibration
# expect: saturation@0 init-loss@0 hidden-scale@0
# may: grad-explode dead-units update-ratio loss-trend slow overfitting divergence oscillation grad-vanish nonfinite
# ok: rest
from _torchcase import out_path, run

run(out_path(), data="synthetic", act="elu", hidden=[256] * 3, init="truncnormal:0.5", optimizer="rmsprop", lr=1e-3, batch=32, epochs=3)
