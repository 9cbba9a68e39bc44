"""Checkpoints in our safetensors layout (src/SpriteDiffusion/Checkpoints/Checkpoint.cs), so that
`sprites sample/evaluate/serve/export` take what the PyTorch trainer writes as it is.

Tensors: the seed's state dict under its own names in state-dict order (float32, every
num_batches_tracked an int64 scalar), then the weight average under "ema." + the same names
(parameters and running statistics, no counters). A resume checkpoint adds Adam's moments as
"optimizer.exp_avg.<name>" / "optimizer.exp_avg_sq.<name>" and "optimizer.step" (int64 [1]), as
ours do; the C# loader skips those when sampling. Metadata: the keys Checkpoint.WriteMetadata
writes, values as strings.
"""
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "reference"))
import safetensors_io  # noqa: E402

FORMAT = "spritediffusion-checkpoint"
EMA_PREFIX = "ema."
STRAIGHT_ALPHA = "straight; fully transparent pixels stored as #ffffff"


def _cpu(value):
    value = value.detach().cpu()
    return value if value.dtype == torch.int64 else value.to(torch.float32)


def model_metadata(config, class_names, conditional, context_dropout, prediction, ema_decay):
    """What sampling needs: shape, diffusion, conventions, classes."""
    m = {
        "format": FORMAT, "format_version": "1",
        "in_channels": str(config["in_channels"]), "n_feat": str(config["n_feat"]),
        "n_cfeat": str(config["n_cfeat"]), "height": str(config["height"]),
        "padding": "circular" if config.get("tileable") else "zeros",
        "schedule": config["schedule"], "timesteps": str(config["timesteps"]),
        "beta_start": repr(0.0001), "beta_end": repr(0.02),
        "time_input": config["time_input"], "class_names": json.dumps(class_names),
        "conditional": "true" if conditional else "false",
        "context_dropout": repr(float(context_dropout if conditional else 0.0)),
        "prediction": prediction,
    }
    if config["in_channels"] == 4:
        m["alpha"] = STRAIGHT_ALPHA
    if ema_decay is not None:
        m["ema_decay"] = repr(float(ema_decay))
    return m


def recipe_metadata(loss, gamma, learning_rate, planned_epochs, ema_halflife, flip, no_flip_names):
    """How the weights were trained (Checkpoint.WriteRecipe); a resumed run continues its learning-rate plan."""
    m = {"loss": loss}
    if loss == "min-snr":
        m["min_snr_gamma"] = repr(float(gamma))
    m.update(learning_rate.metadata())
    m["planned_epochs"] = str(planned_epochs)
    if ema_halflife is not None:
        m["ema_halflife"] = repr(float(ema_halflife))
    m["flip"] = "true" if flip else "false"
    m["no_flip_classes"] = json.dumps(no_flip_names)
    return m


def save(path, model, metadata, average=None, optimizer=None):
    """Writes model (a bare ContextUnet, not the DDP wrapper), the average's tensors and, for a
    resume checkpoint, the optimiser's state, atomically (safetensors_io writes a temporary file
    and renames it)."""
    state = model.state_dict()
    tensors = {name: _cpu(value) for name, value in state.items()}
    if average is not None:
        for name, value in average.average.items():
            tensors[EMA_PREFIX + name] = _cpu(value)
    if optimizer is not None:
        names = {id(p): name for name, p in model.named_parameters()}
        step = 0
        for group in optimizer.param_groups:
            for p in group["params"]:
                s = optimizer.state.get(p)
                if not s:
                    continue
                tensors["optimizer.exp_avg." + names[id(p)]] = _cpu(s["exp_avg"])
                tensors["optimizer.exp_avg_sq." + names[id(p)]] = _cpu(s["exp_avg_sq"])
                step = int(s["step"])
        tensors["optimizer.step"] = np.array([step], dtype=np.int64)
    safetensors_io.save(path, tensors, metadata)


def load_resume(path, model, optimizer, average):
    """Restores what save() wrote with an optimiser; returns the metadata."""
    tensors, metadata = safetensors_io.load(path)
    device = next(model.parameters()).device
    state = {name: torch.from_numpy(np.array(tensors[name])) for name in model.state_dict()}
    model.load_state_dict(state, strict=True)
    if average is not None:
        if EMA_PREFIX + "init_conv.conv1.0.weight" not in tensors:
            raise SystemExit(f"{path}: the run was trained without a weight average; resume it with the same EMA settings")
        for name in average.average:
            average.average[name].copy_(torch.from_numpy(np.array(tensors[EMA_PREFIX + name])))
    step = int(tensors["optimizer.step"][0])
    for name, p in model.named_parameters():
        optimizer.state[p] = {
            "step": torch.tensor(float(step)),
            "exp_avg": torch.from_numpy(np.array(tensors["optimizer.exp_avg." + name])).to(device),
            "exp_avg_sq": torch.from_numpy(np.array(tensors["optimizer.exp_avg_sq." + name])).to(device),
        }
    return metadata
