using System.Security.Cryptography;
using System.Text.RegularExpressions;
using SpriteDiffusion.IO.Pth;
using SpriteDiffusion.Onnx;

namespace SpriteDiffusion.Evaluation;

/// <summary>
/// pytorch-fid's FID Inception from the user's own weights file (pytorch-fid's
/// <see cref="FileName"/>): the file's SHA-256 is checked against the prefix in its name (torch
/// hub's convention), the state dict is read by the restricted .pth reader (no pickle code runs),
/// the network is built as an ONNX graph (<see cref="FidInceptionOnnx"/>) and run by ONNX Runtime.
/// Images go in as pytorch-fid takes them: 8-bit RGB mapped to [0, 1], resized to 299x299
/// bilinearly (align_corners=False); the graph scales them to [-1, 1].
/// </summary>
public static partial class FidInceptionFeatures
{
    /// <summary>The name metrics are labelled with: "FID (pytorch-fid Inception)".</summary>
    public const string ShortName = "pytorch-fid Inception";
    /// <summary>pytorch-fid's weights file, as torch hub caches it.</summary>
    public const string FileName = "pt_inception-2015-12-05-6726825d.pth";
    /// <summary>The start of the SHA-256 of pytorch-fid's published file, as its name gives it.</summary>
    public const string PublishedHashPrefix = "6726825d";
    /// <summary>Where pytorch-fid downloads the file from (a GitHub release of mseitzer/pytorch-fid).</summary>
    public const string DownloadUrl = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + FileName;

    /// <summary>
    /// The folders torch hub caches downloads in, in the order they are searched:
    /// $TORCH_HOME/hub/checkpoints, $XDG_CACHE_HOME/torch/hub/checkpoints, ~/.cache/torch/hub/checkpoints
    /// (each only when its variable is set, duplicates once).
    /// </summary>
    public static IReadOnlyList<string> SearchFolders()
    {
        var folders = new List<string>();
        void Add(string? root, params string[] parts)
        {
            if (string.IsNullOrWhiteSpace(root)) return;
            string folder = Path.GetFullPath(Path.Combine([root, .. parts]));
            if (!folders.Contains(folder)) folders.Add(folder);
        }
        Add(Environment.GetEnvironmentVariable("TORCH_HOME"), "hub", "checkpoints");
        Add(Environment.GetEnvironmentVariable("XDG_CACHE_HOME"), "torch", "hub", "checkpoints");
        Add(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile, Environment.SpecialFolderOption.DoNotVerify), ".cache", "torch", "hub", "checkpoints");
        return folders;
    }

    /// <summary>The path of <see cref="FileName"/> in the first of <see cref="SearchFolders"/> that holds it, or null.</summary>
    public static string? Find() =>
        SearchFolders().Select(folder => Path.Combine(folder, FileName)).FirstOrDefault(File.Exists);

    /// <summary>
    /// <see cref="Find"/>'s file; throws <see cref="FileNotFoundException"/> naming every folder
    /// searched and where pytorch-fid downloads the file from when none holds it.
    /// </summary>
    public static string FindOrThrow() =>
        Find() ?? throw new FileNotFoundException(
            $"{FileName}: pytorch-fid's Inception weights are not in the torch hub cache ({string.Join(", ", SearchFolders())}). "
            + $"pytorch-fid downloads them there on first use; or fetch {DownloadUrl} and give its path after 'inception:'.", FileName);

    /// <summary>
    /// The SHA-256 prefix a file name carries by torch hub's convention (NAME-HASH.pth, at least 8
    /// lower-case hex digits), or null when it carries none.
    /// </summary>
    public static string? HashPrefixOf(string path)
    {
        var match = HashInName().Match(Path.GetFileName(path));
        return match.Success ? match.Groups[1].Value : null;
    }

    /// <summary>
    /// Checks <paramref name="path"/>'s SHA-256 against the prefix in its name and returns the
    /// file's full SHA-256 in lower-case hex. Throws <see cref="FileNotFoundException"/> for a
    /// missing file and <see cref="InvalidDataException"/> when the name carries no prefix or the
    /// file's hash does not start with it (a damaged or cut-off download).
    /// </summary>
    public static string VerifyHash(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: file not found. Give the path of pytorch-fid's {FileName} ({DownloadUrl}).", path);
        string prefix = HashPrefixOf(path)
            ?? throw new InvalidDataException($"{path}: the file name carries no SHA-256 prefix (torch hub names a download NAME-<first hex digits of its SHA-256>.pth), "
                + $"so the file cannot be checked. Keep the name it was published under, {FileName}.");
        string sha;
        try
        {
            using var stream = File.OpenRead(path);
            sha = Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot read the weights file ({e.Message.TrimEnd('.', ' ')}).", e);
        }
        if (!sha.StartsWith(prefix, StringComparison.Ordinal))
            throw new InvalidDataException($"{path}: the file's SHA-256 is {sha[..prefix.Length]}..., but its name says {prefix}: the file is damaged or incomplete "
                + $"(an interrupted download?). Download it again from {DownloadUrl}.");
        return sha;
    }

    /// <summary>
    /// The extractor over the weights at <paramref name="weightsPath"/>, <paramref name="batchSize"/>
    /// images per ONNX Runtime call: the hash is checked (<see cref="VerifyHash"/>), the state dict
    /// read (<see cref="PthFile.Read"/>) and the graph built (<see cref="FidInceptionOnnx.Build"/>),
    /// each throwing as it documents.
    /// </summary>
    public static OnnxFeatureExtractor Create(string weightsPath, int batchSize = 16)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(weightsPath);
        string sha = VerifyHash(weightsPath);
        byte[] model = FidInceptionOnnx.Build(PthFile.Read(weightsPath));
        bool published = sha.StartsWith(PublishedHashPrefix, StringComparison.Ordinal);
        string weights = published
            ? $"pytorch-fid's published weights {Path.GetFileName(weightsPath)}"
            : $"weights {Path.GetFileName(weightsPath)} (SHA-256 {sha[..8]}..., not pytorch-fid's published {PublishedHashPrefix}...: numbers are not comparable with pytorch-fid's)";
        return new OnnxFeatureExtractor(new OnnxFeatureOptions(weightsPath)
        {
            ModelBytes = model,
            InputName = FidInceptionOnnx.InputName,
            OutputName = FidInceptionOnnx.OutputName,
            InputSize = FidInceptionOnnx.InputSize,
            InputRange = FeatureInputRange.Unit,
            BatchSize = batchSize,
            ShortName = ShortName,
            Name = $"pytorch-fid's FID Inception (Inception-v3, {FidInceptionOnnx.FeatureDimension}-d pool, "
                + $"{FidInceptionOnnx.InputSize}x{FidInceptionOnnx.InputSize} bilinear from [0, 1], ONNX Runtime) with {weights}",
        });
    }

    [GeneratedRegex("-([0-9a-f]{8,64})\\.[^.]+$")]
    private static partial Regex HashInName();
}
