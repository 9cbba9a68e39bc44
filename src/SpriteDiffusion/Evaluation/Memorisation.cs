using SpriteDiffusion.IO;

namespace SpriteDiffusion.Evaluation;

/// <summary>
/// The space near-copies are searched in: each sprite as the 8-bit picture its PNG holds
/// (model values clamped to [-1, 1] and rounded as <see cref="SpritePixels.ToByte"/> does), every
/// byte divided by 255, flattened row by row, pixel by pixel, channel by channel (R G B, then A
/// for a transparent data set): 768 values in [0, 1] for a 16x16 RGB sprite. Training sprites come out exactly as their bytes / 255, so a generated sprite whose
/// PNG equals a training sprite is at distance 0.
/// </summary>
public static class PixelSpace
{
    /// <summary>How reports name the space.</summary>
    public const string Description = "pixels: the 8-bit RGB sprite / 255, flattened (768 values in [0, 1] for 16x16), Euclidean distance";

    /// <summary>Every image as one row of <see cref="Description"/>'s space.</summary>
    public static FeatureMatrix Of(ImageSet images)
    {
        ArgumentNullException.ThrowIfNull(images);
        int size = images.Size, channels = images.Channels, plane = size * size, length = images.FloatsPerImage;
        var values = new double[(long)images.Count * length];
        for (int n = 0; n < images.Count; n++)
        {
            var chw = images.Image(n);
            var row = values.AsSpan(n * length, length);
            for (int p = 0; p < plane; p++)
                for (int c = 0; c < channels; c++)
                    row[p * channels + c] = SpritePixels.ToByte(chw[c * plane + p]) / 255.0;
        }
        return new FeatureMatrix(values, images.Count, length);
    }
}

/// <summary>One generated sprite and its nearest training sprite.</summary>
/// <param name="Generated">Index of the generated sprite (its file number under generated/ with --keep-images).</param>
/// <param name="TrainingIndex">Index of the training sprite within the run's training split.</param>
/// <param name="DataSetRow">Row of that sprite in the data set's files.</param>
/// <param name="Distance">Euclidean distance between the two in <see cref="PixelSpace"/>: d1.</param>
/// <param name="DistanceAtRank">Distance from the generated sprite to its rank-th nearest training sprite (d50).</param>
/// <param name="IsNearCopy">Whether d1 &lt; d_rank / ratio.</param>
public sealed record ClosestPair(int Generated, int TrainingIndex, int DataSetRow, double Distance, double DistanceAtRank, bool IsNearCopy);

/// <summary>
/// How close generated sprites come to training sprites, beside how close held-out sprites of the
/// same data set come to them (the baseline: near-identical variants, skin tones above all, make
/// part of any rate a property of the data set).
/// </summary>
/// <param name="Space">The space distances are measured in (<see cref="PixelSpace.Description"/>).</param>
/// <param name="Rule">The near-copy rule, e.g. "d1 &lt; d50 / 3".</param>
/// <param name="Generated">Generated sprites against the training split.</param>
/// <param name="ValidationBaseline">Validation sprites against the training split, with the same rule.</param>
/// <param name="ClosestPairs">The generated sprites nearest to a training sprite, nearest first.</param>
public sealed record MemorisationReport(string Space, string Rule, NearCopyReport Generated, NearCopyReport ValidationBaseline,
    IReadOnlyList<ClosestPair> ClosestPairs)
{
    /// <summary>The picture of the closest pairs, when one was written.</summary>
    public string? PairsImage { get; init; }
}

/// <summary>The memorisation check of `sprites evaluate`: <see cref="NearCopies"/> in <see cref="PixelSpace"/>.</summary>
public static class Memorisation
{
    /// <summary>Closest pairs listed in a report.</summary>
    public const int DefaultClosestPairs = 16;

    /// <summary>The fewest training sprites the rule can run on: it compares with the 50th nearest.</summary>
    public const int MinimumTrainingImages = NearCopies.DefaultRank;

    /// <summary>"d1 &lt; d50 / 3" for the default rule.</summary>
    public static string Rule(int rank = NearCopies.DefaultRank, double ratio = NearCopies.DefaultRatio) =>
        FormattableString.Invariant($"d1 < d{rank} / {ratio:G}");

    /// <summary>
    /// Nearest training sprite of every generated and every validation sprite, the near-copy rate of
    /// each group, and the <paramref name="closestPairs"/> closest generated/training pairs.
    /// </summary>
    /// <param name="generated">Generated sprites.</param>
    /// <param name="training">The run's training split.</param>
    /// <param name="trainingRows">Data-set row of each training sprite.</param>
    /// <param name="validation">The run's validation split.</param>
    /// <param name="closestPairs">How many pairs to list.</param>
    /// <remarks>Sets of 4 (RGBA) and 3 (RGB) channels are compared as opaque RGB, each transparent one composited onto <see cref="ImageSet.CompositeBackground"/>.</remarks>
    /// <exception cref="ArgumentException">Fewer than <see cref="MinimumTrainingImages"/> training sprites, an empty set, or sets of different sizes.</exception>
    public static MemorisationReport Measure(ImageSet generated, ImageSet training, IReadOnlyList<int> trainingRows, ImageSet validation,
        int closestPairs = DefaultClosestPairs)
    {
        ArgumentNullException.ThrowIfNull(generated);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(trainingRows);
        ArgumentNullException.ThrowIfNull(validation);
        if (trainingRows.Count != training.Count)
            throw new ArgumentException($"{trainingRows.Count} data-set rows for {training.Count} training sprites.", nameof(trainingRows));
        if (training.Count < MinimumTrainingImages)
            throw new ArgumentException($"the near-copy rule compares with the {NearCopies.DefaultRank}th nearest training sprite, so it needs at least {MinimumTrainingImages} training sprites; there are {training.Count}.", nameof(training));
        if (generated.Channels != training.Channels)
        {
            // A transparent model judged against the RGB data set (or an RGB model against the
            // transparent one): RGB pixels have no alpha to compare, so both sides are the opaque
            // sprites the RGB data set holds, composited as the feature network sees them.
            (generated, training, validation) = (generated.Opaque(), training.Opaque(), validation.Opaque());
        }
        var trainingPixels = PixelSpace.Of(training);
        var ofGenerated = NearCopies.Find(PixelSpace.Of(generated), trainingPixels);
        var ofValidation = NearCopies.Find(PixelSpace.Of(validation), trainingPixels);
        var pairs = ofGenerated.Closest(closestPairs)
            .Select(s => new ClosestPair(s.Query, s.Reference, trainingRows[s.Reference], s.Nearest, s.AtRank, s.IsNearCopy))
            .ToArray();
        return new MemorisationReport(PixelSpace.Description, Rule(), ofGenerated.Report, ofValidation.Report, pairs);
    }

    /// <summary>
    /// The closest pairs as one PNG: two pairs to a row, each generated sprite on the left of its
    /// training sprite, nearest pair first, pairs separated by an empty tile.
    /// </summary>
    /// <param name="path">The PNG to write.</param>
    /// <param name="generated">The generated sprites the pairs index.</param>
    /// <param name="training">The training split the pairs index.</param>
    /// <param name="pairs">The pairs, as <see cref="MemorisationReport.ClosestPairs"/>.</param>
    /// <param name="scale">Nearest-neighbour upscale of every sprite.</param>
    public static void WritePairs(string path, ImageSet generated, ImageSet training, IReadOnlyList<ClosestPair> pairs, int scale = 4)
    {
        ArgumentNullException.ThrowIfNull(generated);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(pairs);
        // The picture is opaque: transparent sprites are shown as the feature network sees them.
        (generated, training) = (generated.Opaque(), training.Opaque());
        const int pairsPerRow = 2;
        int size = generated.Size;
        var spacer = new byte[size * size * 3];
        var gap = ImageGrid.DefaultGapColor;
        for (int i = 0; i < spacer.Length; i += 3)
        {
            spacer[i] = gap.R;
            spacer[i + 1] = gap.G;
            spacer[i + 2] = gap.B;
        }
        var rows = new List<IReadOnlyList<byte[]>>();
        for (int start = 0; start < pairs.Count; start += pairsPerRow)
        {
            var row = new List<byte[]>();
            for (int p = start; p < Math.Min(start + pairsPerRow, pairs.Count); p++)
            {
                if (p > start) row.Add(spacer);
                row.Add(Tile(generated, pairs[p].Generated));
                row.Add(Tile(training, pairs[p].TrainingIndex));
            }
            rows.Add(row);
        }
        Png.Write(path, ImageGrid.Compose(rows, size, size, scale));
    }

    private static byte[] Tile(ImageSet images, int index)
    {
        var tile = new byte[images.Size * images.Size * 3];
        SpritePixels.ChwToHwc(images.Image(index), tile, images.Size);
        return tile;
    }
}
