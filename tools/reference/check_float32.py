"""Recomputes the U-Net fixtures in float32 PyTorch and prints, per stored tensor, the error
max|f32 - ref| / max|ref| against the float64 reference: what a float32 engine can hope to reach,
and which tensors cannot be compared relatively at all.

    /usr/bin/python3 tools/reference/check_float32.py [--all]
"""
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep __pycache__ out of the repository
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402
import unet_fixtures  # noqa: E402

FOLDER = os.path.join(HERE, "..", "..", "tests", "SpriteDiffusion.Tests", "Fixtures", "unet")


def rel_error(ours, ref):
    scale = np.abs(ref).max()
    return np.abs(ours - ref).max() / scale if scale > 0 else np.abs(ours).max()


def check(file, n_feat, mode, subsample, show_all):
    ref, meta = safetensors_io.load(os.path.join(FOLDER, file + ".safetensors"))
    model = unet_fixtures.build_model(n_feat).float()
    model.train(mode == "train")
    leaves = {k: torch.from_numpy(ref[k].copy()).requires_grad_() for k in ("x", "t", "c")}
    y = model(leaves["x"], leaves["t"], leaves["c"])
    (y * torch.from_numpy(ref["gy"].copy())).sum().backward()
    ours = {"y": y, **{"grad." + k: v.grad for k, v in leaves.items()}}
    for name, p in model.named_parameters():
        ours["grad." + name] = unet_fixtures._store(p.grad, subsample)
    if mode == "train":
        for name, b in model.named_buffers():
            if name.endswith(("running_mean", "running_var")):
                ours["after." + name] = unet_fixtures._store(b, subsample)
        torch.optim.Adam(model.parameters(), lr=1e-3).step()
        for name, p in model.named_parameters():
            ours["adam." + name] = unet_fixtures._store(p, subsample)
    # A gradient that is zero up to rounding has no relative accuracy, and Adam's first step
    # (about lr * g / |g|) turns its rounding noise into a full-size update.
    zero_grad = set(p + n for n in json.loads(meta["zero_grad_in_train"]) for p in ("grad.", "adam."))
    worst = (0.0, None)
    for name, value in ours.items():
        err = rel_error(value.detach().numpy().astype(np.float32), ref[name])
        if name in zero_grad:
            if show_all:
                print(f"  {name}: {err:.2e} (zero gradient in train mode: not comparable)")
            continue
        if err > worst[0]:
            worst = (err, name)
        if show_all or err > 1e-5:
            print(f"  {name}: {err:.2e}")
    print(f"{file}: worst comparable tensor {worst[1]} at {worst[0]:.2e}")


if __name__ == "__main__":
    torch.set_num_threads(2)
    show_all = "--all" in sys.argv
    for file, n_feat, mode, subsample, _ in unet_fixtures.CASES:
        check(file, n_feat, mode, subsample, show_all)
