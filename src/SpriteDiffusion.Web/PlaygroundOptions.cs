using System.Net;

namespace SpriteDiffusion.Web;

/// <summary>Where the playground listens, which models it offers and how much work it accepts.</summary>
public sealed record PlaygroundOptions
{
    /// <summary>The port `sprites serve` listens on unless told otherwise.</summary>
    public const int DefaultPort = 5005;

    /// <summary>The address to listen on: a loopback address or "localhost" unless <see cref="AllowRemote"/>.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The TCP port; 0 lets the system choose a free one (the URL printed says which).</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>
    /// Listen on an address other machines can reach. The playground has no login, so this is
    /// never the default and the command line warns when it is set.
    /// </summary>
    public bool AllowRemote { get; init; }

    /// <summary>The folder whose sub-folders are training runs (as `sprites train` writes them).</summary>
    public string RunsDirectory { get; init; } = "runs";

    /// <summary>The bundled pretrained checkpoint, offered first; null when it is not there.</summary>
    public string? BundledModel { get; init; }

    /// <summary>One more checkpoint to offer (`sprites serve --checkpoint`); null for none.</summary>
    public string? Checkpoint { get; init; }

    /// <summary>What one request may ask for and how many run at once.</summary>
    public PlaygroundLimits Limits { get; init; } = new();

    /// <summary>Whether <paramref name="host"/> names this machine only: "localhost" or a loopback address.</summary>
    public static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>Throws an <see cref="ArgumentException"/> naming the setting that cannot work.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Host))
            throw new ArgumentException("the address to listen on is empty; 127.0.0.1 keeps the playground on this machine.", nameof(Host));
        if (!AllowRemote && !IsLoopback(Host))
            throw new ArgumentException($"listening on {Host} would let other machines use the playground, which has no login; listen on 127.0.0.1, or allow remote use explicitly.", nameof(Host));
        if (Host != "localhost" && !IPAddress.TryParse(Host.Trim('[', ']'), out _))
            throw new ArgumentException($"'{Host}' is not an IP address; give one such as 127.0.0.1 or 0.0.0.0 (or localhost).", nameof(Host));
        if (Port is < 0 or > 65535)
            throw new ArgumentOutOfRangeException(nameof(Port), $"the port must be between 1 and 65535, or 0 for any free port (got {Port}).");
        Limits.Validate();
    }
}
