using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SpriteDiffusion.Tests.Data;

/// <summary>
/// A minimal HTTP/1.1 file server on 127.0.0.1 for the download tests: serves byte arrays by
/// path, honours "Range: bytes=N-", and can cut a response off after a number of body bytes.
/// </summary>
internal sealed class LocalHttpServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public LocalHttpServer()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = Task.Run(AcceptLoop);
    }

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}/";
    public ConcurrentDictionary<string, byte[]> Files { get; } = new();
    /// <summary>Every request as "path range" (range empty when none).</summary>
    public ConcurrentQueue<string> Requests { get; } = new();
    /// <summary>How many of the next responses to cut off, and after how many body bytes.</summary>
    public int DropsLeft;
    public int DropAfterBytes = 1000;
    public bool IgnoreRange;

    /// <summary>A port nothing listens on (bound, then released).</summary>
    public static int ClosedPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                string head = await ReadHead(stream);
                var lines = head.Split("\r\n");
                string path = Uri.UnescapeDataString(lines[0].Split(' ')[1].TrimStart('/'));
                string? range = lines.Skip(1).FirstOrDefault(l => l.StartsWith("Range:", StringComparison.OrdinalIgnoreCase))?[6..].Trim();
                Requests.Enqueue($"{path} {range}".Trim());

                if (!Files.TryGetValue(path, out byte[]? body))
                {
                    await Send(stream, "404 Not Found", "Content-Length: 0\r\n", ReadOnlyMemory<byte>.Empty);
                    return;
                }
                long start = 0;
                if (range is not null && !IgnoreRange && range.StartsWith("bytes=") && range.EndsWith('-'))
                    start = long.Parse(range[6..^1]);
                if (start >= body.Length && start > 0)
                {
                    await Send(stream, "416 Range Not Satisfiable", $"Content-Range: bytes */{body.Length}\r\nContent-Length: 0\r\n", ReadOnlyMemory<byte>.Empty);
                    return;
                }
                var slice = body.AsMemory((int)start);
                string status = start > 0 ? "206 Partial Content" : "200 OK";
                string headers = $"Content-Length: {slice.Length}\r\n" + (start > 0 ? $"Content-Range: bytes {start}-{body.Length - 1}/{body.Length}\r\n" : "");
                if (Interlocked.Decrement(ref DropsLeft) >= 0)
                {
                    await Send(stream, status, headers, slice[..Math.Min(DropAfterBytes, slice.Length)]);
                    client.Client.LingerState = new LingerOption(true, 0); // reset, not a clean close
                    return;
                }
                await Send(stream, status, headers, slice);
            }
            catch (IOException) { }
            catch (SocketException) { }
        }
    }

    private static async Task<string> ReadHead(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (bytes.Count < 16384 && await stream.ReadAsync(one) == 1)
        {
            bytes.Add(one[0]);
            if (bytes.Count >= 4 && bytes[^1] == '\n' && bytes[^2] == '\r' && bytes[^3] == '\n' && bytes[^4] == '\r') break;
        }
        return Encoding.ASCII.GetString(bytes.ToArray());
    }

    private static async Task Send(NetworkStream stream, string status, string headers, ReadOnlyMemory<byte> body)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nConnection: close\r\nContent-Type: application/octet-stream\r\n{headers}\r\n"));
        await stream.WriteAsync(body);
        await stream.FlushAsync();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try { _loop.Wait(TimeSpan.FromSeconds(2)); } catch (AggregateException) { }
    }
}
