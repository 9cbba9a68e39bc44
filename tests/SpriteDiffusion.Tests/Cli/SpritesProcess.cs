using System.Diagnostics;

namespace SpriteDiffusion.Tests.Cli;

/// <summary>Runs the real `sprites` executable from the test output folder, as a user would.</summary>
internal static class SpritesProcess
{
    public static (int Code, string Out, string Err) Run(string workDir, params string[] args) => RunWithEnvironment(workDir, null, args);

    /// <summary>As <see cref="Run"/>, with <paramref name="environment"/> set for the process only.</summary>
    public static (int Code, string Out, string Err) RunWithEnvironment(string workDir, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sprites.dll"));
        foreach (string a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(120_000), "sprites did not finish");
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>A failure a user can act on: non-zero exit, an "error:" line, no stack trace.</summary>
    public static void AssertCleanFailure((int Code, string Out, string Err) result, string expectedText)
    {
        Assert.NotEqual(0, result.Code);
        string all = result.Out + result.Err;
        Assert.Contains("error:", all);
        Assert.Contains(expectedText, all);
        Assert.DoesNotContain("   at ", all);
        Assert.DoesNotContain("Exception", all);
    }
}
