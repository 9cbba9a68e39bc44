#!/usr/bin/python3
"""Reference values for improved precision/recall (Kynkaanniemi et al. 2019) and the near-copy rule.

Writes tests/SpriteDiffusion.Tests/Fixtures/metrics/pr_*.{f64,u8} and precision_recall.json, which
PrecisionRecallReferenceTests and NearCopyReferenceTests check the C# code against. Run with
Debian's Python (numpy, scipy):

    /usr/bin/python3 tools/reference/metrics_pr_fixtures.py

Everything here is brute force on the full distance matrix from scipy.spatial.distance.cdist
(sqrt of the sum of squared differences), written from the definitions:

- radius of sample i of a set S: the k-th smallest of |s_i - s_j| over j != i (by row index);
- x is in the manifold of S when |x - s_i| <= radius_i for some i (closed balls);
- precision: share of generated rows in the real manifold; recall: share of real rows in the
  generated manifold;
- near-copy: d1 = distance to the nearest reference row, d_rank = to the rank-th nearest (the
  rank-th smallest value, 1-based), flagged when d1 < d_rank / ratio (strict).

The C# code decides with other arithmetic (the |a|^2 + |b|^2 - 2ab expansion, then direct
distances near a boundary), so every case but the integer one asserts that no decision lies
within 1e-9 (relative) of its boundary: the expected flags cannot depend on rounding. The
integer case is exact in any order of summation, so its ties are real ties.
"""
import json
import os

import numpy as np
import scipy
from scipy.spatial.distance import cdist

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "SpriteDiffusion.Tests", "Fixtures", "metrics")
MARGIN = 1e-9


def radii(s, k):
    d = cdist(s, s)
    np.fill_diagonal(d, np.inf)  # self excluded by index; a duplicate row elsewhere still counts
    return np.sort(d, axis=1)[:, k - 1]


def inside(x, s, r, exact, what):
    """For each row of x: is |x - s_i| <= r_i for some i? Also the strict (<) answer, for the tie case."""
    d = cdist(x, s)
    gap = (d - r[None, :]).min(axis=1)  # <= 0: inside
    if not exact:
        scale = np.maximum(r.max(), 1e-300)
        close = np.abs(gap) <= MARGIN * scale
        # Only a point on top of a zero-radius ball may sit on the boundary: 0 <= 0 in any arithmetic.
        exact_zero = (d == 0) & (r[None, :] == 0)
        assert not np.any(close & ~exact_zero.any(axis=1)), f"{what}: a decision within {MARGIN} of its boundary"
    strict = (d < r[None, :]).any(axis=1)
    return gap <= 0, strict


def precision_recall(real, fake, k, exact, name):
    rr, rf = radii(real, k), radii(fake, k)
    fake_in, fake_in_strict = inside(fake, real, rr, exact, f"{name} precision")
    real_in, real_in_strict = inside(real, fake, rf, exact, f"{name} recall")
    return {
        "real": "real", "generated": "fake", "k": k,
        "precision": float(fake_in.mean()), "recall": float(real_in.mean()),
        "precision_strict": float(fake_in_strict.mean()), "recall_strict": float(real_in_strict.mean()),
        "real_radii": rr.tolist(), "generated_radii": rf.tolist(),
        "generated_inside": fake_in.astype(int).tolist(), "real_inside": real_in.astype(int).tolist(),
    }


def near_copies(query, reference, rank, ratio, exact, qname, rname, name):
    d = cdist(query, reference)
    ordered = np.sort(d, axis=1)
    d1, drank = ordered[:, 0], ordered[:, rank - 1]
    nearest = np.argmin(d, axis=1)  # first of equals: the lowest row
    threshold = drank / ratio
    flags = d1 < threshold
    if not exact:
        what = f"{name} near copies {qname} vs {rname}"
        assert not np.any(np.abs(d1 - threshold) <= MARGIN * np.maximum(threshold, 1e-300)), what + ": a flag on its boundary"
        # The nearest row must be unambiguous, or be one of exact duplicates (then the lowest row).
        second = ordered[:, 1]
        ambiguous = (second - d1 <= MARGIN * np.maximum(second, 1e-300)) & (second != d1)
        assert not np.any(ambiguous), what + ": two nearly equally near reference rows"
    return {
        "query": qname, "reference": rname, "rank": rank, "ratio": ratio,
        "nearest_index": nearest.tolist(), "d1": d1.tolist(), "d_rank": drank.tolist(),
        "flags": flags.astype(int).tolist(), "flags_non_strict": (d1 <= threshold).astype(int).tolist(),
        "count": int(flags.sum()), "rate": float(flags.mean()),
        "mean_d1": float(d1.mean()), "median_d1": float(np.median(d1)),
    }


def write(name, sets, fmt):
    out = {}
    for which, a in sets.items():
        file = f"pr_{name}_{which}.{fmt}"
        if fmt == "f64":
            np.ascontiguousarray(a, dtype="<f8").tofile(os.path.join(OUT, file))
        else:
            np.ascontiguousarray(a, dtype=np.uint8).tofile(os.path.join(OUT, file))
        out[which] = {"file": file, "count": int(a.shape[0])}
    return out


def case_random(rng):
    """Three real clusters of about 67 rows (more than rank 50, so d_50 stays inside a sample's own
    cluster); the fakes draw from two of them a little wider, from a cluster of their own, and
    copy 20 real rows with small noise."""
    d = 64
    centres = rng.normal(scale=4.0, size=(4, d))
    real = centres[rng.integers(0, 3, size=200)] + rng.normal(size=(200, d))
    novel = centres[rng.integers(0, 2, size=90)] + rng.normal(scale=1.05, size=(90, d))
    own = centres[3] + rng.normal(size=(40, d))
    copies = real[rng.choice(200, 20, replace=False)] + rng.normal(scale=0.05, size=(20, d))
    fake = np.vstack([novel, own, copies])[rng.permutation(150)]
    return "random", d, {"real": real, "fake": fake}, False, 3, [("fake", "real", 50, 3.0)]


def case_all_copies(rng):
    d = 32
    real = rng.normal(size=(100, d)) * rng.uniform(0.5, 2.0, size=d)
    fake = real[rng.choice(100, 60, replace=False)] + rng.normal(scale=1e-2, size=(60, d))
    return "all_copies", d, {"real": real, "fake": fake}, False, 3, [("fake", "real", 50, 3.0)]


def case_no_copies(rng):
    d = 32
    real = rng.normal(size=(100, d))
    fake = rng.normal(scale=1.5, size=(60, d)) + 20.0  # far from every real row, and spread wider
    return "no_copies", d, {"real": real, "fake": fake}, False, 3, [("fake", "real", 50, 3.0)]


def case_ties():
    """Integer points, where distances are exact in any summation order.

    real: the 5 x 5 x 5 grid {0..4}^3; every radius is 1 (each point has 3+ grid neighbours at 1).
    fake: the 5 x 5 plane z = 5 (distance exactly 1 from the face z = 4), four grid points around
    (2, 2, 2) (exact copies, with radii 1 and sqrt 2 among themselves) and one far point (2, 2, 9).
    The plane is in the real manifold only with <=; the face z = 4 but its corners is in the
    plane's manifold (radius 1 inside the plane, sqrt 2 at its corners) only with <=. With rank 40 the plane's
    central points have d1 = 1 and d_40 = 3 exactly, so d1 = d_40 / 3: not a near-copy (strict).
    """
    g = np.arange(5)
    real = np.array([[x, y, z] for x in g for y in g for z in g], dtype=float)
    plane = np.array([[x, y, 5] for x in g for y in g], dtype=float)
    fake = np.vstack([plane, [[2, 2, 2], [2, 2, 1], [2, 1, 2], [1, 2, 2], [2, 2, 9]]])
    return "ties", 3, {"real": real, "fake": fake}, True, 3, [("fake", "real", 40, 3.0)]


def sprite_bases(rng, count):
    """Blocky 16 x 16 RGB sprites: a background, a body of 'skin' pixels and some detail colours."""
    bases, skins = [], []
    for _ in range(count):
        img = np.zeros((16, 16, 3), dtype=np.int64)
        img[:] = rng.integers(0, 256, size=3)
        skin = np.zeros((16, 16), dtype=bool)
        y0, x0 = rng.integers(2, 6, size=2)
        skin[y0:y0 + rng.integers(6, 10), x0:x0 + rng.integers(5, 9)] = True
        img[skin] = rng.integers(60, 200, size=3)
        for _ in range(rng.integers(4, 9)):
            y, x = rng.integers(0, 15, size=2)
            img[y:y + 2, x:x + rng.integers(1, 4)] = rng.integers(0, 256, size=3)
            skin[y:y + 2, x:x + 3] = False
        bases.append(img)
        skins.append(skin)
    return bases, skins


def tone(rng, img, skin, spread):
    out = img.copy()
    out[skin] = np.clip(out[skin] + rng.integers(-spread, spread + 1, size=3), 0, 255)
    return out


def case_pixels(rng):
    """Pixel space as the evaluation will use it: uint8 RGB / 255, 768 dimensions.

    train: 20 base sprites x 8 skin-tone variants. heldout: 3 more variants of each base (the
    baseline: near-identical to training rows, as in the real data set). fake: 20 exact copies of
    training rows, 20 copies with a few pixels repainted, 20 new variants of the bases with a
    wider tone shift, 20 sprites from bases never seen.
    """
    bases, skins = sprite_bases(rng, 30)
    train = [tone(rng, bases[b], skins[b], 40) for b in range(20) for _ in range(8)]
    heldout = [tone(rng, bases[b], skins[b], 40) for b in range(20) for _ in range(3)]
    exact = [train[i] for i in rng.choice(160, 20, replace=False)]
    repainted = []
    for i in rng.choice(160, 20, replace=False):
        img = train[i].copy()
        for _ in range(rng.integers(2, 6)):
            y, x = rng.integers(0, 16, size=2)
            img[y, x] = rng.integers(0, 256, size=3)
        repainted.append(img)
    wide = [tone(rng, bases[b], skins[b], 90) for b in rng.integers(0, 20, size=20)]
    unseen = [tone(rng, bases[b], skins[b], 40) for b in rng.integers(20, 30, size=20)]
    fake = np.array(exact + repainted + wide + unseen)[rng.permutation(80)]
    # Channel-major per image, as the data set and FeatureMatrix rows built from ImageSet are.
    flat = lambda imgs: np.array(imgs).transpose(0, 3, 1, 2).reshape(len(imgs), 768).astype(np.uint8)
    sets = {"train": flat(train), "heldout": flat(heldout), "fake": flat(fake)}
    return "pixels", 768, sets, False, 3, [("fake", "train", 50, 3.0), ("heldout", "train", 50, 3.0)]


def build(name, d, sets, exact, k, copy_queries, fmt="f64"):
    files = write(name, sets, fmt)
    values = {w: (a.astype(np.float64) / 255.0 if fmt == "u8" else a) for w, a in sets.items()}
    real_name = "real" if "real" in values else "train"
    case = {"name": name, "d": d, "format": fmt, "exact": exact, "sets": files}
    pr = precision_recall(values[real_name], values["fake"], k, exact, name)
    pr["real"] = real_name
    case["precision_recall"] = pr
    case["near_copies"] = [near_copies(values[q], values[r], rank, ratio, exact, q, r, name)
                           for q, r, rank, ratio in copy_queries]
    return case


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20250301)
    cases = [
        build(*case_random(rng)),
        build(*case_all_copies(rng)),
        build(*case_no_copies(rng)),
        build(*case_ties()),
        build(*case_pixels(rng), fmt="u8"),
    ]
    ties = cases[3]
    assert ties["precision_recall"]["precision"] != ties["precision_recall"]["precision_strict"]
    assert ties["precision_recall"]["recall"] != ties["precision_recall"]["recall_strict"]
    assert ties["near_copies"][0]["flags"] != ties["near_copies"][0]["flags_non_strict"]
    fixture = {
        "generator": "tools/reference/metrics_pr_fixtures.py",
        "numpy": np.__version__, "scipy": scipy.__version__,
        "cases": cases,
    }
    with open(os.path.join(OUT, "precision_recall.json"), "w") as f:
        json.dump(fixture, f, indent=1)
    for c in cases:
        pr = c["precision_recall"]
        line = f"{c['name']}: precision {pr['precision']:.4f} recall {pr['recall']:.4f}"
        if c["exact"]:
            line += f" (strict: {pr['precision_strict']:.4f} / {pr['recall_strict']:.4f})"
        for nc in c["near_copies"]:
            line += (f"; copies {nc['query']} vs {nc['reference']} {nc['count']}/{len(nc['d1'])}"
                     f" (median d1 {nc['median_d1']:.4g}, non-strict {sum(nc['flags_non_strict'])})")
        print(line)


if __name__ == "__main__":
    main()
