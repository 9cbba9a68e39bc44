using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Model;
using SpriteDiffusion.Tests.Data;
using SpriteDiffusion.Web;
using SpriteDiffusion.Web.Hosting;

namespace SpriteDiffusion.Tests.Serve;

/// <summary>
/// A playground over tiny untrained checkpoints in a temporary folder: in memory (TestServer) for
/// the API tests, on a real loopback port for the browser. Its bundled model is conditional with
/// three classes; an RGBA run and an unconditional run sit under its runs folder.
/// </summary>
internal sealed class PlaygroundHost : IAsyncDisposable
{
    public static readonly string[] Classes = ["cats", "dogs", "flags"];

    private PlaygroundHost(TempDir dir, WebApplication app, HttpClient client)
    {
        Dir = dir;
        App = app;
        Client = client;
    }

    public TempDir Dir { get; }
    public WebApplication App { get; }
    public HttpClient Client { get; }
    public string RunsDirectory => Dir.File("runs");
    public Playground State => App.Services.GetRequiredService<Playground>();
    public string BaseUrl => Client.BaseAddress!.ToString();

    /// <summary>Limits small enough to reach in a test; previews on every step so tests see them all.</summary>
    public static PlaygroundLimits TestLimits => new()
    {
        MaxCount = 16, MaxSteps = 50, MaxImageSteps = 200, Slots = 1, MaxWaiting = 1, KeptResults = 4, PreviewInterval = TimeSpan.Zero,
    };

    public static async Task<PlaygroundHost> StartAsync(PlaygroundLimits? limits = null, bool realServer = false)
    {
        var dir = new TempDir();
        string bundled = Write(dir.File("bundled.safetensors"), new UNetConfig(NFeat: 8, NCFeat: 3), conditional: true);
        Directory.CreateDirectory(dir.File("runs", "20260101-000000-rgba"));
        Write(dir.File("runs", "20260101-000000-rgba", "best.safetensors"), new UNetConfig(InChannels: 4, NFeat: 8, NCFeat: 3), conditional: true);
        Directory.CreateDirectory(dir.File("runs", "20250101-000000-plain"));
        Write(dir.File("runs", "20250101-000000-plain", "best.safetensors"), new UNetConfig(NFeat: 8, NCFeat: 3), conditional: false);
        var options = new PlaygroundOptions
        {
            Port = 0, BundledModel = bundled, RunsDirectory = dir.File("runs"), Limits = limits ?? TestLimits,
        };
        var app = PlaygroundApp.Create(options, builder =>
        {
            builder.Logging.ClearProviders();
            if (!realServer) builder.WebHost.UseTestServer();
        });
        await app.StartAsync();
        var client = realServer ? new HttpClient { BaseAddress = new Uri(PlaygroundApp.Addresses(app)[0]) } : app.GetTestClient();
        return new PlaygroundHost(dir, app, client);
    }

    private static string Write(string path, UNetConfig config, bool conditional)
    {
        var model = new UNet(config, seed: 5);
        Checkpoint.Save(path, model, new CheckpointInfo
        {
            Model = config, Conditional = conditional, ContextDropout = conditional ? 0.1 : 0, ClassNames = Classes,
            Epoch = 3, Alpha = config.InChannels == 4 ? CheckpointInfo.StraightAlpha : null,
        });
        return path;
    }

    /// <summary>POST /api/generate with this body; the answer's headers are in, its stream not yet read.</summary>
    public Task<HttpResponseMessage> PostGenerate(object body, CancellationToken cancel = default) =>
        Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/generate") { Content = JsonContent.Create(body) },
            HttpCompletionOption.ResponseHeadersRead, cancel);

    /// <summary>Generates and reads the whole stream; fails the test unless it ends with "done".</summary>
    public async Task<(List<ServerEvent> Events, JsonElement Done)> Generate(object body)
    {
        using var response = await PostGenerate(body);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var events = new List<ServerEvent>();
        await foreach (var e in ServerEvent.Read(response)) events.Add(e);
        Assert.Equal("done", events[^1].Name);
        return (events, events[^1].Data);
    }

    public async Task<JsonElement> GetJson(string url)
    {
        using var response = await Client.GetAsync(url);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {url}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        Dir.Dispose();
    }
}

/// <summary>One Server-Sent Event of the generation stream.</summary>
internal sealed record ServerEvent(string Name, JsonElement Data)
{
    public static async IAsyncEnumerable<ServerEvent> Read(HttpResponseMessage response,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancel = default)
    {
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var stream = await response.Content.ReadAsStreamAsync(cancel);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string name = "message";
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancel) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0) yield return new ServerEvent(name, JsonDocument.Parse(data.ToString()).RootElement.Clone());
                name = "message";
                data.Clear();
            }
            else if (line.StartsWith("event:", StringComparison.Ordinal)) name = line[6..].Trim();
            else if (line.StartsWith("data:", StringComparison.Ordinal)) data.Append(line[5..].Trim());
        }
    }
}
