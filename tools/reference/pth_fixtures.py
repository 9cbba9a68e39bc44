"""Fixtures for the C# .pth reader (src/SpriteDiffusion/IO/Pth) -> tests/SpriteDiffusion.Tests/Fixtures/pth/.

Valid files are written by torch.save itself, in both formats: the zip format (the default since
torch 1.6) and the legacy format (`_use_new_zipfile_serialization=False`, what older checkpoints and
pytorch-fid's Inception weights use). Each `<name>.expected.safetensors` holds the same entries, in
the same order, as contiguous float32 / int64 arrays, so the C# tests compare every tensor without
Python.

Hostile and damaged files are built by hand (or by torch.save of an object whose pickle calls a
dangerous function). This script never unpickles them: it only writes bytes.

Run with /usr/bin/python3 (Debian's torch 1.13). The zip files are byte-identical from run to run;
legacy files are not, because torch names their storages by memory address.
"""
import io
import os
import pickle
import struct
import sys
import zipfile
from collections import OrderedDict

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402
from seed_unet import ContextUnet  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "tests", "SpriteDiffusion.Tests", "Fixtures", "pth")

# The hostile pickles would create this file if anything ever ran them; the C# test checks it is absent.
MARKER = "/tmp/spritediffusion-pth-hostile-pickle-ran"


def path_of(name):
    return os.path.join(OUT, name)


def expected(tensors):
    """The reader's promised output: contiguous float32 for float storages, int64 for integer ones."""
    out = OrderedDict()
    for name, t in tensors.items():
        t = t.detach()
        out[name] = (t.float() if t.is_floating_point() else t.long()).contiguous()
    return out


def save_both(name, state, meta=None):
    torch.save(state, path_of(f"{name}.zip.pth"))
    torch.save(state, path_of(f"{name}.legacy.pth"), _use_new_zipfile_serialization=False)
    safetensors_io.save(path_of(f"{name}.expected.safetensors"), expected(state), meta)
    for fmt in ("zip", "legacy"):
        back = torch.load(path_of(f"{name}.{fmt}.pth"))
        assert list(back) == list(state), (name, fmt)
        for k in state:
            assert back[k].dtype == state[k].dtype and torch.equal(back[k], state[k].detach()), (name, fmt, k)


def seed_state(nf):
    """The seed U-Net's state dict with every float entry random and distinct counters."""
    torch.manual_seed(1000 + nf)
    model = ContextUnet(n_feat=nf)
    state = model.state_dict()
    with torch.no_grad():
        for i, (name, t) in enumerate(state.items()):
            if t.is_floating_point():
                t.copy_(torch.randn(t.shape))
            else:
                t.fill_(i + 1)
    return model.state_dict()


def views_state():
    """Entries that are views: transposed, sliced, strided, a 0-d element, a broadcast, shared storages."""
    torch.manual_seed(7)
    base = torch.randn(4, 6)
    longs = torch.arange(100, 112, dtype=torch.int64)
    ramp = torch.arange(3, dtype=torch.float32).view(3, 1)
    state = OrderedDict()
    state["base"] = base
    state["transposed"] = base.t()  # strides (1, 6) into base's storage
    state["rows"] = base[1:3]  # storage offset 6
    state["every_other_column"] = base[:, 1::2]  # offset 1, strides (6, 2)
    state["element"] = base[2, 3]  # 0-d, offset 15
    state["broadcast"] = ramp.expand(3, 4)  # strides (1, 0)
    state["int_slice"] = longs[2:11:3]  # offset 2, stride 3
    state["int_matrix_t"] = longs.view(3, 4).t()
    state["num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)
    state["empty"] = torch.zeros(0, 3)
    state["permuted"] = torch.randn(2, 3, 4).permute(2, 0, 1)
    return state


def dtypes_state():
    """Storage types other than float32 / int64, and a parameter (pickled through _rebuild_parameter)."""
    torch.manual_seed(11)
    state = OrderedDict()
    state["half"] = torch.randn(2, 5).half()
    state["double"] = torch.randn(3, 2, dtype=torch.float64)
    state["double_t"] = state["double"].t()
    state["bfloat16"] = torch.randn(7).bfloat16()
    state["int32"] = torch.tensor([[-3, 0, 5], [2147483647, -2147483648, 1]], dtype=torch.int32)
    state["weight"] = nn.Parameter(torch.randn(3, 2))
    state["float"] = torch.randn(4)
    return state


# --- hand-built files ------------------------------------------------------------------------

class FakeStorage:
    """Stands for a storage in a hand-built pickle: persistent_id turns it into torch's storage tuple."""

    def __init__(self, storage_type, key, numel, view=None):
        self.storage_type, self.key, self.numel, self.view = storage_type, key, numel, view


class FakeTensor:
    """Pickles as torch does a tensor: a call of _rebuild_tensor_v2 on its storage."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, OrderedDict())

    def __reduce__(self):
        return torch._utils._rebuild_tensor_v2, self.args


class StoragePickler(pickle.Pickler):
    def __init__(self, f, legacy):
        super().__init__(f, protocol=2)
        self.legacy = legacy

    def persistent_id(self, obj):
        if not isinstance(obj, FakeStorage):
            return None
        pid = ("storage", obj.storage_type, obj.key, "cpu", obj.numel)
        return pid + (obj.view,) if self.legacy else pid


def pickle_with_storages(obj, legacy=False):
    buf = io.BytesIO()
    StoragePickler(buf, legacy).dump(obj)
    return buf.getvalue()


def write_zip(path, data_pkl, storages, byteorder=b"little"):
    """Lays a zip out as torch.save does (stored, not compressed), under the folder name 'archive'."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        def add(name, data):
            info = zipfile.ZipInfo(f"archive/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, data)
        add("data.pkl", data_pkl)
        if byteorder is not None:
            add("byteorder", byteorder)
        for key, data in storages.items():
            add(f"data/{key}", data)
        add("version", b"3\n")


def legacy_prefix():
    """The three small pickles a legacy file starts with: magic number, protocol version, sys_info."""
    sys_info = dict(protocol_version=1001, little_endian=True, type_sizes=dict(short=2, int=4, long=4))
    return (pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
            + pickle.dumps(sys_info, protocol=2))


def op_global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def op_str(text):
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def state_dict_calling(module, name, argument):
    """An OrderedDict whose one entry is the result of calling module.name(argument)."""
    return (b"\x80\x02" + op_global("collections", "OrderedDict") + b")R"
            + op_str("weight") + op_global(module, name) + op_str(argument) + b"\x85R" + b"s.")


class CallOnLoad:
    """An object whose pickle calls fn(arg) when Python unpickles it (what a malicious .pth does)."""

    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return self.fn, (self.arg,)


def hostile_files():
    touch = f"touch {MARKER}"
    # The exact global os.system, as an attacker would hand-write it, in a zip checkpoint.
    write_zip(path_of("hostile_os_system.pth"), state_dict_calling("os", "system", touch), {})
    # What pickle itself writes for os.system on Linux (posix.system), beside a real tensor, legacy format.
    torch.save(OrderedDict(weight=torch.ones(2), bias=CallOnLoad(os.system, touch)),
               path_of("hostile_posix_system.legacy.pth"), _use_new_zipfile_serialization=False)
    # eval through torch.save's own zip writer: protocol 2 spells builtins as __builtin__.
    evil = f"__import__('os').system('{touch}')"
    torch.save(OrderedDict(weight=torch.ones(2), bias=CallOnLoad(eval, evil)), path_of("hostile_eval_torch_save.pth"))
    write_zip(path_of("hostile_builtins_eval.pth"), state_dict_calling("builtins", "eval", evil), {})
    # A global nobody knows.
    write_zip(path_of("hostile_unknown_global.pth"), state_dict_calling("spritediffusion_payload", "Loader", touch), {})

    # A zip cut off: its central directory (at the end) is gone.
    with open(path_of("seed_nf8.zip.pth"), "rb") as f:
        blob = f.read()
    with open(path_of("truncated_zip.pth"), "wb") as f:
        f.write(blob[: len(blob) * 3 // 5])

    # A tensor of 10 elements over a storage of 4.
    short = FakeStorage(torch.FloatStorage, "0", 4)
    write_zip(path_of("storage_short.pth"),
              pickle_with_storages(OrderedDict(weight=FakeTensor(short, 0, (10,), (1,)))),
              {"0": struct.pack("<4f", 1, 2, 3, 4)})

    # A zip written on a big-endian machine.
    ok = FakeStorage(torch.FloatStorage, "0", 2)
    write_zip(path_of("big_endian.pth"), pickle_with_storages(OrderedDict(weight=FakeTensor(ok, 0, (2,), (1,)))),
              {"0": struct.pack(">2f", 1, 2)}, byteorder=b"big")

    # A legacy file cut in the middle of its main pickle (after the three small header pickles).
    with open(path_of("views.legacy.pth"), "rb") as f:
        blob = f.read()
    start = len(legacy_prefix())
    stream = io.BytesIO(blob)
    for _ in range(3):
        pickle.load(stream)  # the header pickles hold only numbers, strings and dicts
    assert stream.tell() == start, (stream.tell(), start)
    with open(path_of("legacy_truncated.pth"), "wb") as f:
        f.write(blob[: start + 300])


def legacy_storage_view():
    """Old torch's storage views: persistent id ('storage', type, root_key, location, numel, (view_key, offset, size))."""
    root = FakeStorage(torch.FloatStorage, "100", 8)
    view = FakeStorage(torch.FloatStorage, "100", 8, view=("101", 2, 4))  # elements 2..5 of the root
    state = OrderedDict(whole=FakeTensor(root, 0, (2, 4), (4, 1)), inside_view=FakeTensor(view, 1, (3,), (1,)))
    values = [0.5 * i - 1 for i in range(8)]
    blob = (legacy_prefix() + pickle_with_storages(state, legacy=True) + pickle.dumps(["100"], protocol=2)
            + struct.pack("<q", 8) + struct.pack("<8f", *values))
    path = path_of("legacy_storage_view.pth")
    with open(path, "wb") as f:
        f.write(blob)
    back = torch.load(path)  # torch's own reading is the reference for the view's meaning
    assert torch.equal(back["inside_view"], torch.tensor(values[3:6]))
    safetensors_io.save(path_of("legacy_storage_view.expected.safetensors"), expected(back))


def main():
    os.makedirs(OUT, exist_ok=True)
    if os.path.exists(MARKER):
        os.remove(MARKER)
    for nf in (8, 16):
        save_both(f"seed_nf{nf}", seed_state(nf), {"n_feat": nf})
    save_both("views", views_state())
    save_both("dtypes", dtypes_state())
    legacy_storage_view()
    hostile_files()
    assert not os.path.exists(MARKER), "a hostile pickle ran while writing the fixtures"
    total = 0
    for name in sorted(os.listdir(OUT)):
        size = os.path.getsize(path_of(name))
        total += size
        print(f"{size:9d}  {name}")
    print(f"{total:9d}  total")


if __name__ == "__main__":
    main()
