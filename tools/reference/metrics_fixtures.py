#!/usr/bin/python3
"""Reference values for the evaluation metrics (FID, KID) and the bilinear upsampling.

Writes tests/SpriteDiffusion.Tests/Fixtures/metrics/: feature sets as raw little-endian float64
(.f64), images as float32 (.f32), and metrics.json with the expected numbers. The C# tests
compare against these to 1e-6 relative. Run with Debian's Python (numpy, scipy, torch):

    /usr/bin/python3 tools/reference/metrics_fixtures.py

The Frechet reference deliberately takes a different route from the C# code: Tr((S1 S2)^1/2) is
the nuclear norm (sum of singular values) of X Y^T, where S1 = X^T X and S2 = Y^T Y with X, Y the
centred features scaled by 1/sqrt(n - 1). That needs no matrix square root, so it is exact to
rounding even when the covariances are singular. For full-rank cases scipy.linalg.sqrtm
cross-checks it.
"""
import json
import os

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "SpriteDiffusion.Tests", "Fixtures", "metrics")


def frechet_parts(x, y):
    mx, my = x.mean(axis=0), y.mean(axis=0)
    cx, cy = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    xs = (x - mx) / np.sqrt(len(x) - 1)
    ys = (y - my) / np.sqrt(len(y) - 1)
    trace_sqrt = np.linalg.svd(xs @ ys.T, compute_uv=False).sum()
    mean_term = float(((mx - my) ** 2).sum())
    fid = mean_term + float(np.trace(cx) + np.trace(cy) - 2.0 * trace_sqrt)
    return fid, mean_term, float(trace_sqrt), cx, cy


def sqrtm_trace(cx, cy):
    root, _ = scipy.linalg.sqrtm(cx @ cy, disp=False)
    return float(np.real(np.trace(root)))


def cubic_kernel(a, b):
    return (a @ b.T / a.shape[1] + 1.0) ** 3


def unbiased_mmd2(x, y):
    m, n = len(x), len(y)
    kxx, kyy, kxy = cubic_kernel(x, x), cubic_kernel(y, y), cubic_kernel(x, y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1))
                 + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2.0 * kxy.sum() / (m * n))


def write_f64(name, array):
    np.ascontiguousarray(array, dtype="<f8").tofile(os.path.join(OUT, name))
    return name


def write_f32(name, array):
    np.ascontiguousarray(array, dtype="<f4").tofile(os.path.join(OUT, name))
    return name


def make_case(rng, name, n1, n2, d, relu):
    a1 = rng.normal(size=(d, d)) / np.sqrt(d)
    a2 = a1 + 0.3 * rng.normal(size=(d, d)) / np.sqrt(d)
    x = rng.normal(size=(n1, d)) @ a1 + rng.normal(scale=0.5, size=d)
    y = rng.normal(size=(n2, d)) @ a2 + rng.normal(scale=0.5, size=d) + 0.2
    if relu:  # like pooled post-ReLU network features: non-negative, many exact zeros
        x, y = np.maximum(x, 0.0), np.maximum(y, 0.0)
    fid, mean_term, trace_sqrt, cx, cy = frechet_parts(x, y)
    case = {
        "name": name, "n1": n1, "n2": n2, "d": d,
        "x": write_f64(f"{name}_x.f64", x), "y": write_f64(f"{name}_y.f64", y),
        "fid": fid, "mean_term": mean_term, "trace_sqrt_product": trace_sqrt,
        "trace_x": float(np.trace(cx)), "trace_y": float(np.trace(cy)),
        "singular": bool(min(n1, n2) <= d),
        "mmd2_full": unbiased_mmd2(x, y),
    }
    if not case["singular"]:
        check = sqrtm_trace(cx, cy)
        assert abs(check - trace_sqrt) <= 1e-9 * abs(trace_sqrt), (check, trace_sqrt)
    size = min(n1, n2) // 2
    subsets, estimates = [], []
    for _ in range(5):
        xi = rng.choice(n1, size, replace=False)
        yi = rng.choice(n2, size, replace=False)
        subsets.append({"x": xi.tolist(), "y": yi.tolist()})
        estimates.append(unbiased_mmd2(x[xi], y[yi]))
    case["kid_subsets"] = subsets
    case["kid_mean"] = float(np.mean(estimates))
    case["kid_std"] = float(np.std(estimates))  # divided by the number of subsets, as KID reports it
    return case


def bilinear(rng):
    image = rng.uniform(-1.0, 1.0, size=(1, 3, 16, 16)).astype(np.float32)
    t = torch.from_numpy(image)
    out37 = F.interpolate(t, size=(37, 37), mode="bilinear", align_corners=False).numpy()
    out224 = F.interpolate(t, size=(224, 224), mode="bilinear", align_corners=False).numpy()
    picks = []
    for _ in range(600):
        c, yy, xx = int(rng.integers(3)), int(rng.integers(224)), int(rng.integers(224))
        picks.append([c, yy, xx, float(out224[0, c, yy, xx])])
    for yy, xx in [(0, 0), (0, 223), (223, 0), (223, 223), (7, 112), (112, 7)]:
        picks.append([1, yy, xx, float(out224[0, 1, yy, xx])])
    return {
        "input": write_f32("bilinear_input.f32", image[0]),
        "size37": write_f32("bilinear_37.f32", out37[0]),
        "samples224": picks,
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240611)
    cases = [
        make_case(rng, "full_rank", 300, 250, 24, relu=False),
        make_case(rng, "singular", 40, 50, 128, relu=False),
        make_case(rng, "singular_relu512", 24, 30, 512, relu=True),
    ]
    fixture = {
        "generator": "tools/reference/metrics_fixtures.py",
        "numpy": np.__version__, "scipy": scipy.__version__, "torch": torch.__version__,
        "frechet_kid": cases,
        "bilinear": bilinear(rng),
    }
    with open(os.path.join(OUT, "metrics.json"), "w") as f:
        json.dump(fixture, f, indent=1)
    for c in cases:
        print(f"{c['name']}: fid {c['fid']:.9g} (mean {c['mean_term']:.6g}, trace-sqrt {c['trace_sqrt_product']:.6g}), "
              f"mmd2 {c['mmd2_full']:.6g}, kid {c['kid_mean']:.6g} +- {c['kid_std']:.3g}")


if __name__ == "__main__":
    main()
