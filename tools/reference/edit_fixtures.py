"""Fixtures for editing with a trained model (issue 16) -> tests/SpriteDiffusion.Tests/Fixtures/.

Run from anywhere:  /usr/bin/python3 tools/reference/edit_fixtures.py

- diffusion/img2img.safetensors: SDEdit's start. For each strength S, the timestep
  t = floor(S (T - 1) + 0.5), the noised sprite x_t = sqrt(alpha_bar[t]) x0 + sqrt(1 - alpha_bar[t]) eps
  in float64 (at S = 1 the start is eps itself), and the DDIM / DPM-Solver++ timesteps that follow
  (t, then the 50-step sequence's entries below t).
- ops/conv3x3_circular*.safetensors: nn.Conv2d(..., 3, 1, 1, padding_mode='circular'), forward and
  backward as ops_fixtures.py writes them (odd and even sizes; 16 channels for the Winograd path).
- unet/unet16_circular_{train,eval}.safetensors: the seed U-Net with every 3x3 convolution's
  padding_mode set to 'circular' (what `sprites train --tileable` trains), as unet_fixtures.py writes.
Writes only its own files, so the other fixtures are not touched.
"""
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
from diffusion_fixtures import cosine_schedule, exact_timesteps, linear_schedule, save  # noqa: E402
import ops_fixtures  # noqa: E402
import safetensors_io  # noqa: E402
import unet_fixtures  # noqa: E402
from torch import nn  # noqa: E402

FIXTURES = os.path.join(HERE, "..", "..", "tests", "SpriteDiffusion.Tests", "Fixtures")

T = 1000
STRENGTHS = [0.0004, 0.001, 0.25, 0.5, 0.6, 0.999, 1.0]


def start_timestep(strength, T):
    return math.floor(strength * (T - 1) + 0.5)


def write_img2img():
    g = torch.Generator().manual_seed(16)
    x0 = torch.rand(2, 3, 4, 4, generator=g) * 2 - 1  # float32, in the sprites' range
    eps = torch.randn(2, 3, 4, 4, generator=g)
    tensors = {"x0": x0, "eps": eps, "strengths": torch.tensor(STRENGTHS, dtype=torch.float64)}
    planned = exact_timesteps(T, 50)
    starts = []
    for k, s in enumerate(STRENGTHS):
        t = start_timestep(s, T)
        starts.append(t)
        tensors[f"s{k}/timesteps_ddim50"] = torch.tensor([t] + [u for u in planned if u < t], dtype=torch.int64)
        for name, schedule in (("linear", linear_schedule(T)), ("cosine", cosine_schedule(T))):
            ab = schedule[2][t]
            xt = eps.double() if t == T - 1 else torch.sqrt(ab) * x0.double() + torch.sqrt(1 - ab) * eps.double()
            tensors[f"s{k}/{name}/xt"] = xt
    tensors["t"] = torch.tensor(starts, dtype=torch.int64)
    assert starts[0] == 0 and starts[1] == 1 and starts[3] == 500 and starts[-1] == T - 1
    return save("img2img", tensors, "SDEdit start: t = floor(S (T - 1) + 0.5), x_t in F64 (eps itself at t = T - 1), DDIM-50 timesteps from t")


def circular(model):
    """Every 3x3 convolution pads circularly (PyTorch reads padding_mode at each forward)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3):
            m.padding_mode = "circular"
    return model


def write_circular_convs():
    written = []
    for name, seed, (in_c, out_c, shape) in (
        ("conv3x3_circular", 121, (3, 5, (2, 3, 7, 7))),
        ("conv3x3_circular_wide", 122, (16, 16, (2, 16, 6, 6))),
        ("conv3x3_circular_odd_wide", 123, (16, 18, (2, 16, 5, 9))),
    ):
        torch.manual_seed(seed)
        m = nn.Conv2d(in_c, out_c, 3, 1, 1, padding_mode="circular")
        x = torch.randn(shape)
        tensors = ops_fixtures._gradient_case({"x": x}, lambda x: m(x), m)
        meta = {"op": "conv2d", "in_channels": str(in_c), "out_channels": str(out_c), "kernel": "3", "stride": "1",
                "padding": "1", "padding_mode": "circular", "bias": "true", "seed": str(seed),
                "reference": "PyTorch " + torch.__version__ + ", float64 compute, float32 storage"}
        path = os.path.join(FIXTURES, "ops", name + ".safetensors")
        safetensors_io.save(path, {k: ops_fixtures._f32(v) for k, v in tensors.items()}, meta)
        written.append(path)
    return written


def write_circular_unet():
    plain = unet_fixtures.build_model
    plain_zero = unet_fixtures.zero_gradient_names
    unet_fixtures.build_model = lambda n_feat, in_channels=3: circular(plain(n_feat, in_channels))
    # With circular padding a transposed convolution's bias shifts every pixel of the next
    # convolution's output alike (no zero border breaks the symmetry), and the training-mode
    # BatchNorm after it subtracts that shift: its gradient vanishes too. make_case asserts it.
    unet_fixtures.zero_gradient_names = lambda model: plain_zero(model) + ["up1.model.0.bias", "up2.model.0.bias"]
    written = []
    try:
        for name, mode, seed in (("unet16_circular_train", "train", 207), ("unet16_circular_eval", "eval", 208)):
            tensors, meta = unet_fixtures.make_case(16, mode, False, seed, 3)
            meta["padding"] = "circular"
            path = os.path.join(FIXTURES, "unet", name + ".safetensors")
            safetensors_io.save(path, tensors, meta)
            written.append(path)
    finally:
        unet_fixtures.build_model = plain
        unet_fixtures.zero_gradient_names = plain_zero
    return written


def main():
    for path in [write_img2img(), *write_circular_convs(), *write_circular_unet()]:
        print(os.path.relpath(path, os.path.join(HERE, "..", "..")), os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
