using SpriteDiffusion.Data;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Data;

public class DownloadTests
{
    private const string ImagesName = SpriteDataset.OriginalImagesFileName;
    private const string LabelsName = SpriteDataset.OriginalLabelsFileName;

    /// <summary>Shape-valid small stand-ins for the two real files (the real images file is 70 MB).</summary>
    private static (byte[] Images, byte[] Labels) FakeFiles(int n = 40)
    {
        var rng = new Random(n);
        var pixels = new byte[n * 768];
        rng.NextBytes(pixels);
        var oneHot = new double[n * 5];
        for (int i = 0; i < n; i++) oneHot[i * 5 + rng.Next(5)] = 1;
        var a = new MemoryStream();
        Npy.Write<byte>(a, pixels, [n, 16, 16, 3]);
        var b = new MemoryStream();
        Npy.Write<double>(b, oneHot, [n, 5]);
        return (a.ToArray(), b.ToArray());
    }

    private static (byte[] Images, byte[] Labels) ServeFakeFiles(LocalHttpServer server, int n = 40)
    {
        var (images, labels) = FakeFiles(n);
        server.Files[ImagesName] = images;
        server.Files[LabelsName] = labels;
        return (images, labels);
    }

    private static DownloadOptions Options(string baseUrl, int n = 40) => new()
    {
        BaseUrl = baseUrl,
        Files =
        [
            new(ImagesName, [n, 16, 16, 3], NpyDType.UInt8),
            new(LabelsName, [n, 5], NpyDType.Float64, NpyDType.Float32, NpyDType.Int64),
        ],
        RetryDelay = TimeSpan.Zero,
        // No test here waits for a stall; a shorter one could fire on a loaded machine, whose local
        // server has paused for seconds, and its retry would add a request the tests count.
        StallTimeout = TimeSpan.FromSeconds(60),
    };

    private sealed class Recorder : IProgress<DownloadProgress>
    {
        public readonly List<DownloadProgress> Reports = [];
        public void Report(DownloadProgress value) { lock (Reports) Reports.Add(value); }
    }

    [Fact]
    public async Task DownloadsChecksAndRenamesIntoPlace()
    {
        using var server = new LocalHttpServer();
        var (images, labels) = ServeFakeFiles(server);
        using var dir = new TempDir();
        var progress = new Recorder();
        var log = new List<string>();
        await new DatasetDownloader(Options(server.BaseUrl), progress, log.Add).DownloadAsync(dir.Path);

        Assert.Equal(images, File.ReadAllBytes(dir.File(ImagesName)));
        Assert.Equal(labels, File.ReadAllBytes(dir.File(LabelsName)));
        Assert.False(File.Exists(dir.File(ImagesName + ".part")));
        Assert.Equal("*\n", File.ReadAllText(dir.File(".gitignore")));
        var data = SpriteDataset.LoadDirectory(dir.Path);
        Assert.Equal(40, data.Count);
        Assert.Equal(["hero", "non-hero", "food", "spell", "side-facing"], data.ClassNames);
        Assert.Contains(progress.Reports, r => r.FileName == ImagesName && r.BytesDone == images.Length && r.TotalBytes == images.Length);
        Assert.Equal([ImagesName, LabelsName], server.Requests.ToArray());

        // A second run finds both files complete and asks the server for nothing.
        await new DatasetDownloader(Options(server.BaseUrl), null, log.Add).DownloadAsync(dir.Path);
        Assert.Equal(2, server.Requests.Count);
        Assert.Contains(log, l => l.Contains("already here"));
    }

    [Fact]
    public async Task ADroppedConnectionIsResumedWithARangeRequest()
    {
        using var server = new LocalHttpServer { DropsLeft = 1, DropAfterBytes = 5000 };
        var (images, labels) = ServeFakeFiles(server, 60);
        using var dir = new TempDir();
        var log = new List<string>();
        await new DatasetDownloader(Options(server.BaseUrl, 60), null, log.Add).DownloadAsync(dir.Path);

        Assert.Equal(images, File.ReadAllBytes(dir.File(ImagesName)));
        Assert.Equal(labels, File.ReadAllBytes(dir.File(LabelsName)));
        Assert.Equal([ImagesName, $"{ImagesName} bytes=5000-", LabelsName], server.Requests.ToArray());
        Assert.Contains(log, l => l.Contains("dropped") && l.Contains("resuming"));
    }

    [Fact]
    public async Task APartialFileFromAnEarlierRunIsResumed()
    {
        using var server = new LocalHttpServer();
        var (images, labels) = ServeFakeFiles(server);
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File(ImagesName + ".part"), images[..3000]);
        File.WriteAllBytes(dir.File(LabelsName + ".part"), labels); // complete but never renamed
        await new DatasetDownloader(Options(server.BaseUrl)).DownloadAsync(dir.Path);
        Assert.Equal(images, File.ReadAllBytes(dir.File(ImagesName)));
        Assert.Equal(labels, File.ReadAllBytes(dir.File(LabelsName)));
        Assert.Equal([$"{ImagesName} bytes=3000-", $"{LabelsName} bytes={labels.Length}-"], server.Requests.ToArray());
    }

    [Fact]
    public async Task AServerThatIgnoresRangesStillGivesTheRightFile()
    {
        using var server = new LocalHttpServer { IgnoreRange = true };
        var (images, labels) = ServeFakeFiles(server);
        using var dir = new TempDir();
        var stale = new byte[5000];
        new Random(1).NextBytes(stale);
        File.WriteAllBytes(dir.File(ImagesName + ".part"), stale);
        await new DatasetDownloader(Options(server.BaseUrl)).DownloadAsync(dir.Path);
        Assert.Equal(images, File.ReadAllBytes(dir.File(ImagesName)));
    }

    [Fact]
    public async Task GarbageInPlaceOfTheFileIsRefusedAndNotKept()
    {
        using var server = new LocalHttpServer();
        var (_, labels) = FakeFiles();
        server.Files[ImagesName] = System.Text.Encoding.UTF8.GetBytes("<html><body>Rate limited. Try again later.</body></html>");
        server.Files[LabelsName] = labels;
        using var dir = new TempDir();
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => new DatasetDownloader(Options(server.BaseUrl)).DownloadAsync(dir.Path));
        Assert.Contains("not the expected file", e.Message);
        Assert.Contains("not a .npy file", e.Message);
        Assert.False(File.Exists(dir.File(ImagesName)));
        Assert.False(File.Exists(dir.File(ImagesName + ".part")));

        // A real .npy of the wrong shape is garbage too.
        var wrong = new MemoryStream();
        Npy.Write<byte>(wrong, new byte[10 * 768], [10, 16, 16, 3]);
        server.Files[ImagesName] = wrong.ToArray();
        e = await Assert.ThrowsAsync<InvalidDataException>(() => new DatasetDownloader(Options(server.BaseUrl)).DownloadAsync(dir.Path));
        Assert.Contains("(10, 16, 16, 3) uint8, not (40, 16, 16, 3) uint8", e.Message);
    }

    [Fact]
    public async Task AMissingFileIsAPlainHttpError()
    {
        using var server = new LocalHttpServer();
        using var dir = new TempDir();
        var e = await Assert.ThrowsAsync<IOException>(() => new DatasetDownloader(Options(server.BaseUrl)).DownloadAsync(dir.Path));
        Assert.Contains("HTTP 404", e.Message);
    }

    [Fact]
    public async Task WithoutANetworkItSaysSoPlainly()
    {
        using var dir = new TempDir();
        string url = $"http://127.0.0.1:{LocalHttpServer.ClosedPort()}/";
        var e = await Assert.ThrowsAsync<IOException>(() => new DatasetDownloader(Options(url)).DownloadAsync(dir.Path));
        Assert.Contains("Cannot reach 127.0.0.1", e.Message);
        Assert.Contains("no network", e.Message);
        Assert.Contains("data/twemoji16", e.Message);
    }

    [Fact]
    public void TheDefaultsAreTheSeedsMirrorAndShapes()
    {
        var o = new DownloadOptions();
        Assert.Equal("https://huggingface.co/datasets/ashis-palai/sprites_image_dataset/resolve/a24918819843abc0d1bee75a239024415081a87d/", o.BaseUrl);
        Assert.Equal([89400, 16, 16, 3], o.Files[0].Shape);
        Assert.Equal([NpyDType.UInt8], o.Files[0].DTypes);
        Assert.Equal([89400, 5], o.Files[1].Shape);
        Assert.Equal("sprite_labels_nc_1788_16x16.npy", o.Files[1].Name);
    }
}
