# fault: PyTorch: 200 training samples, 2 hidden of 512, 15 epochs
# kind: fault
# half: held-out
# expect: overfitting@15
# may: slow update-ratio dead-units grad-vanish
# ok: rest
from _torchcase import out_path, run

run(out_path(), limit=200, hidden=[512, 512], batch=20, epochs=15)
