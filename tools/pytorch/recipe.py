"""The training recipe of `sprites train`, in PyTorch: the same formulas as our C# trainer.

Each function names the C# code whose mathematics it mirrors. Nothing here knows about processes
or devices beyond the tensors it is given, so the trainer (train.py), the equivalence fixtures
(tools/reference/trainer_fixtures.py) and the two-process check (tools/reference/ddp_equivalence.py)
all run the same step.
"""
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(os.path.dirname(HERE), "reference")
sys.dont_write_bytecode = True
if REFERENCE not in sys.path:
    sys.path.insert(0, REFERENCE)
from seed_unet import ContextUnet  # noqa: E402,F401  (re-exported for the trainer)

T_DEFAULT = 1000
BETA_START, BETA_END = 1e-4, 0.02


# ---- noise schedule (Diffusion/NoiseSchedule.cs) ----------------------------------------------

def alpha_bar(schedule, timesteps, beta_start=BETA_START, beta_end=BETA_END):
    """float64 alpha_bar[0..T-1]: Ho et al.'s linear betas (torch.linspace fills from both ends,
    as the C# does) or Nichol and Dhariwal's cosine, betas clipped at 0.999."""
    if schedule == "linear":
        beta = torch.linspace(beta_start, beta_end, timesteps, dtype=torch.float64)
    elif schedule == "cosine":
        u = torch.arange(timesteps + 1, dtype=torch.float64)
        f = torch.cos((u / timesteps + 0.008) / 1.008 * math.pi / 2) ** 2
        beta = torch.clamp(1 - f[1:] / f[:-1], max=0.999)
    else:
        raise ValueError(f"unknown noise schedule '{schedule}': use linear or cosine")
    return torch.cumprod(1 - beta, 0)


def time_input(t, timesteps, convention):
    """What the network is fed for integer t (Diffusion/TimeInput.cs): t / T rounded to float32
    (the C# computes t / T in float64 and rounds once), or the raw t as the seed passes it."""
    if convention == "t/T":
        return (t.to(torch.float64) / timesteps).to(torch.float32)
    if convention == "raw":
        return t.to(torch.float32)
    raise ValueError(f"unknown time input '{convention}': use t/T or raw")


def min_snr_weights(ab, prediction, gamma):
    """Min-SNR-gamma per image (Training/LossWeights.cs): min(SNR, gamma) on x0 is
    min(SNR, gamma) / SNR on eps and min(SNR, gamma) / (SNR + 1) on v."""
    snr = ab / (1 - ab)
    clipped = torch.clamp(snr, max=gamma)
    return clipped / snr if prediction == "eps" else clipped / (snr + 1)


def noise_objective(model, x0, context, t, eps, ab, timesteps, time_convention, prediction, gamma=None, autocast=None):
    """The training loss of one batch (Training/NoiseObjective.cs) with t and the noise given:
    x_t = sqrt(ab) x0 + sqrt(1 - ab) eps; the target is eps or v = sqrt(ab) eps - sqrt(1 - ab) x0;
    the loss is the mean over images of w_i times image i's mean squared error (w = 1 for "mse",
    min-SNR-gamma for "min-snr"). Runs in x0's dtype; with autocast (a torch.autocast context) only
    the network's forward runs in it and the loss is taken in float32."""
    a = ab[t].to(x0.dtype).view(-1, 1, 1, 1)
    s = (1 - ab[t]).to(x0.dtype).view(-1, 1, 1, 1)
    a, s = a.sqrt(), s.sqrt()
    xt = a * x0 + s * eps
    target = eps if prediction == "eps" else a * eps - s * x0
    tin = time_input(t, timesteps, time_convention).to(x0.dtype).view(-1, 1)
    if autocast is None:
        pred = model(xt, tin, context)
    else:
        with autocast:
            pred = model(xt, tin, context)
        pred = pred.float()
        target = target.float()
    per_image = ((pred - target) ** 2).flatten(1).mean(1)
    if gamma is None:
        return per_image.mean()
    w = min_snr_weights(ab[t], prediction, gamma).to(per_image.dtype)
    return (w * per_image).mean()


def drop_context(one_hot, probability, generator):
    """Classifier-free guidance's null context (Training/ContextDropout.cs): each row cleared with
    the given probability, one draw per row."""
    if probability <= 0:
        return one_hot
    keep = torch.rand(one_hot.shape[0], generator=generator, device=one_hot.device) >= probability
    return one_hot * keep.to(one_hot.dtype).unsqueeze(1)


# ---- learning rate (Training/LearningRateSchedule.cs) -----------------------------------------

class LearningRate:
    """Linear warm-up (step n at peak (n + 1) / warm-up), then constant, or a cosine or linear
    decay to the floor over the planned steps; replan() re-anchors it when a resumed run gets more
    epochs, so the rate stays continuous. The six numbers are what a checkpoint records."""

    def __init__(self, decay, peak, warmup, floor, total, start_step=None, start_progress=0.0):
        if decay not in ("constant", "cosine", "linear"):
            raise ValueError(f"unknown learning-rate schedule '{decay}': use constant, cosine or linear")
        if not (0 <= floor <= peak):
            raise ValueError(f"the learning-rate floor must be between 0 and the peak rate {peak}")
        self.decay, self.peak, self.warmup, self.floor, self.total = decay, peak, warmup, floor, total
        self.start_step = warmup if start_step is None else start_step
        self.start_progress = start_progress

    def progress(self, step):
        if self.total == 0 or step <= self.start_step:
            return self.start_progress
        span = self.total - self.start_step
        if span <= 0:
            return 1.0
        return min(1.0, self.start_progress + (1 - self.start_progress) * (step - self.start_step) / span)

    def at(self, step):
        if step < self.warmup:
            return self.peak * (step + 1) / self.warmup
        if self.decay == "constant" or self.total == 0:
            return self.peak
        p = self.progress(step)
        if self.decay == "cosine":
            return self.floor + (self.peak - self.floor) * 0.5 * (1 + math.cos(math.pi * p))
        return self.peak - (self.peak - self.floor) * p

    def replan(self, step, total):
        if step <= self.start_step:
            return LearningRate(self.decay, self.peak, self.warmup, self.floor, total, self.start_step, self.start_progress)
        return LearningRate(self.decay, self.peak, self.warmup, self.floor, total, step, self.progress(step))

    def metadata(self):
        return {
            "lr_schedule": self.decay, "lr_peak": repr(float(self.peak)), "lr_warmup_steps": str(self.warmup),
            "lr_floor": repr(float(self.floor)), "lr_total_steps": str(self.total),
            "lr_decay_start_step": str(self.start_step), "lr_decay_start_progress": repr(float(self.start_progress)),
        }

    @staticmethod
    def from_metadata(m):
        return LearningRate(m["lr_schedule"], float(m["lr_peak"]), int(m["lr_warmup_steps"]), float(m["lr_floor"]),
                            int(m["lr_total_steps"]), int(m["lr_decay_start_step"]), float(m["lr_decay_start_progress"]))


# ---- weight average (Training/WeightAverage.cs, Runs/Trainer.cs) ------------------------------

def ema_decay_per_step(decay, halflife_images, batch):
    """The decay per optimiser step: the given one, or 0.5^(batch / half-life) for a half-life in
    images, batch being the images of one optimiser step (all processes together)."""
    if halflife_images is None:
        return decay
    return 0.5 ** (batch / halflife_images)


class WeightAverage:
    """An exponential moving average of the parameters and the BatchNorm running statistics (not
    the batch counters), starting at the current weights; update n (0-based) uses
    min(decay, (1 + n) / (10 + n))."""

    def __init__(self, model, decay):
        self.decay = decay
        self.entries = [(name, value) for name, value in model.state_dict(keep_vars=True).items()
                        if value.dtype.is_floating_point]
        self.average = {name: value.detach().clone() for name, value in self.entries}

    def decay_at(self, updates):
        return min(self.decay, (1.0 + updates) / (10.0 + updates))

    @torch.no_grad()
    def update(self, updates):
        keep = self.decay_at(updates)
        for name, value in self.entries:
            self.average[name].mul_(keep).add_(value.detach(), alpha=1 - keep)


# ---- data (Data/SpriteDataset.cs, Data/DataRandom.cs) -----------------------------------------

MASK = (1 << 64) - 1


def _mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


class DataRandom:
    """SplitMix64 seeded per (seed, stream, purpose), Lemire's bounded integers and Fisher-Yates,
    bit for bit as the C# data code, so a split drawn here holds the same images as ours."""

    def __init__(self, seed, stream=0, purpose=0):
        s = _mix(((seed & 0xFFFFFFFF) * 0x9E3779B97F4A7C15) & MASK)
        s = _mix(s ^ (stream & MASK))
        s = _mix(s ^ ((purpose * 0xD1B54A32D192ED03) & MASK))
        self.state = s

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        return _mix(self.state)

    def next_int(self, bound):
        threshold = ((1 << 32) - bound) % bound
        while True:
            m = (self.next_u64() >> 32) * bound
            if (m & 0xFFFFFFFF) >= threshold:
                return m >> 32

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.next_int(i + 1)
            items[i], items[j] = items[j], items[i]


def permutation(count, seed, purpose):
    order = list(range(count))
    DataRandom(seed, 0, purpose).shuffle(order)
    return order


def split_indices(count, validation_fraction, seed, limit=None):
    """(train, validation) indices into the data set as `sprites train` divides it: a subset of
    `limit` images first (purpose 2), then the validation share rounded half away from zero, at
    least one on each side (purpose 1); both sorted."""
    chosen = list(range(count))
    if limit is not None and limit < count:
        chosen = sorted(permutation(count, seed, 2)[:limit])
    n = len(chosen)
    validation = int(math.floor(n * validation_fraction + 0.5))
    if validation_fraction > 0 and n >= 2:
        validation = min(max(validation, 1), n - 1)
    order = permutation(n, seed, 1)
    return sorted(chosen[i] for i in order[validation:]), sorted(chosen[i] for i in order[:validation])


def read_class_names(path, count):
    if not os.path.exists(path):
        return [f"class {i}" for i in range(count)]
    lines = [line.strip() for line in open(path, encoding="utf-8") if line.strip()]
    if all("\t" in line and line.split("\t", 1)[0].lstrip("-").isdigit() for line in lines):
        names = [None] * len(lines)
        for line in lines:
            index, name = line.split("\t", 1)
            names[int(index)] = name.strip()
        return names
    return lines


def load_dataset(folder):
    """(images uint8 N x S x S x C, labels int64 N, class names) of a data-set folder: images.npy
    and labels.npy (one-hot) with classes.txt, or the original sprites_1788_16x16.npy pair."""
    images_path, labels_path = os.path.join(folder, "images.npy"), os.path.join(folder, "labels.npy")
    if not os.path.exists(images_path) and os.path.exists(os.path.join(folder, "sprites_1788_16x16.npy")):
        images_path = os.path.join(folder, "sprites_1788_16x16.npy")
        labels_path = os.path.join(folder, "sprite_labels_nc_1788_16x16.npy")
    if not os.path.exists(images_path):
        raise SystemExit(f"{folder}: holds no images.npy; give a data-set folder as `sprites data` writes them (e.g. data/twemoji16)")
    images = np.load(images_path, mmap_mode="r", allow_pickle=False)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] not in (3, 4) or images.shape[1] != images.shape[2]:
        raise SystemExit(f"{images_path}: expected (N, S, S, 3 or 4) uint8 images, found {images.shape} {images.dtype}")
    one_hot = np.load(labels_path, allow_pickle=False)
    if one_hot.ndim != 2 or one_hot.shape[0] != images.shape[0]:
        raise SystemExit(f"{labels_path}: expected one-hot labels of shape ({images.shape[0]}, K), found {one_hot.shape}")
    if not (np.all((one_hot == 0) | (one_hot == 1)) and np.all(one_hot.sum(1) == 1)):
        raise SystemExit(f"{labels_path}: every row must hold a single 1 and zeros")
    names = read_class_names(os.path.join(folder, "classes.txt"), one_hot.shape[1])
    if len(names) != one_hot.shape[1]:
        raise SystemExit(f"{folder}/classes.txt names {len(names)} classes but {labels_path} has {one_hot.shape[1]} columns")
    return np.array(images), one_hot.argmax(1).astype(np.int64), names


def to_model_range(images_uint8):
    """N x S x S x C uint8 to N x C x S x S float32 in [-1, 1]: (b / 255 - 0.5) / 0.5 (SPEC section 4)."""
    x = images_uint8.permute(0, 3, 1, 2).to(torch.float32)
    return (x / 255 - 0.5) / 0.5
