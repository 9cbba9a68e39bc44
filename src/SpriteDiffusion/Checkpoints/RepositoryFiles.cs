namespace SpriteDiffusion.Checkpoints;

/// <summary>
/// Finds files that ship in the repository (the bundled data set, the pretrained model) without
/// copying them into build outputs: searches upward from the current folder, then from the program's.
/// </summary>
public static class RepositoryFiles
{
    public static string? FindUpward(string relativePath)
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, relativePath);
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }
}
