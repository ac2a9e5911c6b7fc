#!/usr/bin/env python3
# Check (bench/README.md, race section): FGSM at eps 0.1/0.2/0.3 on the race export of mnist-cnn with the input gradient in float32 and in float64.
# Needs bench/.tmp/race/mnist-cnn from `node bench/race.mjs`. Run: /usr/bin/python3 bench/fgsm_sign_check.py
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from pytorch_bench import load_export
torch.set_num_threads(2)
model, x, _, y, _ = load_export(os.path.join(HERE, '.tmp', 'race', 'mnist-cnn'))
model.eval()
for p in model.parameters(): p.requires_grad_(False)
def grad(m, xx):
    xr = xx.detach().requires_grad_(True)
    loss = F.cross_entropy(m(xr), y, reduction='sum')
    (g,) = torch.autograd.grad(loss, xr)
    return g
with torch.no_grad():
    correct = model(x).argmax(1) == y
g32 = grad(model, x)
m64 = model.double()
g64 = grad(m64, x.double())
model = model.float()
for eps in (0.1, 0.2, 0.3):
    out = {}
    for name, g in (('f32', g32), ('f64', g64.float())):
        xa = (x + eps * g.sign()).clamp(0, 1)
        with torch.no_grad():
            pred = model(xa).argmax(1)
        out[name] = int(((pred == y) & correct).sum())
    print(eps, out)
diff = (g32.sign() != g64.sign())
print('sign disagreements f32 vs f64:', int(diff.sum()), 'of', diff.numel(), 'in', int(diff.view(diff.shape[0], -1).any(1).sum()), 'images; max |g64| there', float(g64.abs()[diff].max()) if diff.any() else 0, 'median |g64| overall', float(g64.abs().median()))
