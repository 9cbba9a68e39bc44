"""Diffusion reference fixtures (SPEC section 3) -> tests/SpriteDiffusion.Tests/Fixtures/diffusion/.

Run from anywhere:  /usr/bin/python3 tools/reference/diffusion_fixtures.py

Everything is computed in float64 straight from the SPEC's formulas (x0_hat first, then x_s, as
written there), independently of the C# code, which folds each step into two coefficients.
Inputs are drawn as float32 so that the C# side sees exactly the same numbers.
"""
import math
import os
import sys
import warnings
from fractions import Fraction

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "tests", "SpriteDiffusion.Tests", "Fixtures", "diffusion")
F64 = torch.float64


def linear_schedule(T):
    beta = torch.linspace(1e-4, 0.02, T, dtype=F64)
    alpha = 1 - beta
    return beta, alpha, torch.cumprod(alpha, 0)


def cosine_schedule(T, s=0.008, max_beta=0.999):
    """Nichol & Dhariwal: alpha_bar(u) = f(u)/f(0), f(u) = cos^2((u/T + s)/(1 + s) pi/2); index t is step t+1."""
    u = torch.arange(T + 1, dtype=F64)
    f = torch.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2
    beta = torch.clamp(1 - f[1:] / f[:-1], max=max_beta)
    alpha = 1 - beta
    alpha_bar = torch.cumprod(alpha, 0)
    # Only the last beta (f(T) = 0, so beta = 1) is clipped; before it alpha_bar is the formula itself.
    assert int((1 - f[1:] / f[:-1] > max_beta).sum()) == 1
    assert torch.allclose(alpha_bar[:-1], f[1:-1] / f[0], rtol=1e-12, atol=0)
    return beta, alpha, alpha_bar


def ab_at(alpha_bar, t):
    return torch.tensor(1.0, dtype=F64) if t < 0 else alpha_bar[t]


def ddpm(schedule, xt, eps, t):
    beta, alpha, alpha_bar = schedule
    mean = (xt - beta[t] / torch.sqrt(1 - alpha_bar[t]) * eps) / torch.sqrt(alpha[t])
    noise_scale = torch.sqrt(beta[t]) if t > 0 else torch.tensor(0.0, dtype=F64)
    return mean, noise_scale


def ddim(schedule, xt, eps, z, t, s, eta):
    _, _, alpha_bar = schedule
    ab_t, ab_s = alpha_bar[t], ab_at(alpha_bar, s)
    x0_hat = (xt - torch.sqrt(1 - ab_t) * eps) / torch.sqrt(ab_t)
    sigma = eta * torch.sqrt((1 - ab_s) / (1 - ab_t) * (1 - ab_t / ab_s))
    det = torch.sqrt(ab_s) * x0_hat + torch.sqrt(1 - ab_s - sigma**2) * eps
    return det + sigma * z, det, sigma


def ddim_timesteps(T, n):
    return torch.linspace(T - 1, 0, n, dtype=F64).long()


def exact_timesteps(T, n):
    """linspace(T-1, 0, n) truncated, in exact rational arithmetic."""
    if n == 1:
        return [T - 1]
    return [int(Fraction((T - 1) * (n - 1 - k), n - 1)) for k in range(n)]


def save(name, tensors, note):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name + ".safetensors")
    safetensors_io.save(path, tensors, {"note": note, "written_by": "tools/reference/diffusion_fixtures.py"})
    return path


def write_schedules():
    tensors = {}
    for T in (1000, 50):
        for name, make in (("linear", linear_schedule), ("cosine", cosine_schedule)):
            beta, _, alpha_bar = make(T)
            tensors[f"{name}_T{T}/beta"] = beta
            tensors[f"{name}_T{T}/alpha_bar"] = alpha_bar
    return save("schedule", tensors, "beta and alpha_bar (F64) of the linear and cosine schedules at T = 1000 and 50")


def step_inputs(seed, batch=2):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, 3, 4, 4, generator=g) for _ in range(3)]  # float32


def write_ddpm():
    xt, eps, _ = step_inputs(1)
    tensors = {"xt": xt, "eps_hat": eps}
    for sched_name, schedule, ts in (("linear", linear_schedule(1000), (999, 500, 1, 0)),
                                     ("cosine", cosine_schedule(1000), (999, 500, 0))):
        for t in ts:
            mean, noise = ddpm(schedule, xt.double(), eps.double(), t)
            tensors[f"{sched_name}/t{t}/mean"] = mean
            tensors[f"{sched_name}/t{t}/noise_scale"] = noise
    return save("ddpm", tensors, "DDPM step mean and noise scale at T = 1000 from fixed x_t, eps_hat")


DDIM_PAIRS = ((999, 978), (500, 479), (978, 958), (20, 0), (0, -1), (999, -1), (40, -1))


def write_ddim():
    xt, eps, z = step_inputs(2)
    tensors = {"xt": xt, "eps_hat": eps, "z": z}
    for sched_name, schedule in (("linear", linear_schedule(1000)), ("cosine", cosine_schedule(1000))):
        for eta in (0.0, 0.5):
            for t, s in DDIM_PAIRS:
                x_next, det, sigma = ddim(schedule, xt.double(), eps.double(), z.double(), t, s, eta)
                key = f"{sched_name}/eta{eta}/t{t}_s{s}"
                tensors[key + "/x_next"] = x_next
                if eta > 0:
                    tensors[key + "/det"] = det
                    tensors[key + "/sigma"] = sigma
    for n in (50, 10):
        steps = ddim_timesteps(1000, n)
        assert steps.tolist() == exact_timesteps(1000, n)
        tensors[f"timesteps_n{n}"] = steps
    # torch's float64 linspace truncates one low here (at k = 33: 999 * 66 / 99 = 666 exactly), so the
    # exact form is stored for the C# side, which uses the exact form everywhere.
    assert ddim_timesteps(1000, 100).tolist() != exact_timesteps(1000, 100)
    tensors["timesteps_n100_exact"] = torch.tensor(exact_timesteps(1000, 100), dtype=torch.int64)
    return save("ddim", tensors, "DDIM x_next (eta 0, 0.5: det, sigma given z) at T = 1000 and the timestep lists")


def write_forward():
    g = torch.Generator().manual_seed(3)
    x0 = torch.randn(4, 3, 4, 4, generator=g)
    eps = torch.randn(4, 3, 4, 4, generator=g)
    t = torch.tensor([999, 0, 500, 37], dtype=torch.int64)
    tensors = {"x0": x0, "eps": eps, "t": t}
    for sched_name, schedule in (("linear", linear_schedule(1000)), ("cosine", cosine_schedule(1000))):
        ab = schedule[2][t].view(-1, 1, 1, 1)
        tensors[f"{sched_name}/xt"] = torch.sqrt(ab) * x0.double() + torch.sqrt(1 - ab) * eps.double()
    return save("forward", tensors, "x_t = sqrt(alpha_bar[t]) x0 + sqrt(1 - alpha_bar[t]) eps per image at T = 1000")


def dpm_solver_2m(schedule, x_T, eps_hats, timesteps):
    """DPM-Solver++(2M), Lu et al. 2022 (Algorithm 2), from x_T over `timesteps` and then to t = -1.

    Returns x after each step. eps_hats[i] is the noise prediction at timesteps[i] (the caller's
    fixed numbers, not a model). The first step has no earlier x0 prediction, and the step into the
    last timestep spans a lambda interval several times the previous one, so both take the first-order
    update; the step to t = -1 (sigma = 0, lambda = +inf) evaluates the first-order update at its
    limit (exp(-inf) = 0), where it leaves x0_hat.
    """
    _, _, alpha_bar = schedule
    alpha = lambda t: torch.sqrt(ab_at(alpha_bar, t))  # noqa: E731
    sigma = lambda t: torch.sqrt(1 - ab_at(alpha_bar, t))  # noqa: E731
    lam = lambda t: torch.log(alpha(t)) - torch.log(sigma(t))  # noqa: E731
    path = list(timesteps) + [-1]
    x, x0_prev, xs = x_T, None, []
    for i, eps in enumerate(eps_hats):
        t, s = path[i], path[i + 1]
        x0 = (x - sigma(t) * eps) / alpha(t)
        h = lam(s) - lam(t)
        if x0_prev is None or s == path[-2] or s < 0:
            d = x0
        else:
            r = (lam(t) - lam(path[i - 1])) / h
            d = (1 + 1 / (2 * r)) * x0 - 1 / (2 * r) * x0_prev
        x = sigma(s) / sigma(t) * x - alpha(s) * (torch.exp(-h) - 1) * d
        x0_prev = x0
        xs.append(x)
    return xs


def write_dpm_solver():
    g = torch.Generator().manual_seed(4)
    u, e = torch.randn(2, 3, 4, 4, generator=g), torch.randn(2, 3, 4, 4, generator=g)
    later_eps = [torch.randn(2, 3, 4, 4, generator=g) for _ in range(4)]  # float32
    tensors = {f"eps_hat{i + 1}": eps for i, eps in enumerate(later_eps)}
    for n in (5, 1):
        tensors[f"timesteps_n{n}"] = torch.tensor(exact_timesteps(1000, n), dtype=torch.int64)
    for sched_name, schedule in (("linear", linear_schedule(1000)), ("cosine", cosine_schedule(1000))):
        # Unscaled, x0_hat at T - 1 would be of size 1/alpha (1e4 for cosine) and swamp every later
        # step's contribution; scaled, it is u - e, of size 1 as a model's is.
        a, s = torch.sqrt(schedule[2][-1]), torch.sqrt(1 - schedule[2][-1])
        x_T, eps0 = (a * u.double()).float(), (a / s * e.double()).float()
        tensors[f"{sched_name}/x_T"], tensors[f"{sched_name}/eps_hat0"] = x_T, eps0
        eps_hats = [eps0] + later_eps
        for n in (5, 1):
            steps = tensors[f"timesteps_n{n}"].tolist()
            xs = dpm_solver_2m(schedule, x_T.double(), [eps.double() for eps in eps_hats[:n]], steps)
            for k, x in enumerate(xs):
                tensors[f"{sched_name}/n{n}/x{k + 1}"] = x
    return save("dpm_solver", tensors, "DPM-Solver++(2M) runs of 5 and 1 steps at T = 1000 from fixed x_T and eps_hat per step")


def from_velocity(alpha_bar_t, xt, v):
    """(x0, eps) that a v prediction implies: with a = sqrt(ab), s = sqrt(1 - ab), x_t = a x0 + s eps
    and v = a eps - s x0, so x0 = a x_t - s v and eps = a v + s x_t (Salimans and Ho 2022, section 4)."""
    a, s = torch.sqrt(alpha_bar_t), torch.sqrt(1 - alpha_bar_t)
    return a * xt - s * v, a * v + s * xt


def clipped_eps(alpha_bar_t, xt, x0, eps):
    """diffusers' clip_sample: x0 clamped to [-1, 1], eps made consistent with it where it moved."""
    a, s = torch.sqrt(alpha_bar_t), torch.sqrt(1 - alpha_bar_t)
    x0c = torch.clamp(x0, -1, 1)
    return torch.where(x0c == x0, eps, (xt - a * x0c) / s)


def dpm_solver_2m_v(schedule, x_T, v_hats, timesteps):
    """dpm_solver_2m above, fed by a v model: each step's x0_hat comes from that step's v_hat and
    the current x, x0 = alpha x - sigma v (DPM-Solver++ is written in x0 already)."""
    _, _, alpha_bar = schedule
    alpha = lambda t: torch.sqrt(ab_at(alpha_bar, t))  # noqa: E731
    sigma = lambda t: torch.sqrt(1 - ab_at(alpha_bar, t))  # noqa: E731
    lam = lambda t: torch.log(alpha(t)) - torch.log(sigma(t))  # noqa: E731
    path = list(timesteps) + [-1]
    x, x0_prev, xs = x_T, None, []
    for i, v in enumerate(v_hats):
        t, s = path[i], path[i + 1]
        x0, _ = from_velocity(alpha_bar[t], x, v)
        h = lam(s) - lam(t)
        if x0_prev is None or s == path[-2] or s < 0:
            d = x0
        else:
            r = (lam(t) - lam(path[i - 1])) / h
            d = (1 + 1 / (2 * r)) * x0 - 1 / (2 * r) * x0_prev
        x = sigma(s) / sigma(t) * x - alpha(s) * (torch.exp(-h) - 1) * d
        x0_prev = x0
        xs.append(x)
    return xs


V_TIMESTEPS = (999, 500, 20, 0)
V_DDIM_PAIRS = ((999, 978), (500, 479), (20, 0), (0, -1))


def write_prediction():
    g = torch.Generator().manual_seed(5)
    x0, eps = torch.randn(4, 3, 4, 4, generator=g), torch.randn(4, 3, 4, 4, generator=g)
    t = torch.tensor([999, 0, 500, 37], dtype=torch.int64)
    xt, v_hat = torch.randn(2, 3, 4, 4, generator=g), torch.randn(2, 3, 4, 4, generator=g)
    x_T = torch.randn(2, 3, 4, 4, generator=g)
    v_run = [torch.randn(2, 3, 4, 4, generator=g) for _ in range(5)]  # all float32
    tensors = {"x0": x0, "eps": eps, "t": t, "xt": xt, "v_hat": v_hat, "x_T": x_T}
    tensors.update({f"v_hat{i}": v for i, v in enumerate(v_run)})
    tensors["timesteps_n5"] = torch.tensor(exact_timesteps(1000, 5), dtype=torch.int64)
    for sched_name, schedule in (("linear", linear_schedule(1000)), ("cosine", cosine_schedule(1000))):
        alpha_bar = schedule[2]
        ab = alpha_bar[t].view(-1, 1, 1, 1)
        tensors[f"{sched_name}/v"] = torch.sqrt(ab) * eps.double() - torch.sqrt(1 - ab) * x0.double()
        for step in V_TIMESTEPS:
            x0_hat, eps_hat = from_velocity(alpha_bar[step], xt.double(), v_hat.double())
            tensors[f"{sched_name}/t{step}/x0"] = x0_hat
            tensors[f"{sched_name}/t{step}/eps"] = eps_hat
            tensors[f"{sched_name}/t{step}/eps_clipped"] = clipped_eps(alpha_bar[step], xt.double(), x0_hat, eps_hat)
        for step, succ in V_DDIM_PAIRS:
            # SPEC section 3's DDIM at eta 0, with x0_hat and eps_hat those of the v prediction.
            x0_hat, eps_hat = from_velocity(alpha_bar[step], xt.double(), v_hat.double())
            ab_s = ab_at(alpha_bar, succ)
            tensors[f"{sched_name}/ddim/t{step}_s{succ}/x_next"] = torch.sqrt(ab_s) * x0_hat + torch.sqrt(1 - ab_s) * eps_hat
        xs = dpm_solver_2m_v(schedule, x_T.double(), [v.double() for v in v_run], tensors["timesteps_n5"].tolist())
        for k, x in enumerate(xs):
            tensors[f"{sched_name}/dpm_n5/x{k + 1}"] = x
    return save("prediction", tensors, "v targets, v -> x0 / eps (clipped too), DDIM steps and a DPM-Solver++(2M) run from v predictions at T = 1000")


MIN_SNR_T = (999, 998, 700, 500, 100, 20, 1, 0)


def write_min_snr():
    """Hang et al. 2023: min(SNR, gamma) on the x0 loss, so min(SNR, gamma) / SNR on eps and
    min(SNR, gamma) / (SNR + 1) on v; loss = mean over all values of w[image] (pred - target)^2."""
    g = torch.Generator().manual_seed(6)
    n = len(MIN_SNR_T)
    pred, target = torch.randn(n, 3, 4, 4, generator=g), torch.randn(n, 3, 4, 4, generator=g)
    tensors = {"t": torch.tensor(MIN_SNR_T, dtype=torch.int64), "pred": pred, "target": target}
    for sched_name, schedule in (("linear", linear_schedule(1000)), ("cosine", cosine_schedule(1000))):
        ab = schedule[2][list(MIN_SNR_T)]
        snr = ab / (1 - ab)
        for gamma in (5.0, 1.0):
            clipped = torch.clamp(snr, max=gamma)
            for target_name, weight in (("eps", clipped / snr), ("v", clipped / (snr + 1))):
                key = f"{sched_name}/gamma{gamma}/{target_name}"
                tensors[key + "/weight"] = weight
                p = pred.double().requires_grad_(True)
                loss = (weight.view(-1, 1, 1, 1) * (p - target.double()) ** 2).mean()
                loss.backward()
                tensors[key + "/loss"] = loss.detach()
                tensors[key + "/grad"] = p.grad
    return save("min_snr", tensors, "min-SNR-gamma weights for eps and v targets, the weighted MSE and its gradient, T = 1000")


def lr_run(scheduler_factory, steps, peak=1e-3):
    """The learning rate torch's schedulers give each of `steps` optimiser steps (read before the step)."""
    param = torch.nn.Parameter(torch.zeros(1, dtype=F64))
    opt = torch.optim.SGD([param], lr=peak)
    sched = scheduler_factory(opt)
    rates = []
    for _ in range(steps):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return torch.tensor(rates, dtype=F64)


def closed_form_lr(n, decay, peak, warmup, floor, total, start_step=None, start_progress=0.0):
    """The same rates from the formulas: warm-up (n + 1) / W, then progress p from start_progress at
    start_step (default: the warm-up's end) to 1 at total, cosine or linear from peak to floor."""
    if n < warmup:
        return peak * (n + 1) / warmup
    if decay == "constant":
        return peak
    start = warmup if start_step is None else start_step
    p = start_progress if n <= start else min(1.0, start_progress + (1 - start_progress) * (n - start) / (total - start))
    if decay == "cosine":
        return floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * p))
    return peak - (peak - floor) * p


def write_lr_schedule():
    """Warm-up then decay with torch.optim.lr_scheduler, checked against the closed form; the
    re-planned cases (a resume with more epochs, a time budget planned after its first epoch)
    have no torch scheduler and are the closed form with the decay re-anchored."""
    lrs = torch.optim.lr_scheduler
    # SequentialLR steps each scheduler at its milestone with an explicit epoch, which torch 1.13 warns about.
    warnings.filterwarnings("ignore", message="The epoch parameter", category=UserWarning)
    peak, floor, warmup, total = 1e-3, 1e-5, 10, 100
    warm = lambda o: lrs.LinearLR(o, start_factor=1 / warmup, end_factor=1.0, total_iters=warmup - 1)  # noqa: E731
    tensors = {
        "cosine_w10_s100": lr_run(lambda o: lrs.SequentialLR(o, [warm(o), lrs.CosineAnnealingLR(o, T_max=total - warmup, eta_min=floor)], milestones=[warmup]), total),
        "linear_w10_s100": lr_run(lambda o: lrs.SequentialLR(o, [warm(o), lrs.LinearLR(o, start_factor=1.0, end_factor=floor / peak, total_iters=total - warmup)], milestones=[warmup]), total),
        "cosine_w0_s100_floor0": lr_run(lambda o: lrs.CosineAnnealingLR(o, T_max=total, eta_min=0.0), total),
        "constant_w10": lr_run(warm, total),
        # Unplanned until step 30 (the peak held after a 5-step warm-up), then a cosine to step 120.
        "cosine_w5_planned_at30_s120": lr_run(lambda o: lrs.SequentialLR(o, [
            lrs.LinearLR(o, start_factor=1 / 5, end_factor=1.0, total_iters=4),
            lrs.ConstantLR(o, factor=1.0, total_iters=0),
            lrs.CosineAnnealingLR(o, T_max=90, eta_min=floor)], milestones=[5, 30]), 120),
    }
    expected = {
        "cosine_w10_s100": [closed_form_lr(n, "cosine", peak, warmup, floor, total) for n in range(total)],
        "linear_w10_s100": [closed_form_lr(n, "linear", peak, warmup, floor, total) for n in range(total)],
        "cosine_w0_s100_floor0": [closed_form_lr(n, "cosine", peak, 0, 0.0, total) for n in range(total)],
        "constant_w10": [closed_form_lr(n, "constant", peak, warmup, floor, total) for n in range(total)],
        "cosine_w5_planned_at30_s120": [closed_form_lr(n, "cosine", peak, 5, floor, 120, 30, 0.0) for n in range(120)],
    }
    for key, rates in expected.items():
        assert torch.allclose(tensors[key], torch.tensor(rates, dtype=F64), rtol=1e-12, atol=0), key
    # Planned for 100 steps, resumed at step 60 with 160: the decay continues from its progress there.
    for decay in ("cosine", "linear"):
        p60 = (60 - warmup) / (total - warmup)
        tensors[f"{decay}_w10_s100_replanned_at60_s160"] = torch.tensor(
            [closed_form_lr(n, decay, peak, warmup, floor, total) if n < 60 else closed_form_lr(n, decay, peak, warmup, floor, 160, 60, p60)
             for n in range(160)], dtype=F64)
    return save("lr_schedule", tensors, "learning rate per optimiser step: peak 1e-3, floor 1e-5 unless named, warm-up W, planned steps S")


def main():
    root = os.path.join(HERE, "..", "..")
    for path in (write_schedules(), write_ddpm(), write_ddim(), write_forward(), write_dpm_solver(),
                 write_prediction(), write_min_snr(), write_lr_schedule()):
        back, _ = safetensors_io.load(path)
        assert all(np.all(np.isfinite(v)) for v in back.values()), path
        print(f"{os.path.relpath(path, root)}: {os.path.getsize(path)} bytes, {len(back)} tensors")


if __name__ == "__main__":
    main()
