#!/usr/bin/env python3
"""PyTorch CPU side of the networks benchmark (bench/networks.mjs runs it; see bench/README.md).

Two standard architectures at two input sizes, built here as nn.Modules and in bench/networks-worker.mjs
with plain tfjs ops:
  mobilenetv2-32   MobileNetV2 (width 1.0, 17 inverted-residual blocks, ReLU6), CIFAR variant: stem and
                   the first 24-channel stage at stride 1; 10 classes
  mobilenetv2-224  MobileNetV2 as in Sandler et al. 2018; 1000 classes
  resnet18-32      ResNet-18 (BasicBlocks [2, 2, 2, 2]), CIFAR variant: 3x3 stem at stride 1, no max pool;
                   10 classes
  resnet18-224     ResNet-18 as in He et al. 2016 (7x7/2 stem, 3x3/2 max pool); 1000 classes
Batch norm runs in inference mode (running statistics, not folded into the convolutions). Weights are
PyTorch's default initialisation under torch.manual_seed(0), with random running statistics and affine
parameters so that batch norm is not an identity; they are exported for the tfjs side (role export).

Roles:
  --role export --net NAME --work DIR --ref-batch N
      writes DIR/NAME.weights.bin/.json (PyTorch layouts, float32 little-endian), N uniform images and
      labels, and the logits and input gradients (NHWC) of those images as the reference
  --role bench --net NAME --work DIR --threads T --batch B --runs forward=R,inputGrad=R,pgd10=R --out FILE
      times forward, input gradient and PGD-10 at T threads on the first B images of a batch drawn with
      the same seed, and writes a JSON result (one process per network and thread count: peak RSS is
      per process)

Run with Debian's PyTorch: /usr/bin/python3 (apt-get install python3-torch).
"""
import argparse
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
except ImportError as e:
    sys.exit(
        f"networks_torch.py: cannot import PyTorch for {sys.executable} ({e}). "
        "Install Debian's package: sudo apt-get install python3-torch, then run with /usr/bin/python3."
    )

EPSILON = 8 / 255
PGD_STEPS = 10
PGD_ALPHA = 2 / 255


def conv_bn(cin, cout, k, stride, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.expand = conv_bn(cin, hidden, 1, 1) if expand != 1 else None
        self.dw = conv_bn(hidden, hidden, 3, stride, groups=hidden)
        self.project = conv_bn(hidden, cout, 1, 1)

    def forward(self, x):
        h = F.relu6(self.expand(x)) if self.expand is not None else x
        h = self.project(F.relu6(self.dw(h)))
        return x + h if self.use_res else h


class MobileNetV2(nn.Module):
    # (expansion t, channels c, repeats n, stride s) of Sandler et al., table 2
    CONFIG = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, small, classes):
        super().__init__()
        self.stem = conv_bn(3, 32, 3, 1 if small else 2)
        blocks, cin = [], 32
        for i, (t, c, n, s) in enumerate(self.CONFIG):
            if small and i == 1:
                s = 1  # CIFAR variant: 32x32 input keeps 4x4 before pooling
            for j in range(n):
                blocks.append(InvertedResidual(cin, c, s if j == 0 else 1, t))
                cin = c
        self.blocks = nn.ModuleList(blocks)
        self.head = conv_bn(320, 1280, 1, 1)
        self.fc = nn.Linear(1280, classes)

    def forward(self, x):
        x = F.relu6(self.stem(x))
        for b in self.blocks:
            x = b(x)
        x = F.relu6(self.head(x))
        return self.fc(x.mean((2, 3)))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a = conv_bn(cin, cout, 3, stride)
        self.b = conv_bn(cout, cout, 3, 1)
        self.down = conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        h = self.b(F.relu(self.a(x)))
        return F.relu(h + (self.down(x) if self.down is not None else x))


class ResNet18(nn.Module):
    def __init__(self, small, classes):
        super().__init__()
        self.small = small
        self.stem = conv_bn(3, 64, 3, 1) if small else conv_bn(3, 64, 7, 2)
        blocks, cin = [], 64
        for i, c in enumerate([64, 128, 256, 512]):
            for j in range(2):
                blocks.append(BasicBlock(cin, c, 2 if (i > 0 and j == 0) else 1))
                cin = c
        self.blocks = nn.ModuleList(blocks)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = F.relu(self.stem(x))
        if not self.small:
            x = F.max_pool2d(x, 3, 2, 1)
        for b in self.blocks:
            x = b(x)
        return self.fc(x.mean((2, 3)))


NETS = {
    "mobilenetv2-32": (lambda: MobileNetV2(True, 10), 32, 10),
    "mobilenetv2-224": (lambda: MobileNetV2(False, 1000), 224, 1000),
    "resnet18-32": (lambda: ResNet18(True, 10), 32, 10),
    "resnet18-224": (lambda: ResNet18(False, 1000), 224, 1000),
}


def build(name):
    make, size, classes = NETS[name]
    torch.manual_seed(0)
    model = make()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
                m.weight.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(n, generator=g) * 0.1)
    model.eval()
    return model, size, classes


def batch(size, classes, n):
    g = torch.Generator().manual_seed(2)
    x = torch.rand(n, 3, size, size, generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    return x, y


def input_grad(model, x, y):
    xr = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(model(xr), y), xr)
    return g


def pgd10(model, x, y):
    """A plain PGD loop: clean prediction, random start, 10 sign steps of 2/255, projection to 8/255 and [0, 1]."""
    with torch.no_grad():
        model(x).argmax(1)
    xa = (x + torch.empty_like(x).uniform_(-EPSILON, EPSILON)).clamp(0, 1)
    for _ in range(PGD_STEPS):
        g = input_grad(model, xa, y)
        with torch.no_grad():
            xa = torch.min(torch.max(xa + PGD_ALPHA * g.sign(), x - EPSILON), x + EPSILON).clamp(0, 1)
    with torch.no_grad():
        return (model(xa).argmax(1) != y).float().mean().item()


def nhwc(t):
    return t.permute(0, 2, 3, 1).contiguous().numpy().astype("<f4").ravel()


def export(a):
    model, size, classes = build(a.net)
    manifest, parts, at = [], [], 0
    for name, t in list(model.named_parameters()) + [(n, b) for n, b in model.named_buffers() if "running" in n]:
        v = t.detach().numpy().astype("<f4").ravel()
        manifest.append({"name": name, "shape": list(t.shape), "offset": at, "length": int(v.size)})
        parts.append(v)
        at += v.size
    x, y = batch(size, classes, a.ref_batch)
    with torch.no_grad():
        logits = model(x)
    grad = input_grad(model, x, y)
    ref = {"x": nhwc(x), "logits": logits.numpy().astype("<f4").ravel(), "inputGrad": nhwc(grad)}
    index = {}
    for k, v in ref.items():
        index[k] = {"offset": at, "length": int(v.size)}
        parts.append(v)
        at += v.size
    np.concatenate(parts).tofile(f"{a.work}/{a.net}.bin")
    meta = {
        "net": a.net,
        "inputShape": [size, size, 3],
        "numClasses": classes,
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "layout": "PyTorch: conv weights [out, in/groups, kh, kw], linear [out, in]; x and inputGrad NHWC; float32 little-endian",
        "weights": manifest,
        "reference": {**index, "batch": a.ref_batch, "labels": y.tolist()},
        "torch": torch.__version__,
    }
    json.dump(meta, open(f"{a.work}/{a.net}.json", "w"), indent=1)
    print(f"[pytorch] exported {a.net}: {meta['parameters']} parameters, reference on {a.ref_batch} images", file=sys.stderr)


def time_it(label, bsz, runs, once, warmup=True):
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
    row = {"batch": bsz, "runs": runs, "imgPerSec": round(bsz * 1000 / med, 3), "medianMs": round(med, 1), "runsMs": [round(v) for v in ms], "warmupMs": warm}
    print(f"[{label}] {row['imgPerSec']} img/s, median {row['medianMs']} ms of {row['runsMs']}", file=sys.stderr)
    return row


def bench(a):
    torch.set_num_threads(a.threads)
    runs = {k: int(v) for k, v in (p.split("=") for p in a.runs.split(","))}
    model, size, classes = build(a.net)
    x, y = batch(size, classes, a.batch)
    label = f"pytorch {a.threads}t {a.net}"
    rows = {}
    t0 = time.time()

    def fwd():
        with torch.no_grad():
            model(x).sum().item()

    rows["forward"] = time_it(f"{label} forward", a.batch, runs["forward"], fwd)
    rows["inputGrad"] = time_it(f"{label} inputGrad", a.batch, runs["inputGrad"], lambda: input_grad(model, x, y).sum().item())
    torch.manual_seed(3)
    success = []
    rows["pgd10"] = time_it(f"{label} pgd10", a.batch, runs["pgd10"], lambda: success.append(pgd10(model, x, y)), warmup=False)
    rows["pgd10"]["successRate"] = success[-1]
    result = {
        "engine": "pytorch",
        "net": a.net,
        "threads": a.threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "workloads": rows,
        "seconds": round(time.time() - t0, 1),
        "maxRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "pgd": f"plain loop: clean prediction, uniform random start, {PGD_STEPS} steps of {PGD_ALPHA:.5f} on sign(grad), projection to eps {EPSILON:.5f} and [0, 1], final prediction",
    }
    json.dump(result, open(a.out, "w"), indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--role", choices=["export", "bench"], required=True)
    ap.add_argument("--net", choices=sorted(NETS), required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--ref-batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--runs", default="forward=3,inputGrad=3,pgd10=1")
    ap.add_argument("--out")
    a = ap.parse_args()
    export(a) if a.role == "export" else bench(a)


if __name__ == "__main__":
    main()
