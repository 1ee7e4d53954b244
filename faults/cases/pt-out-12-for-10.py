# fault: PyTorch: 12 outputs for 10 classes
# kind: fault
# half: calibration
# expect: output-units@0
# may: init-loss
# ok: rest
from _torchcase import out_path, run

run(out_path(), hidden=[64], outputs=12, epochs=3)
