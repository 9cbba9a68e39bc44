using SpriteDiffusion.Data;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Data;

public class DatasetTests
{
    /// <summary>
    /// Random sprites on disk; image i carries i in the red and green of both ends of its first
    /// row, so it can be recognised after shuffling and mirroring.
    /// </summary>
    internal static (string Images, string Labels, byte[] Pixels, int[] Classes) WriteRandomSet(TempDir dir, int n, int size, int k, int seed)
    {
        var rng = new Random(seed);
        var pixels = new byte[n * size * size * 3];
        rng.NextBytes(pixels);
        var classes = new int[n];
        var oneHot = new double[n * k];
        for (int i = 0; i < n; i++)
        {
            foreach (int x in new[] { 0, size - 1 })
            {
                pixels[(i * size * size + x) * 3] = (byte)(i % 256);
                pixels[(i * size * size + x) * 3 + 1] = (byte)(i / 256);
            }
            classes[i] = rng.Next(k);
            oneHot[i * k + classes[i]] = 1;
        }
        string images = dir.File("images.npy"), labels = dir.File("labels.npy");
        Npy.Write<byte>(images, pixels, [n, size, size, 3]);
        Npy.Write<double>(labels, oneHot, [n, k]);
        return (images, labels, pixels, classes);
    }

    private static int Identity(ReadOnlySpan<float> chw, int size)
    {
        int plane = size * size;
        return SpritePixels.ToByte(chw[0]) + 256 * SpritePixels.ToByte(chw[plane]);
    }

    [Fact]
    public void LoadGivesChwValuesInMinusOneToOneExactly()
    {
        using var dir = new TempDir();
        var (images, labels, pixels, classes) = WriteRandomSet(dir, 37, 16, 5, 1);
        File.WriteAllText(dir.File("classes.txt"), "0\thero\n1\tnon-hero\n2\tfood\n3\tspell\n4\tside-facing\n");
        var data = SpriteDataset.Load(images, labels, dir.File("classes.txt"));
        Assert.Equal(37, data.Count);
        Assert.Equal(16, data.ImageSize);
        Assert.Equal(3, data.Channels);
        Assert.Equal(5, data.NumClasses);
        Assert.Equal(["hero", "non-hero", "food", "spell", "side-facing"], data.ClassNames);
        Assert.Equal(classes, data.Labels);
        for (int n = 0; n < 37; n++)
            for (int y = 0; y < 16; y++)
                for (int x = 0; x < 16; x++)
                    for (int c = 0; c < 3; c++)
                    {
                        byte b = pixels[((n * 16 + y) * 16 + x) * 3 + c];
                        float expected = (b / 255f - 0.5f) / 0.5f;
                        Assert.Equal(expected, data.Images[((n * 3 + c) * 16 + y) * 16 + x]);
                    }
        Assert.Equal(-1f, SpritePixels.ToValue(0));
        Assert.Equal(1f, SpritePixels.ToValue(255));
        var back = new byte[16 * 16 * 3];
        data.CopyPixels(20, back);
        Assert.Equal(pixels.AsSpan(20 * 768, 768).ToArray(), back);
    }

    [Fact]
    public void LabelsMayBeFloat32OrInt64AndClassesAPlainList()
    {
        using var dir = new TempDir();
        var (images, labels, _, classes) = WriteRandomSet(dir, 10, 16, 3, 2);
        var asDouble = Npy.Read(labels).Get<double>();
        Npy.Write<float>(labels, asDouble.Select(v => (float)v).ToArray(), [10, 3]);
        Assert.Equal(classes, SpriteDataset.Load(images, labels).Labels);
        Npy.Write<long>(labels, asDouble.Select(v => (long)v).ToArray(), [10, 3]);
        File.WriteAllText(dir.File("names.txt"), "cats\ndogs\n\nbirds\n");
        var data = SpriteDataset.Load(images, labels, dir.File("names.txt"));
        Assert.Equal(classes, data.Labels);
        Assert.Equal(["cats", "dogs", "birds"], data.ClassNames);
    }

    [Fact]
    public void BadLabelsAndMismatchesAreExplained()
    {
        using var dir = new TempDir();
        var (images, labels, _, _) = WriteRandomSet(dir, 10, 16, 4, 3);
        var oneHot = Npy.Read(labels).Get<double>();

        var half = (double[])oneHot.Clone();
        Array.Clear(half, 3 * 4, 4);
        half[3 * 4] = 0.5; half[3 * 4 + 1] = 0.5;
        Npy.Write<double>(labels, half, [10, 4]);
        var e = Assert.Throws<InvalidDataException>(() => SpriteDataset.Load(images, labels));
        Assert.Contains(labels, e.Message);
        Assert.Contains("row 3 is not one-hot (0.5, 0.5, 0, 0)", e.Message);

        var zero = (double[])oneHot.Clone();
        Array.Clear(zero, 7 * 4, 4);
        Npy.Write<double>(labels, zero, [10, 4]);
        Assert.Contains("row 7 is all zeros", Assert.Throws<InvalidDataException>(() => SpriteDataset.Load(images, labels)).Message);

        Npy.Write<double>(labels, oneHot[..36], [9, 4]);
        Assert.Contains("10 images", Assert.Throws<InvalidDataException>(() => SpriteDataset.Load(images, labels)).Message);

        Npy.Write<double>(labels, oneHot, [10, 4]);
        File.WriteAllText(dir.File("classes.txt"), "a\nb\nc\n");
        Assert.Contains("names 3 classes", Assert.Throws<InvalidDataException>(() => SpriteDataset.Load(images, labels, dir.File("classes.txt"))).Message);

        Npy.Write<byte>(images, new byte[10 * 18 * 18 * 3], [10, 18, 18, 3]);
        Assert.Contains("multiple of 4", Assert.Throws<InvalidDataException>(() => SpriteDataset.Load(images, labels)).Message);
        Npy.Write<byte>(images, new byte[10 * 16 * 8 * 3], [10, 16, 8, 3]);
        Assert.Contains("square", Assert.Throws<InvalidDataException>(() => SpriteDataset.Load(images, labels)).Message);
        Npy.Write<float>(images, new float[10 * 16 * 16 * 3], [10, 16, 16, 3]);
        Assert.Contains("uint8", Assert.Throws<InvalidDataException>(() => SpriteDataset.Load(images, labels)).Message);
    }

    [Fact]
    public void OtherSquareSizesLoad()
    {
        using var dir = new TempDir();
        var (images, labels, pixels, _) = WriteRandomSet(dir, 6, 32, 2, 4);
        var data = SpriteDataset.Load(images, labels);
        Assert.Equal(32, data.ImageSize);
        Assert.Equal(6 * 3 * 32 * 32, data.Images.Length);
        Assert.Equal(["class 0", "class 1"], data.ClassNames);
        Assert.Equal((pixels[5 * 3072 + 100 * 3 + 2] / 255f - 0.5f) / 0.5f, data.Images[5 * 3072 + 2 * 1024 + 100]);
    }

    [Fact]
    public void LoadDirectoryTakesTheBundledLayoutAndTheOriginalNames()
    {
        using var dir = new TempDir();
        var (images, labels, _, classes) = WriteRandomSet(dir, 12, 16, 5, 5);
        Assert.Equal(classes, SpriteDataset.LoadDirectory(dir.Path).Labels);
        File.Move(images, dir.File(SpriteDataset.OriginalImagesFileName));
        File.Move(labels, dir.File(SpriteDataset.OriginalLabelsFileName));
        Assert.Equal(classes, SpriteDataset.LoadDirectory(dir.Path).Labels);
        Assert.Contains("no such data folder", Assert.Throws<DirectoryNotFoundException>(() => SpriteDataset.LoadDirectory(dir.File("nope"))).Message);
    }

    [Fact]
    public void LoadingStreamsInsteadOfHoldingTheFileTwice()
    {
        using var dir = new TempDir();
        var (images, labels, _, _) = WriteRandomSet(dir, 30000, 16, 5, 6);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var data = SpriteDataset.Load(images, labels);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long floats = 30000L * 768 * 4, labelsBytes = 30000L * 5 * 8 + 30000L * 4;
        Assert.Equal(30000, data.Count);
        Assert.True(allocated < floats + labelsBytes + (3 << 20), $"allocated {allocated:N0} bytes; the result itself is {floats + labelsBytes:N0}");
    }

    [Fact]
    public void SplitIsReproducibleDisjointAndNinetyTen()
    {
        using var dir = new TempDir();
        var (images, labels, _, _) = WriteRandomSet(dir, 1000, 16, 5, 7);
        var data = SpriteDataset.Load(images, labels);
        var (train, validation) = data.Split(0.1, 42);
        var (train2, validation2) = data.Split(0.1, 42);
        var (_, validation3) = data.Split(0.1, 43);
        Assert.Equal(900, train.Count);
        Assert.Equal(100, validation.Count);
        var ids = Ids(train).Concat(Ids(validation)).ToList();
        Assert.Equal(Enumerable.Range(0, 1000), ids.Order());
        Assert.Equal(Ids(validation), Ids(validation2));
        Assert.Equal(train.Images, train2.Images);
        Assert.NotEqual(Ids(validation), Ids(validation3));
        foreach (var part in new[] { train, validation })
            for (int i = 0; i < part.Count; i++)
            {
                int id = Identity(part.Image(i), 16);
                Assert.Equal(data.Labels[id], part.Labels[i]);
                Assert.True(data.Image(id).SequenceEqual(part.Image(i)));
            }

        var subset = data.Subset(50, seed: 1);
        Assert.Equal(50, subset.Count);
        Assert.Equal(Ids(subset), Ids(data.Subset(50, seed: 1)));
        Assert.Equal(50, Ids(subset).Distinct().Count());
        Assert.Same(data, data.Subset(5000));
    }

    private static List<int> Ids(SpriteDataset d) => Enumerable.Range(0, d.Count).Select(i => Identity(d.Image(i), d.ImageSize)).ToList();

    [Fact]
    public void BatchesCoverAnEpochOnceAndReproduceFromSeedAndEpoch()
    {
        using var dir = new TempDir();
        var (images, labels, _, _) = WriteRandomSet(dir, 103, 16, 4, 8);
        var data = SpriteDataset.Load(images, labels);
        var loader = new BatchLoader(data, batchSize: 10, seed: 9, flip: false, dropLast: false);
        Assert.Equal(11, loader.BatchesPerEpoch);
        var epoch0 = Epoch(loader, 0);
        Assert.Equal(Enumerable.Range(0, 103), epoch0.Order());
        var epoch1 = Epoch(loader, 1);
        Assert.Equal(Enumerable.Range(0, 103), epoch1.Order());
        Assert.NotEqual(epoch0, epoch1);
        Assert.Equal(epoch1, Epoch(loader, 1));
        var resumed = new BatchLoader(data, 10, 9, false, false);
        Assert.Equal(epoch1, Epoch(resumed, 1));
        Assert.NotEqual(epoch1, Epoch(new BatchLoader(data, 10, 10, false, false), 1));

        var dropping = new BatchLoader(data, 10, 9, false, dropLast: true);
        Assert.Equal(10, dropping.BatchesPerEpoch);
        Assert.Equal(100, Epoch(dropping, 0).Count);
        Assert.Equal("batchSize", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchLoader(data, 200, 1, false, dropLast: true)).ParamName);
    }

    private static List<int> Epoch(BatchLoader loader, int epoch)
    {
        loader.StartEpoch(epoch);
        var images = new float[loader.BatchSize * loader.ImageLength];
        var context = new float[loader.BatchSize * loader.NumClasses];
        var labels = new int[loader.BatchSize];
        var ids = new List<int>();
        int n;
        while ((n = loader.Next(images, context, labels)) > 0)
            for (int i = 0; i < n; i++)
            {
                ids.Add(Identity(images.AsSpan(i * loader.ImageLength), 16));
                for (int c = 0; c < loader.NumClasses; c++)
                    Assert.Equal(c == labels[i] ? 1f : 0f, context[i * loader.NumClasses + c]);
            }
        return ids;
    }

    [Fact]
    public void FlippingMirrorsAboutHalfTheImagesExactly()
    {
        using var dir = new TempDir();
        var (images, labels, _, _) = WriteRandomSet(dir, 200, 16, 3, 10);
        var data = SpriteDataset.Load(images, labels);
        var loader = new BatchLoader(data, 32, 1, flip: true, dropLast: false);
        var batch = new float[32 * 768];
        var context = new float[32 * 3];
        int mirrored = 0, total = 0, n;
        while ((n = loader.Next(batch, context)) > 0)
            for (int i = 0; i < n; i++, total++)
            {
                var got = batch.AsSpan(i * 768, 768);
                var original = data.Image(Identity(got, 16));
                if (got.SequenceEqual(original)) continue;
                var flipped = original.ToArray();
                for (int row = 0; row < 48; row++) flipped.AsSpan(row * 16, 16).Reverse();
                Assert.True(got.SequenceEqual(flipped), "an image is neither the original nor its mirror");
                mirrored++;
            }
        Assert.Equal(200, total);
        Assert.InRange(mirrored, 70, 130);

        var plain = new BatchLoader(data, 32, 1, flip: false, dropLast: false);
        while ((n = plain.Next(batch, context)) > 0)
            for (int i = 0; i < n; i++)
                Assert.True(batch.AsSpan(i * 768, 768).SequenceEqual(data.Image(Identity(batch.AsSpan(i * 768), 16))));
    }

    [Fact]
    public void ExemptClassesAreNeverFlippedAndTheOthersFlipAsBefore()
    {
        using var dir = new TempDir();
        var (images, labels, _, _) = WriteRandomSet(dir, 200, 16, 3, 12);
        var data = SpriteDataset.Load(images, labels);
        var exempting = new BatchLoader(data, 32, 1, flip: true, dropLast: false, noFlipClasses: [1]);
        var plain = new BatchLoader(data, 32, 1, flip: true, dropLast: false);
        var batch = new float[32 * 768];
        var plainBatch = new float[32 * 768];
        var context = new float[32 * 3];
        var ids = new int[32];
        int exemptSeen = 0, mirrored = 0;
        for (int epoch = 0; epoch < 4; epoch++)
        {
            exempting.StartEpoch(epoch);
            plain.StartEpoch(epoch);
            int n;
            while ((n = exempting.Next(batch, context, ids)) > 0)
            {
                Assert.Equal(n, plain.Next(plainBatch, context));
                for (int i = 0; i < n; i++)
                {
                    var got = batch.AsSpan(i * 768, 768);
                    var original = data.Image(Identity(got, 16));
                    if (ids[i] == 1)
                    {
                        exemptSeen++;
                        Assert.True(got.SequenceEqual(original), "an image of the exempt class was flipped");
                    }
                    else
                    {
                        // Every draw is still made, so the other classes flip exactly as without exemptions.
                        Assert.True(got.SequenceEqual(plainBatch.AsSpan(i * 768, 768)));
                        if (!got.SequenceEqual(original)) mirrored++;
                    }
                }
            }
        }
        Assert.True(exemptSeen > 100, $"only {exemptSeen} exempt images seen");
        Assert.True(mirrored > 100, $"only {mirrored} other images mirrored");
        Assert.Equal("noFlipClasses", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchLoader(data, 32, 1, true, false, [3])).ParamName);
    }

    [Fact]
    public void BatchesAllocateNothing()
    {
        using var dir = new TempDir();
        var (images, labels, _, _) = WriteRandomSet(dir, 300, 16, 5, 11);
        var loader = new BatchLoader(SpriteDataset.Load(images, labels), 64, 3, flip: true, dropLast: false);
        var batch = new float[64 * 768];
        var context = new float[64 * 5];
        while (loader.Next(batch, context) > 0) { }
        loader.StartEpoch(1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int epoch = 1; epoch < 4; epoch++)
        {
            loader.StartEpoch(epoch);
            while (loader.Next(batch, context) > 0) { }
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void TheBundledSetIsFoundAndHoldsNineClassesOfTwemoji()
    {
        string dir = BundledData.DefaultDirectory;
        Assert.EndsWith(Path.Combine("data", "twemoji16"), dir);
        var data = SpriteDataset.LoadDirectory(dir);
        Assert.Equal(3781, data.Count);
        Assert.Equal(16, data.ImageSize);
        Assert.Equal(Twemoji.Categories, data.ClassNames);
        Assert.Equal([169, 2261, 159, 131, 218, 85, 264, 224, 270], data.CountPerClass());
        Assert.True(File.Exists(Path.Combine(dir, "ATTRIBUTION.md")));
        Assert.Contains("CC-BY 4.0", File.ReadAllText(Path.Combine(dir, "ATTRIBUTION.md")));
        // The first image is the grinning face: yellow in the middle, white (composited) in the corner.
        var pixels = new byte[768];
        data.CopyPixels(0, pixels);
        Assert.Equal([255, 255, 255], pixels[..3]);
        int centre = (8 * 16 + 4) * 3;
        Assert.True(pixels[centre] > 200 && pixels[centre + 1] > 150 && pixels[centre + 2] < 100, "centre is not yellow");
    }
}
