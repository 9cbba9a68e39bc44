using SpriteDiffusion.Data;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.IO;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Generation;
using SpriteDiffusion.Model;

namespace SpriteDiffusion.Evaluation;

/// <summary>
/// How `sprites evaluate` asks for generated images: the sampler flags of `sprites sample`
/// (Steps null: the method's default; Threads null: all cores).
/// </summary>
/// <param name="CheckpointPath">The checkpoint to sample.</param>
/// <param name="Method">The sampler's name: "ddpm", "ddim" or "dpm++2m".</param>
/// <param name="Steps">Sampling steps.</param>
/// <param name="Eta">DDIM's eta (0: deterministic).</param>
/// <param name="Seed">Seeds the starting noise and any noise the sampler adds.</param>
/// <param name="Count">How many images to generate.</param>
public sealed record GenerationRequest(string CheckpointPath, string Method, int? Steps, double Eta, ulong Seed, int Count)
{
    /// <summary>Engine threads for sampling; null leaves the thread count as it is.</summary>
    public int? Threads { get; init; }
    /// <summary>Which of the checkpoint's weights to sample with: by default its weight average.</summary>
    public WeightChoice Weights { get; init; } = WeightChoice.Ema;
    /// <summary>Clamp each step's predicted clean image to [-1, 1] (see <see cref="SpriteGenerator.ClipDenoised"/>).</summary>
    public bool ClipDenoised { get; init; }
    /// <summary>Classifier-free guidance scale; null samples unconditionally (the null context).</summary>
    public double? Guidance { get; init; }
    /// <summary>With guidance: sprite i is drawn for class Classes[i mod length] (evaluation passes one class per sprite, <see cref="ClassDraw.Proportional"/>).</summary>
    public int[]? Classes { get; init; }
    /// <summary>Diffusion settings to use instead of the checkpoint's.</summary>
    public CheckpointOverrides Overrides { get; init; } = CheckpointOverrides.None;
}

/// <summary>The generated half of `sprites evaluate --checkpoint`: sprites sampled from the checkpoint.</summary>
public static class GeneratedImages
{
    /// <summary>DDIM steps when none are given: the seed measured FID with 100.</summary>
    public const int DefaultDdimSteps = 100;

    /// <summary>Sprites generated per sampling run: bounds memory while keeping batches large.</summary>
    private const int Chunk = 256;

    /// <summary>
    /// <paramref name="request"/>.Count images sampled from the checkpoint, as N x 3 x H x H in
    /// about [-1, 1]; <paramref name="progress"/> receives the number of images finished so far.
    /// The same request gives the same images.
    /// </summary>
    public static ImageSet FromCheckpoint(GenerationRequest request, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Count < 1) throw new ArgumentOutOfRangeException($"the number of generated images must be at least 1 (got {request.Count}).");
        if (request.Threads is int t) Workers.Threads = t;
        var (model, info) = Checkpoint.Load(request.CheckpointPath, request.Weights, request.Overrides);
        return FromModel(model, info, request, progress);
    }

    /// <summary>
    /// As <see cref="FromCheckpoint"/>, from a checkpoint the caller has loaded already (with the
    /// request's weights and overrides), e.g. to read its metadata first.
    /// </summary>
    public static ImageSet FromModel(UNet model, CheckpointInfo info, GenerationRequest request, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(request);
        if (request.Count < 1) throw new ArgumentOutOfRangeException($"the number of generated images must be at least 1 (got {request.Count}).");
        if (request.Threads is int t) Workers.Threads = t;
        var generator = new SpriteGenerator(model, info) { ClipDenoised = request.ClipDenoised };
        var sampler = generator.CreateSampler(request.Method, request.Steps, request.Eta, DefaultDdimSteps);
        int[]? classes = null;
        if (request.Guidance is double w)
        {
            generator.RequireClasses();
            if (request.Classes is not { Length: > 0 }) throw new ArgumentException("guided generation needs the classes to draw.", nameof(request));
            int classCount = model.Config.NCFeat;
            if (request.Classes.Any(c => c < 0 || c >= classCount))
                throw new InvalidDataException($"{request.CheckpointPath}: the model knows {classCount} classes, but the real images' labels go up to {request.Classes.Max()}; evaluate it against the data set it was trained on.");
            generator.Guidance = w;
            classes = Enumerable.Range(0, request.Count).Select(i => request.Classes[i % request.Classes.Length]).ToArray();
        }
        var rng = new Rng(request.Seed);
        int per = generator.ImageLength;
        var all = new float[(long)request.Count * per];
        for (int done = 0; done < request.Count; done += Chunk)
        {
            int n = Math.Min(Chunk, request.Count - done);
            var x = generator.Generate(sampler, n, rng, default,
                classes is null ? default : generator.OneHot(classes.AsSpan(done, n)));
            x.CopyTo(all.AsSpan(done * per));
            progress?.Report(done + n);
        }
        return new ImageSet(all, request.Count, model.Config.InChannels, model.Config.Height);
    }
}
