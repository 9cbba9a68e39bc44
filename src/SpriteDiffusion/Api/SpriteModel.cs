using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Data;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Generation;
using SpriteDiffusion.Imaging;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;

namespace SpriteDiffusion;

/// <summary>
/// A trained sprite model, ready to draw sprites: the front door of the library. Load one from a
/// checkpoint (ours, or a PyTorch state dict) or take the bundled model, then call
/// <see cref="Generate"/>. One instance draws one batch at a time; use one per thread.
/// </summary>
/// <example>
/// <code>
/// var model = SpriteModel.LoadBundled();
/// var sprites = model.Generate(new GenerationOptions { Count = 8, Class = "Flags", Seed = 7 });
/// sprites[0].SavePng("flag.png", scale: 4);
/// </code>
/// </example>
public sealed class SpriteModel
{
    private readonly UNet _model;
    private readonly SpriteGenerator _generator;

    private SpriteModel(UNet model, CheckpointInfo info)
    {
        _model = model;
        _generator = new SpriteGenerator(model, info);
        Info = info;
    }

    /// <summary>
    /// Loads a checkpoint: a .safetensors file written by training, or a state dict that
    /// torch.save wrote (.pth, read without running pickle; taken as the seed's: raw t, linear, T = 1000).
    /// </summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="weights">The weight average (default, when the file holds one) or the raw trained weights.</param>
    /// <param name="overrides">Diffusion settings to use instead of the file's.</param>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a checkpoint of the seed U-Net, or is damaged.</exception>
    public static SpriteModel Load(string path, WeightChoice weights = WeightChoice.Ema, CheckpointOverrides? overrides = null)
    {
        var (model, info) = Checkpoint.Load(path, weights, overrides);
        return new SpriteModel(model, info);
    }

    /// <summary>The pretrained model that ships with SpriteDiffusion (models/twemoji16), found above the current or the program's folder.</summary>
    /// <exception cref="FileNotFoundException">The bundled model is not there.</exception>
    public static SpriteModel LoadBundled() => Load(PretrainedModel.DefaultPath);

    /// <summary>What the checkpoint records: configuration, schedule, time input, classes, training progress.</summary>
    public CheckpointInfo Info { get; }

    /// <summary>The classes the model can draw by name (empty names are given as "class i").</summary>
    public IReadOnlyList<string> ClassNames =>
        ClassNamesFile.Default(_model.Config.NCFeat).Select((name, i) => i < Info.ClassNames.Length ? Info.ClassNames[i] : name).ToArray();

    /// <summary>Whether the model was trained on classes, so that <see cref="GenerationOptions.Class"/> and guidance apply.</summary>
    public bool IsConditional => Info.Conditional;

    /// <summary>Side of the square sprites in pixels (16 for the seed's models).</summary>
    public int SpriteSize => _model.Config.Height;

    /// <summary>Whether the model draws transparency (a 4-channel, RGBA model).</summary>
    public bool HasAlpha => _model.Config.InChannels == 4;

    /// <summary>
    /// Draws sprites. The same options (seed included) and thread count give the same pixels.
    /// </summary>
    /// <param name="options">How many, which sampler, which class, how the pixels are finished.</param>
    /// <param name="progress">Told after every sampling step.</param>
    /// <param name="cancellationToken">Stops between steps with <see cref="OperationCanceledException"/>.</param>
    /// <returns>The finished sprites at 1x, in order (with <see cref="GenerationOptions.Init"/>, each starting sprite's variations together).</returns>
    /// <exception cref="ArgumentException">An option the model cannot honour (an unknown class, a step count the sampler cannot do, guidance without classes).</exception>
    public IReadOnlyList<Sprite> Generate(GenerationOptions options, IProgress<GenerationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Count is < 1 or > GenerationOptions.MaxCount)
            throw new ArgumentOutOfRangeException(nameof(options), $"the number of sprites must be between 1 and {GenerationOptions.MaxCount} (got {options.Count}).");
        int? classIndex = options.Class is string name ? _generator.ResolveClass(name) : null;
        double guidance = options.Guidance ?? (classIndex is null ? 1.0 : SpriteGenerator.DefaultGuidance);
        SpriteGenerator.CheckGuidance(guidance);
        _generator.Guidance = guidance;
        _generator.ClipDenoised = options.ClipDenoised;
        var sampler = _generator.CreateSampler(SamplerName(options.Sampler), options.Steps, options.Eta);
        var edit = Edit(options);
        edit?.StartSampler(sampler);
        int steps = sampler.Timesteps.Count;
        int count = edit is null ? options.Count : options.Count * options.Init!.Count;
        var context = classIndex is int k ? _generator.OneHot(Enumerable.Repeat(k, count).ToArray()) : null;

        var samples = _generator.Generate(sampler, count, new Rng(options.Seed), default, context,
            (done, _) =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new GenerationProgress(done, steps));
            }, edit: edit);
        var images = SpriteFinishing.Finish(samples, count, _model.Config.InChannels, SpriteSize, options.Finish);
        string? className = classIndex is int c ? ClassNames[c] : null;
        return images.Select((image, i) => new Sprite(image, i, className)).ToArray();
    }

    /// <summary>The options' variations or inpainting, or null when they start from noise.</summary>
    private SamplingEdit? Edit(GenerationOptions options)
    {
        if (options.Init is not { Count: > 0 } init)
        {
            if (options.Strength is not null || options.Mask is not null || options.Resample is not null)
                throw new ArgumentException("a strength, mask or resample count edits starting sprites; give them in Init.", nameof(options));
            return null;
        }
        if ((long)init.Count * options.Count > GenerationOptions.MaxCount)
            throw new ArgumentOutOfRangeException(nameof(options), $"{init.Count} starting sprites with {options.Count} variations each make more than {GenerationOptions.MaxCount} sprites.");
        var images = init.Select((image, i) => EditInputs.FromImage(image, SpriteSize, _model.Config.InChannels, $"starting sprite {i}")).ToList();
        var mask = options.Mask is { } m ? EditInputs.MaskFromImage(m, SpriteSize, "the mask") : null;
        return EditInputs.Build(images, options.Count, mask, options.Strength ?? (mask is null ? GenerationOptions.DefaultStrength : 1.0),
            options.Resample ?? (mask is null ? 1 : GenerationOptions.DefaultResample));
    }

    private static string SamplerName(SamplerKind kind) => kind switch
    {
        SamplerKind.Ddim => DdimSampler.SamplerName,
        SamplerKind.Ddpm => DdpmSampler.SamplerName,
        SamplerKind.DpmSolver2M => DpmSolverSampler.SamplerName,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown sampler."),
    };
}
