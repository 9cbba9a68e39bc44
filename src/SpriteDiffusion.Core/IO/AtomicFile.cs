namespace SpriteDiffusion.IO;

/// <summary>
/// Writes a file so that readers only ever see the old or the complete new content: a kill
/// mid-write must never leave a user's checkpoint, data set or output half-written.
/// </summary>
public static class AtomicFile
{
    /// <summary>The suffix of every temporary file; with a leading dot and the target's name, a user can tell what one is.</summary>
    public const string TempSuffix = ".tmp";

    /// <summary>
    /// Runs <paramref name="write"/> on a temporary file beside <paramref name="path"/>, flushes it to
    /// disk and renames it over <paramref name="path"/>, creating the folder if needed. If anything
    /// throws, the temporary file is deleted and the old file, if any, is left as it was. A path that
    /// is a symbolic link writes the file the link points at (the link stays a link). Temporary files
    /// of the same target left by a killed process are removed first. Failures to write are an
    /// <see cref="IOException"/> naming <paramref name="path"/> and the reason.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("the output path is empty; give a file name.", nameof(path));
        string full = Path.GetFullPath(path);
        // Through a link to its target, so that the link is not replaced by a plain file.
        if (FileSystemPaths.KindOf(full) != PathKind.Missing || new FileInfo(full).LinkTarget is not null)
            full = FileSystemPaths.Resolve(full);
        switch (FileSystemPaths.KindOf(full))
        {
            case PathKind.Directory: throw new IOException($"{path}: is a folder; cannot write a file there. Give a file name.");
            case PathKind.Special: throw new IOException($"{path}: is {FileSystemPaths.DescribeSpecial(full)}; refusing to write to it. Give a regular file's path.");
        }
        string dir = Path.GetDirectoryName(full) ?? ".";
        string temp = Path.Combine(dir, $"{TempPrefix(full)}{Environment.ProcessId}.{Guid.NewGuid():N}{TempSuffix}");
        try
        {
            CreateFolder(dir, path);
            RemoveLeftovers(full);
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new IOException($"{path}: cannot write the file ({Reason(e)}); nothing was changed.", e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes <paramref name="bytes"/> atomically, as <see cref="Write"/>.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 without a byte-order mark, atomically, as <see cref="Write"/>.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });

    /// <summary>
    /// Creates <paramref name="dir"/> and its parents; an <see cref="IOException"/> names the part
    /// that is in the way (a file where a folder must go) or the reason it cannot be created.
    /// </summary>
    public static void CreateFolder(string dir, string? pathForErrors = null)
    {
        string shown = pathForErrors ?? dir;
        for (string? d = Path.GetFullPath(dir); d is not null; d = Path.GetDirectoryName(d))
        {
            var kind = FileSystemPaths.KindOf(d);
            if (kind == PathKind.Directory) break;
            if (kind != PathKind.Missing)
                throw new IOException($"{shown}: {d} is a file, not a folder, so nothing can be created inside it.");
        }
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{shown}: cannot create the folder {dir} ({Reason(e)}).", e);
        }
    }

    /// <summary>
    /// The leading part of the temporary files for <paramref name="target"/>: ".NAME." then the
    /// writer's process id, a random part and <see cref="TempSuffix"/>.
    /// </summary>
    public static string TempPrefix(string target) => $".{Path.GetFileName(target)}.";

    /// <summary>
    /// Deletes temporary files of <paramref name="target"/> whose writer is gone (a kill or a power
    /// cut between creating and renaming them); those of a running process are left to it.
    /// </summary>
    public static void RemoveLeftovers(string target)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(target));
        if (dir is null || !Directory.Exists(dir)) return;
        string prefix = TempPrefix(target);
        IEnumerable<string> candidates;
        try { candidates = Directory.EnumerateFiles(dir, prefix + "*" + TempSuffix).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        foreach (string file in candidates)
        {
            string middle = Path.GetFileName(file)[prefix.Length..^TempSuffix.Length];
            int dot = middle.IndexOf('.');
            if (dot <= 0 || !int.TryParse(middle.AsSpan(0, dot), out int pid) || IsRunning(pid)) continue;
            TryDelete(file);
        }
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try { using var p = System.Diagnostics.Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>The operating system's reason, without .NET's repetition of the (temporary) path.</summary>
    internal static string Reason(Exception e) => e switch
    {
        UnauthorizedAccessException => "permission denied, or a read-only file system",
        _ when (e.HResult & 0xFFFF) == 28 => "no space left on the device",
        _ when (e.HResult & 0xFFFF) == 30 => "read-only file system",
        _ when (e.HResult & 0xFFFF) == 20 => "a part of the path is a file, not a folder",
        DirectoryNotFoundException => "its folder does not exist",
        _ => e.Message,
    };

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
