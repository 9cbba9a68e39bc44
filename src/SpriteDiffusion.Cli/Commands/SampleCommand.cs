using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Cli.Commands;

internal static class SampleCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string?>("--checkpoint") { Description = "A .safetensors checkpoint (default: the bundled pretrained model, models/twemoji16)." };
        var method = new Option<string>("--method") { Description = "Sampler: ddim (few steps, deterministic at eta 0), dpm++2m (DPM-Solver++ 2M, deterministic: 20 steps land closer to the exact ODE solution than DDIM's 50) or ddpm (all T steps).", DefaultValueFactory = _ => "ddim" };
        method.AcceptOnlyFromAmong([.. Samplers.Names]);
        var steps = new Option<int?>("--steps") { Description = "Sampling steps (default: 50 for DDIM, 20 for dpm++2m, T for DDPM)." };
        var eta = new Option<double>("--eta") { Description = "DDIM stochasticity, 0 (deterministic) to 1.", DefaultValueFactory = _ => 0.0 };
        var n = new Option<int?>("--n") { Description = "Number of sprites (default 16, or the count in --noise)." };
        var seed = new Option<ulong>("--seed") { Description = "Random seed: the same seed gives the same PNG bytes.", DefaultValueFactory = _ => 0UL };
        var output = new Option<string>("--out") { Description = "Grid PNG to write.", DefaultValueFactory = _ => "samples.png" };
        var scale = new Option<int>("--scale") { Description = "Nearest-neighbour upscale factor for the PNGs.", DefaultValueFactory = _ => 4 };
        var each = new Option<string?>("--each") { Description = "Also write one PNG per sprite into this folder." };
        var noise = new Option<string?>("--noise") { Description = "Start from this x_T (.npy, float32, N x 3 x H x W) instead of drawing it." };
        var outNpy = new Option<string?>("--out-npy") { Description = "Also write the final samples (float32, before clamping) as .npy." };
        var threads = new Option<int?>("--threads") { Description = "Worker threads (default: all cores)." };
        var command = new Command("sample", "Generate sprites from a trained checkpoint with DDPM, DDIM or DPM-Solver++.")
        {
            checkpoint, method, steps, eta, n, seed, output, scale, each, noise, outNpy, threads,
        };
        command.SetAction(r =>
        {
            if (r.GetValue(threads) is int t) Workers.Threads = t;
            var request = new SampleRequest(
                r.GetValue(checkpoint) ?? PretrainedModel.DefaultPath, r.GetValue(method)!, r.GetValue(steps), r.GetValue(eta),
                r.GetValue(n), r.GetValue(seed), r.GetValue(output)!, r.GetValue(scale), r.GetValue(each), r.GetValue(noise), r.GetValue(outNpy));
            Run(request);
            return 0;
        });
        return command;
    }

    internal sealed record SampleRequest(string Checkpoint, string Method, int? Steps, double Eta, int? Count, ulong Seed,
        string Output, int Scale, string? Each, string? Noise, string? OutNpy);

    internal static void Run(SampleRequest q)
    {
        if (q.Scale is < 1 or > 64) throw new UserError($"--scale must be between 1 and 64 (got {q.Scale}).");
        if (q.Count is < 1 or > 4096) throw new UserError($"--n must be between 1 and 4096 (got {q.Count}).");
        var (model, info) = Checkpoint.Load(q.Checkpoint);
        var generator = new SpriteGenerator(model, info);
        var sampler = generator.CreateSampler(q.Method, q.Steps, q.Eta);

        float[]? start = null;
        int count = q.Count ?? 16;
        if (q.Noise is not null)
        {
            start = Npy.ReadFloat32(q.Noise, out var shape);
            int h = model.Config.Height;
            if (shape.Length != 4 || shape[1] != model.Config.InChannels || shape[2] != h || shape[3] != h)
                throw new UserError($"{q.Noise}: noise of shape [{string.Join(", ", shape)}] does not fit this model; it needs N x {model.Config.InChannels} x {h} x {h}.");
            if (q.Count is int c && c != shape[0])
                throw new UserError($"{q.Noise} holds {shape[0]} starting images but --n is {c}; drop --n or make them agree.");
            count = shape[0];
        }

        var clock = Stopwatch.StartNew();
        float[] samples = [];
        CliProgress.Run($"{sampler.Name} x{sampler.Timesteps.Count}", sampler.Timesteps.Count, report =>
            samples = generator.Generate(sampler, count, new Rng(q.Seed), start ?? default, progress: (done, _) => report(done)));
        double seconds = clock.Elapsed.TotalSeconds;

        int size = model.Config.Height;
        SpriteImages.WriteGrid(q.Output, samples, count, size, q.Scale);
        AnsiConsole.MarkupLineInterpolated($"wrote [green]{q.Output}[/] ({count} sprites, {sampler.Name}, {sampler.Timesteps.Count} steps{(q.Method == "ddim" ? $", eta {q.Eta}" : "")}, seed {q.Seed}) in {seconds:F1} s ({count * sampler.Timesteps.Count / seconds:F0} image-steps/s)");
        if (q.Each is not null)
        {
            var files = SpriteImages.WriteEach(q.Each, samples, count, size, q.Scale);
            AnsiConsole.MarkupLineInterpolated($"wrote {files.Count} sprites into [green]{q.Each}[/]");
        }
        if (q.OutNpy is not null)
        {
            Npy.WriteFloat32(q.OutNpy, samples, [count, model.Config.InChannels, size, size]);
            AnsiConsole.MarkupLineInterpolated($"wrote [green]{q.OutNpy}[/] (float32, {count} x {model.Config.InChannels} x {size} x {size}, before clamping)");
        }
    }
}
