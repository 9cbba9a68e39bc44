namespace SpriteDiffusion.Tests.Interop;

/// <summary>
/// A test that rewrites a committed fixture in the source tree: skipped unless
/// SPRITES_REGENERATE_FIXTURES=1, so an ordinary test run never touches the repository.
/// </summary>
public sealed class RegenerationFactAttribute : FactAttribute
{
    public const string Variable = "SPRITES_REGENERATE_FIXTURES";

    public RegenerationFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1")
            Skip = $"rewrites a committed fixture; run with {Variable}=1 to regenerate it (see tools/reference/README.md)";
    }

    /// <summary>The repository root, found by walking up from the test assembly to SpriteDiffusion.slnx.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SpriteDiffusion.slnx"))) return dir.FullName;
        throw new InvalidOperationException($"no SpriteDiffusion.slnx above {AppContext.BaseDirectory}: regenerate from a source checkout");
    }
}
