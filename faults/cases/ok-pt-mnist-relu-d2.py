# fault: none (healthy)
# kind: control
# half: held-out
# ok: rest
# quick: yes
from _torchcase import out_path, run

run(out_path(), hidden=[128, 128], epochs=4)
