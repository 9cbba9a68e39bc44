namespace SpriteDiffusion.Web;

/// <summary>The sub-folders of the runs folder, as the server lists them; names from a browser are matched against this.</summary>
internal static class RunFolders
{
    public static IReadOnlyList<DirectoryInfo> List(string runsDirectory)
    {
        var root = new DirectoryInfo(runsDirectory);
        if (!root.Exists) return [];
        try
        {
            return root.EnumerateDirectories().OrderByDescending(d => d.Name, StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>The run folder called exactly <paramref name="name"/>, or null.</summary>
    public static DirectoryInfo? Find(string runsDirectory, string name) =>
        List(runsDirectory).FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.Ordinal));
}
