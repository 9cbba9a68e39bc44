using SpriteDiffusion.Tests.Cli;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Serve;

/// <summary>`sprites serve` as a user runs it: refusals in the flags' words, and a server that answers at the URL it prints.</summary>
public class ServeCommandTests
{
    [Theory]
    [InlineData("--host 0.0.0.0", "--host 0.0.0.0 would let other machines use the playground")]
    [InlineData("--host 192.168.1.5", "Add --allow-remote to mean it")]
    [InlineData("--port 70000", "--port must be between 1 and 65535")]
    [InlineData("--max-count 0", "--max-count must be between 1 and 4096")]
    [InlineData("--queue -1", "--queue must be between 0 and 1000")]
    [InlineData("--checkpoint missing.safetensors", "--checkpoint missing.safetensors: no such file")]
    [InlineData("--host not-an-address --allow-remote", "'not-an-address' is not an IP address")]
    public void BadFlagsFailCleanly(string flags, string expected)
    {
        using var dir = new TempDir();
        var result = SpritesProcess.Run(dir.Path, ["serve", .. flags.Split(' ')]);
        SpritesProcess.AssertCleanFailure(result, expected);
    }

    [Fact]
    public async Task ItPrintsItsUrlAndAnswersThere()
    {
        using var dir = new TempDir();
        string checkpoint = TestCheckpoints.Tiny(dir);
        await using var server = await SpritesServer.StartAsync(dir.Path, "--checkpoint", checkpoint);
        using var client = new HttpClient { BaseAddress = new Uri(server.Url) };
        Assert.Contains("<title>SpriteDiffusion playground</title>", await client.GetStringAsync("/"));
        string models = await client.GetStringAsync("/api/models");
        Assert.Contains("\"id\":\"checkpoint\"", models);
        Assert.Contains("checkpoint: tiny.safetensors", models);
    }
}
