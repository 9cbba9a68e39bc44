"""Loads a SpriteDiffusion checkpoint into the seed U-Net in PyTorch, and samples from it with DDIM.

    /usr/bin/python3 tools/reference/load_checkpoint.py CHECKPOINT.safetensors
    /usr/bin/python3 tools/reference/load_checkpoint.py CHECKPOINT.safetensors \
        --noise x_T.npy --steps 50 --out-npy torch.npy [--compare ours.npy]

The checkpoint's tensors are the seed's PyTorch state dict, so `load_state_dict(strict=True)` takes
them as they are. A run trained with a weight average (EMA) also holds the averaged parameters and
running statistics under "ema." + the same names; like `sprites sample`, this loads those by default
(`--weights raw` for the trained weights): strip the prefix and take num_batches_tracked from the raw set. The configuration comes from the header's __metadata__ (n_feat, n_cfeat, height,
schedule, timesteps, beta_start, beta_end, time_input, prediction) or, for a bare state dict exported from
PyTorch, from the tensor shapes with the seed's conventions: the linear schedule, T = 1000 and the
raw integer t as the time input (SPEC section 3), since the seed's own training feeds it so.

With --noise (float32 N x C x H x W .npy, x_T) it runs DDIM at eta 0, which makes x_0 a function
of the checkpoint and the noise alone, with the context zero as `sprites sample` uses it. So

    sprites sample --checkpoint C --noise x_T.npy --steps 50 --clip-denoised false --out-npy ours.npy
    /usr/bin/python3 tools/reference/load_checkpoint.py C --noise x_T.npy --steps 50 \
        --out-npy torch.npy --compare ours.npy

prints how far our float32 engine is from PyTorch (float64 by default; --float32 for PyTorch's
own float32). Needs Debian's PyTorch: run it with /usr/bin/python3.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402
from seed_unet import ContextUnet  # noqa: E402

# Written by resumable checkpoints beside the model; not part of the state dict.
NON_MODEL_PREFIXES = ("optimizer.", "rng.", "ema.")
EMA_PREFIX = "ema."


def read_config(tensors, metadata, path="the checkpoint"):
    """The model and diffusion settings: metadata first, tensor shapes for what it lacks."""
    def shape_of(name):
        if name not in tensors:
            raise SystemExit(f"{path}: not a seed U-Net checkpoint (no tensor '{name}')")
        return tensors[name].shape

    def get(key, fallback, kind=int):
        return kind(metadata[key]) if key in metadata else fallback

    config = {
        "in_channels": get("in_channels", shape_of("init_conv.conv1.0.weight")[1]),
        "n_feat": get("n_feat", shape_of("init_conv.conv1.0.weight")[0]),
        "n_cfeat": get("n_cfeat", shape_of("contextembed1.model.0.weight")[1]),
        "height": get("height", 4 * shape_of("up0.0.weight")[2]),
        "schedule": metadata.get("schedule", "linear"),
        "timesteps": get("timesteps", 1000),
        "beta_start": get("beta_start", 1e-4, float),
        "beta_end": get("beta_end", 0.02, float),
        # A file without our format marker is a bare state dict: the seed's raw t.
        "time_input": metadata.get("time_input", "t/T" if metadata.get("format") == "spritediffusion-checkpoint" else "raw"),
        # What the network outputs; files from before v prediction (and bare state dicts) predict eps.
        "prediction": metadata.get("prediction", "eps"),
        # train --tileable: every 3x3 convolution pads circularly (PyTorch's padding_mode='circular').
        "padding": metadata.get("padding", "zeros"),
    }
    if config["padding"] not in ("zeros", "circular"):
        raise SystemExit(f"{path}: unknown padding '{config['padding']}' (expected 'zeros' or 'circular')")
    if config["time_input"] not in ("t/T", "raw"):
        raise SystemExit(f"{path}: unknown time_input '{config['time_input']}' (expected 't/T' or 'raw')")
    if config["prediction"] not in ("eps", "v"):
        raise SystemExit(f"{path}: unknown prediction '{config['prediction']}' (expected 'eps' or 'v')")
    if config["schedule"] not in ("linear", "cosine"):
        raise SystemExit(f"{path}: unknown schedule '{config['schedule']}' (expected 'linear' or 'cosine')")
    return config


def load(path, weights="ema"):
    """(model in eval mode, float32, config, metadata); raises if the state dict does not fit exactly.
    weights "ema" takes the weight average where the file holds one, "raw" the trained weights."""
    try:
        tensors, metadata = safetensors_io.load(path)
    except (ValueError, KeyError, TypeError, struct.error) as e:  # UnicodeDecodeError and JSON errors are ValueErrors
        raise SystemExit(f"{path}: not a readable safetensors file ({type(e).__name__}: {e})")
    config = read_config(tensors, metadata, path)
    model = ContextUnet(config["in_channels"], config["n_feat"], config["n_cfeat"], config["height"])
    state = {
        name: torch.from_numpy(np.array(value))  # a copy: the reader's arrays are read-only views
        for name, value in tensors.items()
        if not name.startswith(NON_MODEL_PREFIXES)
    }
    if weights == "ema" and EMA_PREFIX + "init_conv.conv1.0.weight" in tensors:
        for name, value in tensors.items():
            if name.startswith(EMA_PREFIX):
                state[name[len(EMA_PREFIX):]] = torch.from_numpy(np.array(value))
    model.load_state_dict(state, strict=True)
    if config["padding"] == "circular":
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3):
                m.padding_mode = "circular"
    model.eval()
    return model, config, metadata


def alpha_bar(config):
    """float64 alpha_bar of SPEC section 3 (linear) or Nichol and Dhariwal's cosine schedule."""
    T = config["timesteps"]
    if config["schedule"] == "linear":
        beta = torch.linspace(config["beta_start"], config["beta_end"], T, dtype=torch.float64)
    else:
        u = torch.arange(T + 1, dtype=torch.float64)
        f = torch.cos((u / T + 0.008) / 1.008 * math.pi / 2) ** 2
        beta = torch.clamp(1 - f[1:] / f[:-1], max=0.999)
    return torch.cumprod(1 - beta, 0)


def ddim_timesteps(T, n):
    """linspace(T-1, 0, n) truncated, in exact integer arithmetic (floating linspace can land one low)."""
    if n == 1:
        return [T - 1]
    return [(T - 1) * (n - 1 - k) // (n - 1) for k in range(n)]


def time_value(t, config):
    """The network's time input, rounded to float32 as the C# side feeds it."""
    value = t / config["timesteps"] if config["time_input"] == "t/T" else float(t)
    return float(np.float32(value))


def _tensor(value, dtype):
    """A private copy: numpy arrays from np.load or the safetensors reader may be read-only."""
    if isinstance(value, torch.Tensor):
        return value.to(dtype).clone()
    return torch.from_numpy(np.array(value)).to(dtype)


@torch.no_grad()
def ddim_sample(model, x_T, config, steps, context=None, clip=False, guidance=1.0):
    """DDIM at eta 0 from x_T, SPEC section 3 as written (x0_hat first), in the model's dtype.
    clip: clamp x0_hat to [-1, 1] and continue with the noise consistent with it, as
    `sprites sample` does by default (--clip-denoised). guidance w (with a context):
    classifier-free guidance on the network's outputs, uncond + w (cond - uncond), before the
    conversion to eps, as SpriteGenerator runs it."""
    dtype = next(model.parameters()).dtype
    ab = alpha_bar(config).to(dtype)
    x = _tensor(x_T, dtype)
    n = x.shape[0]
    c = torch.zeros(n, config["n_cfeat"], dtype=dtype) if context is None else _tensor(context, dtype)
    ts = ddim_timesteps(config["timesteps"], steps)
    for k, t in enumerate(ts):
        s = ts[k + 1] if k + 1 < len(ts) else -1
        ab_t = ab[t]
        ab_s = ab[s] if s >= 0 else torch.tensor(1.0, dtype=dtype)
        tin = torch.full((n, 1), time_value(t, config), dtype=dtype)
        eps = model(x, tin, c)
        if context is not None and guidance != 1:
            unconditional = model(x, tin, torch.zeros(n, config["n_cfeat"], dtype=dtype))
            eps = unconditional + guidance * (eps - unconditional)
        if config["prediction"] == "v":
            # v = sqrt(ab) eps - sqrt(1 - ab) x0 and x_t = sqrt(ab) x0 + sqrt(1 - ab) eps give
            # eps = sqrt(ab) v + sqrt(1 - ab) x_t (Salimans and Ho 2022).
            eps = torch.sqrt(ab_t) * eps + torch.sqrt(1 - ab_t) * x
        x0_hat = (x - torch.sqrt(1 - ab_t) * eps) / torch.sqrt(ab_t)
        if clip:
            x0_hat = x0_hat.clamp(-1, 1)
            eps = (x - torch.sqrt(ab_t) * x0_hat) / torch.sqrt(1 - ab_t)
        x = torch.sqrt(ab_s) * x0_hat + torch.sqrt(1 - ab_s) * eps
    return x


def read_noise(path, config):
    noise = np.load(path, allow_pickle=False)
    c, h = config["in_channels"], config["height"]
    if noise.ndim != 4 or noise.shape[1:] != (c, h, h):
        raise SystemExit(f"{path}: noise of shape {list(noise.shape)} does not fit this model; it needs N x {c} x {h} x {h}")
    if noise.dtype != np.float32:
        raise SystemExit(f"{path}: noise is {noise.dtype}; write it as float32")
    return noise


def save_npy(path, array):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        np.save(f, np.ascontiguousarray(array, dtype=np.float32))
    os.replace(tmp, path)


def relative_error(ours, ref):
    """max |ours - ref| / max |ref|, the measure the C# tests use."""
    ref = np.asarray(ref, dtype=np.float64)
    return float(np.max(np.abs(np.asarray(ours, dtype=np.float64) - ref)) / np.max(np.abs(ref)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--noise", help="x_T as a float32 .npy of shape N x C x H x W; runs DDIM (eta 0)")
    parser.add_argument("--steps", type=int, default=50, help="DDIM steps (default 50)")
    parser.add_argument("--out-npy", help="write the final samples (float32, unclamped) here")
    parser.add_argument("--compare", help="a .npy of samples (e.g. from `sprites sample --out-npy`) to compare with")
    parser.add_argument("--weights", choices=["ema", "raw"], default="ema",
                        help="the weight average where the checkpoint holds one (default), or the raw weights")
    parser.add_argument("--clip-denoised", action="store_true",
                        help="clamp x0_hat to [-1, 1] each step, as `sprites sample` does by default")
    parser.add_argument("--float32", action="store_true", help="sample in float32 instead of float64")
    args = parser.parse_args()

    model, config, metadata = load(args.checkpoint, args.weights)
    params = sum(p.numel() for p in model.parameters())
    counts = {int(b) for name, b in model.state_dict().items() if name.endswith("num_batches_tracked")}
    source = "metadata" if "n_feat" in metadata else "tensor shapes (no metadata)"
    print(f"{args.checkpoint}: loaded strictly, {len(model.state_dict())} state-dict entries, {params} parameters")
    print(f"config from {source}: {json.dumps(config)}")
    print(f"num_batches_tracked: {sorted(counts)}; epoch {metadata.get('epoch', '?')}, step {metadata.get('step', '?')}")
    if args.noise is None:
        if args.out_npy or args.compare:
            raise SystemExit("--out-npy and --compare need --noise")
        return
    if not 1 <= args.steps <= config["timesteps"]:
        raise SystemExit(f"--steps must be between 1 and {config['timesteps']}")
    noise = read_noise(args.noise, config)
    if not args.float32:
        model.double()
    x0 = ddim_sample(model, noise, config, args.steps, clip=args.clip_denoised).numpy()
    print(f"DDIM eta 0, {args.steps} steps, {noise.shape[0]} samples, {'float32' if args.float32 else 'float64'}, "
          f"time input {config['time_input']}: x_0 in [{x0.min():.4f}, {x0.max():.4f}]")
    if args.out_npy:
        save_npy(args.out_npy, x0)
        print(f"wrote {args.out_npy}")
    if args.compare:
        other = np.load(args.compare, allow_pickle=False)
        if other.shape != x0.shape:
            raise SystemExit(f"{args.compare}: shape {list(other.shape)}, expected {list(x0.shape)}")
        print(f"max|other - torch| / max|torch| = {relative_error(other, x0):.3e} "
              f"(max |diff| {np.max(np.abs(other - x0)):.3e})")


if __name__ == "__main__":
    main()
