using System.CommandLine;
using Spectre.Console;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Generation;

namespace SpriteDiffusion.Cli.Commands;

/// <summary>What `sample --interpolate --seed2 S` asked for.</summary>
internal sealed record InterpolationRequest(bool Enabled, ulong? Seed2)
{
    public static readonly InterpolationRequest None = new(false, null);
}

/// <summary>
/// `sample --interpolate`: one row of in-betweens, DDIM at eta 0 from a slerp of two seeds'
/// starting noise. Its own file so that the sample command only declares the options and calls in here.
/// </summary>
internal static class SampleInterpolation
{
    public const int DefaultCount = 8;

    public sealed class Options
    {
        public Option<bool> Interpolate { get; } = new("--interpolate")
        {
            Description = $"Write one row of in-betweens instead of a grid: DDIM (eta 0) from a spherical interpolation of the noise of --seed and --seed2; --n counts them, both ends included (default {DefaultCount}).",
        };

        public Option<ulong?> Seed2 { get; } = new("--seed2") { Description = "The other end of --interpolate (default: --seed + 1)." };

        public void AddTo(Command command)
        {
            command.Options.Add(Interpolate);
            command.Options.Add(Seed2);
        }

        public InterpolationRequest Read(ParseResult r) => new(r.GetValue(Interpolate), r.GetValue(Seed2));
    }

    /// <summary>Flag mistakes, caught before the checkpoint loads so that a failed run writes nothing.</summary>
    public static void Validate(SampleCommand.SampleRequest q)
    {
        var i = q.Interpolation;
        if (!i.Enabled)
        {
            if (i.Seed2 is not null) throw new UserError("--seed2 is the second end of --interpolate; add --interpolate or drop --seed2.");
            return;
        }
        if (q.Noise is not null)
            throw new UserError($"--interpolate draws its starting noise from --seed and --seed2, so it cannot also start from --noise {q.Noise}; drop one of them.");
        // At eta 0 each in-between is a function of its noise alone, so neighbours differ only as
        // much as their noise does; DDPM or eta > 0 would add fresh noise to every sprite.
        if (!q.Method.Equals(DdimSampler.SamplerName, StringComparison.OrdinalIgnoreCase))
            throw new UserError($"--interpolate samples with DDIM at eta 0 so that each in-between follows from its noise alone; drop --method {q.Method}.");
        if (q.Eta != 0)
            throw new UserError($"--interpolate samples with DDIM at eta 0 so that each in-between follows from its noise alone; drop --eta {q.Eta}.");
        if (q.Count is 1)
            throw new UserError("--interpolate needs --n of at least 2: the row includes both ends.");
        if (SecondSeed(q) == q.Seed)
            throw new UserError($"--seed2 equals --seed ({q.Seed}), so every in-between would be the same sprite; choose another --seed2.");
    }

    public static ulong SecondSeed(SampleCommand.SampleRequest q) => q.Interpolation.Seed2 ?? unchecked(q.Seed + 1);

    /// <summary>
    /// The row's x_T: each end is exactly what `sample --n 1` draws for its seed, so the ends of the
    /// row are those two sprites.
    /// </summary>
    public static float[] StartingNoise(SampleCommand.SampleRequest q, SpriteGenerator generator, out int count)
    {
        count = q.Count ?? DefaultCount;
        ulong second = SecondSeed(q);
        var a = generator.DrawNoise(1, new Rng(q.Seed));
        var b = generator.DrawNoise(1, new Rng(second));
        AnsiConsole.MarkupLineInterpolated($"{count} in-betweens of seed {q.Seed} and seed {second} (slerp of their noise, {NoiseInterpolation.Angle(a, b) * 180 / Math.PI:F1} degrees apart)");
        return NoiseInterpolation.Path(a, b, count);
    }
}
