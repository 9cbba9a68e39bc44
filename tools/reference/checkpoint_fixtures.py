"""Checkpoint interoperability fixtures -> tests/SpriteDiffusion.Tests/Fixtures/checkpoint/.

    /usr/bin/python3 tools/reference/checkpoint_fixtures.py [--part torch|ours|both]

torch: a seed U-Net (n_feat 16) with PyTorch's own default initialisation, trained 3 Adam steps in
  float32 the seed's way (the raw integer t as the time input), saved as a bare state dict (no
  __metadata__, as the seed's own training writes it): torch_trained_nf16.safetensors, the same
  state dict as torch_trained_nf16.pth (torch.save, zip format), and torch_trained_nf16_io.safetensors
  with its eval-mode output and a DDIM sample, for the C# side to reproduce after Checkpoint.Load
  with the seed's conventions that a metadata-less checkpoint takes.
ours: reads ours_nf16.safetensors, which the C# tests write with Checkpoint.Save when run with
  SPRITES_REGENERATE_FIXTURES=1, loads it with load_state_dict(strict=True), checks that the
  BatchNorm counters say 3 steps, and writes ours_nf16_io.safetensors the same way.

Each _io file holds x (4x3x16x16, N(0,1)), t (4x1, the network's time input: integer t / 1000 for
ours, the raw integer t for the torch part), c (4x5, U[0,1)), y (the eval-mode output for them),
noise (x_T, 4x3x16x16) and ddim10_x0 (DDIM, eta 0, 10 steps, linear schedule T = 1000, the
checkpoint's time input, context zero as `sprites sample` uses). Inputs are float32;
y and ddim10_x0 are computed in float64 (model.double()) and stored as F64.
"""
import argparse
import copy
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import load_checkpoint  # noqa: E402
import safetensors_io  # noqa: E402
from seed_unet import ContextUnet, check_structure  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "tests", "SpriteDiffusion.Tests", "Fixtures", "checkpoint")
DDIM_STEPS = 10
TRAIN_STEPS = 3
DEFAULT_CONFIG = {"in_channels": 3, "n_feat": 16, "n_cfeat": 5, "height": 16, "schedule": "linear",
                  "timesteps": 1000, "beta_start": 1e-4, "beta_end": 0.02, "time_input": "t/T"}
SEED_CONFIG = dict(DEFAULT_CONFIG, time_input="raw")  # what a bare state dict means


def train_torch_model():
    """Default-initialised seed U-Net after 3 float32 Adam steps of the SPEC's noise objective,
    fed the raw integer t as the seed's training does."""
    torch.manual_seed(0)
    model = ContextUnet(3, 16, 5, 16)
    check_structure(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    ab = load_checkpoint.alpha_bar(DEFAULT_CONFIG)
    g = torch.Generator().manual_seed(1)
    model.train()
    for _ in range(TRAIN_STEPS):
        x0 = torch.rand(8, 3, 16, 16, generator=g) * 2 - 1
        c = torch.rand(8, 5, generator=g)
        t = torch.randint(0, 1000, (8,), generator=g)
        eps = torch.randn(8, 3, 16, 16, generator=g)
        a = ab[t].view(-1, 1, 1, 1)
        xt = (torch.sqrt(a) * x0.double() + torch.sqrt(1 - a) * eps.double()).float()
        loss = F.mse_loss(model(xt, t.float().view(-1, 1), c), eps)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def counters(model):
    return {int(v) for k, v in model.state_dict().items() if k.endswith("num_batches_tracked")}


def io_tensors(model, config, seed):
    """Inputs, float64 eval output and float64 DDIM sample for a float32 model (left unchanged)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(4, 3, 16, 16, generator=g)
    t_int = torch.randint(0, 1000, (4, 1), generator=g)
    t = (t_int.double() / 1000).float() if config["time_input"] == "t/T" else t_int.float()
    c = torch.rand(4, 5, generator=g)
    noise = torch.randn(4, 3, 16, 16, generator=g)
    m64 = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        y = m64(x.double(), t.double(), c.double())
    x0 = load_checkpoint.ddim_sample(m64, noise, config, DDIM_STEPS)

    # What PyTorch itself reaches in float32, as a yardstick for the C# tolerances.
    m32 = copy.deepcopy(model).eval()
    with torch.no_grad():
        y32 = m32(x, t, c)
    x0_32 = load_checkpoint.ddim_sample(m32, noise, config, DDIM_STEPS)
    print(f"  torch float32 vs float64: y {load_checkpoint.relative_error(y32, y):.2e}, "
          f"ddim{DDIM_STEPS}_x0 {load_checkpoint.relative_error(x0_32, x0):.2e}")
    return {"x": x, "t": t, "c": c, "y": y, "noise": noise, f"ddim{DDIM_STEPS}_x0": x0,
            f"ddim{DDIM_STEPS}_timesteps": torch.tensor(load_checkpoint.ddim_timesteps(1000, DDIM_STEPS))}


def io_metadata(checkpoint_name, seed, config):
    return {
        "checkpoint": checkpoint_name,
        "sampler": "ddim", "eta": "0", "steps": str(DDIM_STEPS), "schedule": "linear", "timesteps": "1000",
        "time_input": config["time_input"], "context": "zeros", "mode": "eval", "seed": str(seed),
        "reference": "PyTorch float64 (model.double()), written by tools/reference/checkpoint_fixtures.py",
    }


def write_torch_part():
    model = train_torch_model()
    assert counters(model) == {TRAIN_STEPS}, counters(model)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    path = os.path.join(OUT, "torch_trained_nf16.safetensors")
    safetensors_io.save(path, state)  # no metadata: the C# side must infer the configuration

    # The file loads back into a fresh module bit for bit.
    loaded, config, metadata = load_checkpoint.load(path)
    assert metadata == {} and config == SEED_CONFIG, (metadata, config)
    for name, value in loaded.state_dict().items():
        assert torch.equal(value, state[name]), name
    pth = os.path.join(OUT, "torch_trained_nf16.pth")
    torch.save(state, pth)  # what the seed's training writes: torch.save(model.state_dict(), path)

    io_path = os.path.join(OUT, "torch_trained_nf16_io.safetensors")
    safetensors_io.save(io_path, io_tensors(model, config, seed=2), io_metadata("torch_trained_nf16.safetensors", 2, config))
    return [path, pth, io_path]


def write_ours_part():
    path = os.path.join(OUT, "ours_nf16.safetensors")
    if not os.path.exists(path):
        raise SystemExit(f"{path} is missing: write it first with "
                         "SPRITES_REGENERATE_FIXTURES=1 dotnet test -c Release --filter FullyQualifiedName~WriteOurTrainedCheckpoint")
    model, config, metadata = load_checkpoint.load(path)  # strict
    check_structure(model)
    assert metadata.get("format") == "spritediffusion-checkpoint", metadata
    assert config == DEFAULT_CONFIG, config
    assert counters(model) == {TRAIN_STEPS}, counters(model)
    io_path = os.path.join(OUT, "ours_nf16_io.safetensors")
    safetensors_io.save(io_path, io_tensors(model, config, seed=3), io_metadata("ours_nf16.safetensors", 3, config))
    return [io_path]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=("torch", "ours", "both"), default="both")
    args = parser.parse_args()
    torch.set_num_threads(1)  # one thread: the same reductions, so the same bytes, on every run
    os.makedirs(OUT, exist_ok=True)
    written = []
    if args.part in ("torch", "both"):
        print("torch -> ours")
        written += write_torch_part()
    if args.part in ("ours", "both"):
        print("ours -> torch")
        written += write_ours_part()
    for path in written:
        print(f"{os.path.relpath(path, ROOT)}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
