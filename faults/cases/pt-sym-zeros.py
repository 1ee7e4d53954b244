# fault: PyTorch: every weight initialised to zero, relu, RMSprop
# kind: fault
# half: held-out
# expect: symmetry@0 dead-units@0 loss-trend@3
# may: slow grad-vanish update-ratio
# ok: rest
from _torchcase import out_path, run

run(out_path(), init="zeros", hidden=[128, 128], optimizer="rmsprop", lr=1e-3, epochs=3)
