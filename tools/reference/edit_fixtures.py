"""Fixtures for editing with a trained model (issue 16) -> tests/SpriteDiffusion.Tests/Fixtures/.

Run from anywhere:  /usr/bin/python3 tools/reference/edit_fixtures.py

- diffusion/img2img.safetensors: SDEdit's start. For each strength S, the timestep
  t = floor(S (T - 1) + 0.5), the noised sprite x_t = sqrt(alpha_bar[t]) x0 + sqrt(1 - alpha_bar[t]) eps
  in float64 (at S = 1 the start is eps itself), and the DDIM / DPM-Solver++ timesteps that follow
  (t, then the 50-step sequence's entries below t).
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


def main():
    for path in (write_img2img(),):
        print(os.path.relpath(path, os.path.join(HERE, "..", "..")), os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
