using System.Net;
using System.Net.Sockets;
using System.Text;
using SpriteDiffusion.Data;
using SpriteDiffusion.IO;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Reliability;

/// <summary>Class 5: `data download` trusts neither the length, the patience nor the address of a server.</summary>
public class NetworkInputTests
{
    private static DownloadOptions Options(string baseUrl) => new()
    {
        BaseUrl = baseUrl,
        Files = [new("x.npy", [4, 4], NpyDType.UInt8)],
        ClassNames = null,
        Attempts = 1,
        RetryDelay = TimeSpan.Zero,
        // With one attempt, a timeout that fired on a loaded machine (its local server paused for
        // seconds) would end a test in the wrong error; only the headers test sets a short one.
        StallTimeout = TimeSpan.FromSeconds(60),
        HeadersTimeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>A server that answers every connection with <paramref name="respond"/> (which may never finish).</summary>
    private sealed class RawServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();

        public RawServer(Func<NetworkStream, CancellationToken, Task> respond)
        {
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    TcpClient client;
                    try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
                    catch (Exception) { return; }
                    _ = Task.Run(async () =>
                    {
                        using (client)
                            try { await respond(client.GetStream(), _stop.Token); } catch (Exception) { }
                    });
                }
            });
        }

        public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";

        public void Dispose() { _stop.Cancel(); _listener.Stop(); }
    }

    [Fact]
    public async Task AServerThatNeverSendsHeadersIsGivenUpOn()
    {
        using var server = new RawServer(async (_, stop) => await Task.Delay(Timeout.Infinite, stop));
        using var dir = new TempDir();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<IOException>(() => new DatasetDownloader(Options(server.BaseUrl) with { HeadersTimeout = TimeSpan.FromSeconds(1) }).DownloadAsync(dir.Path));
        Assert.Contains("no response headers", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ABodyLongerThanTheFileCanBeIsCutOffAndNotKept(bool announced)
    {
        long limit = DatasetDownloader.MaxBytes(new("x.npy", [4, 4], NpyDType.UInt8));
        using var server = new RawServer(async (stream, stop) =>
        {
            string head = announced
                ? $"HTTP/1.1 200 OK\r\nContent-Length: {limit * 1000}\r\nConnection: close\r\n\r\n"
                : "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), stop);
            var chunk = new byte[1 << 14];
            while (!stop.IsCancellationRequested) await stream.WriteAsync(chunk, stop); // endless
        });
        using var dir = new TempDir();
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => new DatasetDownloader(Options(server.BaseUrl)).DownloadAsync(dir.Path));
        Assert.Contains("more than the", e.Message);
        Assert.False(File.Exists(dir.File("x.npy.part")));
        Assert.False(File.Exists(dir.File("x.npy")));
    }

    [Fact]
    public async Task OnlyHttpAndHttpsAddressesAreFetched()
    {
        var random = new Random(5);
        string[] schemes = ["file", "ftp", "gopher", "javascript", "data", "ws", "HTTPX", "smb", "jar", ""];
        string[] rests = ["///etc/passwd", "//example.com/x/", ":alert(1)", "//127.0.0.1/", "relative/path/", "text/plain;base64,AAAA"];
        using var dir = new TempDir();
        int cases = 0;
        for (int i = 0; i < 150; i++, cases++)
        {
            string scheme = schemes[random.Next(schemes.Length)];
            string url = (scheme.Length == 0 ? "" : scheme + ":") + rests[random.Next(rests.Length)];
            var e = await Assert.ThrowsAsync<ArgumentException>(() => new DatasetDownloader(Options(url)).DownloadAsync(dir.File($"o{i}")));
            Assert.Equal(nameof(DownloadOptions.BaseUrl), e.ParamName);
            Assert.False(Directory.Exists(dir.File($"o{i}")));
        }
        var cli = Cli.SpritesProcess.Run(dir.Path, "data", "download", "--out", "d", "--base-url", "file:///etc/");
        Cli.SpritesProcess.AssertCleanFailure(cli, "--base-url: 'file:///etc/' is not an http:// or https:// address");
    }
}
