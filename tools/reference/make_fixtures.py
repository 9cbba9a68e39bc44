"""Writes every PyTorch reference fixture under tests/SpriteDiffusion.Tests/Fixtures/.

Run from anywhere:  /usr/bin/python3 tools/reference/make_fixtures.py
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep __pycache__ out of the repository
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402
from ops_fixtures import write_op_fixtures  # noqa: E402
from unet_fixtures import write_unet_fixtures  # noqa: E402

FIXTURES = os.path.join(HERE, "..", "..", "tests", "SpriteDiffusion.Tests", "Fixtures")


def write_io_fixture():
    """Known values in every dtype the C# reader converts, so its decoding is checked exactly."""
    tensors = {
        "f32": np.array([[0.5, -1.25, 3.0], [1e-3, -7.5, 100.0]], dtype=np.float32),
        "f64": np.array([1.5, -2.25, 1e10], dtype=np.float64),
        "f16": np.array([0.5, -2.0, 65504.0], dtype=np.float16),
        "bf16": torch.tensor([1.0, -3.5, 0.15625], dtype=torch.bfloat16),
        "i64": np.array([[-3, 0], [2**40, 7]], dtype=np.int64),
        "i32": np.array([-5, 6], dtype=np.int32),
        "u8": np.array([0, 255, 7], dtype=np.uint8),
        "scalar": np.array(2.5, dtype=np.float32),
    }
    path = os.path.join(FIXTURES, "io", "python_written.safetensors")
    safetensors_io.save(path, tensors, {"format": "pt", "note": "written by tools/reference"})
    back, meta = safetensors_io.load(path)
    for name, value in tensors.items():
        expected = value.float().numpy() if isinstance(value, torch.Tensor) else value
        assert np.array_equal(back[name], expected), name
    return [path]


def main():
    written = []
    written += write_io_fixture()
    written += write_op_fixtures(os.path.join(FIXTURES, "ops"))
    written += write_unet_fixtures(os.path.join(FIXTURES, "unet"))
    total = 0
    for path in written:
        size = os.path.getsize(path)
        total += size
        print(f"{os.path.relpath(path, os.path.join(HERE, '..', '..'))}: {size} bytes")
    print(f"{len(written)} files, {total} bytes")


if __name__ == "__main__":
    main()
