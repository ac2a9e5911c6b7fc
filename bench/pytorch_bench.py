#!/usr/bin/env python3
"""PyTorch CPU side of the backends benchmark (bench/backends.mjs runs it; see bench/README.md).

The same network as the zoo's tfjs `mnist-cnn` (conv32 3x3 relu -> maxpool 2 -> conv64 3x3 relu ->
maxpool 2 -> flatten -> dense128 relu -> dense10), with the weights that bench/backends-worker.mjs
exported from the tfjs model, on the same batch of 128 MNIST test images. Times the same four
workloads (forward, input gradient of the cross-entropy, one PGD-40 Linf attack at eps 0.3, one
adversarial-training step: FGSM with random start + one Adam update) at each thread count, and writes
the logits and the input gradient for the tfjs backends to compare against.

Run with Debian's PyTorch: /usr/bin/python3 bench/pytorch_bench.py --work bench/.work --out FILE
(apt-get install python3-torch). Not the pyenv python3 that may come first on PATH.
"""
import argparse
import copy
import json
import platform
import resource
import statistics
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as e:  # the message bench/backends.mjs shows
    sys.exit(
        f"pytorch_bench.py: cannot import PyTorch for {sys.executable} ({e}). "
        "Install Debian's package: sudo apt-get install python3-torch (it brings numpy), "
        "then run with /usr/bin/python3 (or set ADVX_BENCH_PYTHON to an interpreter that has torch)."
    )

BATCH = 128
EPSILON = 0.3
PGD_STEPS = 40
PGD_ALPHA = 0.01  # advx: relStepSize 0.01/0.3 at eps 0.3
FGSM_RS_ALPHA = 1.25 * EPSILON  # advx: pgd({ steps: 1, relStepSize: 1.25 })


class MnistCnn(nn.Module):
    """The zoo's mnist-cnn in NCHW; returns logits (the tfjs model's final softmax is left out, as advx does)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.dense1 = nn.Linear(5 * 5 * 64, 128)
        self.dense2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)  # NCHW order (c, h, w); dense1's rows were permuted to match
        x = F.relu(self.dense1(x))
        return self.dense2(x)


def load_export(work):
    meta = json.load(open(f"{work}/export-data.json"))
    floats = np.fromfile(f"{work}/export-data.bin", dtype="<f4")

    def take(entry, shape):
        return torch.from_numpy(floats[entry["offset"] : entry["offset"] + int(np.prod(shape))].reshape(shape).copy())

    w = {e["name"]: take(e, e["shape"]) for e in meta["weights"]}
    model = MnistCnn()
    with torch.no_grad():
        # tfjs conv kernels are [kh, kw, in, out]; PyTorch wants [out, in, kh, kw].
        model.conv1.weight.copy_(w["conv1/kernel"].permute(3, 2, 0, 1))
        model.conv1.bias.copy_(w["conv1/bias"])
        model.conv2.weight.copy_(w["conv2/kernel"].permute(3, 2, 0, 1))
        model.conv2.bias.copy_(w["conv2/bias"])
        # tfjs flattens NHWC [n, 5, 5, 64] in (h, w, c) order, PyTorch NCHW in (c, h, w) order:
        # reorder dense1's input rows to (c, h, w), then transpose [in, out] -> [out, in].
        k = w["dense1/kernel"].reshape(5, 5, 64, 128).permute(2, 0, 1, 3).reshape(1600, 128)
        model.dense1.weight.copy_(k.t())
        model.dense1.bias.copy_(w["dense1/bias"])
        model.dense2.weight.copy_(w["logits_softmax/kernel"].t())
        model.dense2.bias.copy_(w["logits_softmax/bias"])
    x_nhwc = take(meta["x"], meta["x"]["shape"])
    x = x_nhwc.permute(0, 3, 1, 2).contiguous()
    labels = torch.tensor(meta["labels"], dtype=torch.long)
    x_noise = take(meta["xNoise"], meta["xNoise"]["shape"]).permute(0, 3, 1, 2).contiguous()
    tfjs_logits = take(meta["tfjsLogits"], meta["tfjsLogits"]["shape"])
    return model, x, x_noise, labels, tfjs_logits


def input_grad(model, x, y):
    xr = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(model(xr), y), xr)
    return g


def _forward(model, x):
    with torch.no_grad():
        return model(x).sum().item()


def pgd40(model, x, y):
    """A plain PGD loop: random start, 40 sign-gradient steps of 0.01, projection and clipping."""
    with torch.no_grad():
        model(x).argmax(1)  # the clean prediction advx makes first (it skips already-wrong samples)
    xa = (x + torch.empty_like(x).uniform_(-EPSILON, EPSILON)).clamp(0, 1)
    for _ in range(PGD_STEPS):
        g = input_grad(model, xa, y)
        with torch.no_grad():
            xa = torch.min(torch.max(xa + PGD_ALPHA * g.sign(), x - EPSILON), x + EPSILON).clamp(0, 1)
    with torch.no_grad():
        return (model(xa).argmax(1) != y).float().mean().item()


def adv_train_step(model, opt, x, y):
    """FGSM with random start (Wong et al. 2020) on the batch, then one Adam step on the adversarial batch."""
    x0 = (x + torch.empty_like(x).uniform_(-EPSILON, EPSILON)).clamp(0, 1)
    g = input_grad(model, x0, y)
    with torch.no_grad():
        xa = torch.min(torch.max(x0 + FGSM_RS_ALPHA * g.sign(), x - EPSILON), x + EPSILON).clamp(0, 1)
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(xa), y)
    loss.backward()
    opt.step()
    return loss.item()


def time_it(name, threads, batch, runs, once, warmup=True):
    """Median of `runs` timed calls, after one warm-up call (oneDNN primitive creation) when `warmup`."""
    warm = None
    if warmup:
        t0 = time.perf_counter()
        once()
        warm = round((time.perf_counter() - t0) * 1000)
    ms = []
    for _ in range(runs):
        s = time.perf_counter()
        once()
        ms.append((time.perf_counter() - s) * 1000)
    med = statistics.median(ms)
    row = {
        "batch": batch,
        "runs": runs,
        "imgPerSec": round(batch * 1000 / med, 2),
        "medianMs": round(med, 1),
        "runsMs": [round(v) for v in ms],
        "warmupMs": warm,
    }
    print(f"[pytorch {threads}t] {name}: {row['imgPerSec']} img/s, median {row['medianMs']} ms of {row['runsMs']}", file=sys.stderr)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", required=True, help="folder with export-data.json/.bin from the tfjs side")
    ap.add_argument("--out", required=True, help="result JSON to write")
    ap.add_argument("--threads", default="2,1", help="torch.set_num_threads values, comma-separated")
    ap.add_argument("--runs", default="forward=10,inputGrad=5,pgd40=2,advTrain=5", help="timed runs per workload")
    ap.add_argument("--batch", type=int, default=BATCH, help="images per workload, the first of the exported batch (default 128)")
    a = ap.parse_args()
    runs = {k: int(v) for k, v in (p.split("=") for p in a.runs.split(","))}

    default_threads = torch.get_num_threads()
    torch.manual_seed(0)
    model, x, x_noise, y, tfjs_logits = load_export(a.work)
    model.eval()  # no dropout/batch norm in this net: eval and train mode compute the same
    with torch.no_grad():
        logits = model(x)
    diff = (logits - tfjs_logits).abs().max().item()
    print(f"[pytorch] logits vs tfjs (cpu backend): max |diff| {diff:.2e} (max |logit| {tfjs_logits.abs().max().item():.1f})", file=sys.stderr)
    if diff > 1e-3:
        sys.exit(f"pytorch_bench.py: the PyTorch model does not reproduce the tfjs logits (max |diff| {diff}): weight conversion is wrong")

    # Reference for the tfjs backends: the logits [128, 10], and the input gradients (NHWC, flat) on the
    # MNIST batch and on the noise batch (same labels).
    def nhwc(g):
        return g.permute(0, 2, 3, 1).contiguous().numpy().astype("<f4").ravel()

    parts = {"logits": logits.numpy().astype("<f4").ravel(), "inputGrad": nhwc(input_grad(model, x, y)), "inputGradNoise": nhwc(input_grad(model, x_noise, y))}
    index, at = {}, 0
    for k, v in parts.items():
        index[k] = {"offset": at, "length": int(v.size)}
        at += v.size
    np.concatenate(list(parts.values())).tofile(f"{a.work}/pytorch-reference.bin")
    json.dump(index, open(f"{a.work}/pytorch-reference.json", "w"))

    x, y = x[: a.batch], y[: a.batch]
    per_threads = []
    for t in [int(v) for v in a.threads.split(",")]:
        torch.set_num_threads(t)
        rows = {}
        rows["forward"] = time_it("forward", t, a.batch, runs["forward"], lambda: _forward(model, x))
        rows["inputGrad"] = time_it("inputGrad", t, a.batch, runs["inputGrad"], lambda: input_grad(model, x, y).sum().item())
        success = []
        # No warm-up of its own: the input-gradient runs warmed the same kernels (as on the tfjs side).
        rows["pgd40"] = time_it("pgd40", t, a.batch, runs["pgd40"], lambda: success.append(pgd40(model, x, y)), warmup=False)
        rows["pgd40"]["successRate"] = success[-1]
        train_model = copy.deepcopy(model)
        opt = torch.optim.Adam(train_model.parameters(), lr=1e-3)
        rows["advTrain"] = time_it("advTrain", t, a.batch, runs["advTrain"], lambda: adv_train_step(train_model, opt, x, y))
        per_threads.append({"threads": t, "workloads": rows})

    result = {
        "engine": "pytorch",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "executable": sys.executable,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "defaultThreads": default_threads,
        "interopThreads": torch.get_num_interop_threads(),
        "logitsVsTfjsCpu": {"maxAbsDiff": diff, "maxAbsLogit": tfjs_logits.abs().max().item()},
        "runs": per_threads,
        "maxRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "pgd": f"plain loop: clean prediction, uniform random start, {PGD_STEPS} steps of alpha {PGD_ALPHA} on sign(grad), projection to eps {EPSILON} and [0, 1], final prediction",
        "advTrain": "FGSM-RS (uniform start, one step of 1.25*eps) then torch.optim.Adam(lr=1e-3) step on F.cross_entropy of the adversarial batch",
    }
    json.dump(result, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
