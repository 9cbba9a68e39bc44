using System.Globalization;
using SpriteDiffusion.Data;

namespace SpriteDiffusion.Evaluation;

/// <summary>
/// How a training run divided its data set: first a random subset of <see cref="Limit"/> images
/// (when set), then <see cref="ValidationFraction"/> of those drawn with <see cref="Seed"/> for
/// validation, exactly as the trainer does it. The trainer writes it into every checkpoint's
/// metadata, so evaluation compares a model with the images it was and was not trained on.
/// </summary>
/// <param name="ValidationFraction">Share of the (limited) data set held out for validation, in (0, 1).</param>
/// <param name="Seed">Seed of the subset and validation draws.</param>
/// <param name="Limit">Images the run kept of the data set; null: all of them.</param>
public sealed record TrainingSplit(double ValidationFraction, int Seed, int? Limit)
{
    /// <summary>Checkpoint metadata key (in CheckpointInfo.Extra) of <see cref="Seed"/>.</summary>
    public const string SeedKey = "split_seed";

    /// <summary>Checkpoint metadata key of <see cref="ValidationFraction"/>.</summary>
    public const string ValidationFractionKey = "val_fraction";

    /// <summary>Checkpoint metadata key of <see cref="Limit"/>, present only when the run had one.</summary>
    public const string LimitKey = "limit";

    /// <summary>The trainer's defaults: 10 % validation, seed 42, no limit. What a checkpoint that records no split is assumed to have used.</summary>
    public static TrainingSplit Default { get; } = new(SpriteDataset.DefaultValidationFraction, SpriteDataset.DefaultSplitSeed, null);

    /// <summary>The entries to store in a checkpoint's Extra metadata (round-trip number formats, invariant culture).</summary>
    public IEnumerable<KeyValuePair<string, string>> ToMetadata()
    {
        yield return new(SeedKey, Seed.ToString(CultureInfo.InvariantCulture));
        yield return new(ValidationFractionKey, ValidationFraction.ToString("R", CultureInfo.InvariantCulture));
        if (Limit is int limit) yield return new(LimitKey, limit.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The split a checkpoint's Extra metadata records, or null where it records none (checkpoints
    /// written before the trainer recorded it, resume checkpoints, PyTorch state dicts).
    /// </summary>
    /// <param name="extra">The checkpoint's Extra metadata.</param>
    /// <param name="source">The checkpoint's path, for error messages.</param>
    /// <exception cref="InvalidDataException">The metadata holds only part of a split, or a value that is not a valid one.</exception>
    public static TrainingSplit? FromMetadata(IReadOnlyDictionary<string, string> extra, string source)
    {
        ArgumentNullException.ThrowIfNull(extra);
        bool hasSeed = extra.TryGetValue(SeedKey, out var seedText);
        bool hasFraction = extra.TryGetValue(ValidationFractionKey, out var fractionText);
        bool hasLimit = extra.TryGetValue(LimitKey, out var limitText);
        if (!hasSeed && !hasFraction && !hasLimit) return null;
        if (!hasSeed || !hasFraction)
            throw new InvalidDataException($"{source}: the metadata records only part of the training split ({string.Join(", ", new[] { SeedKey, ValidationFractionKey, LimitKey }.Where(extra.ContainsKey))}); "
                + $"{SeedKey} and {ValidationFractionKey} belong together.");
        if (!int.TryParse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed))
            throw new InvalidDataException($"{source}: metadata '{SeedKey}' is '{seedText}', not an integer.");
        if (!double.TryParse(fractionText, NumberStyles.Float, CultureInfo.InvariantCulture, out double fraction) || !(fraction > 0 && fraction < 1))
            throw new InvalidDataException($"{source}: metadata '{ValidationFractionKey}' is '{fractionText}', not a fraction between 0 and 1.");
        int? limit = null;
        if (hasLimit)
        {
            if (!int.TryParse(limitText, NumberStyles.Integer, CultureInfo.InvariantCulture, out int l) || l < 2)
                throw new InvalidDataException($"{source}: metadata '{LimitKey}' is '{limitText}', not an image count of at least 2.");
            limit = l;
        }
        return new TrainingSplit(fraction, seed, limit);
    }

    /// <summary>One line for people, e.g. "10 % validation, seed 42, all images".</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{ValidationFraction * 100:0.##} % validation, seed {Seed}, {(Limit is int l ? $"limited to {l} images" : "all images")}");
}
