namespace SpriteDiffusion.Cli;

/// <summary>What a command writes, by its first bytes, so that an existing file of another kind is never replaced.</summary>
internal enum OutputKind { Png, Npy, Json }

/// <summary>
/// Checks a command's output paths before any work: an output must not be one of the command's
/// own inputs (also through a symbolic link or "..") nor replace an existing file of another kind
/// (a model, a data set) — a PNG over a checkpoint was exit 0 and a lost model.
/// </summary>
internal static class OutputGuard
{
    /// <summary>Throws <see cref="UserError"/> when <paramref name="output"/> names one of the inputs, or an existing file of another kind.</summary>
    /// <param name="output">The output path; null when the flag was not given.</param>
    /// <param name="flag">The flag that named it, for the message.</param>
    /// <param name="kind">What the command writes there.</param>
    /// <param name="inputs">The files the command reads, each with the flag (or argument) that named it.</param>
    public static void Check(string? output, string flag, OutputKind kind, params (string? Path, string Flag)[] inputs)
    {
        if (string.IsNullOrWhiteSpace(output)) return;
        string target = Resolve(output);
        foreach (var (path, inputFlag) in inputs)
            if (!string.IsNullOrWhiteSpace(path) && Resolve(path) == target)
                throw new UserError($"{flag} {output} is the file {inputFlag} reads; writing there would destroy it. Choose another output path.");
        if (File.Exists(target) && !IsKind(target, kind))
            throw new UserError($"{flag} {output} already exists and is not a {kind.ToString().ToUpperInvariant()} file this command would write; choose another path or remove it yourself.");
    }

    /// <summary>The full path, with symbolic links (of the file and of its folders) followed to what they point at.</summary>
    private static string Resolve(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            if (new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } file) full = file.FullName;
            string? folder = Path.GetDirectoryName(full);
            if (folder is not null && Directory.Exists(folder))
            {
                var dir = new DirectoryInfo(folder);
                string real = dir.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? dir.FullName;
                full = Path.Combine(real, Path.GetFileName(full));
            }
        }
        catch (IOException) { }
        return full;
    }

    private static bool IsKind(string path, OutputKind kind)
    {
        Span<byte> head = stackalloc byte[8];
        int n;
        try
        {
            using var stream = File.OpenRead(path);
            n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        if (n == 0) return true; // an empty file holds nothing to lose
        head = head[..n];
        return kind switch
        {
            OutputKind.Png => head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']),
            OutputKind.Npy => head.StartsWith((ReadOnlySpan<byte>)[0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y']),
            OutputKind.Json => head[0] is (byte)'{' or (byte)'[',
            _ => false,
        };
    }
}
