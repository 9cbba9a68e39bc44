namespace SpriteDiffusion.Tests.Serve;

/// <summary>
/// A test that drives a real headless Chromium: Debian's `chromium` package (Playwright's own
/// browser downloads are not used). Skipped, saying why, where no such binary is installed.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    /// <summary>Overrides where Chromium is looked for.</summary>
    public const string Variable = "SPRITES_CHROMIUM";

    public ChromiumFactAttribute()
    {
        if (Path is null)
            Skip = $"no Chromium at /usr/bin/chromium (apt-get install chromium, as .ci/run does; or set {Variable} to a Chromium binary)";
    }

    /// <summary>The Chromium binary to launch, or null when there is none.</summary>
    public static string? Path =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } chosen ? (File.Exists(chosen) ? chosen : null)
        : File.Exists("/usr/bin/chromium") ? "/usr/bin/chromium" : null;
}
