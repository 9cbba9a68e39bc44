namespace SpriteDiffusion.Evaluation;

/// <summary>
/// How `sprites evaluate` asks for generated images: the sampler flags of `sprites sample`
/// (Steps null: the method's default; Threads null: all cores).
/// </summary>
public sealed record GenerationRequest(string CheckpointPath, string Method, int? Steps, double Eta, ulong Seed, int Count)
{
    public int? Threads { get; init; }
}

/// <summary>
/// The seam between evaluation and the sampler: `sprites evaluate --checkpoint` calls
/// <see cref="FromCheckpoint"/> and <see cref="ValidationImages"/>, and nothing else, to get
/// its two image sets.
/// </summary>
public static class GeneratedImages
{
    /// <summary>
    /// <paramref name="request"/>.Count images sampled from the checkpoint, as N x 3 x 16 x 16 in
    /// [-1, 1]; <paramref name="progress"/> receives the number of images finished so far.
    /// </summary>
    public static ImageSet FromCheckpoint(GenerationRequest request, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        throw new UserError("generation from a checkpoint is not available in this build yet");
    }

    /// <summary>
    /// Up to <paramref name="maxCount"/> images of the validation split of the data set in
    /// <paramref name="dataDirectory"/> (null: the bundled data set), as N x 3 x 16 x 16 in [-1, 1].
    /// </summary>
    public static ImageSet ValidationImages(string? dataDirectory, int maxCount)
    {
        throw new UserError("the validation split of the data set is not available in this build yet; compare two folders with --real-dir and --fake-dir");
    }
}
