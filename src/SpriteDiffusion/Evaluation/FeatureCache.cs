using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Evaluation;

/// <summary>
/// Features of image sets already seen, on disk: the real side of every evaluation of a run is the
/// same data set through the same network, and extracting it again costs as much as the generated
/// side. An entry's name is the SHA-256 of the images' exact floats and of the network's identity
/// (which must change whenever the features could: the weights file's contents, input size and
/// range, batch), so a changed data set or network can never be served stale features.
/// </summary>
public sealed class FeatureCache
{
    /// <summary>A cache kept in <paramref name="directory"/> (created when the first entry is written).</summary>
    public FeatureCache(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
    }

    /// <summary>The folder the entries live in, one .npy (float64, count x dimension) each.</summary>
    public string Directory { get; }

    /// <summary>$XDG_CACHE_HOME/spritediffusion/features, or ~/.cache/spritediffusion/features.</summary>
    public static string DefaultDirectory
    {
        get
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string root = !string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(root, "spritediffusion", "features");
        }
    }

    /// <summary>
    /// The identity of a network read from a file: <paramref name="description"/> (the settings
    /// that shape its input and output) and the SHA-256 of the file's bytes.
    /// </summary>
    public static string FileIdentity(string description, string path)
    {
        using var stream = File.OpenRead(path);
        return description + "|sha256:" + Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>
    /// The features of <paramref name="images"/> from the cache when an entry for exactly these
    /// images and <paramref name="networkIdentity"/> exists, else extracted by
    /// <paramref name="evaluator"/> and stored. <paramref name="hit"/> says which. An entry that
    /// cannot be read (damaged, another shape) is extracted again and replaced; a cache that cannot
    /// be written costs only the saving.
    /// </summary>
    public FeatureMatrix GetOrExtract(Evaluator evaluator, ImageSet images, string networkIdentity, IProgress<int>? progress, out bool hit)
    {
        ArgumentNullException.ThrowIfNull(evaluator);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentException.ThrowIfNullOrEmpty(networkIdentity);
        string path = Path.Combine(Directory, Key(images, networkIdentity, evaluator.Extractor) + ".npy");
        int dimension = evaluator.Extractor.Dimension;
        if (TryRead(path, images.Count, dimension) is { } cached)
        {
            hit = true;
            progress?.Report(images.Count);
            return cached;
        }
        hit = false;
        var features = evaluator.Extract(images, progress);
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            Npy.Write<double>(path, features.Values, [features.Count, features.Dimension]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return features;
    }

    private static FeatureMatrix? TryRead(string path, int count, int dimension)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var array = Npy.Read(path);
            if (array.Shape is not [var n, var d] || n != count || d != dimension) return null;
            return array.Data is double[] values ? new FeatureMatrix(values, count, dimension) : null;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or NotSupportedException) { return null; }
    }

    private static string Key(ImageSet images, string networkIdentity, IFeatureExtractor extractor)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"features v1|{networkIdentity}|{extractor.Name}|{extractor.Dimension}|"));
        Span<byte> shape = stackalloc byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(shape, images.Count);
        BinaryPrimitives.WriteInt32LittleEndian(shape[4..], images.Channels);
        BinaryPrimitives.WriteInt32LittleEndian(shape[8..], images.Size);
        hash.AppendData(shape);
        hash.AppendData(MemoryMarshal.AsBytes(images.Chw.AsSpan(0, images.Count * images.FloatsPerImage)));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
