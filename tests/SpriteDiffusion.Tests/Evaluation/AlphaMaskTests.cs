using SpriteDiffusion.Evaluation;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>Transparent sets before the feature networks (composited onto white) and their silhouettes (alpha-mask IoU).</summary>
public class AlphaMaskTests
{
    private const int Size = 4, Plane = Size * Size;

    /// <summary>One RGBA image (values in [-1, 1]) whose alpha is +1 on <paramref name="opaque"/> pixels and -1 elsewhere.</summary>
    private static float[] Image(IEnumerable<int> opaque, float colour = 0.5f)
    {
        var chw = new float[4 * Plane];
        Array.Fill(chw, colour, 0, 3 * Plane);
        Array.Fill(chw, -1f, 3 * Plane, Plane);
        foreach (int p in opaque) chw[3 * Plane + p] = 1f;
        return chw;
    }

    private static ImageSet Set(params float[][] images) => new([.. images.SelectMany(i => i)], images.Length, 4, Size);

    [Fact]
    public void TransparentPixelsBecomeWhiteAndOpaqueOnesKeepTheirColour()
    {
        var image = Image([0, 5]);
        image[3 * Plane + 7] = 0f; // half transparent: halfway between its colour and white
        var opaque = Set(image).Opaque();
        Assert.Equal(3, opaque.Channels);
        Assert.Equal(0.5f, opaque.Chw[0]);           // opaque: as drawn
        Assert.Equal(1f, opaque.Chw[1]);             // transparent: white
        Assert.Equal(0.75f, opaque.Chw[7], 6);       // (0.75 * 0.5 + 1 * 0.5) mapped back to [-1, 1]
        var rgb = new ImageSet(new float[3 * Plane], 1, 3, Size);
        Assert.Same(rgb, rgb.Opaque());
    }

    [Fact]
    public void IouIsOneForSilhouettesTheRealSetHasAndFallsForOthers()
    {
        var real = Set(Image([0, 1, 2, 3]), Image([12, 13, 14, 15]), Image([0, 4, 8, 12]));
        var same = AlphaMasks.Measure(Set(Image([12, 13, 14, 15]), Image([0, 4, 8, 12])), real);
        Assert.Equal((1.0, 1.0), (same.MeanBestIou, same.MedianBestIou));
        Assert.Equal(0.25, same.MeanCoverage);
        Assert.Equal(0.25, same.RealMeanCoverage);

        // Half of a real silhouette: best IoU 2/4; the full square holds any real one as a quarter; a real one: 1.
        var other = AlphaMasks.Measure(Set(Image([0, 1]), Image(Enumerable.Range(0, Plane)), Image([0, 1, 2, 3])), real);
        Assert.Equal(0.5, other.MedianBestIou, 12);
        Assert.Equal((0.5 + 0.25 + 1) / 3, other.MeanBestIou, 12);
        Assert.Null(other.BaselineMeanBestIou);
        Assert.NotNull(AlphaMasks.Measure(Set(Image([0])), real, Set(Image([0])), real).BaselineMeanBestIou);
        Assert.Throws<ArgumentException>(() => AlphaMasks.Measure(new ImageSet(new float[3 * Plane], 1, 3, Size), real));
    }
}
