using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Cli;

/// <summary>An output that would destroy an input, or a file of another kind, is refused before any work.</summary>
public class OutputGuardTests
{
    [Fact]
    public void SampleNeverWritesOverItsCheckpointOrNoiseDirectlyOrThroughALink()
    {
        using var dir = new TempDir();
        string model = TestCheckpoints.Tiny(dir, "m.safetensors");
        byte[] before = File.ReadAllBytes(model);
        File.CreateSymbolicLink(dir.File("link.png"), model);
        Directory.CreateDirectory(dir.File("sub"));
        foreach (var args in new[]
        {
            new[] { "--out", "m.safetensors" },
            ["--out", "sub/../m.safetensors"],
            ["--out", "link.png"],
            ["--out-npy", "m.safetensors"],
            ["--out", "grid.png", "--each", "e", "--sheet", "link.png"],
        })
        {
            var r = SpritesProcess.Run(dir.Path, ["sample", "--checkpoint", "m.safetensors", "--steps", "2", "--n", "1", .. args]);
            SpritesProcess.AssertCleanFailure(r, "--checkpoint reads");
            Assert.Equal(before, File.ReadAllBytes(model));
        }
        Assert.False(File.Exists(dir.File("grid.png")));
    }

    [Fact]
    public void AnExistingFileOfAnotherKindIsNotReplacedButAnEarlierPngIs()
    {
        using var dir = new TempDir();
        string model = TestCheckpoints.Tiny(dir, "m.safetensors");
        File.Copy(model, dir.File("other.png"));
        byte[] other = File.ReadAllBytes(dir.File("other.png"));
        SpritesProcess.AssertCleanFailure(
            SpritesProcess.Run(dir.Path, "sample", "--checkpoint", "m.safetensors", "--steps", "2", "--n", "1", "--out", "other.png"), "is not a PNG");
        Assert.Equal(other, File.ReadAllBytes(dir.File("other.png")));

        var first = SpritesProcess.Run(dir.Path, "sample", "--checkpoint", "m.safetensors", "--steps", "2", "--n", "1", "--out", "again.png");
        Assert.True(first.Code == 0, first.Out + first.Err);
        var second = SpritesProcess.Run(dir.Path, "sample", "--checkpoint", "m.safetensors", "--steps", "2", "--n", "1", "--seed", "3", "--out", "again.png");
        Assert.True(second.Code == 0, second.Out + second.Err);
    }

    [Fact]
    public void DataShowNeverWritesItsPreviewOverTheDataSet()
    {
        using var dir = new TempDir();
        var import = SpritesProcess.Run(dir.Path, "data", "import", Path.Combine(AppContext.BaseDirectory, "Fixtures", "Data"), "--out", "d", "--on-error", "skip");
        if (!File.Exists(dir.File("d", "images.npy")))
        {
            // No importable fixture folder: make the data set from the bundled one's first sprites instead.
            var data = SpriteDiffusion.Data.SpriteDataset.LoadDirectory(SpriteDiffusion.Data.BundledData.DefaultDirectory).Subset(12, 1);
            Directory.CreateDirectory(dir.File("d"));
            var bytes = new byte[data.Count * 16 * 16 * 3];
            for (int i = 0; i < data.Count; i++) data.CopyPixels(i, bytes.AsSpan(i * 768, 768));
            SpriteDiffusion.IO.Npy.Write<byte>(dir.File("d", "images.npy"), bytes, [data.Count, 16, 16, 3]);
            var labels = new double[data.Count * data.NumClasses];
            for (int i = 0; i < data.Count; i++) labels[i * data.NumClasses + data.Labels[i]] = 1;
            SpriteDiffusion.IO.Npy.Write<double>(dir.File("d", "labels.npy"), labels, [data.Count, data.NumClasses]);
        }
        byte[] images = File.ReadAllBytes(dir.File("d", "images.npy"));
        SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, "data", "show", "d", "-o", "d/images.npy"), "DATA reads");
        Assert.Equal(images, File.ReadAllBytes(dir.File("d", "images.npy")));
        var ok = SpritesProcess.Run(dir.Path, "data", "show", "d", "-o", "preview.png");
        Assert.True(ok.Code == 0, ok.Out + ok.Err);
    }
}
