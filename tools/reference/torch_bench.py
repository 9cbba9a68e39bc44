"""PyTorch side of the side-by-side benchmark: the seed U-Net in float32 on the CPU.

    /usr/bin/python3 tools/reference/torch_bench.py train-step  --n-feat 64 --batch 128 --steps 3 [--threads 2]
    /usr/bin/python3 tools/reference/torch_bench.py sample-step --n-feat 64 --batch 128 --steps 10 [--threads 2]

train-step: one DDPM training step (random t, x_t from the closed-form forward process on random
x0 in [-1, 1], MSE against eps, Adam lr 1e-3). sample-step: one no-grad forward pass plus the DDPM
update. One untimed warm-up step, then --steps timed ones. The last line is `img/s=<number>`:
images per second for train-step, image-steps per second for sample-step.
"""
import argparse
import os
import platform
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # keep __pycache__ out of the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_unet import ContextUnet, parameter_count  # noqa: E402

T = 1000


def schedule():
    beta = torch.linspace(1e-4, 0.02, T)
    alpha = 1 - beta
    return beta, alpha, torch.cumprod(alpha, 0)


def train_steps(model, batch, steps, n_cfeat):
    _, _, alpha_bar = schedule()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    context = torch.zeros(batch, n_cfeat)
    model.train()

    def step():
        x0 = torch.rand(batch, 3, 16, 16) * 2 - 1
        t = torch.randint(0, T, (batch,))
        eps = torch.randn_like(x0)
        ab = alpha_bar[t].view(-1, 1, 1, 1)
        x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
        loss = F.mse_loss(model(x_t, (t.float() / T).view(-1, 1), context), eps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    return _timed(step, steps)


def sample_steps(model, batch, steps, n_cfeat):
    beta, alpha, alpha_bar = schedule()
    context = torch.zeros(batch, n_cfeat)
    model.eval()
    state = {"x": torch.randn(batch, 3, 16, 16), "t": T - 1}

    def step():
        t = state["t"]
        x = state["x"]
        with torch.no_grad():
            eps = model(x, torch.full((batch, 1), t / T), context)
            x = (x - beta[t] / (1 - alpha_bar[t]).sqrt() * eps) / alpha[t].sqrt()
            if t > 0:
                x = x + beta[t].sqrt() * torch.randn_like(x)
        state["x"] = x
        state["t"] = t - 1 if t > 0 else T - 1
        return float(x.abs().mean())

    return _timed(step, steps)


def _timed(step, steps):
    step()  # warm-up: first-call allocations and oneDNN primitive creation
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        value = step()
        times.append(time.perf_counter() - start)
    return times, value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["train-step", "sample-step"])
    parser.add_argument("--n-feat", type=int, default=64)
    parser.add_argument("--n-cfeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.steps < 1 or args.batch < 1:
        parser.error("--steps and --batch must be at least 1")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = ContextUnet(in_channels=3, n_feat=args.n_feat, n_cfeat=args.n_cfeat, height=16).float()
    print(f"torch {torch.__version__}, {platform.machine()}, threads {torch.get_num_threads()}, "
          f"mkldnn {torch.backends.mkldnn.is_available()}")
    print(f"{args.mode}: n_feat {args.n_feat} ({parameter_count(model)} parameters), batch {args.batch}, "
          f"{args.steps} timed steps after 1 warm-up")

    run = train_steps if args.mode == "train-step" else sample_steps
    times, last_value = run(model, args.batch, args.steps, args.n_cfeat)

    total = sum(times)
    per_step = total / len(times)
    rate = args.batch / per_step
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB
    print("per-step ms: " + ", ".join(f"{1000 * s:.1f}" for s in times))
    print(f"seconds={total:.3f}")
    print(f"ms_per_step={1000 * per_step:.1f} (min {1000 * min(times):.1f}, max {1000 * max(times):.1f})")
    print(f"last_{'loss' if args.mode == 'train-step' else 'mean_abs_x'}={last_value:.5f}")
    print(f"peak_rss_mb={peak_rss_mb:.1f}")
    print(f"img/s={rate:.2f}")


if __name__ == "__main__":
    main()
