# fault: none (healthy)
# kind: control
# half: held-out
# ok: rest
from _torchcase import out_path, run

run(out_path(), data="synthetic", act="elu", hidden=[512], optimizer="sgd", lr=0.05, momentum=0.9, batch=32, epochs=4)
