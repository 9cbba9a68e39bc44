"""One safetensors file per layer case: inputs and parameters drawn as float32, everything computed
in float64, results stored as float32.

Names: inputs (x, or x0/x1, a/b, s/b), parameters under their PyTorch names (weight, bias), output
y, upstream gradient gy, and the gradients of sum(y * gy): g<input> and g<parameter>.
"""
import os

import torch
import torch.nn.functional as F
from torch import nn

import safetensors_io


def _f32(t):
    return t.detach().to(torch.float32).contiguous()


def _gradient_case(inputs, fn, module=None):
    """Runs fn on float64 copies of the float32 inputs; returns the tensors to store, in order."""
    leaves = {k: v.double().requires_grad_() for k, v in inputs.items()}
    out = dict(inputs)
    if module is not None:
        module.double()
        for name, p in module.named_parameters():
            out[name] = _f32(p)
        for name, b in module.named_buffers():
            if b.is_floating_point():
                out[name] = _f32(b.clone())
    y = fn(**leaves)
    gy = torch.randn(y.shape)
    (y * gy.double()).sum().backward()
    out["y"] = _f32(y)
    out["gy"] = gy
    for k, leaf in leaves.items():
        out["g" + k] = _f32(leaf.grad)
    if module is not None:
        for name, p in module.named_parameters():
            out["g" + name] = _f32(p.grad)
    return out


def _conv(in_c, out_c, k, stride, padding, x_shape, transposed=False):
    cls = nn.ConvTranspose2d if transposed else nn.Conv2d
    m = cls(in_c, out_c, k, stride, padding)
    x = torch.randn(x_shape)
    meta = {
        "op": "conv_transpose2d" if transposed else "conv2d",
        "in_channels": in_c, "out_channels": out_c, "kernel": k, "stride": stride,
        "padding": padding, "groups": 1, "bias": "true",
    }
    return _gradient_case({"x": x}, lambda x: m(x), m), meta


def _batchnorm(train):
    m = nn.BatchNorm2d(6, eps=1e-5, momentum=0.1)
    with torch.no_grad():
        m.weight.copy_(torch.rand(6) + 0.5)
        m.bias.copy_(torch.randn(6) * 0.5)
        m.running_mean.copy_(torch.randn(6) * 0.5)
        m.running_var.copy_(torch.rand(6) + 0.5)
    x = torch.randn(3, 6, 4, 4) * 1.5 + 0.3
    m.train(train)
    tensors = _gradient_case({"x": x}, lambda x: F.gelu(m(x)), m)
    if train:
        tensors["running_mean_after"] = _f32(m.running_mean)
        tensors["running_var_after"] = _f32(m.running_var)
    meta = {"op": "gelu(batch_norm2d)", "channels": 6, "eps": "1e-05", "momentum": "0.1",
            "mode": "train" if train else "eval",
            "note": "train: normalise with the biased batch variance, store the unbiased one"}
    return tensors, meta


def _groupnorm():
    m = nn.GroupNorm(8, 16, eps=1e-5)
    with torch.no_grad():
        m.weight.copy_(torch.rand(16) + 0.5)
        m.bias.copy_(torch.randn(16) * 0.5)
    x = torch.randn(2, 16, 3, 3) * 2 - 0.5
    return _gradient_case({"x": x}, lambda x: m(x), m), {"op": "group_norm", "groups": 8, "channels": 16, "eps": "1e-05"}


def _away_from_zero(x, margin=1e-3):
    """Keeps ReLU's kink out of the data: at exactly 0 the subgradient is a convention, not maths."""
    return torch.where(x.abs() < margin, torch.full_like(x, 0.5), x)


def _maxpool():
    # A permutation of distinct values: no ties, so the gradient's route is unambiguous.
    x = (torch.randperm(2 * 3 * 6 * 6).float() / 36.0 - 3.0).reshape(2, 3, 6, 6)
    return _gradient_case({"x": x}, lambda x: F.max_pool2d(x, 2)), {"op": "max_pool2d", "kernel": 2, "stride": 2}


def _linear():
    m = nn.Linear(5, 7)
    x = torch.randn(3, 5)
    return _gradient_case({"x": x}, lambda x: m(x), m), {"op": "linear", "in_features": 5, "out_features": 7}


def _embed_broadcast():
    x = torch.randn(2, 6, 4, 4)
    s = torch.randn(2, 6)
    b = torch.randn(2, 6)
    fn = lambda x, s, b: s.view(2, 6, 1, 1) * x + b.view(2, 6, 1, 1)  # noqa: E731
    return _gradient_case({"x": x, "s": s, "b": b}, fn), {"op": "embed_broadcast", "formula": "y = s[:,:,None,None] * x + b[:,:,None,None]"}


def _mse():
    pred = torch.randn(4, 3, 5, 5)
    target = torch.randn(4, 3, 5, 5)
    p = pred.double().requires_grad_()
    loss = F.mse_loss(p, target.double())
    loss.backward()
    tensors = {"pred": pred, "target": target, "loss": _f32(loss), "gpred": _f32(p.grad)}
    return tensors, {"op": "mse_loss", "reduction": "mean"}


def _adam():
    p0 = torch.randn(10, 7)
    grads = [torch.randn(10, 7) * scale for scale in (1.0, 0.3, 2.0)]
    p = p0.double().clone().requires_grad_()
    opt = torch.optim.Adam([p], lr=1e-3)
    tensors = {"p": p0, "g1": grads[0], "g2": grads[1], "g3": grads[2]}
    for step, g in enumerate(grads, start=1):
        p.grad = g.double().clone()
        opt.step()
        if step in (1, 3):
            tensors[f"p_after{step}"] = _f32(p)
            # The update is ~1e-3 of p: stored on its own it keeps full relative precision.
            tensors[f"d_after{step}"] = _f32(p - p0.double())
    meta = {"op": "adam", "lr": "0.001", "beta1": "0.9", "beta2": "0.999", "eps": "1e-08", "weight_decay": "0"}
    return tensors, meta


CASES = [
    ("conv3x3", 101, lambda: _conv(3, 5, 3, 1, 1, (2, 3, 7, 7))),
    ("conv3x3_wide", 102, lambda: _conv(8, 16, 3, 1, 1, (2, 8, 6, 6))),
    ("conv1x1", 103, lambda: _conv(4, 6, 1, 1, 0, (2, 4, 5, 5))),
    ("convT2", 104, lambda: _conv(6, 4, 2, 2, 0, (2, 6, 4, 4), transposed=True)),
    ("convT4", 105, lambda: _conv(8, 8, 4, 4, 0, (3, 8, 1, 1), transposed=True)),
    # What the U-Net runs: every BatchNorm is followed by GELU, in one fused layer.
    ("bn_gelu_train", 106, lambda: _batchnorm(train=True)),
    ("bn_gelu_eval", 106, lambda: _batchnorm(train=False)),
    ("groupnorm", 107, _groupnorm),
    ("gelu", 108, lambda: (_gradient_case({"x": torch.randn(2, 3, 5, 5) * 2}, lambda x: F.gelu(x)),
                           {"op": "gelu", "approximate": "none"})),
    ("relu", 109, lambda: (_gradient_case({"x": _away_from_zero(torch.randn(2, 3, 5, 5))}, lambda x: F.relu(x)),
                           {"op": "relu"})),
    ("maxpool2", 110, _maxpool),
    ("avgpool4", 111, lambda: (_gradient_case({"x": torch.randn(2, 5, 4, 4)}, lambda x: F.avg_pool2d(x, 4)),
                               {"op": "avg_pool2d", "kernel": 4, "stride": 4})),
    ("linear", 112, _linear),
    ("cat", 113, lambda: (_gradient_case({"x0": torch.randn(2, 3, 4, 4), "x1": torch.randn(2, 5, 4, 4)},
                                         lambda x0, x1: torch.cat((x0, x1), 1)),
                          {"op": "cat", "dim": 1})),
    ("embed_broadcast", 114, _embed_broadcast),
    ("residual", 115, lambda: (_gradient_case({"a": torch.randn(2, 4, 5, 5), "b": torch.randn(2, 4, 5, 5)},
                                              lambda a, b: (a + b) / 1.414),
                               {"op": "residual", "formula": "y = (a + b) / 1.414"})),
    ("mse", 116, _mse),
    ("adam", 117, _adam),
]


def write_op_fixtures(folder):
    os.makedirs(folder, exist_ok=True)
    written = []
    for name, seed, build in CASES:
        torch.manual_seed(seed)
        tensors, meta = build()
        meta = {k: str(v) for k, v in meta.items()}
        meta["seed"] = str(seed)
        meta["reference"] = "PyTorch " + torch.__version__ + ", float64 compute, float32 storage"
        path = os.path.join(folder, name + ".safetensors")
        safetensors_io.save(path, {k: _f32(v) for k, v in tensors.items()}, meta)
        written.append(path)
    return written
