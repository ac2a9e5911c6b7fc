#!/usr/bin/env python3
"""PyTorch CPU side of the end-to-end race (bench/race.mjs runs it; see bench/README.md, issue #21).

The grid of `advx eval`'s defaults, written the way a PyTorch user writes it with torchattacks-style
attacks: FGSM, PGD (40 steps of 0.01, uniform random start) and APGD-CE (100 steps) at each epsilon
(default 0.1, 0.2, 0.3, Linf), on the same network and weights (the zoo's mnist-cnn architecture, in
NCHW) and the same first N MNIST test images that race.mjs exported from tfjs. As `advx eval`: the
images go in chunks of --batch-size (100, the CLI's default), each chunk's attacks run on its
clean-correct samples only, every attack x epsilon independently (not chained).

The attacks are written here from the algorithms (Goodfellow et al. 2014; Madry et al. 2017 as
torchattacks.PGD; Croce & Hein 2020 Algorithm 1 as torchattacks.APGD / autopgd_base.py with
n_restarts 1, loss 'ce'). As torchattacks, every step runs on every sample (no early stop) unless
--early-stop is given, which mimics advx's early stop (see race.mjs's notes).

Run with Debian's PyTorch: /usr/bin/python3 bench/race_torch.py --work DIR --out FILE [--threads 2]
(DIR holds export-data.json/.bin in the format of bench/pytorch_bench.py's load_export).
"""
import argparse
import json
import os
import platform
import resource
import sys
import time

T_PROCESS = time.perf_counter()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_bench import load_export  # noqa: E402  (exits with an install hint when torch is missing)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

T_IMPORTED = time.perf_counter()


def project(xa, x, eps):
    """Projection onto the Linf ball of radius eps around x, then onto the box [0, 1]."""
    return torch.min(torch.max(xa, x - eps), x + eps).clamp(0, 1)


PASSES = {"forward": 0, "backward": 0}  # rows through the model, as advx's results.json `passes`


def loss_grad(model, xa, y):
    """Per-sample cross-entropy, logits and the input gradient of the summed loss, in one pass."""
    PASSES["forward"] += xa.shape[0]
    PASSES["backward"] += xa.shape[0]
    xr = xa.detach().requires_grad_(True)
    logits = model(xr)
    loss = F.cross_entropy(logits, y, reduction="none")
    (g,) = torch.autograd.grad(loss.sum(), xr)
    return loss.detach(), logits.detach(), g


def fgsm(model, x, y, eps, early_stop=False):
    """One step of eps on sign(grad) of the cross-entropy, clipped to [0, 1] (torchattacks.FGSM)."""
    _, _, g = loss_grad(model, x, y)
    return (x + eps * g.sign()).clamp(0, 1)


def pgd(model, x, y, eps, steps=40, alpha=0.01, early_stop=False):
    """torchattacks.PGD: uniform start in the eps-ball (clipped), `steps` sign steps of `alpha`, projection.

    Without early stop (torchattacks) every sample takes every step and the last iterate is returned.
    With `early_stop` (advx's default): a sample freezes at its first adversarial iterate, and the
    loop ends once every sample of the batch is frozen (all rows are still computed until then; advx
    also stops computing finished rows once at most 3/4 of a batch still runs, which this script does not).
    """
    xa = project(x + torch.empty_like(x).uniform_(-eps, eps), x, eps)
    frozen = torch.zeros(x.shape[0], dtype=torch.bool)
    for _ in range(steps):
        _, logits, g = loss_grad(model, xa, y)
        with torch.no_grad():
            nxt = project(xa + alpha * g.sign(), x, eps)
            if early_stop:
                frozen |= logits.argmax(1) != y
                xa = torch.where(frozen[:, None, None, None], xa, nxt)
                if bool(frozen.all()):
                    break
            else:
                xa = nxt
    return xa


def apgd_checkpoints(steps):
    """Iteration counts w_j (j >= 1) after which APGD checks its step size: ceil(p_j * N),
    p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06) (Croce & Hein 2020, sec. 3.2),
    in integer hundredths so that 0.41 * 100 is 41."""
    out, prev, p = [], 0, 22
    while True:
        w = -(-p * steps // 100)
        if w >= steps:
            return out
        if not out or w != out[-1]:
            out.append(w)
        prev, p = p, p + max(p - prev - 3, 6)


def apgd_ce(model, x, y, eps, steps=100, rho=0.75, alpha=0.75, early_stop=False):
    """APGD-CE, one run (n_restarts 1), Croce & Hein 2020 Algorithm 1 as torchattacks.APGD.

    Start: a random point of the eps-sphere, x + eps * t / max|t| with t uniform in [-1, 1]^d, clipped.
    Step size eta = 2 eps per sample. Step k: z = P(x_k + eta sign(g_k)); x_{k+1} = P(x_k + a (z - x_k)
    + (1 - a)(x_k - x_{k-1})) with a = 1 at the first step and alpha (0.75) after. After w_j iterations
    (checkpoint): eta is halved and the iterate (and its gradient) reset to the best point where
    (1) at most rho * (w_j - w_{j-1}) of the steps since the last checkpoint increased the loss, or
    (2) eta was not halved at the last checkpoint and the best loss did not increase since.
    Returns per sample the last adversarial iterate found (as torchattacks' x_best_adv), else the
    point of highest loss; every sample takes all `steps` steps unless `early_stop` (the loop then ends
    once every sample has an adversarial iterate).
    """
    n = x.shape[0]
    col = (n, 1, 1, 1)
    t = 2 * torch.rand_like(x) - 1
    xa = (x + eps * t / t.reshape(n, -1).abs().amax(1).reshape(col)).clamp(0, 1)
    loss, logits, g = loss_grad(model, xa, y)
    found = logits.argmax(1) != y
    x_adv = xa.clone()  # rows where `found` hold an adversarial iterate
    x_best, g_best, loss_best = xa.clone(), g.clone(), loss.clone()
    eta = torch.full(col, 2 * eps)
    checks = set(apgd_checkpoints(steps))
    last_check = 0
    increases = torch.zeros(n)
    loss_prev = loss.clone()
    reduced_last = torch.zeros(n, dtype=torch.bool)
    loss_best_last = loss_best.clone()
    x_prev = xa
    for k in range(steps):
        with torch.no_grad():
            z = project(xa + eta * g.sign(), x, eps)
            a = 1.0 if k == 0 else alpha
            nxt = project(xa + a * (z - xa) + (1 - a) * (xa - x_prev), x, eps)
        x_prev = xa
        loss, logits, g = loss_grad(model, nxt, y)
        xa = nxt
        with torch.no_grad():
            adv = logits.argmax(1) != y
            x_adv[adv] = xa[adv]
            found |= adv
            increases += (loss > loss_prev).float()
            loss_prev = loss
            better = loss > loss_best
            x_best[better] = xa[better]
            g_best[better] = g[better]
            loss_best = torch.where(better, loss, loss_best)
            if k + 1 in checks:
                window = k + 1 - last_check
                halve = (increases <= rho * window) | (~reduced_last & (loss_best <= loss_best_last))
                if bool(halve.any()):
                    eta[halve] /= 2
                    xa = torch.where(halve[:, None, None, None], x_best, xa)
                    g = torch.where(halve[:, None, None, None], g_best, g)
                reduced_last = halve
                loss_best_last = loss_best.clone()
                increases.zero_()
                last_check = k + 1
        if early_stop and bool(found.all()):
            break
    return torch.where(found[:, None, None, None], x_adv, x_best)


ATTACKS = [
    ("FGSM", fgsm),
    ("PGD-40", pgd),
    ("APGD-CE-100", apgd_ce),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", required=True, help="folder with export-data.json/.bin (race.mjs --worker export)")
    ap.add_argument("--out", required=True, help="result JSON to write")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--eps", default="0.1,0.2,0.3", help="comma-separated Linf epsilons")
    ap.add_argument("--batch-size", type=int, default=100, help="samples per chunk (advx eval's --batch-size default: 100)")
    ap.add_argument("--seed", type=int, default=0, help="torch.manual_seed")
    ap.add_argument("--pgd-steps", type=int, default=40)
    ap.add_argument("--pgd-alpha", type=float, default=0.01)
    ap.add_argument("--apgd-steps", type=int, default=100)
    ap.add_argument("--early-stop", action="store_true", help="advx-style early stop instead of torchattacks' all steps on all samples")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    epsilons = [float(v) for v in a.eps.split(",")]
    t0 = time.perf_counter()
    model, x, _, y, tfjs_logits = load_export(a.work)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)  # only input gradients are needed
    with torch.no_grad():
        diff = (model(x[: tfjs_logits.shape[0]]) - tfjs_logits).abs().max().item()
    print(f"[race_torch] logits vs tfjs: max |diff| {diff:.2e} on {tfjs_logits.shape[0]} images (max |logit| {tfjs_logits.abs().max().item():.1f})", file=sys.stderr)
    if diff > 1e-3:
        sys.exit(f"race_torch.py: the PyTorch model does not reproduce the tfjs logits (max |diff| {diff}): weight conversion is wrong")
    load_s = time.perf_counter() - t0

    n = x.shape[0]
    kw = {
        "FGSM": {},
        "PGD-40": {"steps": a.pgd_steps, "alpha": a.pgd_alpha},
        "APGD-CE-100": {"steps": a.apgd_steps},
    }
    correct_total = 0
    fooled = {name: [0] * len(epsilons) for name, _ in ATTACKS}
    seconds = {name: 0.0 for name, _ in ATTACKS}
    passes = {name: {"forward": 0, "backward": 0} for name, _ in ATTACKS}
    t_grid = time.perf_counter()
    for start in range(0, n, a.batch_size):
        xb, yb = x[start : start + a.batch_size], y[start : start + a.batch_size]
        with torch.no_grad():
            correct = model(xb).argmax(1) == yb
        correct_total += int(correct.sum())
        xs, ys = xb[correct], yb[correct]
        if xs.shape[0] == 0:
            continue
        for name, attack in ATTACKS:
            ta = time.perf_counter()
            before = dict(PASSES)
            for e, eps in enumerate(epsilons):
                xadv = attack(model, xs, ys, eps, early_stop=a.early_stop, **kw[name])
                with torch.no_grad():
                    fooled[name][e] += int((model(xadv).argmax(1) != ys).sum())
                PASSES["forward"] += xs.shape[0]
            seconds[name] += time.perf_counter() - ta
            for k in PASSES:
                passes[name][k] += PASSES[k] - before[k]
    grid_s = time.perf_counter() - t_grid

    attacks = []
    for name, _ in ATTACKS:
        attacks.append(
            {
                "label": name,
                "seconds": round(seconds[name], 3),
                "passes": passes[name],
                "perEpsilon": [
                    {
                        "epsilon": eps,
                        "robustAccuracy": (correct_total - fooled[name][e]) / n,
                        "successRate": fooled[name][e] / correct_total if correct_total else 0.0,
                        "attacked": correct_total,
                    }
                    for e, eps in enumerate(epsilons)
                ],
            }
        )
        print(f"[race_torch] {name}: {seconds[name]:.1f} s, robust accuracy {[round(r['robustAccuracy'], 4) for r in attacks[-1]['perEpsilon']]}", file=sys.stderr)
    result = {
        "engine": "pytorch",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "executable": sys.executable,
        "threads": torch.get_num_threads(),
        "interopThreads": torch.get_num_interop_threads(),
        "n": n,
        "batchSize": a.batch_size,
        "epsilons": epsilons,
        "seed": a.seed,
        "earlyStop": a.early_stop,
        "logitsVsTfjs": {"maxAbsDiff": diff, "images": int(tfjs_logits.shape[0])},
        "cleanAccuracy": correct_total / n,
        "attacks": attacks,
        "seconds": {
            "importTorch": round(T_IMPORTED - T_PROCESS, 3),
            "load": round(load_s, 3),
            "grid": round(grid_s, 3),
            "insideProcess": round(time.perf_counter() - T_PROCESS, 3),
        },
        "maxRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "attackSettings": {
            "FGSM": "x + eps*sign(grad CE), clip [0, 1]",
            "PGD-40": f"uniform start in the eps-ball, {a.pgd_steps} steps of {a.pgd_alpha} on sign(grad CE), projection, clip; "
            + ("advx-style early stop" if a.early_stop else "all steps on all samples, last iterate (torchattacks)"),
            "APGD-CE-100": f"Croce & Hein 2020 Alg. 1, 1 run, {a.apgd_steps} steps, eta0 2 eps, rho 0.75, alpha 0.75, eps-sphere start; "
            + ("ends once every sample is adversarial" if a.early_stop else "all steps on all samples (torchattacks)"),
        },
    }
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
