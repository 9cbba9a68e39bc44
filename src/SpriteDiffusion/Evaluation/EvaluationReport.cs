using System.Text.Json;
using System.Text.Json.Serialization;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Evaluation;

/// <summary>The sampler settings generated images were made with; null steps: all T (DDPM).</summary>
public sealed record SamplerSettings(string Method, int? Steps, double Eta, ulong Seed)
{
    /// <summary>Classifier-free guidance scale, with classes drawn as in the real set; null: unconditional.</summary>
    public double? Guidance { get; init; }
    /// <summary>"ema" (the weight average where the checkpoint holds one) or "raw".</summary>
    public string Weights { get; init; } = "ema";
    /// <summary>Whether each step's predicted clean image was clamped to [-1, 1].</summary>
    public bool ClipDenoised { get; init; }
}

/// <summary>Wall-clock seconds of each phase of an evaluation (ReadImages: PNG folders or the data set); null where a phase did not run.</summary>
public sealed record PhaseSeconds(double? ReadImages, double? Generation, double RealFeatures, double GeneratedFeatures, double Metrics, double Total);

/// <summary>One named metric value: the name always says which network's features it was computed on.</summary>
public sealed record MetricValue(string Name, double Value, double? StandardDeviation = null);

/// <summary>What `sprites evaluate` writes as JSON: what was measured, on what, and how long it took.</summary>
public sealed record EvaluationReport(
    string Mode,
    MetricValue Fid,
    MetricValue Kid,
    int KidSubsets,
    int KidSubsetSize,
    string FeatureNetwork,
    int FeatureDimension,
    int RealCount,
    int GeneratedCount,
    string RealSource,
    string GeneratedSource,
    string? Checkpoint,
    SamplerSettings? Sampler,
    PhaseSeconds Seconds,
    double FeaturesPerSecond,
    DateTimeOffset CreatedUtc)
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static EvaluationReport From(EvaluationResult result, string mode, string realSource, string generatedSource,
        string? checkpoint, SamplerSettings? sampler, double? readImagesSeconds, double? generationSeconds, double totalSeconds) =>
        new(mode,
            new MetricValue(result.FidName, result.Fid),
            new MetricValue(result.KidName, result.Kid.Mean, result.Kid.StandardDeviation),
            result.Kid.Subsets, result.Kid.SubsetSize,
            result.FeatureNetwork, result.FeatureDimension,
            result.RealCount, result.GeneratedCount,
            realSource, generatedSource, checkpoint, sampler,
            new PhaseSeconds(readImagesSeconds, generationSeconds, result.RealFeatureSeconds, result.GeneratedFeatureSeconds, result.MetricSeconds, totalSeconds),
            result.FeaturesPerSecond,
            DateTimeOffset.UtcNow);

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static EvaluationReport FromJson(string json) =>
        JsonSerializer.Deserialize<EvaluationReport>(json, JsonOptions) ?? throw new JsonException("empty report");

    public void Write(string path) => AtomicFile.WriteAllText(path, ToJson() + Environment.NewLine);
}
