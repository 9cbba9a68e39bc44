using System.Diagnostics;
using System.Text.RegularExpressions;

namespace SpriteDiffusion.Tests.Serve;

/// <summary>The real `sprites serve` in a process of its own, on a free loopback port, as a user starts it.</summary>
internal sealed class SpritesServer : IAsyncDisposable
{
    private readonly Process _process;

    private SpritesServer(Process process, string url)
    {
        _process = process;
        Url = url;
    }

    public string Url { get; }
    public int ProcessId => _process.Id;

    /// <summary>Resident memory of the server process, from /proc (Linux), in MiB.</summary>
    public double ResidentMiB()
    {
        foreach (string line in File.ReadLines($"/proc/{_process.Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(Regex.Match(line, @"\d+").Value, System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        throw new InvalidOperationException("no VmRSS line in /proc/<pid>/status");
    }

    public static async Task<SpritesServer> StartAsync(string workDir, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "sprites.dll"), "serve", "--port", "0" }.Concat(args))
            start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        var lines = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                lines.Add(line);
                if (Regex.Match(line, @"playground at (http://127\.0\.0\.1:\d+/)") is { Success: true } m)
                {
                    // Keeps reading so that a full pipe never blocks the server.
                    _ = process.StandardOutput.ReadToEndAsync();
                    _ = process.StandardError.ReadToEndAsync();
                    return new SpritesServer(process, m.Groups[1].Value);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Reported below with what it printed.
        }
        process.Kill(entireProcessTree: true);
        throw new Xunit.Sdk.XunitException("sprites serve printed no URL: " + string.Join("\n", lines) + await process.StandardError.ReadToEndAsync());
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
