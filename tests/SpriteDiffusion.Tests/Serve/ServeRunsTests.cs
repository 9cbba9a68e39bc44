using System.Globalization;
using System.Net;
using System.Text.Json;
using SpriteDiffusion.IO;
using SpriteDiffusion.Runs;

namespace SpriteDiffusion.Tests.Serve;

/// <summary>The training tab's endpoints, over run folders laid out as `sprites train` writes them.</summary>
public class ServeRunsTests
{
    /// <summary>A run folder with epochs done of total, each taking epochSeconds, last written ago.</summary>
    internal static string WriteRun(string runs, string name, int done, int total, double epochSeconds, TimeSpan ago, bool interrupted = false)
    {
        string dir = Path.Combine(runs, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, Trainer.ConfigFile), $$"""{ "n_feat": 32, "epochs": {{total}}, "batch_size": 64, "learning_rate": 0.001, "conditional": true }""");
        var csv = "epoch,train_loss,val_loss,seconds,val_loss_ema\n" + string.Concat(Enumerable.Range(1, done).Select(e =>
            string.Create(CultureInfo.InvariantCulture, $"{e},{0.3 / e:R},{0.32 / e:R},{epochSeconds:F2},{0.31 / e:R}\n")));
        File.WriteAllText(Path.Combine(dir, Trainer.LossesFile), csv);
        var log = new List<string> { "2026-01-01 10:00:00 training n_feat=32 on 3403 images" };
        log.AddRange(Enumerable.Range(1, done).Select(e => $"2026-01-01 10:00:{e:D2} epoch {e}/{total} train_loss=0.1"));
        if (interrupted) log.Add($"2026-01-01 10:01:00 interrupted at epoch {done + 1}, batch 7: saved resume.safetensors; resume the run to continue");
        File.WriteAllLines(Path.Combine(dir, Trainer.LogFile), log);
        Png.Write(Path.Combine(dir, "samples_ddim50.png"), new RgbaImage(2, 2, new byte[16]));
        Png.Write(Path.Combine(dir, Trainer.PlotFile), new RgbaImage(3, 3, new byte[36]));
        var when = DateTime.UtcNow - ago;
        foreach (string f in Directory.GetFiles(dir)) File.SetLastWriteTimeUtc(f, when);
        return dir;
    }

    [Fact]
    public async Task RunsAreListedWithTheirStatusFromTheFilesAlone()
    {
        await using var host = await PlaygroundHost.StartAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        WriteRun(host.RunsDirectory, "live", done: 3, total: 10, epochSeconds: 20, ago: TimeSpan.FromSeconds(5));
        WriteRun(host.RunsDirectory, "done", done: 4, total: 4, epochSeconds: 20, ago: TimeSpan.FromHours(2));
        WriteRun(host.RunsDirectory, "paused", done: 2, total: 8, epochSeconds: 20, ago: TimeSpan.FromMinutes(1), interrupted: true);
        WriteRun(host.RunsDirectory, "crashed", done: 2, total: 8, epochSeconds: 20, ago: TimeSpan.FromHours(1));
        Directory.CreateDirectory(Path.Combine(host.RunsDirectory, "not-a-run"));

        var runs = (await host.GetJson("/api/runs")).GetProperty("runs").EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!);
        // A loaded machine may take seconds between writing the run and answering: the live run's
        // epoch is then that much further along, so the bounds widen by the time measured.
        double late = clock.Elapsed.TotalSeconds;
        Assert.DoesNotContain("not-a-run", runs.Keys);
        Assert.Equal("running", runs["live"].GetProperty("status").GetString());
        Assert.Equal("finished", runs["done"].GetProperty("status").GetString());
        Assert.Equal("interrupted", runs["paused"].GetProperty("status").GetString());
        Assert.Equal("stopped", runs["crashed"].GetProperty("status").GetString());

        // 7 epochs to go at 20 s each, 5 s (plus the time to answer) into the fourth: about 135 s.
        double eta = runs["live"].GetProperty("etaSeconds").GetDouble();
        Assert.InRange(eta, 134 - late, 136);
        // 3 epochs of 10 done and a quarter of the fourth: about 0.325.
        Assert.InRange(runs["live"].GetProperty("progress").GetDouble(), 0.32, 0.33 + late / 200);
        Assert.Equal(JsonValueKind.Null, runs["done"].GetProperty("etaSeconds").ValueKind);
        Assert.Equal(1.0, runs["done"].GetProperty("progress").GetDouble());
    }

    [Fact]
    public async Task ARunsDetailHasItsLossesLogAndPictures()
    {
        await using var host = await PlaygroundHost.StartAsync();
        WriteRun(host.RunsDirectory, "live", done: 3, total: 10, epochSeconds: 20, ago: TimeSpan.FromSeconds(5));
        var detail = await host.GetJson("/api/runs/live");
        var losses = detail.GetProperty("losses").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3], losses.Select(l => l.GetProperty("epoch").GetInt32()));
        Assert.Equal(0.1, losses[2].GetProperty("train").GetDouble(), 9);
        Assert.Equal(0.31 / 3, losses[2].GetProperty("validationEma").GetDouble(), 9);
        Assert.Equal(10, detail.GetProperty("config").GetProperty("epochs").GetInt32());
        Assert.StartsWith("2026-01-01 10:00:03 epoch 3/10", detail.GetProperty("log").EnumerateArray().Last().GetString());
        var images = detail.GetProperty("images").EnumerateArray().ToList();
        Assert.Equal(["samples_ddim50.png", "loss.png"], images.Select(i => i.GetProperty("name").GetString()));
        var sample = await ServeApiTests.GetPng(host, images[0].GetProperty("url").GetString()!);
        Assert.Equal(2, sample.Width);
    }

    [Fact]
    public async Task ARunWithABestCheckpointOffersItsModel()
    {
        await using var host = await PlaygroundHost.StartAsync();
        string dir = WriteRun(host.RunsDirectory, "20260101-000000-rgba", done: 1, total: 1, epochSeconds: 1, ago: TimeSpan.Zero);
        var run = (await host.GetJson("/api/runs")).GetProperty("runs").EnumerateArray().Single(r => r.GetProperty("name").GetString() == "20260101-000000-rgba");
        Assert.Equal("run/20260101-000000-rgba", run.GetProperty("model").GetString());
        Assert.True(File.Exists(Path.Combine(dir, Trainer.BestFile)));
    }

    [Theory]
    [InlineData("/api/runs/nope", "no run 'nope'")]
    [InlineData("/api/runs/..", "nothing at /api/")]
    [InlineData("/api/runs/%2E%2E%2F%2E%2E", "no run")]
    [InlineData("/api/runs/live/images/train.log", "has no picture 'train.log'")]
    [InlineData("/api/runs/live/images/..%2F..%2Fbundled.safetensors", "has no picture")]
    [InlineData("/api/runs/live/images/%2Fetc%2Fpasswd", "has no picture")]
    public async Task OnlyListedRunsAndTheirPicturesAreServed(string url, string expected)
    {
        await using var host = await PlaygroundHost.StartAsync();
        WriteRun(host.RunsDirectory, "live", done: 3, total: 10, epochSeconds: 20, ago: TimeSpan.FromSeconds(5));
        using var response = await host.Client.GetAsync(url);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task NoRunsFolderIsAnEmptyList()
    {
        await using var host = await PlaygroundHost.StartAsync();
        Directory.Delete(host.RunsDirectory, recursive: true);
        Assert.Empty((await host.GetJson("/api/runs")).GetProperty("runs").EnumerateArray());
        var models = (await host.GetJson("/api/models")).GetProperty("models").EnumerateArray();
        Assert.Equal("bundled", Assert.Single(models).GetProperty("id").GetString());
    }
}

/// <summary>The playground reads run folders it did not write: special files there must not hang it.</summary>
public class RunReportSpecialFileTests
{
    [Fact]
    public async Task FifosNamedLikeRunFilesAreSkippedNotOpened()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new SpriteDiffusion.Tests.Data.TempDir();
        string run = ServeRunsTests.WriteRun(dir.Path, "run", done: 2, total: 4, epochSeconds: 5, ago: TimeSpan.FromSeconds(1));
        foreach (string name in new[] { Trainer.ConfigFile, Trainer.LossesFile, Trainer.LogFile, "samples_fifo.png" })
        {
            string path = Path.Combine(run, name);
            File.Delete(path);
            SpriteDiffusion.Tests.Reliability.Cases.MakeFifo(path);
        }
        // Opening a FIFO for reading blocks until a writer comes: a reader that opened one would never return.
        var read = Task.Run(() =>
        {
            var report = SpriteDiffusion.Web.Runs.RunReport.Read(new DirectoryInfo(run));
            return (report.Losses.Count, report.LogTail.Count, report.Images().Select(f => f.Name).ToList());
        });
        // Only a hang guard: a loaded machine may take seconds just to start the read on the thread pool.
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(60))));
        var (losses, log, images) = await read;
        Assert.Equal(0, losses);
        Assert.Equal(0, log);
        Assert.DoesNotContain("samples_fifo.png", images);
        Assert.Contains("samples_ddim50.png", images);
    }
}
