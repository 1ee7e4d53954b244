# fault: none (healthy)
# kind: control
# half: calibration
# ok: rest
from _torchcase import out_path, run

run(out_path(), act="sigmoid", hidden=[256, 128, 64, 32], lr=2e-3, batch=128, epochs=4)
