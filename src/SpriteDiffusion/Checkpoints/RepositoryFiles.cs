namespace SpriteDiffusion.Checkpoints;

/// <summary>
/// Finds files that ship in the repository (the bundled data set, the pretrained model) without
/// copying them into build outputs: searches upward from the current folder, then from the program's.
/// </summary>
public static class RepositoryFiles
{
    /// <summary>
    /// The full path of <paramref name="relativePath"/> under the nearest folder that holds it, looking
    /// from the current folder upward and then from the program's folder upward; null when none does.
    /// </summary>
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
