"""Whole-network fixtures: the seed U-Net with parameters from param_scheme (not stored), one
forward and backward in float64, stored as float32.
"""
import json
import os

import numpy as np
import torch

import param_scheme
import safetensors_io
from seed_unet import ContextUnet, check_structure, parameter_count

N_CFEAT = 5
HEIGHT = 16
BATCH = 4
INIT_PREFIX = 16  # init.<name> holds this many leading values, to check a C# generator directly
T_STEPS = 1000

# (file, n_feat, mode, subsample, seed, in_channels): 4 channels are the RGBA model
CASES = [
    ("unet16_train", 16, "train", False, 201, 3),
    ("unet16_eval", 16, "eval", False, 202, 3),
    ("unet64_train", 64, "train", True, 203, 3),
    ("unet64_eval", 64, "eval", True, 204, 3),
    ("unet16_rgba_train", 16, "train", False, 205, 4),
    ("unet16_rgba_eval", 16, "eval", False, 206, 4),
]


def _dtype_code(t):
    return "I64" if t.dtype == torch.int64 else "F32"


def build_model(n_feat, in_channels=3):
    """The seed U-Net with every state-dict entry from param_scheme.generate, in float64."""
    model = ContextUnet(in_channels=in_channels, n_feat=n_feat, n_cfeat=N_CFEAT, height=HEIGHT)
    check_structure(model)
    state = {name: torch.from_numpy(param_scheme.generate(name, tuple(t.shape))) for name, t in model.state_dict().items()}
    model.load_state_dict(state)
    return model.double()


def subsample_stride(numel, subsample):
    return max(1, numel // 1024) if subsample else 1


def _store(t, subsample):
    """float32 copy: full shape when not subsampling, else flat elements [0, s, 2s, ...]."""
    t = t.detach().to(torch.float32).contiguous()
    if not subsample:
        return t
    return t.reshape(-1)[:: subsample_stride(t.numel(), True)].clone()


def zero_gradient_names(model):
    """Biases of convolutions feeding a BatchNorm: in train mode the batch mean cancels them, so
    their gradient is zero up to rounding and cannot be compared relatively."""
    return [name for name, _ in model.named_parameters() if name.endswith((".conv1.0.bias", ".conv2.0.bias"))]


def make_case(n_feat, mode, subsample, seed, in_channels=3):
    torch.manual_seed(seed)
    model = build_model(n_feat, in_channels)
    model.train(mode == "train")
    x = torch.randn(BATCH, in_channels, HEIGHT, HEIGHT)
    t = torch.randint(0, T_STEPS, (BATCH, 1)).float() / T_STEPS
    c = torch.rand(BATCH, N_CFEAT)
    state_before = model.state_dict()
    entries = [(name, list(v.shape), _dtype_code(v)) for name, v in state_before.items()]
    init = {
        "init." + name: torch.from_numpy(param_scheme.generate(name, tuple(v.shape))).reshape(-1)[:INIT_PREFIX]
        for name, v in state_before.items()
        if v.is_floating_point()
    }

    leaves = {"x": x.double().requires_grad_(), "t": t.double().requires_grad_(), "c": c.double().requires_grad_()}
    y = model(leaves["x"], leaves["t"], leaves["c"])
    gy = torch.randn(y.shape)
    (y * gy.double()).sum().backward()

    tensors = {"x": x, "t": t, "c": c, "y": y, "gy": gy}
    for k in ("x", "t", "c"):
        tensors["grad." + k] = leaves[k].grad
    for name, p in model.named_parameters():
        tensors["grad." + name] = _store(p.grad, subsample)

    zero_grad = []
    if mode == "train":
        max_grad = max(p.grad.abs().max().item() for p in model.parameters())
        zero_grad = zero_gradient_names(model)
        params = dict(model.named_parameters())
        for name in zero_grad:
            assert params[name].grad.abs().max().item() < 1e-10 * max_grad, name
        for name, b in model.named_buffers():
            if name.endswith(("running_mean", "running_var")):
                tensors["after." + name] = _store(b, subsample)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        opt.step()
        for name, p in model.named_parameters():
            tensors["adam." + name] = _store(p, subsample)
    tensors.update(init)

    meta = {
        "n_feat": str(n_feat),
        "in_channels": str(in_channels),
        "n_cfeat": str(N_CFEAT),
        "height": str(HEIGHT),
        "batch": str(BATCH),
        "mode": mode,
        "parameter_count": str(parameter_count(model)),
        "subsample": "1" if subsample else "0",
        "subsample_rule": "s = max(1, numel // 1024); stored = flatten(t)[0::s]" if subsample else "none: full tensors",
        "names": json.dumps(entries, separators=(",", ":")),
        "time_input": "t / T with T = 1000",
        "zero_grad_in_train": json.dumps(zero_grad, separators=(",", ":")),
        "init_prefix": str(INIT_PREFIX),
        "seed": str(seed),
        "reference": "PyTorch " + torch.__version__ + ", float64 compute, float32 storage",
    }
    return {k: v.detach().to(torch.float32).contiguous() for k, v in tensors.items()}, meta


def write_statedict_names(folder):
    model = ContextUnet(n_feat=64, n_cfeat=N_CFEAT, height=HEIGHT)
    check_structure(model)
    path = os.path.join(folder, "statedict_names_nf64.txt")
    with open(path, "w", newline="\n") as f:
        for name, v in model.state_dict().items():
            f.write(f"{name}\t{','.join(str(d) for d in v.shape)}\t{_dtype_code(v)}\n")
    return path


def write_unet_fixtures(folder):
    os.makedirs(folder, exist_ok=True)
    param_scheme.self_check()
    written = [write_statedict_names(folder)]
    for file, n_feat, mode, subsample, seed, in_channels in CASES:
        tensors, meta = make_case(n_feat, mode, subsample, seed, in_channels)
        path = os.path.join(folder, file + ".safetensors")
        safetensors_io.save(path, tensors, meta)
        written.append(path)
    return written
