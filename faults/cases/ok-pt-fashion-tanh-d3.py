# fault: none (healthy)
# kind: control
# half: calibration
# ok: rest
from _torchcase import out_path, run

run(out_path(), data="fashion", act="tanh", hidden=[64, 64, 64], optimizer="rmsprop", lr=1e-3, batch=64, epochs=4)
