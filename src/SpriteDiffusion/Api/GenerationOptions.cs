using SpriteDiffusion.Imaging;
using SpriteDiffusion.IO;

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

    /// <summary>The strength of variations when none is given: the colours and layout stay, the details change.</summary>
    public const double DefaultStrength = 0.6;

    /// <summary>
    /// How many times each step is taken when inpainting and no count is given: on the earlier bundled model (RGB, n_feat 32) the colour
    /// jump across the mask's border falls from 1.7 times the original sprites' at 1 to theirs at 8 (README).
    /// </summary>
    public const int DefaultResample = 8;

    /// <summary>
    /// Sprites to start from (at <see cref="SpriteModel.SpriteSize"/>, or a whole-number nearest-neighbour
    /// upscale): <see cref="Count"/> variations of each, in order. Null or empty draws from noise.
    /// </summary>
    public IReadOnlyList<RgbaImage>? Init { get; init; }

    /// <summary>How far <see cref="Init"/> is noised before denoising, above 0 to 1; null is <see cref="DefaultStrength"/>, or 1 with a mask.</summary>
    public double? Strength { get; init; }

    /// <summary>Inpainting: a black-and-white picture at the sprite size, white where the sprites are drawn, black where <see cref="Init"/> is kept exactly.</summary>
    public RgbaImage? Mask { get; init; }

    /// <summary>With a <see cref="Mask"/>, how many times each step is taken (RePaint); null is <see cref="DefaultResample"/>.</summary>
    public int? Resample { get; init; }
}

/// <summary>How far a <see cref="SpriteModel.Generate"/> call has got.</summary>
/// <param name="Step">Sampling steps done.</param>
/// <param name="Steps">Sampling steps in all.</param>
public sealed record GenerationProgress(int Step, int Steps);
