using System.CommandLine;
using System.Globalization;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Generation;

namespace SpriteDiffusion.Cli.Commands;

/// <summary>What `sample --init ... [--strength S] [--mask M | --mask-rect x,y,w,h] [--resample R]` asked for.</summary>
internal sealed record EditRequest(IReadOnlyList<string> Init, double? Strength, string? Mask, string? MaskRect, int? Resample, bool Tileable = false)
{
    public static readonly EditRequest None = new([], null, null, null, null);
    public bool Enabled => Init.Count > 0;
    public bool Masked => Mask is not null || MaskRect is not null;
}

/// <summary>
/// `sample --init`: variations of existing sprites (SDEdit) and inpainting (RePaint). The sampling
/// loop lives in the library (<see cref="Sampling.Run"/>); this file reads the flags and files.
/// </summary>
internal static class SampleEdit
{
    private const int DefaultResample = GenerationOptions.DefaultResample;

    /// <summary>Variations of each starting sprite when --n is not given: 16 of one, 4 of each of several.</summary>
    private static int DefaultPerImage(int images) => images == 1 ? 16 : 4;

    public sealed class Options
    {
        public Option<string[]> Init { get; } = new("--init")
        {
            Description = "Start from these sprites (PNG files or folders of them, at the model's size or a whole-number upscale such as --each writes): variations of each, or with --mask an inpainting. Repeatable.",
            AllowMultipleArgumentsPerToken = true,
        };

        public Option<double?> Strength { get; } = new("--strength")
        {
            Description = $"How far --init is noised before denoising, above 0 to 1: 0.3 keeps the shapes, 0.6 keeps the colours, 1 starts from pure noise (default {GenerationOptions.DefaultStrength}, or 1 with a mask).",
        };

        public Option<string?> Mask { get; } = new("--mask") { Description = "Inpaint: a black-and-white PNG at the sprite's size, white = regenerate, black = keep exactly." };

        public Option<string?> MaskRect { get; } = new("--mask-rect") { Description = "Inpaint the rectangle x,y,w,h (pixels from the top left) and keep the rest exactly." };

        public Option<int?> Resample { get; } = new("--resample")
        {
            Description = $"With a mask: take every step R times, noising back in between, so the new part fits the kept one (RePaint; default {DefaultResample}, 1 is fastest).",
        };

        public Option<bool> Tileable { get; } = new("--tileable")
        {
            Description = "Pad every convolution circularly, so each sprite tiles seamlessly (a model trained with train --tileable does this by itself).",
        };

        public void AddTo(Command command)
        {
            command.Options.Add(Tileable);
            command.Options.Add(Init);
            command.Options.Add(Strength);
            command.Options.Add(Mask);
            command.Options.Add(MaskRect);
            command.Options.Add(Resample);
        }

        public EditRequest Read(ParseResult r) =>
            new(r.GetValue(Init) ?? [], r.GetValue(Strength), r.GetValue(Mask), r.GetValue(MaskRect), r.GetValue(Resample), r.GetValue(Tileable));
    }

    /// <summary>Flag mistakes and missing files, caught before the checkpoint loads so that a failed run writes nothing.</summary>
    public static IReadOnlyList<string> Validate(SampleCommand.SampleRequest q)
    {
        var e = q.Edit;
        if (!e.Enabled)
        {
            string? stray = e.Strength is not null ? "--strength" : e.Mask is not null ? "--mask" : e.MaskRect is not null ? "--mask-rect" : e.Resample is not null ? "--resample" : null;
            if (stray is not null) throw new UserError($"{stray} edits a sprite you give: add --init SPRITE.png, or drop {stray}.");
            return [];
        }
        if (e.Mask is not null && e.MaskRect is not null) throw new UserError("--mask and --mask-rect both give the region to regenerate; keep one.");
        if (e.Resample is not null && !e.Masked) throw new UserError("--resample harmonises an inpainted region with the kept one; add --mask or --mask-rect, or drop --resample.");
        if (e.Resample is int r && (r < 1 || r > SamplingEdit.MaxResample)) throw new UserError($"--resample must be between 1 and {SamplingEdit.MaxResample} (got {r}).");
        if (e.Strength is double s) SamplingEdit.CheckStrength(s);
        if (e.MaskRect is not null) ParseRectangle(e.MaskRect);
        if (q.PerClass is not null) throw new UserError("--per-class draws from noise for every class; with --init, use --class to steer the variations instead.");
        if (q.Interpolation.Enabled) throw new UserError("--interpolate walks between two seeds' noise; it does not combine with --init.");
        var files = EditInputs.ExpandPaths(e.Init);
        if (e.Mask is not null && !File.Exists(e.Mask)) throw new UserError($"--mask {e.Mask}: no such file; give a black-and-white PNG.");
        return files;
    }

    /// <summary>x, y, width, height from "x,y,w,h".</summary>
    private static (int X, int Y, int W, int H) ParseRectangle(string text)
    {
        var parts = text.Split(',');
        var numbers = new int[4];
        if (parts.Length != 4 || !parts.Select((p, i) => int.TryParse(p.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out numbers[i])).All(ok => ok))
            throw new UserError($"--mask-rect '{text}': give four whole numbers x,y,w,h (pixels from the top left), e.g. 4,4,8,8.");
        return (numbers[0], numbers[1], numbers[2], numbers[3]);
    }

    /// <summary>How many sprites each starting sprite gets, given --n and --noise's count.</summary>
    public static int PerImage(int images, int? asked, int? noiseCount, string? noisePath)
    {
        if (noiseCount is int n)
        {
            if (n % images != 0)
                throw new UserError($"{noisePath} holds {n} starting images, which is not a whole number for each of the {images} --init sprites.");
            if (asked is int a && a * images != n)
                throw new UserError($"{noisePath} holds {n} starting images but --n {a} for each of {images} --init sprites makes {a * images}; make them agree.");
            return n / images;
        }
        int per = asked ?? DefaultPerImage(images);
        if ((long)per * images > 4096)
            throw new UserError($"{images} --init sprites x {per} variations make {(long)per * images} sprites; at most 4096 are drawn at once, so give fewer sprites or a smaller --n.");
        return per;
    }

    /// <summary>The edit for the batch: every starting sprite repeated perImage times, the mask on each.</summary>
    public static SamplingEdit Build(EditRequest e, IReadOnlyList<string> files, int perImage, int size, int channels)
    {
        var images = files.Select(f => EditInputs.ReadImage(f, size, channels)).ToList();
        float[]? mask = null;
        if (e.Mask is not null) mask = EditInputs.ReadMask(e.Mask, size);
        if (e.MaskRect is not null)
        {
            var (x, y, w, h) = ParseRectangle(e.MaskRect);
            mask = EditInputs.RectangleMask(x, y, w, h, size);
        }
        double strength = e.Strength ?? (mask is null ? GenerationOptions.DefaultStrength : 1.0);
        return EditInputs.Build(images, perImage, mask, strength, e.Resample ?? (mask is null ? 1 : DefaultResample));
    }

    /// <summary>The checkpoint overrides with circular padding when --tileable asks for it.</summary>
    public static CheckpointOverrides Overrides(SampleCommand.SampleRequest q) =>
        q.Edit.Tileable ? q.Overrides with { Padding = Layers.PaddingMode.Circular } : q.Overrides;

    /// <summary>Forward passes per sprite: with resampling every step but the last is taken R times.</summary>
    public static int ModelPasses(int steps, SamplingEdit? edit) => edit is null ? steps : (steps - 1) * edit.Resample + 1;

    /// <summary>A few words for the summary line.</summary>
    public static string Describe(EditRequest e, SamplingEdit edit, int images) =>
        $", from {images} sprite{(images == 1 ? "" : "s")} at strength {edit.Strength.ToString(CultureInfo.InvariantCulture)}"
        + (edit.Mask is null ? "" : $", inpainting {(e.Mask is not null ? e.Mask : $"rectangle {e.MaskRect}")} with resample {edit.Resample}");
}
