"""The rational erf of the frozen convolutions' GELU (src/SpriteDiffusion.Engine/Layers/InferenceGelu.cs).

erf(z) ~ z P(z^2) / Q(z^2) with P of degree 6 and Q of degree 4 in z^2 (Q(0) = 1), fitted on
[0, ZMAX] in float64 by Loeb's iteration (linearised least squares, each pass weighted by 1 / Q of
the last) with Lawson's reweighting towards the minimax error; beyond ZMAX the engine returns +-1
(erf(3.92) = 1 - 3.5e-8, under half a float32 ulp of 1). No division by a polynomial in t = 1/(1+z/2)
and no exp, as the Numerical Recipes erfc of the training layers needs: about half the vector
operations, and the scalar path gives the same bits as the vector lanes.

Prints the coefficients rounded to float32 (as the C# constants) and the error of the engine's own
float32 evaluation (each FMA rounded once: product and sum in float64, then to float32) against
scipy's erf on a fine grid: fit error about 4e-8, float32 evaluation about 3-4e-7 (a few ulps of 1).

    /usr/bin/python3 tools/reference/erf_fit.py
"""
import numpy as np
from scipy.special import erf

P_TERMS, Q_TERMS, ZMAX = 7, 5, 3.92


def fit(iterations=60):
    z = np.cos(np.linspace(0, np.pi, 6000)) * ZMAX / 2 + ZMAX / 2  # Chebyshev-spaced nodes
    y = erf(z)
    denominator = np.ones_like(z)
    lawson = np.full_like(z, 1 / len(z))
    for _ in range(iterations):
        a = np.hstack([np.stack([z * z ** (2 * k) for k in range(P_TERMS)], 1),
                       np.stack([-y * z ** (2 * k) for k in range(1, Q_TERMS)], 1)])
        w = np.sqrt(lawson) / denominator
        c, *_ = np.linalg.lstsq(a * w[:, None], y * w, rcond=None)
        p, q = c[:P_TERMS], np.concatenate([[1.0], c[P_TERMS:]])
        denominator = sum(q[k] * z ** (2 * k) for k in range(Q_TERMS))
        err = z * sum(p[k] * z ** (2 * k) for k in range(P_TERMS)) / denominator - y
        lawson = lawson * np.abs(err) / np.abs(err).max() + 1e-12
        lawson /= lawson.sum()
    return p.astype(np.float32), q.astype(np.float32), np.abs(err).max()


def fma32(a, b, c):
    return (a.astype(np.float64) * b + c).astype(np.float32)


def erf32(z, p, q):
    """The engine's evaluation, operation for operation."""
    z = z.astype(np.float32)
    z2 = (z * z).astype(np.float32)
    pz = np.full_like(z, p[-1])
    for c in p[-2::-1]:
        pz = fma32(pz, z2, np.float32(c))
    qz = np.full_like(z, q[-1])
    for c in q[-2::-1]:
        qz = fma32(qz, z2, np.float32(c))
    r = ((z * pz).astype(np.float32) / qz).astype(np.float32)
    return np.where(np.abs(z) >= np.float32(ZMAX), np.sign(z), r).astype(np.float32)


if __name__ == "__main__":
    p, q, fit_error = fit()
    z = np.linspace(-5, 5, 2_000_001).astype(np.float32)
    f32_error = np.abs(erf32(z, p, q).astype(np.float64) - erf(z.astype(np.float64))).max()
    x = np.linspace(-12, 12, 2_000_001).astype(np.float32)
    h = (x * np.float32(0.5)).astype(np.float32)
    gelu = fma32(h, erf32((x * np.float32(0.70710678118654752)).astype(np.float32), p, q), h)
    exact = 0.5 * x.astype(np.float64) * (1 + erf(x.astype(np.float64) / np.sqrt(2)))
    print("P (z^0 .. z^12):", ", ".join(f"{c!r}f" for c in p.tolist()))
    print("Q (z^0 .. z^8): ", ", ".join(f"{c!r}f" for c in q.tolist()))
    print(f"fit error {fit_error:.2e}; float32 erf on [-5, 5]: max abs error {f32_error:.2e}; "
          f"GELU on [-12, 12]: max abs error {np.abs(gelu - exact).max():.2e}")
