namespace SpriteDiffusion.Checkpoints;

/// <summary>The pretrained checkpoint that ships in the repository (models/twemoji16).</summary>
public static class PretrainedModel
{
    /// <summary>Where the bundled model lies relative to the repository root.</summary>
    public static readonly string RelativePath = Path.Combine("models", "twemoji16", "model.safetensors");

    /// <summary>The bundled model's full path, searched upward from the current folder and then from the program's; null when absent.</summary>
    public static string? TryFind() => RepositoryFiles.FindUpward(RelativePath);

    /// <summary>The bundled model's path; throws <see cref="FileNotFoundException"/>, saying to give a checkpoint, when it is not found.</summary>
    public static string DefaultPath => TryFind() ?? throw new FileNotFoundException(
        $"no checkpoint was given and the bundled pretrained model ({RelativePath.Replace('\\', '/')}) was not found above the current folder or the program's. " +
        "Give the path of a checkpoint (a best.safetensors from a training run).", RelativePath);
}
