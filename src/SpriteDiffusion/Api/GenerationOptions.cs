using SpriteDiffusion.Imaging;

namespace SpriteDiffusion;

/// <summary>The samplers a model can draw with.</summary>
public enum SamplerKind
{
    /// <summary>DDIM: few steps (50 by default), deterministic at eta 0.</summary>
    Ddim,

    /// <summary>DDPM: all T steps, stochastic; the original ancestral sampler.</summary>
    Ddpm,

    /// <summary>DPM-Solver++ 2M: 20 steps by default, closer to the exact solution than DDIM's 50.</summary>
    DpmSolver2M,
}

/// <summary>What <see cref="SpriteModel.Generate"/> draws and how.</summary>
public sealed record GenerationOptions
{
    /// <summary>The most sprites one call draws.</summary>
    public const int MaxCount = 4096;

    /// <summary>How many sprites (1 to <see cref="MaxCount"/>).</summary>
    public int Count { get; init; } = 16;

    /// <summary>The random seed: the same seed gives the same sprites.</summary>
    public ulong Seed { get; init; }

    /// <summary>The sampler.</summary>
    public SamplerKind Sampler { get; init; } = SamplerKind.Ddim;

    /// <summary>Sampling steps; null takes the sampler's default (DDIM 50, DPM-Solver++ 20, DDPM all T).</summary>
    public int? Steps { get; init; }

    /// <summary>DDIM's stochasticity, 0 (deterministic) to 1; the other samplers take 0 only.</summary>
    public double Eta { get; init; }

    /// <summary>Draw every sprite of this class (a name from <see cref="SpriteModel.ClassNames"/>, or an index); null draws unconditionally.</summary>
    public string? Class { get; init; }

    /// <summary>Classifier-free guidance scale with a class: 1 plain conditional, higher follows the class harder; null is 3 with a class.</summary>
    public double? Guidance { get; init; }

    /// <summary>Clamp each step's predicted clean image to [-1, 1], which keeps briefly trained models from saturating.</summary>
    public bool ClipDenoised { get; init; } = true;

    /// <summary>How the pixels are finished: alpha threshold, background, palette.</summary>
    public SpriteFinish Finish { get; init; } = SpriteFinish.None;
}

/// <summary>How far a <see cref="SpriteModel.Generate"/> call has got.</summary>
/// <param name="Step">Sampling steps done.</param>
/// <param name="Steps">Sampling steps in all.</param>
public sealed record GenerationProgress(int Step, int Steps);
