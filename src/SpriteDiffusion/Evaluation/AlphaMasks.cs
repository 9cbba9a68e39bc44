using System.Numerics;

namespace SpriteDiffusion.Evaluation;

/// <summary>
/// Whether transparent sprites have the right silhouettes, a question colour features cannot
/// answer: every generated sprite's alpha mask (alpha at least one half) against the most similar
/// real mask, by intersection over union.
/// </summary>
/// <param name="MeanBestIou">Mean over generated sprites of the IoU with its most similar real mask (1: every silhouette exists in the real set).</param>
/// <param name="MedianBestIou">The median of the same.</param>
/// <param name="MeanCoverage">Mean share of pixels that are opaque in the generated masks.</param>
/// <param name="RealMeanCoverage">Mean share of opaque pixels in the real masks, to compare with <paramref name="MeanCoverage"/>.</param>
/// <param name="BaselineMeanBestIou">The same measure for the validation sprites against the training sprites; null without a split.</param>
/// <param name="GeneratedCount">Generated sprites measured.</param>
/// <param name="RealCount">Real sprites they were matched against.</param>
public sealed record AlphaMaskReport(double MeanBestIou, double MedianBestIou, double MeanCoverage, double RealMeanCoverage,
    double? BaselineMeanBestIou, int GeneratedCount, int RealCount)
{
    /// <summary>What the numbers are, for reports.</summary>
    public string Name => "alpha-mask IoU with the most similar real mask (alpha >= 0.5)";
}

/// <summary>Alpha masks of RGBA image sets as bit sets, compared by IoU.</summary>
public static class AlphaMasks
{
    /// <summary>
    /// The <see cref="AlphaMaskReport"/> of <paramref name="generated"/> against <paramref name="real"/>,
    /// with the validation-against-training baseline when both are given.
    /// </summary>
    /// <exception cref="ArgumentException">A set is not RGBA, or the sizes differ.</exception>
    public static AlphaMaskReport Measure(ImageSet generated, ImageSet real, ImageSet? validation = null, ImageSet? train = null)
    {
        var g = Masks(generated, nameof(generated));
        var r = Masks(real, nameof(real));
        if (generated.Size != real.Size) throw new ArgumentException($"generated sprites are {generated.Size}x{generated.Size}, real ones {real.Size}x{real.Size}.", nameof(real));
        var best = BestIou(g, r);
        double? baseline = validation is not null && train is not null
            ? BestIou(Masks(validation, nameof(validation)), Masks(train, nameof(train))).Average() : null;
        var sorted = best.Order().ToArray();
        double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return new AlphaMaskReport(best.Average(), median, Coverage(g), Coverage(r), baseline, generated.Count, real.Count);
    }

    private sealed record MaskSet(ulong[] Bits, int Words, int Count, int Pixels);

    private static MaskSet Masks(ImageSet images, string name)
    {
        if (images.Channels != 4) throw new ArgumentException($"alpha masks need RGBA images; the {name} set has {images.Channels} channels.", name);
        int plane = images.Size * images.Size, words = (plane + 63) / 64;
        var bits = new ulong[images.Count * words];
        for (int n = 0; n < images.Count; n++)
        {
            var alpha = images.Image(n).Slice(3 * plane, plane);
            for (int p = 0; p < plane; p++)
                if (alpha[p] >= 0f) bits[n * words + p / 64] |= 1UL << (p % 64);
        }
        return new MaskSet(bits, words, images.Count, plane);
    }

    private static double[] BestIou(MaskSet queries, MaskSet references)
    {
        var best = new double[queries.Count];
        Parallel.For(0, queries.Count, q =>
        {
            var a = queries.Bits.AsSpan(q * queries.Words, queries.Words);
            double top = 0;
            for (int r = 0; r < references.Count; r++)
            {
                var b = references.Bits.AsSpan(r * references.Words, references.Words);
                int both = 0, either = 0;
                for (int w = 0; w < a.Length; w++)
                {
                    both += BitOperations.PopCount(a[w] & b[w]);
                    either += BitOperations.PopCount(a[w] | b[w]);
                }
                // Two empty masks agree completely.
                double iou = either == 0 ? 1 : (double)both / either;
                if (iou > top) top = iou;
            }
            best[q] = top;
        });
        return best;
    }

    private static double Coverage(MaskSet masks)
    {
        long set = 0;
        foreach (ulong w in masks.Bits) set += BitOperations.PopCount(w);
        return (double)set / ((long)masks.Count * masks.Pixels);
    }
}
