"""Trains the seed U-Net with `sprites train`'s recipe on one or many GPUs (or CPU processes) with
PyTorch DistributedDataParallel, and writes checkpoints that `sprites sample/evaluate/serve/export`
load as they are. Run it under torchrun; without torchrun it is one process.

    torchrun --standalone --nproc_per_node=8 tools/pytorch/train.py --data data/twemoji16 --out runs/gpu8

--batch is the images of one optimiser step, all processes together (it must divide by their
number), so the learning-rate plan, the EMA half-life and the steps per epoch are those of
`sprites train --batch` whatever the number of GPUs. Each process normalises BatchNorm over its own
share of the batch, as DDP does (no SyncBatchNorm). See tools/pytorch/README.md for every flag.
"""
import argparse
import contextlib
import datetime
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data.distributed import DistributedSampler

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import checkpoint  # noqa: E402
import recipe  # noqa: E402

BEST, LAST, RESUME = "best.safetensors", "last.safetensors", "resume.safetensors"
CONFIG, LOSSES, LOG = "config.json", "losses.csv", "train.log"

# The presets of Runs/TrainingOptions.cs: "cpu" is what `sprites train` runs by default, "quick" the README's
# three-minute main job, "seed" SPEC section 6.
PRESETS = {
    "cpu": dict(n_feat=48, batch_size=64, epochs=108, learning_rate=1e-3, flip=True, conditional=True, context_dropout=0.1,
                ema_decay=0.995, schedule="linear", prediction="v", loss="min-snr", lr_schedule="constant", warmup_steps=0,
                lr_floor=0.0),
    "quick": dict(n_feat=32, batch_size=32, epochs=27, learning_rate=1e-3, flip=True, conditional=True, context_dropout=0.1,
                  ema_decay=0.995, schedule="cosine", prediction="v", loss="min-snr", lr_schedule="cosine", warmup_steps=100,
                  lr_floor=1e-5),
    "seed": dict(n_feat=128, batch_size=128, epochs=100, learning_rate=1e-3, flip=False, conditional=False, context_dropout=0.1,
                 ema_decay=0.0, schedule="linear", prediction="eps", loss="mse", lr_schedule="constant", warmup_steps=0,
                 lr_floor=0.0),
}
COMMON = dict(data="data/twemoji16", timesteps=1000, time_input="t/T", min_snr_gamma=5.0, ema_halflife=None, limit=None,
              validation_fraction=0.1, split_seed=42, seed=0, tileable=False, no_flip_classes=[])


def boolean(text):
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"'{text}' is not true or false")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--preset", choices=sorted(PRESETS), default="cpu", help="starting hyper-parameters, as `sprites train --preset`")
    p.add_argument("--data", help="data-set folder: images.npy, labels.npy, classes.txt (default data/twemoji16)")
    p.add_argument("--n-feat", type=int, help="U-Net width, a multiple of 8")
    p.add_argument("--epochs", type=int, help="training epochs (on --resume: the run's new total)")
    p.add_argument("--batch", type=int, dest="batch_size", help="images per optimiser step, all processes together")
    p.add_argument("--lr", type=float, dest="learning_rate", help="Adam's peak learning rate")
    p.add_argument("--seed", type=int, help="initial weights, batch order, flips, t and noise")
    p.add_argument("--flip", type=boolean, help="random horizontal flips (true/false)")
    p.add_argument("--no-flip-classes", help="classes never flipped, by name or index, comma-separated")
    p.add_argument("--tileable", action="store_true", default=None, help="pad every 3x3 convolution circularly")
    p.add_argument("--limit", type=int, help="train on a random subset of this many images")
    p.add_argument("--val-fraction", type=float, dest="validation_fraction", help="share held out for validation")
    p.add_argument("--split-seed", type=int, help="seed of the subset and the validation split (42 as the seed project)")
    p.add_argument("--timesteps", type=int, help="diffusion steps T")
    p.add_argument("--time-input", choices=["t/T", "raw"], help="time fed to the network")
    p.add_argument("--schedule", choices=["linear", "cosine"], help="noise schedule")
    p.add_argument("--prediction", choices=["eps", "v"], help="what the network learns to output")
    p.add_argument("--loss", choices=["mse", "min-snr"], help="per-timestep weighting")
    p.add_argument("--min-snr-gamma", type=float, help="gamma of --loss min-snr")
    p.add_argument("--conditional", type=boolean, help="train on the classes as context (true/false)")
    p.add_argument("--context-dropout", type=float, help="chance an image trains with the null context")
    p.add_argument("--ema-decay", type=float, help="decay per step of the weight average (0: none)")
    p.add_argument("--ema-halflife", type=float, help="the weight average's half-life in images, instead of --ema-decay")
    p.add_argument("--lr-schedule", choices=["constant", "cosine", "linear"], help="learning rate after the warm-up")
    p.add_argument("--warmup-steps", type=int, help="steps of linear warm-up")
    p.add_argument("--lr-floor", type=float, help="where a cosine or linear decay ends")
    p.add_argument("--out", help="run folder (default runs/<date-time>)")
    p.add_argument("--resume", help="continue the run in this folder from its resume.safetensors")
    p.add_argument("--force", action="store_true", help="replace a run already in --out")
    p.add_argument("--amp", choices=["auto", "bf16", "fp16", "off"], default="auto",
                   help="mixed precision on CUDA: auto is bf16 where the GPU supports it, else fp16 with a gradient scaler; never on CPU")
    p.add_argument("--threads", type=int, help="CPU threads per process (torch.set_num_threads)")
    args = p.parse_args(argv)
    return args


def options_from(args):
    """The run's options: the preset, then the flags; on --resume the run's config.json, where only
    --epochs may change."""
    if args.resume:
        path = os.path.join(args.resume, CONFIG)
        if not os.path.exists(path):
            raise SystemExit(f"{path}: nothing to resume (no config.json in that folder)")
        o = json.load(open(path, encoding="utf-8"))
        if args.epochs is not None:
            o["epochs"] = args.epochs
        o["output"] = args.resume
        return o
    o = dict(COMMON)
    o.update(PRESETS[args.preset])
    o["preset"] = args.preset
    for key, value in vars(args).items():
        if value is not None and key in o and key != "preset":
            o[key] = value
    if args.no_flip_classes is not None:
        o["no_flip_classes"] = [c.strip() for c in args.no_flip_classes.split(",") if c.strip()]
    if args.ema_halflife is not None and args.ema_decay is None:
        o["ema_decay"] = 0.0
    o["output"] = args.out or os.path.join("runs", datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    check(o)
    return o


def check(o):
    def need(ok, text):
        if not ok:
            raise SystemExit(f"error: {text}")
    need(o["n_feat"] >= 8 and o["n_feat"] % 8 == 0, f"--n-feat must be a positive multiple of 8 (got {o['n_feat']})")
    need(o["epochs"] >= 1, "--epochs must be at least 1")
    need(1 <= o["batch_size"], "--batch must be at least 1")
    need(0 < o["learning_rate"] < 1, "--lr must be between 0 and 1")
    need(0 < o["validation_fraction"] < 1, "--val-fraction must be between 0 and 1")
    need(2 <= o["timesteps"] <= 100_000, "--timesteps must be between 2 and 100000")
    need(0 <= o["context_dropout"] <= 1, "--context-dropout must be between 0 and 1")
    need(0 <= o["ema_decay"] < 1, "--ema-decay must be at least 0 and below 1")
    need(0 < o["min_snr_gamma"] <= 1e6, "--min-snr-gamma must be above 0")
    need(o["warmup_steps"] >= 0, "--warmup-steps must be at least 0")
    need(0 <= o["lr_floor"] <= o["learning_rate"], "--lr-floor must be between 0 and --lr")
    need(o["ema_halflife"] is None or o["ema_decay"] == 0, "give --ema-decay or --ema-halflife, not both")
    need(o["limit"] is None or o["limit"] >= 2, "--limit must be at least 2")


def resolve_classes(entries, names):
    result = set()
    for entry in entries:
        found = next((i for i, n in enumerate(names) if n.lower() == entry.lower()), None)
        if found is None and entry.isdigit() and int(entry) < len(names):
            found = int(entry)
        if found is None:
            raise SystemExit(f"error: unknown class '{entry}' in --no-flip-classes; the data set has {', '.join(names)}")
        result.add(found)
    return sorted(result)


class Run:
    """One process of a run: rank 0 validates, logs and writes every file; all train."""

    def __init__(self, o, amp):
        self.o = o
        self.distributed = "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1
        cuda = torch.cuda.is_available()
        if self.distributed:
            dist.init_process_group("nccl" if cuda else "gloo")
            self.rank, self.world = dist.get_rank(), dist.get_world_size()
        else:
            self.rank, self.world = 0, 1
        local = int(os.environ.get("LOCAL_RANK", "0"))
        self.device = torch.device(f"cuda:{local}" if cuda else "cpu")
        if cuda:
            torch.cuda.set_device(self.device)
        # Mixed precision only on CUDA, where it is fast and BatchNorm/GroupNorm stay in float32
        # under autocast; bfloat16 needs no loss scaling, float16 does.
        self.amp_dtype = None
        if cuda and amp != "off":
            bf16 = torch.cuda.is_bf16_supported()
            self.amp_dtype = torch.bfloat16 if (amp == "bf16" or (amp == "auto" and bf16)) else torch.float16
        self.scaler = torch.cuda.amp.GradScaler() if self.amp_dtype == torch.float16 else None
        self.out = o["output"]

    def log(self, line):
        if self.rank != 0:
            return
        stamped = f"{datetime.datetime.now():%Y-%m-%d %H:%M:%S} {line}"
        print(line, flush=True)
        with open(os.path.join(self.out, LOG), "a", encoding="utf-8") as f:
            f.write(stamped + "\n")

    def autocast(self):
        return torch.autocast("cuda", dtype=self.amp_dtype) if self.amp_dtype is not None else None


def write_text(path, text):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    o = options_from(args)
    run = Run(o, args.amp)
    resume = args.resume is not None
    if run.rank == 0:
        os.makedirs(run.out, exist_ok=True)
        existing = [f for f in (RESUME, LAST, BEST, CONFIG, LOSSES, LOG) if os.path.exists(os.path.join(run.out, f))]
        if existing and not resume and not args.force:
            raise SystemExit(f"{run.out} already holds a training run ({', '.join(existing)}); resume it (--resume), replace it (--force) or choose another --out")
        if not resume:
            for f in existing:
                os.remove(os.path.join(run.out, f))
    if run.distributed:
        dist.barrier()

    images, labels, class_names = recipe.load_dataset(o["data"])
    train_idx, val_idx = recipe.split_indices(len(labels), o["validation_fraction"], o["split_seed"], o["limit"])
    batch = min(o["batch_size"], len(train_idx))
    if batch % run.world:
        raise SystemExit(f"error: --batch {batch} does not divide among {run.world} processes")
    local_batch = batch // run.world
    channels, size, n_classes = images.shape[3], images.shape[1], len(class_names)
    no_flip = resolve_classes(o["no_flip_classes"], class_names)
    config = dict(in_channels=channels, n_feat=o["n_feat"], n_cfeat=n_classes, height=size, schedule=o["schedule"],
                  timesteps=o["timesteps"], time_input=o["time_input"], tileable=o["tileable"])

    # The whole data set lives on the device as bytes (100,000 16x16 sprites are 77 MB); batches are gathered there.
    data = torch.from_numpy(images).to(run.device)
    label_t = torch.from_numpy(labels).to(run.device)
    keep_unflipped = torch.zeros(n_classes, dtype=torch.bool, device=run.device)
    keep_unflipped[no_flip] = True
    train_t = torch.tensor(train_idx, device=run.device)
    val_t = torch.tensor(val_idx, device=run.device)

    torch.manual_seed(o["seed"])
    model = recipe.ContextUnet(channels, o["n_feat"], n_classes, size)
    if o["tileable"]:
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3):
                m.padding_mode = "circular"
    model.to(run.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=o["learning_rate"], betas=(0.9, 0.999), eps=1e-8)
    decay = recipe.ema_decay_per_step(o["ema_decay"], o["ema_halflife"], batch)
    average = recipe.WeightAverage(model, decay) if decay > 0 else None
    ab = recipe.alpha_bar(o["schedule"], o["timesteps"]).to(run.device)
    gamma = o["min_snr_gamma"] if o["loss"] == "min-snr" else None

    sampler = DistributedSampler(range(len(train_idx)), num_replicas=run.world, rank=run.rank, shuffle=True,
                                 seed=o["seed"], drop_last=True)
    steps_per_epoch = len(sampler) // local_batch
    if steps_per_epoch < 1:
        raise SystemExit(f"error: {len(train_idx)} training images make no full batch of {batch}")
    lr = recipe.LearningRate(o["lr_schedule"], o["learning_rate"], o["warmup_steps"], o["lr_floor"], o["epochs"] * steps_per_epoch)
    start_epoch, best, history = 0, math.inf, []
    if resume:
        meta = checkpoint.load_resume(os.path.join(run.out, RESUME), model, optimizer, average)
        start_epoch = int(meta["epoch"])
        best = float(meta["extra.best_validation_loss"])
        saved = recipe.LearningRate.from_metadata(meta)
        lr = saved if saved.total == o["epochs"] * steps_per_epoch else saved.replan(start_epoch * steps_per_epoch, o["epochs"] * steps_per_epoch)
        if os.path.exists(os.path.join(run.out, LOSSES)):
            history = [line.rstrip("\n") for line in open(os.path.join(run.out, LOSSES), encoding="utf-8")][1:]
    if run.rank == 0:
        write_text(os.path.join(run.out, CONFIG), json.dumps(dict(o, trainer="tools/pytorch/train.py", world_size=run.world,
                                                                  amp=str(run.amp_dtype).replace("torch.", "") if run.amp_dtype else "off"), indent=2))
    ddp = DDP(model, device_ids=[run.device.index] if run.device.type == "cuda" else None) if run.distributed else model
    run.log(f"training n_feat={o['n_feat']} on {len(train_idx)} images ({len(val_idx)} for validation) from {o['data']}, "
            f"batch {batch} ({run.world} process{'es' if run.world > 1 else ''} x {local_batch}) on {run.device.type}, {o['epochs']} epochs of "
            f"{steps_per_epoch} steps, lr {o['learning_rate']} ({o['lr_schedule']}, warm-up {o['warmup_steps']}), "
            f"{'conditional (null context %g)' % o['context_dropout'] if o['conditional'] else 'unconditional'}, "
            f"{o['prediction']} target, {o['loss']} loss, {o['schedule']} schedule, EMA decay {decay:.6g} per step, "
            f"precision {run.amp_dtype or 'float32'}" + (f", resumed at epoch {start_epoch}" if resume else ""))

    def metadata(epoch, step, val_loss, train_loss):
        m = checkpoint.model_metadata(config, class_names, o["conditional"], o["context_dropout"], o["prediction"],
                                      decay if average else None)
        m.update(epoch=str(epoch), step=str(step), validation_loss=repr(val_loss), train_loss=repr(train_loss))
        extra = {"data": o["data"], "seed": str(o["seed"]), "batch_size": str(o["batch_size"]), "split_seed": str(o["split_seed"]),
                 "val_fraction": repr(float(o["validation_fraction"])), "trainer": "tools/pytorch/train.py",
                 "world_size": str(run.world)}
        if o["limit"] is not None:
            extra["limit"] = str(o["limit"])
        m.update({"extra." + k: v for k, v in extra.items()})
        m.update(checkpoint.recipe_metadata(o["loss"], o["min_snr_gamma"], lr, o["epochs"], o["ema_halflife"], o["flip"],
                                            [class_names[c] for c in no_flip]))
        return m

    step = start_epoch * steps_per_epoch
    for epoch in range(start_epoch, o["epochs"]):
        started = time.time()
        model.train()
        sampler.set_epoch(epoch)
        order = torch.tensor(list(iter(sampler)), device=run.device)
        # t, noise, flips and the context dropout from a generator of this epoch and process, so a
        # run resumed at an epoch boundary draws what an uninterrupted one would have.
        g = torch.Generator(device=run.device)
        g.manual_seed((o["seed"] * 1_000_003 + epoch) * 4099 + run.rank)
        loss_sum = torch.zeros((), dtype=torch.float64, device=run.device)
        for b in range(steps_per_epoch):
            index = train_t[order[b * local_batch:(b + 1) * local_batch]]
            x0 = recipe.to_model_range(data[index])
            mirror = (torch.rand(local_batch, generator=g, device=run.device) < 0.5) & ~keep_unflipped[label_t[index]]
            if o["flip"]:
                x0 = torch.where(mirror.view(-1, 1, 1, 1), x0.flip(3), x0)
            context = torch.zeros(local_batch, n_classes, device=run.device)
            if o["conditional"]:
                context[torch.arange(local_batch, device=run.device), label_t[index]] = 1
                context = recipe.drop_context(context, o["context_dropout"], g)
            t = torch.randint(0, o["timesteps"], (local_batch,), generator=g, device=run.device)
            eps = torch.randn(x0.shape, generator=g, device=run.device)
            for group in optimizer.param_groups:
                group["lr"] = lr.at(step)
            loss = recipe.noise_objective(ddp, x0, context, t, eps, ab, o["timesteps"], o["time_input"], o["prediction"],
                                          gamma, run.autocast())
            optimizer.zero_grad(set_to_none=True)
            if run.scaler is not None:
                run.scaler.scale(loss).backward()
                run.scaler.step(optimizer)
                run.scaler.update()
            else:
                loss.backward()
                optimizer.step()
            if average is not None:
                average.update(step)
            step += 1
            loss_sum += loss.detach().to(torch.float64)
        if run.distributed:
            dist.all_reduce(loss_sum)
        train_loss = float(loss_sum) / (steps_per_epoch * run.world)
        if not math.isfinite(train_loss):
            raise SystemExit(f"training diverged in epoch {epoch + 1}: the loss is {train_loss}; lower --lr")
        if run.rank == 0:
            val = validate(model, data, label_t, val_t, o, ab, gamma, batch, run)
            val_ema = None
            if average is not None:
                swap(model, average)
                val_ema = validate(model, data, label_t, val_t, o, ab, gamma, batch, run)
                swap(model, average)
            sampled = val_ema if val_ema is not None else val
            is_best = sampled < best
            best = min(best, sampled)
            m = metadata(epoch + 1, step, sampled, train_loss)
            checkpoint.save(os.path.join(run.out, LAST), model, m, average)
            if is_best:
                checkpoint.save(os.path.join(run.out, BEST), model, m, average)
            resume_meta = dict(m, resumable="true", **{"extra.best_validation_loss": repr(best)})
            checkpoint.save(os.path.join(run.out, RESUME), model, resume_meta, average, optimizer)
            seconds = time.time() - started
            history.append(f"{epoch + 1},{train_loss!r},{val!r},{seconds:.2f},{'' if val_ema is None else repr(val_ema)}")
            write_text(os.path.join(run.out, LOSSES), "epoch,train_loss,val_loss,seconds,val_loss_ema\n" + "".join(h + "\n" for h in history))
            ema_text = "" if val_ema is None else f" val_loss_ema={val_ema:.5f}"
            run.log(f"epoch {epoch + 1}/{o['epochs']} train_loss={train_loss:.5f} val_loss={val:.5f}{ema_text}"
                    f"{' (best)' if is_best else ''} {seconds:.1f}s {steps_per_epoch * batch / seconds:.1f} img/s")
        if run.distributed:
            dist.barrier()
    if run.distributed:
        dist.destroy_process_group()


def swap(model, average):
    """Exchanges the model's weights with the average (twice restores both)."""
    with torch.no_grad():
        state = model.state_dict()
        for name, value in average.average.items():
            held = state[name].clone()
            state[name].copy_(value)
            value.copy_(held)


@torch.no_grad()
def validate(model, data, labels, val_t, o, ab, gamma, batch, run):
    """The loss on the validation split in eval mode, with the same t and noise every epoch."""
    model.eval()
    g = torch.Generator(device=run.device)
    g.manual_seed(o["seed"] ^ 0x7A11DA7E)
    total, count = 0.0, 0
    for start in range(0, len(val_t), batch):
        index = val_t[start:start + batch]
        x0 = recipe.to_model_range(data[index])
        context = torch.nn.functional.one_hot(labels[index], model.n_cfeat).float() if o["conditional"] else \
            torch.zeros(len(index), model.n_cfeat, device=run.device)
        t = torch.randint(0, o["timesteps"], (len(index),), generator=g, device=run.device)
        eps = torch.randn(x0.shape, generator=g, device=run.device)
        loss = recipe.noise_objective(model, x0, context, t, eps, ab, o["timesteps"], o["time_input"], o["prediction"], gamma, run.autocast())
        total += float(loss) * len(index)
        count += len(index)
    model.train()
    return total / count


if __name__ == "__main__":
    main()
