namespace SpriteDiffusion.Checkpoints;

/// <summary>The pretrained checkpoint that ships in the repository (models/twemoji16).</summary>
public static class PretrainedModel
{
    public static readonly string RelativePath = Path.Combine("models", "twemoji16", "model.safetensors");

    public static string? TryFind() => RepositoryFiles.FindUpward(RelativePath);

    public static string DefaultPath => TryFind() ?? throw new FileNotFoundException(
        $"no --checkpoint given and the bundled pretrained model ({RelativePath.Replace('\\', '/')}) was not found above the current folder. " +
        "Pass --checkpoint PATH (a best.safetensors from `sprites train`).");
}
