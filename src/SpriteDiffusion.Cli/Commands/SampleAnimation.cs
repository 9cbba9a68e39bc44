using System.CommandLine;
using Spectre.Console;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Cli.Commands;

/// <summary>What `sample --animate FILE --frames K` asked for; Path null when not animating.</summary>
internal sealed record AnimationRequest(string? Path, int? Frames)
{
    public static readonly AnimationRequest None = new(null, null);
}

/// <summary>
/// `sample --animate`: the denoising trajectory as an APNG beside the still grid. Its own file so
/// that the sample command only declares the options and calls in here.
/// </summary>
internal static class SampleAnimation
{
    public sealed class Options
    {
        public Option<string?> Animate { get; } = new("--animate")
        {
            Description = "Also write the denoising trajectory as an animated PNG (APNG, .png or .apng) that browsers play; the still grid is still written to --out.",
        };

        public Option<int?> Frames { get; } = new("--frames")
        {
            Description = $"Frames of --animate, evenly spaced over the steps, the last always included (default: every step, at most {DenoisingAnimation.MaxDefaultFrames}).",
        };

        public void AddTo(Command command)
        {
            command.Options.Add(Animate);
            command.Options.Add(Frames);
        }

        public AnimationRequest Read(ParseResult r) => new(r.GetValue(Animate), r.GetValue(Frames));
    }

    /// <summary>Flag mistakes, caught before the checkpoint loads so that a failed run writes nothing.</summary>
    public static void Validate(SampleCommand.SampleRequest q)
    {
        var a = q.Animation;
        if (a.Frames is not null && a.Path is null)
            throw new UserError("--frames sets the number of frames of --animate; add --animate FILE.png or drop --frames.");
        if (a.Frames is < 1)
            throw new UserError($"--frames must be at least 1 (got {a.Frames}).");
        if (a.Path is null) return;
        string extension = Path.GetExtension(a.Path).ToLowerInvariant();
        if (extension is not (".png" or ".apng"))
            throw new UserError($"--animate {a.Path}: the animation is an APNG, so its name must end in .png or .apng (got '{extension}').");
        if (Path.GetFullPath(a.Path) == Path.GetFullPath(q.Output))
            throw new UserError($"--animate and --out both name {a.Path}; the animation would replace the still grid. Give them different names.");
    }

    /// <summary>The recorder to pass as the sampling loop's step observer, or null without --animate.</summary>
    public static DenoisingAnimation? Start(SampleCommand.SampleRequest q, ISampler sampler, int count, int size, int columns, int channels) =>
        q.Animation.Path is null ? null : new DenoisingAnimation(sampler.Timesteps.Count, q.Animation.Frames, count, size, q.Scale, columns, channels)
        {
            // The still grid's finish, so that the animation ends on that grid (alpha threshold, background, palette).
            Finish = q.Finish,
        };

    public static void Save(string path, DenoisingAnimation animation)
    {
        animation.Save(path);
        long kilobytes = (new FileInfo(path).Length + 512) / 1024;
        AnsiConsole.MarkupLineInterpolated(
            $"wrote [green]{path}[/] (APNG, {animation.FrameCount} frames of {animation.Width}x{animation.Height}, {animation.FrameDelayMs} ms each, the last held {Math.Max(DenoisingAnimation.FinalHoldMs, animation.FrameDelayMs) / 1000.0:0.0#} s, {kilobytes} KB)");
    }
}
