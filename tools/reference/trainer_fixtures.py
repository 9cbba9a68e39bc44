"""Fixtures that show the PyTorch trainer (tools/pytorch) and ours are the same training, read by
tests/SpriteDiffusion.Tests/Interop/PyTorchTrainerTests.cs:

    /usr/bin/python3 tools/reference/trainer_fixtures.py            # both parts, ~10 s
    /usr/bin/python3 tools/reference/trainer_fixtures.py --part step
    /usr/bin/python3 tools/reference/trainer_fixtures.py --part checkpoint

--part step: one training step of the PyTorch trainer's recipe (tools/pytorch/recipe.py) on a
fixed batch, noise, t and context-dropout mask, from a fixed state (weights, BatchNorm statistics,
Adam's moments part way through a run, a weight average well away from the weights), at a
given step of a learning-rate plan: the inputs, the loss, every gradient, what Adam changed in the
parameters, what the forward pass changed in the running statistics and the average's change -> Fixtures/pytorch/step_<case>.safetensors. Computed in float64 on
the float32 inputs; stored as F32 (the loss, learning rate and decay as F64).

--part checkpoint: tools/pytorch/train.py run in this process on 64 twemoji16 images (n_feat 8,
2 epochs, the cpu preset's recipe: v, min-SNR-5, cosine schedule, conditional, EMA) ->
Fixtures/pytorch/torch_trained_nf8.safetensors exactly as the trainer wrote it, and
torch_trained_nf8_io.safetensors: the eval-mode output for x, t, c, and DDIM-10 (eta 0) from
stored noise, unguided (null context) and guided (classes, w = 3, x0 clipped), with the weight
average in float64 (and how far PyTorch's own float32 lands from it, in the metadata), plus the
validation split the trainer drew (all 3781 images, and a 64-image limit) for the split test.
"""
import argparse
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "pytorch"))
import load_checkpoint  # noqa: E402
import recipe  # noqa: E402
import safetensors_io  # noqa: E402
import train  # noqa: E402

OUT = os.path.join(ROOT, "tests", "SpriteDiffusion.Tests", "Fixtures", "pytorch")

# Two cases between them cover both targets, both weightings, both schedules, both time inputs,
# a warm-up step and a decaying step, an EMA decay in its warm-up and a half-life's decay.
CASES = {
    "eps_mse_linear": dict(prediction="eps", loss="mse", gamma=None, schedule="linear", time_input="raw",
                           lr=("linear", 2e-3, 10, 1e-4, 400), step=4, ema_decay=0.995, ema_halflife=None,
                           t=[0, 999, 17, 500, 250, 731], drop=[1, 4]),
    "v_minsnr_cosine": dict(prediction="v", loss="min-snr", gamma=5.0, schedule="cosine", time_input="t/T",
                            lr=("cosine", 1e-3, 100, 1e-5, 5000), step=2000, ema_decay=0.0, ema_halflife=700.0,
                            t=[3, 998, 120, 640, 41, 333], drop=[2]),
}
N_FEAT, N_CFEAT, BATCH, T = 8, 5, 6, 1000


def perturbed_state(model, g):
    """Weights from PyTorch's initialisation; norm scales, shifts and running statistics made
    non-trivial, so that every term of the step matters."""
    with torch.no_grad():
        for name, value in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                value.fill_(11)
            elif name.endswith("running_var"):
                value.copy_(0.5 + torch.rand(value.shape, generator=g))
            elif name.endswith("running_mean") or (value.dim() == 1 and name.endswith(".bias") and is_norm(model, name)):
                value.copy_(0.1 * torch.randn(value.shape, generator=g))
            elif value.dim() == 1 and name.endswith(".weight"):
                value.copy_(1 + 0.1 * torch.randn(value.shape, generator=g))


def is_norm(model, name):
    module = model.get_submodule(name.rsplit(".", 1)[0])
    return isinstance(module, (torch.nn.BatchNorm2d, torch.nn.GroupNorm))


def step_case(name, c):
    g = torch.Generator().manual_seed(1000 + len(name))
    torch.manual_seed(5)
    model = recipe.ContextUnet(3, N_FEAT, N_CFEAT, 16)
    perturbed_state(model, g)
    x0 = torch.rand(BATCH, 3, 16, 16, generator=g) * 2 - 1
    eps = torch.randn(BATCH, 3, 16, 16, generator=g)
    t = torch.tensor(c["t"], dtype=torch.int64)
    classes = torch.randint(0, N_CFEAT, (BATCH,), generator=g)
    context = torch.nn.functional.one_hot(classes, N_CFEAT).float()
    mask = torch.zeros(BATCH, dtype=torch.int64)
    mask[c["drop"]] = 1
    context[mask.bool()] = 0

    model.double()
    params = dict(model.named_parameters())
    # Adam part way through a run: moments of a gradient's size, v above m^2.
    moments = {}
    for n, p in params.items():
        m = 1e-3 * torch.randn(p.shape, generator=g, dtype=torch.float64)
        v = m * m + (1e-3 * torch.rand(p.shape, generator=g, dtype=torch.float64)) ** 2
        moments[n] = (m.float().double(), v.float().double())
    before = {n: v.detach().clone() for n, v in model.state_dict().items()}
    decay = recipe.ema_decay_per_step(c["ema_decay"], c["ema_halflife"], BATCH)
    average = recipe.WeightAverage(model, decay)
    with torch.no_grad():
        for n, v in average.average.items():
            v.add_((0.3 * torch.randn(v.shape, generator=g)).double())
            if n.endswith("running_var"):
                v.abs_()
            v.copy_(v.float().double())
    ema_before = {n: v.clone() for n, v in average.average.items()}

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    for n, p in params.items():
        optimizer.state[p] = {"step": torch.tensor(float(c["step"])), "exp_avg": moments[n][0].clone(), "exp_avg_sq": moments[n][1].clone()}
    lr = recipe.LearningRate(*c["lr"])
    rate = lr.at(c["step"])

    # The trainer's step, in its order: the rate of this step, the loss, the update, the average.
    model.train()
    ab = recipe.alpha_bar(c["schedule"], T)
    for group in optimizer.param_groups:
        group["lr"] = rate
    loss = recipe.noise_objective(model, x0.double(), context.double(), t, eps.double(), ab, T, c["time_input"],
                                  c["prediction"], c["gamma"])
    optimizer.zero_grad()
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in params.items()}
    optimizer.step()
    average.update(c["step"])

    tensors = {"x0": x0, "eps": eps, "t": t, "context": context, "drop_mask": mask,
               "loss": torch.tensor(float(loss), dtype=torch.float64), "lr": torch.tensor(rate, dtype=torch.float64),
               "ema_decay_used": torch.tensor(average.decay_at(c["step"]), dtype=torch.float64)}
    for n, v in before.items():
        tensors["before." + n] = v if v.dtype == torch.int64 else v.float()
    for n, (m, v) in moments.items():
        tensors["adam.exp_avg." + n] = m.float()
        tensors["adam.exp_avg_sq." + n] = v.float()
    for n, v in ema_before.items():
        tensors["ema_before." + n] = v.float()
    for n, v in grads.items():
        tensors["grad." + n] = v.float()
    # The changes, not the values after: a float32 value near 1 has 6e-8 of resolution, which is
    # a sizeable part of an Adam step of 1e-3; a difference taken in float64 keeps every digit.
    for n, v in model.state_dict().items():
        tensors[("after." if v.dtype == torch.int64 else "update.") + n] = v if v.dtype == torch.int64 else (v - before[n]).float()
    for n, v in average.average.items():
        tensors["ema_update." + n] = (v - ema_before[n]).float()
    metadata = {"case": name, "n_feat": N_FEAT, "n_cfeat": N_CFEAT, "height": 16, "batch": BATCH, "timesteps": T,
                "schedule": c["schedule"], "time_input": c["time_input"], "prediction": c["prediction"], "loss": c["loss"],
                "min_snr_gamma": "" if c["gamma"] is None else repr(c["gamma"]), "adam_step_before": c["step"],
                "ema_decay": repr(c["ema_decay"]), "ema_halflife": "" if c["ema_halflife"] is None else repr(c["ema_halflife"]),
                "reference": "tools/reference/trainer_fixtures.py (tools/pytorch/recipe.py in float64)"}
    metadata.update(lr.metadata())
    path = os.path.join(OUT, f"step_{name}.safetensors")
    safetensors_io.save(path, tensors, metadata)
    print(f"{path}: loss {float(loss):.6f}, lr {rate:.6g}, EMA decay {average.decay_at(c['step']):.6f}, {os.path.getsize(path)} bytes")


def ddim(model, config, noise, steps, context, guidance, clip):
    """DDIM at eta 0 as SpriteGenerator runs it (guidance on the network's outputs, then the
    conversion to eps for v models, clipping x0 where asked), in the model's dtype."""
    return load_checkpoint.ddim_sample(model, noise, config, steps, context, clip, guidance)


def checkpoint_case():
    folder = tempfile.mkdtemp(prefix="torch-trained-")
    try:
        # From the repository root with a relative data path: the checkpoint records it, and a
        # committed fixture should name no machine's folders.
        os.chdir(ROOT)
        # The quick preset: the cpu preset's recipe when the fixture was made (the cpu preset has since changed).
        train.main(["--preset", "quick", "--data", os.path.join("data", "twemoji16"), "--limit", "64", "--n-feat", "8", "--batch", "16",
                    "--epochs", "2", "--warmup-steps", "2", "--seed", "3", "--threads", "1", "--out", folder, "--force"])
        path = os.path.join(OUT, "torch_trained_nf8.safetensors")
        shutil.copyfile(os.path.join(folder, "last.safetensors"), path)
    finally:
        shutil.rmtree(folder)
    model, config, metadata = load_checkpoint.load(path)  # the weight average, as sprites sample loads it
    g = torch.Generator().manual_seed(77)
    noise = torch.randn(4, 3, 16, 16, generator=g)
    classes = torch.tensor([0, 3, 8, 5])
    context = torch.nn.functional.one_hot(classes, config["n_cfeat"]).float()
    x = torch.randn(4, 3, 16, 16, generator=g)
    t = torch.tensor([[0.0], [0.25], [0.5], [0.999]])
    steps = 10
    # PyTorch's own float32 against float64: how far any float32 engine may land. The cosine
    # schedule's first DDIM step divides by sqrt(alpha_bar[999]) = 4.9e-5.
    own = {}
    for name, c, w, clip in (("ddim10_x0", None, 1.0, False), ("ddim10_guided_x0", context, 3.0, True)):
        own[name] = ddim(model, config, noise, steps, c, w, clip).double()  # the model is float32 here
    model.double()
    y = model(x.double(), t.double(), context.double()).detach()
    plain = ddim(model, config, noise, steps, None, 1.0, False)
    guided = ddim(model, config, noise, steps, context, 3.0, True)
    float32_error = {name: float((own[name] - ref).abs().max() / ref.abs().max()) for name, ref in (("ddim10_x0", plain), ("ddim10_guided_x0", guided))}
    _, val_all = recipe.split_indices(3781, 0.1, 42)
    train_lim, val_lim = recipe.split_indices(3781, 0.1, 42, limit=64)
    tensors = {"x": x, "t": t, "c": context, "y": y, "noise": noise, "ddim10_timesteps": torch.tensor(load_checkpoint.ddim_timesteps(1000, steps), dtype=torch.int64),
               "ddim10_x0": plain, "classes": classes, "ddim10_guided_x0": guided,
               "split_validation": torch.tensor(val_all, dtype=torch.int64),
               "split_limit64_train": torch.tensor(train_lim, dtype=torch.int64),
               "split_limit64_validation": torch.tensor(val_lim, dtype=torch.int64)}
    io = os.path.join(OUT, "torch_trained_nf8_io.safetensors")
    safetensors_io.save(io, tensors, {"sampler": "ddim", "eta": "0", "steps": str(steps), "guidance": "3", "clip_guided": "true",
                                      "weights": "ema", "reference": "tools/reference/trainer_fixtures.py, float64",
                                      "torch_float32_error_ddim10_x0": repr(float32_error["ddim10_x0"]),
                                      "torch_float32_error_ddim10_guided_x0": repr(float32_error["ddim10_guided_x0"])})
    print(f"{path}: {os.path.getsize(path)} bytes, {metadata['prediction']} target, {metadata['schedule']} schedule; "
          f"{io}: DDIM-10 x0 in [{plain.min():.3f}, {plain.max():.3f}], guided [{guided.min():.3f}, {guided.max():.3f}]")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["step", "checkpoint", "all"], default="all")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    if args.part in ("step", "all"):
        for name, c in CASES.items():
            step_case(name, c)
    if args.part in ("checkpoint", "all"):
        checkpoint_case()


if __name__ == "__main__":
    main()
