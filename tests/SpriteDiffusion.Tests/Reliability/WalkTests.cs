using SpriteDiffusion.Data;
using SpriteDiffusion.IO;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Reliability;

/// <summary>Class 6: walks end (every symbolic-link loop found), never open FIFOs or devices, and stay bounded.</summary>
public class WalkTests
{
    [Fact]
    public void EveryLoopIsFoundWhateverItsLengthAndHowManyThereAre()
    {
        var random = new Random(6);
        for (int trial = 0; trial < 120; trial++)
        {
            using var dir = new TempDir();
            // A random tree, then random links from deep folders back up to ancestors (loops) or across (diamonds).
            var folders = new List<string> { dir.Path };
            for (int i = 0; i < 3 + random.Next(8); i++)
            {
                string parent = folders[random.Next(folders.Count)];
                string child = Path.Combine(parent, $"d{i}");
                Directory.CreateDirectory(child);
                File.WriteAllBytes(Path.Combine(child, $"f{i}.png"), [1]);
                folders.Add(child);
            }
            int loops = random.Next(0, 3);
            for (int l = 0; l < loops; l++)
            {
                string from = folders[1 + random.Next(folders.Count - 1)];
                var ancestors = folders.Where(f => from.StartsWith(f + Path.DirectorySeparatorChar, StringComparison.Ordinal) || f == from).ToList();
                string to = ancestors[random.Next(ancestors.Count)];
                Directory.CreateSymbolicLink(Path.Combine(from, $"loop{l}"), random.Next(2) == 0 ? to : Path.GetRelativePath(from, to));
            }
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var error = Record.Exception(() => FolderWalk.Files(dir.Path));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
            if (loops > 0)
            {
                Assert.IsType<InvalidDataException>(error);
                Assert.Contains("leads back to", error!.Message);
            }
            else
            {
                Assert.Null(error);
                Assert.Equal(folders.Count - 1, FolderWalk.Files(dir.Path).Count);
            }
        }
    }

    [Fact]
    public void ManyDiamondsAreEachWalkedOnce()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("shared"));
        File.WriteAllBytes(dir.File("shared", "a.png"), [1]);
        // 30 links to one folder, each also inside a folder linked 30 times: 900 paths to one file without the once-only rule.
        for (int i = 0; i < 30; i++) Directory.CreateSymbolicLink(dir.File($"s{i}"), dir.File("shared"));
        var files = FolderWalk.Files(dir.Path);
        Assert.Single(files);
    }

    [Fact]
    public void FifosAndDevicesAreReportedNotOpened()
    {
        if (OperatingSystem.IsWindows()) return;
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("in", "cats"));
        Cases.MakeFifo(dir.File("in", "cats", "pipe.png"));
        File.CreateSymbolicLink(dir.File("in", "cats", "zero.png"), "/dev/zero");
        Assert.Throws<InvalidDataException>(() => FolderWalk.Files(dir.File("in")));
        var reported = new List<string>();
        Assert.Empty(FolderWalk.Files(dir.File("in"), reported.Add));
        Assert.Equal(2, reported.Count);
        Assert.Contains(reported, r => r.Contains("FIFO"));
        Assert.Contains(reported, r => r.Contains("a device"));
        // Import over the walk: refused (or skipped, saying so); the FIFO never blocks it.
        var e = Assert.Throws<InvalidDataException>(() => SpriteImporter.FromFolder(dir.File("in"), new ImportOptions()));
        Assert.Contains("FIFO", e.Message);
        // And as a direct input, of any reader.
        Assert.Contains("FIFO", Assert.ThrowsAny<IOException>(() => Png.Read(dir.File("in", "cats", "pipe.png"))).Message);
        Assert.Contains("a device", Assert.ThrowsAny<IOException>(() => InputFile.ReadAllText(dir.File("in", "cats", "zero.png"))).Message);
        Assert.Contains("FIFO", Assert.ThrowsAny<Exception>(() => SafetensorsFile.Read(dir.File("in", "cats", "pipe.png"))).Message);
    }
}

/// <summary>evaluate's PNG folders are read by the same rules as every input: a FIFO among the pictures is named, not opened.</summary>
public class EvaluateFolderSpecialFileTests
{
    [Fact]
    public void AFifoAmongTheRealPicturesIsOneErrorLineNotAHang()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempDir();
        var random = new Random(5);
        foreach (string side in new[] { "real", "fake" })
        {
            Directory.CreateDirectory(dir.File(side));
            for (int i = 0; i < 5; i++)
            {
                var pixels = new byte[16 * 16 * 4];
                random.NextBytes(pixels);
                for (int p = 3; p < pixels.Length; p += 4) pixels[p] = 255;
                SpriteDiffusion.IO.Png.Write(Path.Combine(dir.File(side), $"s{i}.png"), new SpriteDiffusion.IO.RgbaImage(16, 16, pixels));
            }
        }
        Cases.MakeFifo(Path.Combine(dir.File("real"), "z.png"));
        var result = Cli.SpritesProcess.Run(dir.Path, "evaluate", "--real-dir", "real", "--fake-dir", "fake", "--out", "out", "--feature-cache", "none");
        Cli.SpritesProcess.AssertCleanFailure(result, "z.png");
    }
}
