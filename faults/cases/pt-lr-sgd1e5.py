# fault: PyTorch: SGD learning rate 1e-5, tanh 2x64 on Fashion-MNIST
# kind: fault
# half: held-out
# expect: update-ratio@1 loss-trend@3
# may: slow
# ok: rest
from _torchcase import out_path, run

run(out_path(), data="fashion", act="tanh", hidden=[64, 64], optimizer="sgd", lr=1e-5, epochs=3)
