using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using SpriteDiffusion.Data;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.IO;
using SpriteDiffusion.Imaging;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Generation;

namespace SpriteDiffusion.Cli.Commands;

internal static class SampleCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string?>("--checkpoint") { Description = "A .safetensors checkpoint, or a PyTorch state dict (.pth) as the seed's training writes it (default: the bundled pretrained model, models/twemoji16)." };
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
        var classOption = new Option<string?>("--class") { Description = "Draw every sprite of this class (a name from the checkpoint, or an index); needs a conditional checkpoint." };
        var guidance = new Option<double?>("--guidance") { Description = $"Classifier-free guidance scale w with --class or --per-class: 0 unconditional, 1 plain conditional, higher follows the class harder (default {SpriteGenerator.DefaultGuidance})." };
        var perClass = new Option<int?>("--per-class") { Description = "A grid of K sprites for every class, one labelled row per class." };
        var weights = WeightsOption.Create();
        var output2 = new SampleOutputOptions();
        var clip = new Option<bool>("--clip-denoised") { Description = "Clamp each step's predicted clean image to [-1, 1] (as diffusers' clip_sample; false: SPEC section 3 exactly).", DefaultValueFactory = _ => true };
        var command = new Command("sample", "Generate sprites from a trained checkpoint with DDPM, DDIM or DPM-Solver++, optionally by class with guidance.")
        {
            checkpoint, method, steps, eta, n, seed, output, scale, each, noise, outNpy, threads, classOption, guidance, perClass, weights, clip,
        };
        var animation = new SampleAnimation.Options();
        animation.AddTo(command);
        var interpolation = new SampleInterpolation.Options();
        interpolation.AddTo(command);
        var edit = new SampleEdit.Options();
        edit.AddTo(command);
        var overrides = new CheckpointOverrideOptions();
        overrides.AddTo(command);
        output2.AddTo(command);
        command.SetAction(r =>
        {
            if (r.GetValue(threads) is int t) Workers.Threads = t;
            var request = new SampleRequest(
                r.GetValue(checkpoint) ?? PretrainedModel.DefaultPath, r.GetValue(method)!, r.GetValue(steps), r.GetValue(eta),
                r.GetValue(n), r.GetValue(seed), r.GetValue(output)!, r.GetValue(scale), r.GetValue(each), r.GetValue(noise), r.GetValue(outNpy))
            {
                Class = r.GetValue(classOption), Guidance = r.GetValue(guidance), PerClass = r.GetValue(perClass),
                Weights = WeightsOption.Choice(r.GetValue(weights)!),
                ClipDenoised = r.GetValue(clip),
                Animation = animation.Read(r),
                Interpolation = interpolation.Read(r),
                Edit = edit.Read(r),
                Overrides = overrides.Read(r),
                Finish = output2.ReadFinish(r),
                PaletteFile = r.GetValue(output2.Palette) is { } p && File.Exists(p) ? p : null,
                Sheet = output2.ReadSheet(r, scale),
            };
            Run(request);
            return 0;
        });
        return command;
    }

    internal sealed record SampleRequest(string Checkpoint, string Method, int? Steps, double Eta, int? Count, ulong Seed,
        string Output, int Scale, string? Each, string? Noise, string? OutNpy)
    {
        public string? Class { get; init; }
        public double? Guidance { get; init; }
        public int? PerClass { get; init; }
        public WeightChoice Weights { get; init; } = WeightChoice.Ema;
        public bool ClipDenoised { get; init; } = true;
        public AnimationRequest Animation { get; init; } = AnimationRequest.None;
        public InterpolationRequest Interpolation { get; init; } = InterpolationRequest.None;
        public EditRequest Edit { get; init; } = EditRequest.None;
        public CheckpointOverrides Overrides { get; init; } = CheckpointOverrides.None;
        public SpriteFinish Finish { get; init; } = SpriteFinish.None;
        public SheetRequest? Sheet { get; init; }
        /// <summary>A palette given as a file: an input that no output may replace.</summary>
        public string? PaletteFile { get; init; }
    }

    internal static void Run(SampleRequest q)
    {
        if (q.Scale is < 1 or > 64) throw new UserError($"--scale must be between 1 and 64 (got {q.Scale}).");
        if (q.Count is < 1 or > 4096) throw new UserError($"--n must be between 1 and 4096 (got {q.Count}).");
        if (q.PerClass is < 1 or > 64) throw new UserError($"--per-class must be between 1 and 64 (got {q.PerClass}).");
        if (q.PerClass is not null && (q.Class is not null || q.Count is not null))
            throw new UserError("--per-class chooses both the classes and the count; drop --class and --n, or drop --per-class.");
        if (q.PerClass is not null && q.Animation.Path is not null)
            throw new UserError("--animate shows one grid without labels; animate one class with --class instead of --per-class.");
        if (q.PerClass is not null && q.Interpolation.Enabled)
            throw new UserError("--interpolate draws one row between two seeds; use --class with it instead of --per-class.");
        if (q.Guidance is double w) SpriteGenerator.CheckGuidance(w);
        if (q.Guidance is not null && q.Class is null && q.PerClass is null)
            throw new UserError("--guidance steers towards a class: give --class NAME or --per-class K with it.");
        SampleAnimation.Validate(q);
        SampleInterpolation.Validate(q);
        var initFiles = SampleEdit.Validate(q);
        OutputGuard.Input[] inputs = [new(q.Checkpoint, "--checkpoint"), new(q.Noise, "--noise"), new(q.PaletteFile, "--palette"), new(q.Edit.Mask, "--mask"),
            .. initFiles.Select(f => new OutputGuard.Input(f, "--init"))];
        OutputGuard.File(q.Output, "--out", OutputKind.Png, inputs);
        OutputGuard.File(q.OutNpy, "--out-npy", OutputKind.Npy, inputs);
        OutputGuard.File(q.Animation.Path, "--animate", OutputKind.Png, inputs);
        OutputGuard.File(q.Sheet?.Path, "--sheet", OutputKind.Png, inputs);
        OutputGuard.File(q.Sheet is { } s ? SpriteSheet.AtlasPathFor(s.Path) : null, "--sheet (its atlas)", OutputKind.Json, inputs);
        OutputGuard.Folder(q.Each, "--each", FolderKind.Plain, replaceOwn: true, null, inputs);
        var (model, info) = Checkpoint.Load(q.Checkpoint, q.Weights, SampleEdit.Overrides(q));
        var generator = new SpriteGenerator(model, info) { Guidance = q.Guidance ?? SpriteGenerator.DefaultGuidance, ClipDenoised = q.ClipDenoised };
        var sampler = generator.CreateSampler(q.Method, q.Steps, q.Eta);

        // The count comes from --per-class, --noise, --interpolate or --n; the classes follow it.
        int? classIndex = q.Class is string name ? generator.ResolveClass(name) : null;
        if (q.PerClass is not null) generator.RequireClasses();
        int? asked = q.PerClass is int k ? model.Config.NCFeat * k : q.Count;
        int count = asked ?? 16;
        float[]? start = null;
        if (q.Noise is not null)
        {
            // The shape and count come from the header, checked before the data is read.
            int[] shape = Npy.ReadHeader(q.Noise).Shape;
            int h = model.Config.Height;
            if (shape.Length != 4 || shape[1] != model.Config.InChannels || shape[2] != h || shape[3] != h)
                throw new UserError($"{q.Noise}: noise of shape [{string.Join(", ", shape)}] does not fit this model; it needs N x {model.Config.InChannels} x {h} x {h}.");
            if (asked is int c && c != shape[0] && !q.Edit.Enabled)
                throw new UserError($"{q.Noise} holds {shape[0]} starting images but {(q.PerClass is null ? "--n" : "--per-class")} asks for {c}; make them agree.");
            if (shape[0] is < 1 or > 4096)
                throw new UserError($"{q.Noise} holds {shape[0]} starting images; --noise takes 1 to 4096, as --n does.");
            start = Npy.ReadFloat32(q.Noise, out _);
            if (start.Any(v => !float.IsFinite(v)))
                throw new UserError($"{q.Noise} holds NaN or infinite values; starting noise must be finite numbers.");
            count = shape[0];
        }
        if (q.Interpolation.Enabled) start = SampleInterpolation.StartingNoise(q, generator, out count);
        int perImage = q.Edit.Enabled ? SampleEdit.PerImage(initFiles.Count, q.Count, start is null ? null : count, q.Noise) : 0;
        var samplingEdit = q.Edit.Enabled ? SampleEdit.Build(q.Edit, initFiles, perImage, model.Config.Height, model.Config.InChannels) : null;
        if (samplingEdit is not null)
        {
            count = initFiles.Count * perImage;
            samplingEdit.StartSampler(sampler);
        }
        int[]? classes = q.PerClass is int perClass ? Enumerable.Range(0, count).Select(i => i / perClass).ToArray()
            : classIndex is int one ? Enumerable.Repeat(one, count).ToArray() : null;
        int columns = q.Interpolation.Enabled ? count : initFiles.Count > 1 ? perImage : q.PerClass ?? SpriteImages.GridColumns(count);
        int side = model.Config.Height * q.Scale;
        MemoryBudget.Require(MemoryBudget.Product(count, side, side, 4, 3), $"the grid, sheet and sprites of {count} sprites at scale {q.Scale}", "count");
        if (q.Animation.Path is not null)
            MemoryBudget.Require(MemoryBudget.Product(q.Animation.Frames ?? Math.Min(sampler.Timesteps.Count, DenoisingAnimation.MaxDefaultFrames), count, side, side, 4),
                $"the animation of {count} sprites at scale {q.Scale}", "frames");
        var animation = SampleAnimation.Start(q, sampler, count, model.Config.Height, columns, model.Config.InChannels);

        var clock = Stopwatch.StartNew();
        float[] samples = [];
        CliProgress.Run($"{sampler.Name} x{sampler.Timesteps.Count}", sampler.Timesteps.Count, report =>
            samples = generator.Generate(sampler, count, new Rng(q.Seed), start ?? default,
                classes is null ? default : generator.OneHot(classes), progress: (done, _) => report(done),
                onStep: animation is null ? null : animation.Observe, edit: samplingEdit));
        double seconds = clock.Elapsed.TotalSeconds;

        int size = model.Config.Height;
        var sprites = SpriteFinishing.Finish(samples, count, model.Config.InChannels, size, q.Finish);
        var classNames = ClassNamesFile.Default(model.Config.NCFeat).Select((name, i) => i < info.ClassNames.Length ? info.ClassNames[i] : name).ToList();
        if (q.PerClass is int perRow) ClassGrid.Write(q.Output, sprites, classNames, perRow, q.Scale);
        else Png.Write(q.Output, SpriteImages.Grid(sprites, q.Scale, columns));
        string conditioning = classes is null ? "" : $", {(q.PerClass is null ? $"class {q.Class}" : $"{q.PerClass} per class")}, guidance {generator.Guidance}";
        AnsiConsole.MarkupLineInterpolated($"wrote [green]{q.Output}[/] ({count} sprites, {sampler.Name}, {sampler.Timesteps.Count} steps{(q.Method == "ddim" ? $", eta {q.Eta}" : "")}{conditioning}{(model.Config.Padding == Layers.PaddingMode.Circular ? ", tileable" : "")}{(samplingEdit is null ? "" : SampleEdit.Describe(q.Edit, samplingEdit, initFiles.Count))}, seed {q.Seed}) in {seconds:F1} s ({count * SampleEdit.ModelPasses(sampler.Timesteps.Count, samplingEdit) / seconds:F0} image-steps/s)");
        if (animation is not null) SampleAnimation.Save(q.Animation.Path!, animation);
        if (q.Each is not null)
        {
            var files = SpriteImages.WriteEach(q.Each, sprites, q.Scale);
            AnsiConsole.MarkupLineInterpolated($"wrote {files.Count} sprites into [green]{q.Each}[/]");
        }
        if (q.Sheet is { } sheet)
        {
            var named = sprites.Select((s, i) => new NamedSprite(
                classes is null ? $"sprite_{i:D3}" : $"{classNames[classes[i]]}_{(q.PerClass is int k ? i % k : i):D3}", s)).ToList();
            string atlas = SpriteSheet.Pack(named, sheet.Scale).Write(sheet.Path, sheet.Format);
            AnsiConsole.MarkupLineInterpolated($"wrote [green]{sheet.Path}[/] and its atlas [green]{atlas}[/] ({named.Count} frames at {sheet.Scale}x)");
        }
        if (q.OutNpy is not null)
        {
            Npy.WriteFloat32(q.OutNpy, samples, [count, model.Config.InChannels, size, size]);
            AnsiConsole.MarkupLineInterpolated($"wrote [green]{q.OutNpy}[/] (float32, {count} x {model.Config.InChannels} x {size} x {size}, before clamping)");
        }
    }
}
