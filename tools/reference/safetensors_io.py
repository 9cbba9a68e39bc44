"""Minimal safetensors writer and reader (struct + json), since no safetensors package is installed.

Format: 8-byte little-endian u64 header length N, N bytes of JSON header
{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the data
buffer (offsets relative to its start), tensors little-endian and row-major.
"""
import json
import os
import struct

import numpy as np

try:
    import torch
except ImportError:  # the reader alone works without torch
    torch = None

_NUMPY_DTYPES = {
    np.dtype("float64"): "F64",
    np.dtype("float32"): "F32",
    np.dtype("float16"): "F16",
    np.dtype("int64"): "I64",
    np.dtype("int32"): "I32",
    np.dtype("int16"): "I16",
    np.dtype("int8"): "I8",
    np.dtype("uint8"): "U8",
    np.dtype("bool"): "BOOL",
}
_CODES = {code: dt for dt, code in _NUMPY_DTYPES.items()}


def _to_bytes(value):
    """(dtype code, shape, little-endian bytes) of a numpy array or torch tensor."""
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu().contiguous()
        if value.dtype == torch.bfloat16:
            # numpy has no bfloat16: carry the raw 16-bit patterns.
            raw = value.view(torch.int16).numpy().astype("<i2")
            return "BF16", list(value.shape), raw.tobytes()
        value = value.numpy()
    arr = np.asarray(value)  # not ascontiguousarray: it turns 0-d arrays into 1-d
    code = _NUMPY_DTYPES.get(arr.dtype)
    if code is None:
        raise ValueError(f"unsupported dtype {arr.dtype}")
    return code, list(arr.shape), arr.astype(arr.dtype.newbyteorder("<")).tobytes(order="C")


def save(path, tensors, metadata=None):
    """Writes tensors (an ordered dict name -> array) atomically; header order = insertion order."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    chunks = []
    offset = 0
    for name, value in tensors.items():
        code, shape, data = _to_bytes(value)
        header[name] = {"dtype": code, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # data buffer 8-byte aligned, as other writers do
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)
    os.replace(tmp, path)


def load(path):
    """(dict name -> numpy array, metadata dict); BF16 comes back as float32."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = blob[8 + n :]
    out = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        raw = data[begin:end]
        if entry["dtype"] == "BF16":
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=_CODES[entry["dtype"]].newbyteorder("<"))
        out[name] = arr.reshape(entry["shape"])
    return out, metadata
