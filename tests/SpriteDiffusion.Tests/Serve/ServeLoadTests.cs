using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SpriteDiffusion.Tests.Data;
using Xunit.Abstractions;

namespace SpriteDiffusion.Tests.Serve;

/// <summary>A load test that takes over a minute and both cores: run only when asked for.</summary>
public sealed class LoadTestFactAttribute : FactAttribute
{
    public const string Variable = "SPRITES_LOAD_TEST";

    public LoadTestFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1")
            Skip = $"a 60-second load test of `sprites serve`; run it with {Variable}=1";
        else if (!OperatingSystem.IsLinux())
            Skip = "reads the server's resident memory from /proc";
    }
}

/// <summary>
/// 20 clients ask `sprites serve` (the bundled model, its own process, loopback only) for
/// generations for 60 seconds. Every request must end in sprites or a clear "busy", none in a 5xx;
/// the server's memory must stay under 1 GB and settle back near its idle size; it must still answer.
/// </summary>
public class ServeLoadTests(ITestOutputHelper output)
{
    private const int Clients = 20;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(60);

    private sealed class Tally
    {
        public int Done, Busy, Other;
        public readonly ConcurrentBag<double> Seconds = [];
        public readonly ConcurrentBag<string> Problems = [];
    }

    [LoadTestFact]
    public async Task TwentyClientsForAMinute()
    {
        using var dir = new TempDir();
        await using var server = await SpritesServer.StartAsync(dir.Path, "--runs", dir.File("runs"));
        using var http = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromMinutes(3) };
        var tally = new Tally();

        // Idle means ready: one request of each kind in the mix at its largest has compiled the
        // engine's code and sized its per-thread work buffers, which a server keeps by design.
        await Ask(http, new { @class = "0", method = "ddim", count = 16, steps = 3 }, new Tally());
        await Ask(http, new { method = "dpm++2m", count = 16, steps = 3 }, new Tally());
        await Task.Delay(5000);
        double idle = server.ResidentMiB();

        double peak = idle;
        using var stop = new CancellationTokenSource();
        var watch = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, server.ResidentMiB());
                await Task.Delay(200);
            }
        });
        var clock = Stopwatch.StartNew();
        var clients = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            while (clock.Elapsed < Duration)
            {
                var form = new
                {
                    @class = random.Next(3) == 0 ? null : random.Next(9).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    method = random.Next(2) == 0 ? "ddim" : "dpm++2m",
                    steps = random.Next(5, 25), count = random.Next(1, 17), seed = random.Next(),
                };
                if (!await Ask(http, form, tally)) await Task.Delay(random.Next(250, 1000));
            }
        })).ToList();
        await Task.WhenAll(clients);
        double busySeconds = clock.Elapsed.TotalSeconds;

        // Settled: the queue empty, then a few seconds for the collector to hand memory back.
        for (int i = 0; i < 100 && (await Queue(http)).GetProperty("running").GetInt32() > 0; i++) await Task.Delay(100);
        double settled = double.MaxValue;
        for (int i = 0; i < 30 && settled > idle * 1.2; i++)
        {
            await Task.Delay(1000);
            settled = server.ResidentMiB();
        }
        await stop.CancelAsync();
        await watch;
        var queue = await Queue(http);
        bool stillAnswers = await Ask(http, new { count = 1, steps = 2 }, new Tally());

        var times = tally.Seconds.Order().ToList();
        output.WriteLine($"{Clients} clients for {busySeconds:F0} s: {tally.Done} batches generated, {tally.Busy} busy answers (429), {tally.Other} anything else");
        if (times.Count > 0)
            output.WriteLine($"time to the last sprite: median {times[times.Count / 2]:F1} s, slowest {times[^1]:F1} s (waiting in the queue included)");
        output.WriteLine($"server resident memory: idle {idle:F0} MiB, peak {peak:F0} MiB, settled {settled:F0} MiB ({(settled / idle - 1) * 100:+0;-0} %)");
        output.WriteLine($"queue counters: {queue.GetRawText()}");
        foreach (string p in tally.Problems.Distinct().Take(10)) output.WriteLine("problem: " + p);

        Assert.Empty(tally.Problems);
        Assert.True(tally.Done > 0, "no generation finished");
        Assert.True(tally.Busy > 0, "20 clients never met a busy answer: the limits did not bite");
        Assert.True(peak < 1024, $"peak resident memory {peak:F0} MiB");
        Assert.True(settled <= idle * 1.2, $"memory settled at {settled:F0} MiB, over 20 % above the idle {idle:F0} MiB");
        Assert.True(stillAnswers, "the server did not generate after the load");
    }

    /// <summary>One generation request read to its end; false when the answer was "busy".</summary>
    private static async Task<bool> Ask(HttpClient http, object form, Tally tally)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/generate") { Content = JsonContent.Create(form) };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                string body = await response.Content.ReadAsStringAsync();
                if (!body.Contains("busy:", StringComparison.Ordinal)) tally.Problems.Add("a 429 without its message: " + body);
                Interlocked.Increment(ref tally.Busy);
                return false;
            }
            if (response.StatusCode != HttpStatusCode.OK)
            {
                Interlocked.Increment(ref tally.Other);
                tally.Problems.Add($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                return false;
            }
            string? last = null;
            await foreach (var e in ServerEvent.Read(response))
            {
                last = e.Name;
                if (e.Name == "error") tally.Problems.Add("error event: " + e.Data.GetRawText());
            }
            if (last != "done")
            {
                Interlocked.Increment(ref tally.Other);
                tally.Problems.Add($"a stream that ended with '{last}'");
                return false;
            }
            Interlocked.Increment(ref tally.Done);
            tally.Seconds.Add(clock.Elapsed.TotalSeconds);
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
        {
            Interlocked.Increment(ref tally.Other);
            tally.Problems.Add($"{e.GetType().Name}: {e.Message}");
            return false;
        }
    }

    private static async Task<JsonElement> Queue(HttpClient http) =>
        JsonDocument.Parse(await http.GetStringAsync("/api/queue")).RootElement.Clone();
}
