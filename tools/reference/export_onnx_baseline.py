"""Exports the seed U-Net with torch.onnx: the ONNX Runtime side of the side-by-side benchmark.

    /usr/bin/python3 tools/reference/export_onnx_baseline.py [--out tools/reference/onnx] [--n-feat 32 64]

Writes, per n_feat, `seed_unet_nf<N>.onnx` (the model: inputs x (N,3,16,16), t (N,1) as t/T,
c (N,n_cfeat); output eps (N,3,16,16); batch axis dynamic) and `seed_unet_nf<N>.check.safetensors`
(inputs of batch 3 and PyTorch's float32 eps for them, so `OrtBench --check` can show that
ONNX Runtime computes the same function). The files are committed: the benchmark's target must
not move with whatever exporter happens to be installed, so rerun this only on purpose.

The network is the one `sprites bench sample-step` builds (UNetConfig defaults: in_channels 3,
n_cfeat 5, height 16), in eval mode, with the parameters of param_scheme (running statistics
included), so two runs write the same bytes.
"""
import argparse
import hashlib
import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # keep __pycache__ out of the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import param_scheme  # noqa: E402
import safetensors_io  # noqa: E402
from seed_unet import ContextUnet, check_structure, parameter_count  # noqa: E402

OPSET = 17
IN_CHANNELS = 3
N_CFEAT = 5
HEIGHT = 16
T = 1000
CHECK_BATCH = 3  # not the export's example batch, so the check also exercises the dynamic axis


def build_model(n_feat):
    model = ContextUnet(in_channels=IN_CHANNELS, n_feat=n_feat, n_cfeat=N_CFEAT, height=HEIGHT)
    check_structure(model)
    state = {name: torch.from_numpy(param_scheme.generate(name, tuple(v.shape))) for name, v in model.state_dict().items()}
    model.load_state_dict(state)
    return model.float().eval()


def inputs(batch, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, IN_CHANNELS, HEIGHT, HEIGHT, generator=g)
    t = torch.randint(0, T, (batch, 1), generator=g).float() / T
    c = torch.rand(batch, N_CFEAT, generator=g)
    return x, t, c


def export(n_feat, folder):
    model = build_model(n_feat)
    path = os.path.join(folder, f"seed_unet_nf{n_feat}.onnx")
    batch_axis = {0: "N"}
    torch.onnx.export(
        model,
        inputs(2, seed=1),
        path,
        export_params=True,
        opset_version=OPSET,
        do_constant_folding=True,
        training=torch.onnx.TrainingMode.EVAL,
        input_names=["x", "t", "c"],
        output_names=["eps"],
        dynamic_axes={"x": batch_axis, "t": batch_axis, "c": batch_axis, "eps": batch_axis},
    )

    x, t, c = inputs(CHECK_BATCH, seed=100 + n_feat)
    with torch.no_grad():
        eps = model(x, t, c)
    check = os.path.join(folder, f"seed_unet_nf{n_feat}.check.safetensors")
    safetensors_io.save(
        check,
        {"x": x.numpy(), "t": t.numpy(), "c": c.numpy(), "eps": eps.numpy()},
        metadata={
            "model": os.path.basename(path),
            "reference": f"torch {torch.__version__} float32 eval forward",
            "time_input": f"t / T with T = {T}",
        },
    )
    with open(path, "rb") as f:
        digest = hashlib.md5(f.read()).hexdigest()
    print(f"{os.path.relpath(path)}: n_feat {n_feat}, {parameter_count(model)} parameters, opset {OPSET}, "
          f"{os.path.getsize(path)} bytes, md5 {digest}")
    print(f"{os.path.relpath(check)}: batch {CHECK_BATCH}, {os.path.getsize(check)} bytes")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=os.path.join(here, "onnx"))
    parser.add_argument("--n-feat", type=int, nargs="+", default=[32, 64])
    args = parser.parse_args()
    param_scheme.self_check()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    for n_feat in args.n_feat:
        export(n_feat, args.out)


if __name__ == "__main__":
    main()
