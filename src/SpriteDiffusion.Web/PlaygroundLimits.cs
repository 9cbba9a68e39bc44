namespace SpriteDiffusion.Web;

/// <summary>
/// How much one request may ask for and how many generations run and wait at once, so that the
/// playground answers "busy" instead of overloading the machine.
/// </summary>
public sealed record PlaygroundLimits
{
    /// <summary>The most sprites one generation draws.</summary>
    public int MaxCount { get; init; } = 64;

    /// <summary>The most sampling steps one generation takes (DDPM's full 1000 included).</summary>
    public int MaxSteps { get; init; } = 1000;

    /// <summary>
    /// The most sprites x steps one generation runs: 64 sprites at 125 steps, or 8 at DDPM's 1000.
    /// Bounds a request's time whatever the mix: about 40 s for the earlier (n_feat 32) bundled model
    /// guided on two cores (it ran about 420 sprite-steps a second, guidance doubling each).
    /// </summary>
    public int MaxImageSteps { get; init; } = 8_000;

    /// <summary>
    /// Generations that run at once. The engine spreads one over every worker thread, so by
    /// default one per whole set of worker threads that fits in the machine's cores.
    /// </summary>
    public int Slots { get; init; } = Math.Max(1, Environment.ProcessorCount / Math.Max(1, Engine.Workers.Threads));

    /// <summary>Generations that wait for a slot; past them a request gets HTTP 429 at once.</summary>
    public int MaxWaiting { get; init; } = 4;

    /// <summary>The largest upscale factor for downloads.</summary>
    public int MaxScale { get; init; } = 16;

    /// <summary>Finished batches kept for downloading; the oldest goes first.</summary>
    public int KeptResults { get; init; } = 32;

    /// <summary>The shortest time between two preview frames sent to the page.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public TimeSpan PreviewInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first limit out of range.</summary>
    public void Validate()
    {
        Check(MaxCount, 1, 4096, nameof(MaxCount), "sprites a request");
        Check(MaxSteps, 1, 100_000, nameof(MaxSteps), "steps a request");
        Check(MaxImageSteps, 1, int.MaxValue, nameof(MaxImageSteps), "sprites x steps a request");
        Check(Slots, 1, 256, nameof(Slots), "generations at once");
        Check(MaxWaiting, 0, 1000, nameof(MaxWaiting), "waiting generations");
        Check(MaxScale, 1, 64, nameof(MaxScale), "the download scale");
        Check(KeptResults, 1, 10_000, nameof(KeptResults), "kept batches");
        if (PreviewInterval < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(PreviewInterval), "the preview interval cannot be negative.");
    }

    private static void Check(int value, int min, int max, string name, string what)
    {
        if (value < min || value > max)
            throw new ArgumentOutOfRangeException(name, $"the limit on {what} must be between {min} and {max} (got {value}).");
    }
}
