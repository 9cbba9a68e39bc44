#!/usr/bin/python3
"""Writes the .npy fixtures NpyTests reads: real NumPy output in every format version and dtype
the reader supports, plus files it must refuse. Run with Debian's /usr/bin/python3 (numpy 1.24);
tests never run it. Each readable array gets a sidecar .txt: shape, dtype, then one value a line."""
import os
import numpy as np

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "Data", "npy")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20240611)


def save(name, arr, version=None):
    path = os.path.join(out, name + ".npy")
    with open(path, "wb") as f:
        np.lib.format.write_array(f, arr, version=version, allow_pickle=False)


def save_readable(name, arr, version=None):
    save(name, arr, version)
    with open(os.path.join(out, name + ".txt"), "w") as f:
        f.write(" ".join(str(d) for d in arr.shape) + "\n")
        f.write(arr.dtype.name + "\n")
        for v in arr.ravel(order="C"):
            f.write((repr(float(v)) if arr.dtype.kind == "f" else str(int(v))) + "\n")


save_readable("v1_uint8_4d", rng.integers(0, 256, size=(2, 4, 4, 3), dtype=np.uint8))
save_readable("v1_int64_2d", rng.integers(-(2**62), 2**62, size=(3, 5), dtype=np.int64))
save_readable("v1_float32_3d", rng.standard_normal((2, 3, 4)).astype(np.float32))
save_readable("v1_float64_1d", rng.standard_normal(7) * 1e3)
save_readable("v1_float64_scalar", np.array(rng.standard_normal()))
save_readable("v1_float32_empty", np.zeros((0, 3), dtype=np.float32))
save_readable("v2_float32_2d", rng.standard_normal((3, 4)).astype(np.float32), version=(2, 0))
save_readable("v3_float64_2d", rng.standard_normal((2, 2)), version=(3, 0))
save("bad_fortran", np.asfortranarray(rng.standard_normal((3, 4))))
save("bad_bigendian", rng.standard_normal((2, 3)).astype(">f8"))
save("bad_int32", rng.integers(0, 9, (2, 3)).astype(np.int32))
save("bad_structured", np.zeros(3, dtype=[("a", "<f4"), ("b", "<i8")]))
