using System.Diagnostics;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Reliability;

/// <summary>Helpers the reliability tests share: generated names and paths, FIFOs, the root check.</summary>
internal static class Cases
{
    public static bool IsRoot => !OperatingSystem.IsWindows() && Environment.UserName == "root";

    /// <summary>A FIFO at <paramref name="path"/> (mkfifo), which blocks whoever opens it for reading.</summary>
    public static void MakeFifo(string path)
    {
        using var p = Process.Start(new ProcessStartInfo("mkfifo", [path]) { RedirectStandardError = true })!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    /// <summary>
    /// Spellings of <paramref name="file"/> (inside <paramref name="dir"/>) that all name the same file:
    /// plain, with "." and "..", through links to it, to its folder, and chains of links.
    /// </summary>
    public static List<string> Aliases(TempDir dir, string file, Random random, int count)
    {
        string name = Path.GetFileName(file);
        Directory.CreateDirectory(dir.File("sub", "deeper"));
        var result = new List<string> { file, dir.File("sub", "..", name), dir.File("sub", "deeper", "..", "..", ".", name) };
        for (int i = 0; result.Count < count; i++)
        {
            string link = dir.File($"link{i}_{random.Next(1000)}");
            switch (random.Next(4))
            {
                case 0: File.CreateSymbolicLink(link, file); result.Add(link); break;
                case 1: Directory.CreateSymbolicLink(link, dir.Path); result.Add(Path.Combine(link, name)); break;
                case 2:
                    string first = link + "a";
                    File.CreateSymbolicLink(first, file);
                    File.CreateSymbolicLink(link, Path.GetFileName(first)); // relative, a chain of two
                    result.Add(link);
                    break;
                default:
                    Directory.CreateSymbolicLink(link, dir.File("sub"));
                    result.Add(Path.Combine(link, "deeper", "..", "..", name));
                    break;
            }
        }
        return result;
    }

    /// <summary>A random file name that is not one of ours.</summary>
    public static string FreshName(Random random, string extension) => $"out_{random.Next(1_000_000)}_{random.Next(1000)}{extension}";
}

/// <summary>A test that needs a folder it cannot write, which root always can; skipped, saying so, as root.</summary>
internal sealed class NotRootFactAttribute : FactAttribute
{
    public NotRootFactAttribute()
    {
        if (Cases.IsRoot) Skip = "running as root, who may write into any folder: write failures are covered by the paths under a regular file";
    }
}
