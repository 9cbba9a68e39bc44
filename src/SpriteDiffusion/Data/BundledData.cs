using SpriteDiffusion.IO;
using SpriteDiffusion.Checkpoints;

namespace SpriteDiffusion.Data;

/// <summary>
/// Finds the data set that ships in the repository (data/twemoji16) without copying it into build
/// outputs: it searches upward from the current directory and from the program's own folder.
/// </summary>
public static class BundledData
{
    /// <summary>Where the bundled data set lies relative to the repository root.</summary>
    public static readonly string RelativePath = Path.Combine("data", "twemoji16");

    /// <summary>The bundled folder, or a <see cref="DirectoryNotFoundException"/> saying how to get data.</summary>
    public static string DefaultDirectory => TryFind() ?? throw new DirectoryNotFoundException(
        $"The bundled data set ({RelativePath.Replace('\\', '/')}) was not found above the current folder or the program's folder. " +
        "Run from inside the SpriteDiffusion checkout, pass a data folder explicitly, or make one with 'sprites data import' or 'sprites data download'.");

    /// <summary>The bundled data set's folder (the one holding its images.npy), or null when it is not found.</summary>
    public static string? TryFind() =>
        RepositoryFiles.FindUpward(Path.Combine(RelativePath, SpriteDataset.ImagesFileName)) is { } images ? Path.GetDirectoryName(images) : null;
}
