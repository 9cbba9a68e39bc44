"""Deterministic U-Net parameters both sides can generate, so fixtures need not store them.

Per state-dict entry (name n, shape s):
  seed  = FNV-1a 32-bit of the UTF-8 name, taken as an unsigned 64-bit integer
  state = seed; for each element i in row-major order: state += 0x9E3779B97F4A7C15 (mod 2^64),
          z = splitmix64 finaliser of state, u = (z >> 40) / 2^24 (float32, exact), v = 2u - 1
  value (float32 arithmetic, each operation rounded to float32):
    *.weight, ndim >= 2 : v * float32(1 / sqrt(prod(s[1:])))   (1/sqrt in float64, then rounded)
    *.weight, ndim 1    : 1 + 0.2f * v
    *.bias              : 0.1f * v
    *.running_mean      : 0.1f * v
    *.running_var       : 1 + 0.5f * v
    *.num_batches_tracked : 0
"""
import numpy as np

GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
MASK64 = (1 << 64) - 1


def fnv1a32(name):
    h = 2166136261
    for byte in name.encode("utf-8"):
        h ^= byte
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def uniform_pm1(seed, count):
    """v_0..v_{count-1} in [-1, 1) as float32 (vectorised splitmix64; uint64 arrays wrap mod 2^64)."""
    with np.errstate(over="ignore"):
        steps = np.arange(1, count + 1, dtype=np.uint64)
        z = np.uint64(seed) + steps * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(40)).astype(np.float32) / np.float32(2**24)
    return np.float32(2) * u - np.float32(1)


def uniform_pm1_slow(seed, count):
    """The same stream with Python integers, to check the vectorised one against the definition."""
    out = []
    state = seed
    for _ in range(count):
        state = (state + GOLDEN) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * MIX1) & MASK64
        z = ((z ^ (z >> 27)) * MIX2) & MASK64
        z ^= z >> 31
        out.append(2.0 * ((z >> 40) / 2.0**24) - 1.0)
    return np.array(out, dtype=np.float32)


def generate(name, shape):
    """The entry's values as a numpy array of the shape (float32, or int64 for num_batches_tracked)."""
    shape = tuple(shape)
    if name.endswith("num_batches_tracked"):
        return np.zeros(shape, dtype=np.int64)
    count = int(np.prod(shape, dtype=np.int64))
    v = uniform_pm1(fnv1a32(name), count).reshape(shape)
    if name.endswith(".weight") and len(shape) >= 2:
        fan = int(np.prod(shape[1:], dtype=np.int64))
        return v * np.float32(1.0 / np.sqrt(np.float64(fan)))
    if name.endswith(".weight"):
        return np.float32(1) + np.float32(0.2) * v
    if name.endswith(".bias") or name.endswith(".running_mean"):
        return np.float32(0.1) * v
    if name.endswith(".running_var"):
        return np.float32(1) + np.float32(0.5) * v
    raise ValueError(f"no generation rule for {name}")


def self_check():
    for name in ["init_conv.conv1.0.weight", "out.3.bias", "é-unicode"]:
        seed = fnv1a32(name)
        assert np.array_equal(uniform_pm1(seed, 50), uniform_pm1_slow(seed, 50)), name
    assert fnv1a32("") == 2166136261 and fnv1a32("a") == 0xE40C292C


if __name__ == "__main__":
    self_check()
    print("fnv1a32('init_conv.conv1.0.weight') =", fnv1a32("init_conv.conv1.0.weight"))
    print("first values:", generate("init_conv.conv1.0.weight", (64, 3, 3, 3)).ravel()[:4])
