"""How close DDIM and DPM-Solver++(2M) land to the probability-flow ODE's own solution, on a checkpoint.

    /usr/bin/python3 tools/reference/solver_accuracy.py [CHECKPOINT] [--n 16] [--seed 11]

The reference is DPM-Solver++(2M) over all 1000 timesteps from the same x_T (its distance from
500 steps is printed, to show it has converged). Two variants of DPM-Solver++ are measured: the
one SpriteDiffusion ships, whose step into t = 0 is first order, and the plain one, whose step
into t = 0 is second order like every other after the first. This is the measurement behind that
choice (tools/reference/DIFFUSION.md). PyTorch float32, one thread; about two minutes on two cores.
"""
import argparse
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
from load_checkpoint import alpha_bar, ddim_timesteps, load, time_value  # noqa: E402


@torch.no_grad()
def sample(model, config, x_T, steps, method):
    """method: "ddim", "dpm" (first order into t = 0, as shipped) or "dpm-plain"; always to t = -1."""
    ab = alpha_bar(config).tolist() + [1.0]  # ab[-1] = 1: the clean image
    alpha = lambda t: math.sqrt(ab[t])  # noqa: E731
    sigma = lambda t: math.sqrt(1 - ab[t])  # noqa: E731
    lam = lambda t: math.log(alpha(t) / sigma(t))  # noqa: E731
    n = x_T.shape[0]
    c = torch.zeros(n, config["n_cfeat"])
    path = ddim_timesteps(config["timesteps"], steps) + [-1]
    x, x0_prev = x_T.clone(), None
    for i in range(steps):
        t, s = path[i], path[i + 1]
        eps = model(x, torch.full((n, 1), time_value(t, config)), c)
        if config["prediction"] == "v":
            # The bundled model predicts v: eps = sqrt(ab) v + sqrt(1 - ab) x_t (load_checkpoint.ddim_sample).
            eps = alpha(t) * eps + sigma(t) * x
        x0 = (x - sigma(t) * eps) / alpha(t)
        if method == "ddim":
            x = alpha(s) * x0 + sigma(s) * eps
        elif s == -1:
            x = x0
        else:
            h = lam(s) - lam(t)
            first_order = x0_prev is None or (method == "dpm" and i == steps - 2)
            if first_order:
                d = x0
            else:
                r = (lam(t) - lam(path[i - 1])) / h
                d = (1 + 1 / (2 * r)) * x0 - 1 / (2 * r) * x0_prev
            x = sigma(s) / sigma(t) * x + alpha(s) * (1 - math.exp(-h)) * d
        x0_prev = x0
    return x


def rms(a, b):
    return float(torch.sqrt(torch.mean((a - b) ** 2)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", nargs="?", default=os.path.join(HERE, "..", "..", "models", "twemoji16", "model.safetensors"))
    parser.add_argument("--n", type=int, default=16, help="sprites (default 16)")
    parser.add_argument("--seed", type=int, default=11, help="seed of x_T (default 11)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model, config, _ = load(args.checkpoint)
    x_T = torch.randn(args.n, config["in_channels"], config["height"], config["height"],
                      generator=torch.Generator().manual_seed(args.seed))

    reference = sample(model, config, x_T, 1000, "dpm-plain")
    half = sample(model, config, x_T, 500, "dpm-plain")
    print(f"RMS distance from DPM-Solver++ at 1000 steps (whose RMS is {rms(reference, 0 * reference):.3f}; "
          f"500 steps are {rms(half, reference):.1e} from it)")
    counts = (10, 20, 40, 100)
    print(f"{'steps':28s}" + "".join(f"{n:>9d}" for n in counts))
    for label, method in (("DDIM", "ddim"), ("DPM-Solver++ 2M, plain", "dpm-plain"), ("DPM-Solver++ 2M, shipped", "dpm")):
        errors = [rms(sample(model, config, x_T, n, method), reference) for n in counts]
        print(f"{label:28s}" + "".join(f"{e:9.4f}" for e in errors), flush=True)


if __name__ == "__main__":
    main()
