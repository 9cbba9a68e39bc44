using SpriteDiffusion.Evaluation;
using SpriteDiffusion.IO;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>Near-copies in pixel space as `sprites evaluate` runs them, and FID class by class.</summary>
public class MemorisationTests
{
    [Fact]
    public void PixelSpaceIsThePngsBytesOver255RowByRow()
    {
        var images = new ImageSet(new float[3 * 4 * 4], 1, 3, 4);
        images.Chw[0 * 16 + 5] = SpritePixels.ToValue(200); // R of pixel 5
        images.Chw[1 * 16 + 5] = 7f;                          // G, far above 1: clamped as a PNG would be
        images.Chw[2 * 16 + 5] = -3f;                         // B, below -1
        var pixels = PixelSpace.Of(images);
        Assert.Equal(48, pixels.Dimension);
        Assert.Equal(200 / 255.0, pixels.Values[5 * 3 + 0]);
        Assert.Equal(1.0, pixels.Values[5 * 3 + 1]);
        Assert.Equal(0.0, pixels.Values[5 * 3 + 2]);
        Assert.Equal(SpritePixels.ToByte(0f) / 255.0, pixels.Values[0]);
    }

    [Fact]
    public void CopiesOfTrainingSpritesAreFoundWithTheirDataSetRows()
    {
        var training = ProceduralSprites.Make(80, seed: 3);
        int[] rows = Enumerable.Range(0, 80).Select(i => 1000 + 2 * i).ToArray();
        // Generated: exact copies of training sprites 5, 17 and 42, then ten sprites never seen.
        var generated = Concat(training.Select([5, 17, 42]), ProceduralSprites.Make(10, seed: 99));
        var validation = ProceduralSprites.Make(12, seed: 50);
        var report = Memorisation.Measure(generated, training, rows, validation, closestPairs: 4);

        Assert.Equal("d1 < d50 / 3", report.Rule);
        Assert.Contains("pixels", report.Space);
        Assert.Equal((13, 80), (report.Generated.QueryCount, report.Generated.ReferenceCount));
        Assert.Equal((12, 80), (report.ValidationBaseline.QueryCount, report.ValidationBaseline.ReferenceCount));
        Assert.True(report.Generated.NearCopyCount >= 3);
        Assert.Equal(4, report.ClosestPairs.Count);
        Assert.Equal([0, 1, 2], report.ClosestPairs.Take(3).Select(p => p.Generated).Order());
        foreach (var pair in report.ClosestPairs.Take(3))
        {
            Assert.Equal(0.0, pair.Distance);
            Assert.True(pair.IsNearCopy);
            Assert.Equal(new[] { 5, 17, 42 }[pair.Generated], pair.TrainingIndex);
            Assert.Equal(1000 + 2 * pair.TrainingIndex, pair.DataSetRow);
        }
        var fourth = report.ClosestPairs[3];
        Assert.True(fourth.Distance > 0);
        // The reported distance is the one between the two sprites' pixels.
        double direct = Math.Sqrt(PixelSpace.Of(generated.Select([fourth.Generated])).Values
            .Zip(PixelSpace.Of(training.Select([fourth.TrainingIndex])).Values, (a, b) => (a - b) * (a - b)).Sum());
        Assert.Equal(direct, fourth.Distance, 12);
        // The validation sprites, drawn independently, are the baseline: measured with the same rule.
        var baseline = NearCopies.Find(PixelSpace.Of(validation), PixelSpace.Of(training)).Report;
        Assert.Equal(baseline, report.ValidationBaseline);
    }

    [Fact]
    public void TransparentSpritesAreComparedWithAnRgbDataSetOnItsWhiteBackground()
    {
        var training = ProceduralSprites.Make(80, seed: 3);
        var validation = ProceduralSprites.Make(12, seed: 50);
        // RGBA sprites: training sprite 7 drawn opaque over its white corners, with its corner pixel
        // transparent in any colour (white in the RGB set); then training sprite 9 half transparent.
        int plane = training.Size * training.Size;
        var chw = new float[2 * 4 * plane];
        for (int c = 0; c < 3; c++)
        {
            training.Image(7).Slice(c * plane, plane).CopyTo(chw.AsSpan(c * plane));
            training.Image(9).Slice(c * plane, plane).CopyTo(chw.AsSpan(4 * plane + c * plane));
        }
        chw.AsSpan(3 * plane, plane).Fill(1f);
        chw.AsSpan(7 * plane, plane).Fill(0f);
        for (int c = 0; c < 3; c++) training.Chw[7 * 3 * plane + c * plane] = 1f;
        chw[0] = -0.6f;
        chw[plane] = 0.2f;
        chw[3 * plane] = -1f;
        var generated = new ImageSet(chw, 2, 4, training.Size);

        var report = Memorisation.Measure(generated, training, Enumerable.Range(0, 80).ToArray(), validation, closestPairs: 2);
        var copy = report.ClosestPairs.Single(p => p.Generated == 0);
        Assert.Equal((7, 0.0), (copy.TrainingIndex, copy.Distance));
        Assert.True(copy.IsNearCopy);
        // Half transparent over white: the composite, not the colour, is what is compared.
        var half = report.ClosestPairs.Single(p => p.Generated == 1);
        double direct = Math.Sqrt(PixelSpace.Of(generated.Select([1]).Opaque()).Values
            .Zip(PixelSpace.Of(training.Select([half.TrainingIndex])).Values, (a, b) => (a - b) * (a - b)).Sum());
        Assert.Equal(direct, half.Distance, 12);
        Assert.True(half.Distance > 0);
        using var temp = new TempDir();
        Memorisation.WritePairs(temp.File("pairs.png"), generated, training, report.ClosestPairs, scale: 1);
        Assert.True(File.Exists(temp.File("pairs.png")));
    }

    [Fact]
    public void TooFewTrainingSpritesForTheRuleIsAnArgumentError()
    {
        var training = ProceduralSprites.Make(49, seed: 3);
        var e = Assert.Throws<ArgumentException>(() => Memorisation.Measure(training, training, Enumerable.Range(0, 49).ToArray(), training));
        Assert.Contains("at least 50", e.Message);
    }

    [Fact]
    public void ThePairsPictureHasTwoPairsARow()
    {
        var training = ProceduralSprites.Make(60, seed: 3);
        var report = Memorisation.Measure(training.Take(5), training, Enumerable.Range(0, 60).ToArray(), training.Take(3), closestPairs: 5);
        using var temp = new TempDir();
        string path = temp.File("pairs.png");
        Memorisation.WritePairs(path, training.Take(5), training, report.ClosestPairs, scale: 2);
        var image = Png.Read(path);
        // Five tiles a row (pair, spacer, pair) of 32 px with 1 px gaps; three rows for five pairs.
        Assert.Equal((5 * 32 + 6, 3 * 32 + 4), (image.Width, image.Height));
        // Pair 0 is a sprite and itself: the two tiles of the first row match pixel for pixel.
        for (int y = 1; y < 33; y++)
            for (int x = 1; x < 33; x++)
                Assert.Equal(image.Pixels[4 * (y * image.Width + x)], image.Pixels[4 * (y * image.Width + x + 33)]);
    }

    [Fact]
    public void PerClassFidIsTheFidOfEachClassesRowsAndNotesSmallClasses()
    {
        var rng = new Random(8);
        var real = Features(rng, 60, 6);
        var generated = Features(rng, 45, 6);
        int[] realLabels = Enumerable.Range(0, 60).Select(i => i < 25 ? 0 : i < 55 ? 1 : 2).ToArray();
        int[] generatedLabels = Enumerable.Range(0, 45).Select(i => i % 3 == 0 ? 1 : i % 3 == 1 ? 0 : i < 40 ? 1 : 2).ToArray();
        var report = PerClassFid.Compute("FID (X features) per class", real, realLabels, generated, generatedLabels, ["p", "q", "r"]);
        Assert.Equal(PerClassFid.DefaultMinimumImages, report.MinimumImages);
        Assert.Equal(3, report.Classes.Count);
        for (int c = 0; c < 2; c++)
        {
            var realRows = Enumerable.Range(0, 60).Where(i => realLabels[i] == c).ToArray();
            var generatedRows = Enumerable.Range(0, 45).Where(i => generatedLabels[i] == c).ToArray();
            var entry = report.Classes[c];
            Assert.Equal((c, realRows.Length, generatedRows.Length), (entry.Class, entry.RealCount, entry.GeneratedCount));
            Assert.Equal(FrechetDistance.Compute(real.Select(realRows), generated.Select(generatedRows)), entry.Fid!.Value, 9);
            Assert.Null(entry.Note);
        }
        var small = report.Classes[2];
        Assert.Equal(("r", 5, 2), (small.Name, small.RealCount, small.GeneratedCount));
        Assert.Null(small.Fid);
        Assert.Contains("too few", small.Note);
        Assert.Throws<ArgumentException>(() => PerClassFid.Compute("x", real, realLabels[..59], generated, generatedLabels, ["p", "q", "r"]));
    }

    private static FeatureMatrix Features(Random rng, int count, int dimension)
    {
        var values = new double[count * dimension];
        for (int i = 0; i < values.Length; i++) values[i] = rng.NextDouble() + (i % dimension == 0 ? rng.NextDouble() : 0);
        return new FeatureMatrix(values, count, dimension);
    }

    private static ImageSet Concat(ImageSet a, ImageSet b) => new([.. a.Chw, .. b.Chw], a.Count + b.Count, a.Channels, a.Size);
}
