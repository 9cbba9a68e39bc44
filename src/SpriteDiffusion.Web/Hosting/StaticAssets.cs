using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace SpriteDiffusion.Web.Hosting;

/// <summary>The page's files, embedded in this assembly and served from memory by exact name.</summary>
internal sealed class StaticAssets
{
    private const string Prefix = "wwwroot/";
    private static readonly Dictionary<string, string> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8", [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8", [".svg"] = "image/svg+xml", [".png"] = "image/png",
    };

    private readonly Dictionary<string, (byte[] Bytes, string Type)> _files = new(StringComparer.Ordinal);

    public StaticAssets()
    {
        var assembly = typeof(StaticAssets).Assembly;
        foreach (string resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            string name = resource[Prefix.Length..].Replace('\\', '/');
            _files[name] = (copy.ToArray(), Types.GetValueOrDefault(Path.GetExtension(name), "application/octet-stream"));
        }
    }

    /// <summary>The names served, e.g. "index.html", "app.js".</summary>
    public IEnumerable<string> Names => _files.Keys;

    public IResult Serve(string name) =>
        _files.TryGetValue(name, out var file)
            ? Results.Bytes(file.Bytes, file.Type)
            : Api.NotFound($"no page file '{name}' here; the playground is at /.");
}
