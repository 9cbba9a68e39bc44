using System.Net;
using System.Text;
using System.Text.Json;

namespace SpriteDiffusion.Tests.Serve;

/// <summary>What the playground refuses, and how: 400 with a message for bad forms, 429 when busy, work stopped when the page leaves.</summary>
public class ServeLimitTests
{
    public static TheoryData<string, string, string> BadForms => new()
    {
        { """{"model":"run/../../etc"}""", "model", "unknown model 'run/../../etc'" },
        { """{"model":"/tmp/x.safetensors"}""", "model", "choose one of bundled" },
        { """{"method":"euler"}""", "method", "unknown sampler 'euler'" },
        { """{"steps":0}""", "steps", "steps must be between 1 and 50" },
        { """{"steps":51}""", "steps", "steps must be between 1 and 50" },
        { """{"method":"ddpm","steps":10}""", "steps", "DDPM visits every timestep" },
        { """{"method":"ddpm"}""", "steps", "at most 50" },
        { """{"count":0}""", "count", "count must be between 1 and 16" },
        { """{"count":17}""", "count", "count must be between 1 and 16" },
        { """{"count":16,"steps":20}""", "count", "at most 200" },
        { """{"seed":-1}""", "seed", "seed must be a whole number from 0 to 4294967295" },
        { """{"seed":4294967296}""", "seed", "seed must be a whole number" },
        { """{"seed":1.5}""", "seed", "'seed' has a value of the wrong kind" },
        { """{"count":"many"}""", "count", "'count' has a value of the wrong kind" },
        { """{"class":"birds"}""", "class", "unknown class 'birds': this model knows 'cats', 'dogs', 'flags'" },
        { """{"class":"3"}""", "class", "unknown class '3'" },
        { """{"model":"run/20250101-000000-plain","class":"cats"}""", "class", "trained without classes" },
        { """{"guidance":2}""", "guidance", "guidance steers towards a class" },
        { """{"class":"cats","guidance":51}""", "guidance", "between 0 and 50" },
        { """{"colour":"red"}""", "", "unknown field 'colour'" },
        { """[1,2]""", "", "not a JSON object" },
        { """{"steps":""", "", "not a JSON object" },
        { "", "", "the request body is empty" },
    };

    [Theory]
    [MemberData(nameof(BadForms))]
    public async Task BadFormsAre400WithAMessageNamingTheField(string body, string field, string expected)
    {
        await using var host = await PlaygroundHost.StartAsync();
        using var response = await host.Client.PostAsync("/api/generate", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains(expected, answer.GetProperty("error").GetString());
        Assert.Equal(field, answer.GetProperty("field").GetString() ?? "");
        Assert.Equal(0, (await host.GetJson("/api/queue")).GetProperty("running").GetInt32());
    }

    [Fact]
    public async Task ABodyOverTheLimitIs413()
    {
        await using var host = await PlaygroundHost.StartAsync();
        string body = "{\"model\":\"" + new string('x', 20_000) + "\"}";
        using var response = await host.Client.PostAsync("/api/generate", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("a generation form is at most", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("sprites/0.png?scale=0", "scale must be a whole number from 1 to 16")]
    [InlineData("sprites/0.png?scale=17", "scale must be a whole number from 1 to 16")]
    [InlineData("grid.png?scale=x", "scale must be a whole number")]
    [InlineData("sheet.json?atlas=unity", "atlas must be one of texturepacker, aseprite, aseprite-array")]
    [InlineData("batch.zip?scale=-2", "scale must be a whole number")]
    public async Task BadDownloadParametersAre400(string path, string expected)
    {
        await using var host = await PlaygroundHost.StartAsync();
        var (_, done) = await host.Generate(new { steps = 1, count = 1 });
        using var response = await host.Client.GetAsync($"/api/results/{done.GetProperty("id").GetString()}/{path}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/api/results/0123456789abcdef0123456789abcdef/grid.png", "no batch")]
    [InlineData("/api/results/{id}/sprites/1.png", "there is no sprite 1")]
    public async Task MissingBatchesAndSpritesAre404(string url, string expected)
    {
        await using var host = await PlaygroundHost.StartAsync();
        var (_, done) = await host.Generate(new { steps = 1, count = 1 });
        using var response = await host.Client.GetAsync(url.Replace("{id}", done.GetProperty("id").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OnlyTheLastBatchesAreKept()
    {
        await using var host = await PlaygroundHost.StartAsync();
        var (_, first) = await host.Generate(new { steps = 1, count = 1 });
        for (int i = 0; i < 4; i++) await host.Generate(new { steps = 1, count = 1, seed = i });
        using var response = await host.Client.GetAsync(first.GetProperty("grid").GetString());
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("keeps the last 4 batches", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task BeyondTheSlotAndTheQueueTheAnswerIsBusy()
    {
        await using var host = await PlaygroundHost.StartAsync();
        using var gate = new SemaphoreSlim(0);
        host.State.StepHook = (_, cancel) => gate.Wait(cancel);

        using var first = await host.PostGenerate(new { steps = 3, count = 1 });
        await using var firstEvents = ServerEvent.Read(first).GetAsyncEnumerator();
        await NextNamed(firstEvents, "started");
        using var second = await host.PostGenerate(new { steps = 3, count = 1, seed = 1 });
        await using var secondEvents = ServerEvent.Read(second).GetAsyncEnumerator();
        var queued = await NextNamed(secondEvents, "queued");
        Assert.Equal(1, queued.GetProperty("position").GetInt32());

        using var third = await host.PostGenerate(new { steps = 3, count = 1, seed = 2 });
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.NotNull(third.Headers.RetryAfter);
        string message = JsonDocument.Parse(await third.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()!;
        Assert.StartsWith("busy: 1 generation is running and 1 waiting", message);
        var queue = await host.GetJson("/api/queue");
        Assert.Equal((1, 1, 1), (queue.GetProperty("running").GetInt32(), queue.GetProperty("waiting").GetInt32(), queue.GetProperty("refused").GetInt32()));

        gate.Release(100);
        await NextNamed(firstEvents, "done");
        await NextNamed(secondEvents, "started");
        await NextNamed(secondEvents, "done");
        // The job is counted as it hands back its slot, a moment after its last event was sent.
        var settled = await WaitFor(host, q => q.GetProperty("running").GetInt32() == 0);
        Assert.Equal(2, settled.GetProperty("completed").GetInt64());
    }

    [Fact]
    public async Task AClientThatLeavesStopsItsGeneration()
    {
        await using var host = await PlaygroundHost.StartAsync();
        int stepsRun = 0;
        using var holding = new ManualResetEventSlim();
        host.State.StepHook = (done, cancel) =>
        {
            Interlocked.Exchange(ref stepsRun, done);
            holding.Set();
            // Holds the generation until it is cancelled: only the client's leaving can end it.
            cancel.WaitHandle.WaitOne(TimeSpan.FromSeconds(60));
            cancel.ThrowIfCancellationRequested();
        };
        using var leave = new CancellationTokenSource();
        var response = await host.PostGenerate(new { steps = 50, count = 4 }, leave.Token);
        Assert.True(holding.Wait(TimeSpan.FromSeconds(60)), "the generation never started");
        leave.Cancel();
        response.Dispose();

        var queue = await WaitFor(host, q => q.GetProperty("running").GetInt32() == 0);
        Assert.Equal(1, queue.GetProperty("cancelled").GetInt64());
        Assert.Equal(0, queue.GetProperty("completed").GetInt64());
        Assert.Equal(1, Volatile.Read(ref stepsRun));

        // The slot is free again.
        host.State.StepHook = null;
        await host.Generate(new { steps = 1, count = 1 });
    }

    [Fact]
    public async Task AClientThatLeavesTheQueueGivesUpItsPlace()
    {
        await using var host = await PlaygroundHost.StartAsync();
        using var gate = new SemaphoreSlim(0);
        host.State.StepHook = (_, cancel) => gate.Wait(cancel);
        using var first = await host.PostGenerate(new { steps = 2, count = 1 });
        await using var firstEvents = ServerEvent.Read(first).GetAsyncEnumerator();
        await NextNamed(firstEvents, "started");
        using var leave = new CancellationTokenSource();
        var second = await host.PostGenerate(new { steps = 2, count = 1 }, leave.Token);
        await using (var secondEvents = ServerEvent.Read(second, leave.Token).GetAsyncEnumerator())
            await NextNamed(secondEvents, "queued");
        leave.Cancel();
        second.Dispose();
        var queue = await WaitFor(host, q => q.GetProperty("waiting").GetInt32() == 0);
        Assert.Equal(1, queue.GetProperty("running").GetInt32());
        gate.Release(100);
        await NextNamed(firstEvents, "done");
    }

    [Fact]
    public async Task AFailedGenerationIsReportedInTheStreamAndFreesTheSlot()
    {
        await using var host = await PlaygroundHost.StartAsync();
        host.State.StepHook = (_, _) => throw new InvalidOperationException("the engine broke");
        using var response = await host.PostGenerate(new { steps = 2, count = 1 });
        var events = new List<ServerEvent>();
        await foreach (var e in ServerEvent.Read(response)) events.Add(e);
        Assert.Equal("error", events[^1].Name);
        Assert.Contains("the engine broke", events[^1].Data.GetProperty("error").GetString());
        var queue = await WaitFor(host, q => q.GetProperty("running").GetInt32() == 0);
        Assert.Equal((0, 1), (queue.GetProperty("running").GetInt32(), queue.GetProperty("failed").GetInt32()));
        host.State.StepHook = null;
        await host.Generate(new { steps = 1, count = 1 });
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("192.168.1.20")]
    public async Task RequestsForAnotherHostNameAreRefused(string hostName)
    {
        await using var host = await PlaygroundHost.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/models");
        request.Headers.Host = hostName;
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("answers only to addresses of this machine", await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonElement> NextNamed(IAsyncEnumerator<ServerEvent> events, string name)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await events.MoveNextAsync().AsTask().WaitAsync(timeout.Token))
            if (events.Current.Name == name) return events.Current.Data;
            else Assert.NotEqual("error", events.Current.Name);
        throw new Xunit.Sdk.XunitException($"the stream ended before a '{name}' event");
    }

    /// <summary>The queue once <paramref name="condition"/> holds (a finished job is counted as it hands back its slot, just after its last event).</summary>
    internal static async Task<JsonElement> WaitFor(PlaygroundHost host, Func<JsonElement, bool> condition)
    {
        // A deadline in time, not a count of polls: on a loaded machine a single request has taken
        // seconds, and 200 polls of 50 ms were only a few of those.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var queue = await host.GetJson("/api/queue");
            if (condition(queue)) return queue;
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"the queue never reached the expected state: {(await host.GetJson("/api/queue")).GetRawText()}");
    }
}
