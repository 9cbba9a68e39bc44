using System.Text.Json;
using System.Text.Json.Serialization;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Evaluation;

/// <summary>The sampler settings generated images were made with; null steps: all T (DDPM).</summary>
/// <param name="Method">The sampler's name: "ddpm", "ddim" or "dpm++2m".</param>
/// <param name="Steps">Sampling steps.</param>
/// <param name="Eta">DDIM's eta; 0 for the other samplers.</param>
/// <param name="Seed">The seed of the starting noise and of any noise the sampler adds.</param>
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
/// <param name="ReadImages">Reading the images from disk.</param>
/// <param name="Generation">Sampling the generated images.</param>
/// <param name="RealFeatures">Features of the real images.</param>
/// <param name="GeneratedFeatures">Features of the generated images.</param>
/// <param name="Metrics">FID, KID, precision and recall from the features.</param>
/// <param name="Total">The whole evaluation, start to report.</param>
public sealed record PhaseSeconds(double? ReadImages, double? Generation, double RealFeatures, double GeneratedFeatures, double Metrics, double Total)
{
    /// <summary>FID per class (with guidance), beside Metrics (FID, KID, precision and recall).</summary>
    public double? PerClass { get; init; }

    /// <summary>The near-copy search in pixel space (checkpoint mode).</summary>
    public double? NearCopies { get; init; }
}

/// <summary>One named metric value: the name always says which network's features it was computed on.</summary>
/// <param name="Name">The metric and its feature network, e.g. "FID (ResNet-18 features)".</param>
/// <param name="Value">The value; for KID, the mean over the subsets.</param>
/// <param name="StandardDeviation">For KID, the spread over the subsets; null for FID.</param>
public sealed record MetricValue(string Name, double Value, double? StandardDeviation = null);

/// <summary>Precision and recall of the generated set against the real one, named for the features they were computed on.</summary>
/// <param name="Name">E.g. "precision/recall (ResNet-18 features, k = 3)".</param>
/// <param name="Precision">Share of generated images inside the real images' manifold: fidelity.</param>
/// <param name="Recall">Share of real images inside the generated images' manifold: coverage of the real variety.</param>
/// <param name="K">The neighbour whose distance set each ball's radius.</param>
public sealed record PrecisionRecallValue(string Name, double Precision, double Recall, int K);

/// <summary>Which images of the data set were compared, and how the run's split was found.</summary>
/// <param name="Set">"all", "train" or "val".</param>
/// <param name="ValidationFraction">The run's validation fraction.</param>
/// <param name="Seed">The run's split seed.</param>
/// <param name="Limit">The run's image limit, null for none.</param>
/// <param name="RecordedInCheckpoint">False: the checkpoint records no split and the trainer's defaults were assumed.</param>
/// <param name="DataSetCount">Images in the data set's files.</param>
/// <param name="AllCount">Images the run drew from (after the limit).</param>
/// <param name="TrainCount">Images of its training split.</param>
/// <param name="ValidationCount">Images of its validation split.</param>
public sealed record RealSetReport(string Set, double ValidationFraction, int Seed, int? Limit, bool RecordedInCheckpoint,
    int DataSetCount, int AllCount, int TrainCount, int ValidationCount);

/// <summary>What `sprites evaluate` writes as JSON: what was measured, on what, and how long it took.</summary>
/// <param name="Mode">"folders" (two folders of PNGs) or "checkpoint" (samples of a checkpoint against the data set's validation split).</param>
/// <param name="Fid">The Fréchet distance between the two sets' features.</param>
/// <param name="Kid">The kernel distance, with its spread over the subsets.</param>
/// <param name="KidSubsets">The number of random subsets KID averaged over.</param>
/// <param name="KidSubsetSize">Images per set in each KID subset.</param>
/// <param name="FeatureNetwork">The feature network's full description.</param>
/// <param name="FeatureDimension">The length of one image's feature vector.</param>
/// <param name="RealCount">The number of real images.</param>
/// <param name="GeneratedCount">The number of generated images.</param>
/// <param name="RealSource">Where the real images came from: a folder, or the data set's validation split.</param>
/// <param name="GeneratedSource">Where the generated images came from: a folder, or the sampler and checkpoint.</param>
/// <param name="Checkpoint">The checkpoint's full path; null for folders.</param>
/// <param name="Sampler">How the images were sampled; null for folders.</param>
/// <param name="Seconds">Wall time per phase.</param>
/// <param name="FeaturesPerSecond">Images through the feature network per second, both sets together.</param>
/// <param name="CreatedUtc">When the report was made.</param>
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
    /// <summary>Precision and recall (k = 3) in the FID's feature space; null when a set had 3 images or fewer.</summary>
    public PrecisionRecallValue? PrecisionRecall { get; init; }

    /// <summary>Checkpoint mode: the real set and the run's split; null for two folders.</summary>
    public RealSetReport? Real { get; init; }

    /// <summary>Checkpoint mode: near-copies of training sprites in pixel space, with the validation baseline; null in folder mode or when the training split is too small.</summary>
    public MemorisationReport? Memorisation { get; init; }

    /// <summary>With guidance: FID of each class; null otherwise.</summary>
    public PerClassReport? PerClass { get; init; }

    /// <summary>For transparent (RGBA) sprites: whether the silhouettes are right; null for RGB.</summary>
    public AlphaMaskReport? AlphaMasks { get; init; }

    /// <summary>What a reader should know about these numbers (assumed split, measures left out and why); null when there is nothing to say.</summary>
    public IReadOnlyList<string>? Notes { get; init; }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The report of <paramref name="result"/>, stamped with the current time; the other arguments say what was compared and how long reading and sampling took.</summary>
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
            DateTimeOffset.UtcNow)
        {
            PrecisionRecall = result.PrecisionRecall is { } pr
                ? new PrecisionRecallValue(result.PrecisionRecallName ?? MetricNames.PrecisionRecall(result.FeatureNetwork, pr.K), pr.Precision, pr.Recall, pr.K)
                : null,
        };

    /// <summary>The report as indented JSON with snake_case keys, null fields written out.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>A report read back from <see cref="ToJson"/>'s text; throws <see cref="JsonException"/> for text that is not one.</summary>
    public static EvaluationReport FromJson(string json) =>
        JsonSerializer.Deserialize<EvaluationReport>(json, JsonOptions) ?? throw new JsonException("empty report");

    /// <summary>Writes the JSON and a final newline to <paramref name="path"/>, atomically.</summary>
    public void Write(string path) => AtomicFile.WriteAllText(path, ToJson() + Environment.NewLine);
}
