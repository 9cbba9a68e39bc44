"""Two DDP processes (Gloo, CPU) with half the batch each train the same weights as one process
that runs the two halves one after the other and averages their gradients.

    /usr/bin/python3 tools/reference/ddp_equivalence.py [--steps 5] [--n-feat 16]

Both sides run the PyTorch trainer's step (tools/pytorch/recipe.py: v target, min-SNR-5, cosine
schedule, t/T, class context with null-context rows, the learning rate of a warm-up-then-cosine
plan, Adam, an EMA) on the same global batches, noise, t and masks. As in DDP, each half is
normalised by its own BatchNorm statistics, and the running statistics that DDP keeps are rank
0's (it broadcasts rank 0's buffers before every forward pass), so the one-process side keeps the
first half's. Prints, per step, both sides' losses, then the largest absolute and relative
differences of the parameters, running statistics, Adam moments and EMA. Float32 throughout, one
thread per process; about 10 s on two cores.
"""
import argparse
import os
import sys
import tempfile

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel as DDP

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "pytorch"))
import recipe  # noqa: E402

T, N_CFEAT, BATCH = 1000, 5, 8
PLAN = ("cosine", 1e-3, 2, 1e-5, 6)  # warm-up over 2 steps, then cosine decay to step 6
EMA_DECAY = 0.9


def batches(steps):
    """The global batches every side uses: x0, context (some rows null), t, noise."""
    g = torch.Generator().manual_seed(2024)
    out = []
    for _ in range(steps):
        x0 = torch.rand(BATCH, 3, 16, 16, generator=g) * 2 - 1
        context = torch.nn.functional.one_hot(torch.randint(0, N_CFEAT, (BATCH,), generator=g), N_CFEAT).float()
        context = context * (torch.rand(BATCH, generator=g) >= 0.25).float().unsqueeze(1)
        t = torch.randint(0, T, (BATCH,), generator=g)
        eps = torch.randn(BATCH, 3, 16, 16, generator=g)
        out.append((x0, context, t, eps))
    return out


def setup(n_feat):
    torch.manual_seed(7)
    model = recipe.ContextUnet(3, n_feat, N_CFEAT, 16)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    return model, optimizer, recipe.WeightAverage(model, EMA_DECAY), recipe.LearningRate(*PLAN)


def loss_of(module, x0, context, t, eps, ab):
    return recipe.noise_objective(module, x0, context, t, eps, ab, T, "t/T", "v", 5.0)


def snapshot(model, optimizer, average):
    state = {"model." + k: v.detach().clone() for k, v in model.state_dict().items()}
    names = {id(p): n for n, p in model.named_parameters()}
    for p, s in optimizer.state.items():
        state["adam.exp_avg." + names[id(p)]] = s["exp_avg"].clone()
        state["adam.exp_avg_sq." + names[id(p)]] = s["exp_avg_sq"].clone()
    for k, v in average.average.items():
        state["ema." + k] = v.clone()
    return state


def worker(rank, world, init_file, steps, n_feat, result):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    model, optimizer, average, lr = setup(n_feat)
    ddp = DDP(model)
    ab = recipe.alpha_bar("cosine", T)
    half = BATCH // world
    losses = []
    for step, (x0, context, t, eps) in enumerate(batches(steps)):
        part = slice(rank * half, (rank + 1) * half)
        for group in optimizer.param_groups:
            group["lr"] = lr.at(step)
        loss = loss_of(ddp, x0[part], context[part], t[part], eps[part], ab)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        average.update(step)
        losses.append(float(loss))
    gathered = [None] * world
    dist.all_gather_object(gathered, losses)
    if rank == 0:
        torch.save({"state": snapshot(model, optimizer, average), "losses": gathered}, result)
    dist.destroy_process_group()


def one_process(steps, n_feat):
    """Both halves in turn, gradients averaged; the running statistics kept are the first half's."""
    torch.set_num_threads(1)
    model, optimizer, average, lr = setup(n_feat)
    ab = recipe.alpha_bar("cosine", T)
    half = BATCH // 2
    buffers = list(model.named_buffers())  # running statistics and batch counters
    losses = []
    for step, (x0, context, t, eps) in enumerate(batches(steps)):
        for group in optimizer.param_groups:
            group["lr"] = lr.at(step)
        optimizer.zero_grad(set_to_none=True)
        step_losses, first_half_stats = [], None
        start = {n: b.clone() for n, b in buffers}
        for h in range(2):
            part = slice(h * half, (h + 1) * half)
            if h == 1:
                first_half_stats = {n: b.clone() for n, b in buffers}
                with torch.no_grad():
                    for n, b in buffers:
                        b.copy_(start[n])  # the second process starts from the same statistics
            loss = loss_of(model, x0[part], context[part], t[part], eps[part], ab)
            (loss / 2).backward()
            step_losses.append(float(loss))
        with torch.no_grad():
            for n, b in buffers:
                b.copy_(first_half_stats[n])
        optimizer.step()
        average.update(step)
        losses.append(step_losses)
    return snapshot(model, optimizer, average), losses


def whole_batch(steps, n_feat):
    """The control: one process, the whole batch in one forward pass (BatchNorm over all 8)."""
    model, optimizer, average, lr = setup(n_feat)
    ab = recipe.alpha_bar("cosine", T)
    for step, (x0, context, t, eps) in enumerate(batches(steps)):
        for group in optimizer.param_groups:
            group["lr"] = lr.at(step)
        optimizer.zero_grad(set_to_none=True)
        loss_of(model, x0, context, t, eps, ab).backward()
        optimizer.step()
        average.update(step)
    return snapshot(model, optimizer, average)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--n-feat", type=int, default=16)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="ddp-equivalence-")
    init_file, result = os.path.join(folder, "init"), os.path.join(folder, "rank0.pt")
    mp.spawn(worker, args=(2, init_file, args.steps, args.n_feat, result), nprocs=2, join=True)
    ddp = torch.load(result)
    reference, ref_losses = one_process(args.steps, args.n_feat)
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    os.rmdir(folder)

    print(f"2 Gloo processes x {BATCH // 2} images vs 1 process running both halves, n_feat {args.n_feat}, {args.steps} steps, float32")
    for step in range(args.steps):
        d = [ddp["losses"][r][step] for r in range(2)]
        print(f"step {step}: losses DDP rank 0 {d[0]:.7f} rank 1 {d[1]:.7f} | one process {ref_losses[step][0]:.7f} {ref_losses[step][1]:.7f}")
    groups = {"parameters": [], "running statistics": [], "Adam moments": [], "EMA": []}
    params = {n for n, _ in recipe.ContextUnet(3, args.n_feat, N_CFEAT, 16).named_parameters()}
    for name, value in reference.items():
        other = ddp["state"][name]
        if not value.dtype.is_floating_point:
            assert torch.equal(value, other), name
            continue
        kind, entry = name.split(".", 1)
        group = {"model": "parameters" if entry in params else "running statistics", "adam": "Adam moments", "ema": "EMA"}[kind]
        groups[group].append((float((value - other).abs().max()), float(value.abs().max()), name))
    for group, rows in groups.items():
        worst_abs = max(rows)
        worst_rel = max(rows, key=lambda r: r[0] / r[1] if r[1] else 0)
        print(f"{group}: max |DDP - one process| {worst_abs[0]:.3e} ({worst_abs[2]}); "
              f"largest relative max|diff|/max|value| {worst_rel[0] / worst_rel[1]:.3e} ({worst_rel[2]})")
    initial = setup_state(args.n_feat)
    moved = max(float((reference[n] - initial[n]).abs().max()) for n in initial if n[len("model."):] in params)
    print(f"(the parameters moved by up to {moved:.3e} from their initial values over the {args.steps} steps)")
    control = whole_batch(args.steps, args.n_feat)
    gap = max(float((control[n] - ddp["state"][n]).abs().max()) for n in initial if n[len("model."):] in params)
    print(f"control: one process with BatchNorm over the whole batch of {BATCH} ends {gap:.3e} away (max |diff| of the parameters), "
          "so the check sees per-half statistics")


def setup_state(n_feat):
    model, _, _, _ = setup(n_feat)
    return {"model." + k: v for k, v in model.state_dict().items()}


if __name__ == "__main__":
    main()
