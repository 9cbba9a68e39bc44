namespace SpriteDiffusion.Evaluation;

/// <summary>Which images of the data set generated sprites are compared with in checkpoint mode.</summary>
public enum RealSet
{
    /// <summary>Every image the run drew from (the whole data set, or its image limit): the usual practice for generative models.</summary>
    All,
    /// <summary>The run's training split.</summary>
    Train,
    /// <summary>The run's validation split: few images (378 of the bundled set), so FID carries a large bias.</summary>
    Validation,
}

/// <summary>The names people type for a <see cref="RealSet"/>: all, train, val.</summary>
public static class RealSets
{
    /// <summary>The names in the order help texts list them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["all", "train", "val"];

    /// <summary>"all", "train" or "val" (also "validation"), any case.</summary>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static RealSet Parse(string realSet)
    {
        ArgumentNullException.ThrowIfNull(realSet);
        return realSet.Trim().ToLowerInvariant() switch
        {
            "all" => RealSet.All,
            "train" => RealSet.Train,
            "val" or "validation" => RealSet.Validation,
            _ => throw new ArgumentException($"unknown real set '{realSet}': use all (every image the run drew from), train (its training split) or val (its validation split).", nameof(realSet)),
        };
    }

    /// <summary>The short name <see cref="Parse"/> reads back.</summary>
    public static string Name(this RealSet set) => set switch
    {
        RealSet.All => "all",
        RealSet.Train => "train",
        RealSet.Validation => "val",
        _ => throw new ArgumentOutOfRangeException(nameof(set), set, null),
    };
}
