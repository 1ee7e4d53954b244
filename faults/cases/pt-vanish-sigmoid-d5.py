# fault: PyTorch: sigmoid, 5 hidden of 64, weights normal std 0.01, SGD: the gradient vanishes
# kind: fault
# half: calibration
# expect: grad-vanish@0 loss-trend@3
# may: slow act-saturation update-ratio
# ok: rest
from _torchcase import out_path, run

run(out_path(), act="sigmoid", hidden=[64] * 5, init="normal:0.01", optimizer="sgd", lr=0.01, epochs=3)
