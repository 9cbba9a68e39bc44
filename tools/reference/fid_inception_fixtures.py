#!/usr/bin/python3
"""Reference fixtures for the FID Inception path (`sprites evaluate --features inception:PATH`).

Builds pytorch-fid's FID Inception as SPEC section 9 describes it (torchvision 0.14's Inception3,
num_classes=1008, aux_logits=False, with the pool branches patched here from the SPEC), fills it
with deterministic weights (the scheme of param_scheme.py with a He gain on convolutions, see
generate()), saves its state dict with torch.save in the legacy (pre-zip) format, and computes
2048-d features of two small sprite sets and their FID the way pytorch-fid does.

The weights file is ~95 MB, too big to commit. What is committed instead (see README.md):

- `weights.skeleton`: the legacy file with every storage's raw bytes cut out (the pickles and
  the 8-byte element counts stay), and `weights.json`: where each storage's bytes go and which
  tensor they hold. The C# test regenerates the values, splices them back in and gets the very
  bytes torch.save wrote, whose SHA-256 is recorded here and named in the file name.
- `real/*.png`, `fake/*.png`: 36 sprites each (RGB, 16x16) from the bundled data set.
- `features.safetensors`: the features of both sets (float64 model, F64) and the float32 model's
  (F32, to show what float32 itself reaches). `weights.json` also holds FID by scipy.linalg.sqrtm
  (as pytorch-fid computes it) and by the SVD route of metrics_fixtures.py.

    /usr/bin/python3 tools/reference/fid_inception_fixtures.py [--keep-weights DIR]

--keep-weights also writes the whole weights file into DIR under its hash-prefixed name, for a
by-hand run of `sprites evaluate --features inception:PATH` against these fixtures.
"""
import argparse
import collections
import hashlib
import io
import json
import os
import pickle
import sys

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.models import inception

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import param_scheme  # noqa: E402
import safetensors_io  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "SpriteDiffusion.Tests", "Fixtures", "inception")
SETS = {"real": range(0, 36 * 97, 97), "fake": range(13, 13 + 36 * 89, 89)}
PREFIX = "fid_inception_fixture"


# --- The FID Inception (SPEC section 9) -------------------------------------------------------

# True only to measure how far torchvision's unpatched pooling lands from the patched one.
COUNT_INCLUDE_PAD = False


def average_pool(x):
    """3x3, stride 1, padding 1, padded zeros not counted: the patch of Mixed_5b-5d, 6b-6e and 7b."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=COUNT_INCLUDE_PAD)


class PatchedA(inception.InceptionA):
    def _forward(self, x):
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return [b1, b5, b3, self.branch_pool(average_pool(x))]


class PatchedC(inception.InceptionC):
    def _forward(self, x):
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = layer(d)
        return [b1, b7, d, self.branch_pool(average_pool(x))]


class PatchedE(inception.InceptionE):
    """InceptionE with its pool branch chosen: the patched average pool (7b) or a max pool (7c)."""
    use_max_pool = False

    def _forward(self, x):
        b1 = self.branch1x1(x)
        s = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(s), self.branch3x3_2b(s)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        if self.use_max_pool:
            pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        else:
            pooled = average_pool(x)
        return [b1, b3, bd, self.branch_pool(pooled)]


class PatchedEMax(PatchedE):
    use_max_pool = True


def fid_inception():
    """torchvision's Inception3 with the SPEC's patches; the blocks keep their parameters."""
    net = inception.Inception3(num_classes=1008, aux_logits=False, init_weights=False)
    for name in ["Mixed_5b", "Mixed_5c", "Mixed_5d"]:
        getattr(net, name).__class__ = PatchedA
    for name in ["Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"]:
        getattr(net, name).__class__ = PatchedC
    net.Mixed_7b.__class__ = PatchedE
    net.Mixed_7c.__class__ = PatchedEMax
    return net.eval()


def pool_features(net, x):
    """pytorch-fid's forward up to the 2048-d pool: x in [0, 1], resized to 299 bilinearly, then 2x - 1."""
    x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    x = 2 * x - 1
    for name in ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3", "maxpool2",
                 "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
                 "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool"]:
        x = getattr(net, name)(x)
    return x.flatten(1)


# --- Weights ----------------------------------------------------------------------------------

def generate(name, shape):
    """param_scheme's values, with convolution weights scaled by sqrt(6 / fan) (He's uniform gain)
    instead of 1 / sqrt(fan): with 1 / sqrt(fan) every layer would shrink the signal by ~sqrt(6)
    and after 94 of them the features would no longer depend on the image."""
    if name.endswith(".weight") and len(shape) >= 2:
        fan = int(np.prod(shape[1:], dtype=np.int64))
        v = param_scheme.uniform_pm1(param_scheme.fnv1a32(name), int(np.prod(shape))).reshape(shape)
        return v * np.float32(np.sqrt(np.float64(6) / np.float64(fan)))
    return param_scheme.generate(name, shape)


def fill(net):
    state = net.state_dict()
    for name, tensor in state.items():
        tensor.copy_(torch.from_numpy(generate(name, tuple(tensor.shape))))
    return state


def save_legacy(state, path):
    torch.save(state, path, _use_new_zipfile_serialization=False)
    with open(path, "rb") as f:
        return f.read()


class _KeyReader(pickle.Unpickler):
    """Reads the state dict's pickle into {tensor name: storage key}: each tensor becomes its key."""

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return lambda storage, *rest: storage
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch" and name.endswith("Storage"):
            return name
        raise pickle.UnpicklingError(f"unexpected global {module}.{name}")

    def persistent_load(self, pid):
        return pid[2]


def skeleton(data, state):
    """The file without its storages' raw bytes, and where each storage's bytes went.

    The legacy format is five pickles (magic number, protocol version, sys_info, the state dict
    with storages as persistent ids, the list of storage keys) and then, for each key in that
    list's order (torch sorts the keys), an 8-byte element count and the raw bytes."""
    stream = io.BytesIO(data)
    for _ in range(3):
        pickle.load(stream)
    keys_by_name = _KeyReader(stream).load()
    keys = pickle.load(stream)
    name_by_key = {key: name for name, key in keys_by_name.items()}
    assert len(name_by_key) == len(state) == len(keys)
    pieces, layout, position = [data[:stream.tell()]], [], stream.tell()
    for key in keys:
        name = name_by_key[key]
        t = state[name]
        count = int.from_bytes(data[position:position + 8], "little")
        assert count == t.numel(), (name, count, t.numel())
        nbytes = t.numel() * t.element_size()
        assert data[position + 8:position + 8 + nbytes] == t.numpy().tobytes(), name
        pieces.append(data[position:position + 8])
        layout.append({"name": name, "shape": list(t.shape), "dtype": "int64" if t.dtype == torch.int64 else "float32",
                       "offset": position + 8})
        position += 8 + nbytes
    assert position == len(data)
    return b"".join(pieces), layout


# --- Images and FID ---------------------------------------------------------------------------

def write_sets():
    images = np.load(os.path.join(ROOT, "data", "twemoji16", "images.npy"))
    for name, indices in SETS.items():
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        for old in os.listdir(folder):
            os.remove(os.path.join(folder, old))
        for i, index in enumerate(indices):
            Image.fromarray(images[index], "RGB").save(os.path.join(folder, f"{i:03d}.png"))


def read_set(name):
    """As pytorch-fid reads a folder: sorted file names, PIL convert("RGB"), [0, 1] floats, NCHW."""
    folder = os.path.join(OUT, name)
    files = sorted(f for f in os.listdir(folder) if f.endswith(".png"))
    arrays = [np.asarray(Image.open(os.path.join(folder, f)).convert("RGB")) for f in files]
    return torch.from_numpy(np.stack(arrays).transpose(0, 3, 1, 2).astype(np.float64) / 255.0)


def fid_scipy(x, y):
    """pytorch-fid's calculate_frechet_distance, written from its published description (SPEC 9)."""
    m1, m2 = x.mean(axis=0), y.mean(axis=0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * 1e-6
        covmean = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
    if np.iscomplexobj(covmean):
        assert np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3), np.abs(covmean.imag).max()
        covmean = covmean.real
    diff = m1 - m2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def fid_svd(x, y):
    """Tr((S1 S2)^1/2) as the nuclear norm of X Y^T (metrics_fixtures.py): exact for singular covariances."""
    mx, my = x.mean(axis=0), y.mean(axis=0)
    xs = (x - mx) / np.sqrt(len(x) - 1)
    ys = (y - my) / np.sqrt(len(y) - 1)
    trace_sqrt = np.linalg.svd(xs @ ys.T, compute_uv=False).sum()
    return float(((mx - my) ** 2).sum() + (xs ** 2).sum() + (ys ** 2).sum() - 2 * trace_sqrt)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep-weights", metavar="DIR")
    args = parser.parse_args()
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)

    net = fid_inception()
    state = fill(net)
    tmp = os.path.join(args.keep_weights or "/tmp", "fid_inception_fixture.pth")
    data = save_legacy(state, tmp)
    sha = hashlib.sha256(data).hexdigest()
    name = f"{PREFIX}-{sha[:8]}.pth"
    if args.keep_weights:
        os.replace(tmp, os.path.join(args.keep_weights, name))
    else:
        os.remove(tmp)
    bones, layout = skeleton(data, state)
    with open(os.path.join(OUT, "weights.skeleton"), "wb") as f:
        f.write(bones)

    write_sets()
    real, fake = read_set("real"), read_set("fake")
    with torch.no_grad():
        f64 = net.double()
        real64, fake64 = pool_features(f64, real).numpy(), pool_features(f64, fake).numpy()
        f32 = net.float()
        real32, fake32 = pool_features(f32, real.float()).numpy(), pool_features(f32, fake.float()).numpy()

    def rel(a, b):
        return float(np.abs(a - b).max() / np.abs(b).max())

    # How far the two wrong patches the C# test builds land from the right network (float32).
    global COUNT_INCLUDE_PAD
    wrong = {}
    with torch.no_grad():
        COUNT_INCLUDE_PAD = True
        wrong["count_include_pad"] = rel(pool_features(f32, real.float()).numpy(), real32)
        COUNT_INCLUDE_PAD = False
        f32.Mixed_7c.__class__ = PatchedE
        wrong["mixed_7c_average_pool"] = rel(pool_features(f32, real.float()).numpy(), real32)
        f32.Mixed_7c.__class__ = PatchedEMax

    fid = fid_scipy(real64, fake64)
    svd = fid_svd(real64, fake64)
    # With 36 images in 2048 dimensions both covariances are singular, where sqrtm is only close
    # (measured 3.4e-5 relative); the SVD route is exact to rounding. pytorch-fid's number is sqrtm's.
    assert abs(fid - svd) <= 1e-4 * abs(svd), (fid, svd)
    safetensors_io.save(os.path.join(OUT, "features.safetensors"), {
        "real": real64, "fake": fake64, "real_f32": real32, "fake_f32": fake32,
    }, {"reference": "tools/reference/fid_inception_fixtures.py", "model": "float64; *_f32 float32"})
    reference = {
        "weights_file": name, "sha256": sha, "size": len(data), "tensors": len(layout),
        "fid_scipy_sqrtm": fid, "fid_svd": svd, "fid_scipy_vs_svd_relative": abs(fid - svd) / abs(svd), "fid_float32_model": fid_scipy(real32.astype(np.float64), fake32.astype(np.float64)),
        "float32_vs_float64_features": max(rel(real32, real64), rel(fake32, fake64)),
        "wrong_patch_feature_difference": wrong,
        "feature_range": [float(min(real64.min(), fake64.min())), float(max(real64.max(), fake64.max()))],
        "feature_std_across_images": float(real64.std(axis=0).mean()),
        "torch": torch.__version__, "layout": layout,
    }
    with open(os.path.join(OUT, "weights.json"), "w") as f:
        json.dump(reference, f, indent=1)
    print(json.dumps({k: v for k, v in reference.items() if k != "layout"}, indent=1))


if __name__ == "__main__":
    main()
