namespace SpriteDiffusion.IO;

/// <summary>
/// The files below a folder, for every walk the tool makes: links to folders are followed, but
/// each real folder is entered once, so a symbolic-link loop (of any length, or several that
/// multiply each other) ends the walk with a message instead of never ending; FIFOs, devices and
/// sockets are reported instead of read; hidden entries (".name") are skipped; the number of
/// entries is bounded, so memory is too.
/// </summary>
public static class FolderWalk
{
    /// <summary>The most entries one walk visits.</summary>
    public const int MaxEntries = 1_000_000;

    /// <summary>
    /// Regular files below <paramref name="folder"/> (recursively), in ordinal order of their paths as
    /// reached. Throws <see cref="InvalidDataException"/> naming the link for a symbolic-link loop
    /// and for more than <see cref="MaxEntries"/> entries; <paramref name="onSpecial"/> gets each
    /// special file (null: they are refused the same way).
    /// </summary>
    public static List<string> Files(string folder, Action<string>? onSpecial = null)
    {
        var files = new List<string>();
        var entered = new HashSet<string>(StringComparer.Ordinal);
        int seen = 0;
        Walk(folder, [FileSystemPaths.Resolve(folder)]);
        files.Sort(StringComparer.Ordinal);
        return files;

        void Walk(string dir, List<string> ancestors)
        {
            entered.Add(ancestors[^1]);
            List<string> entries;
            try { entries = Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal).ToList(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"{dir}: cannot list the folder ({AtomicFile.Reason(e)}).", e);
            }
            foreach (string entry in entries)
            {
                if (++seen > MaxEntries)
                    throw new InvalidDataException($"{folder}: more than {MaxEntries:N0} files and folders below it; point at a smaller folder.");
                if (Path.GetFileName(entry).StartsWith('.')) continue;
                switch (FileSystemPaths.KindOf(entry))
                {
                    case PathKind.File:
                        files.Add(entry);
                        break;
                    case PathKind.Directory:
                        string real = FileSystemPaths.Resolve(entry);
                        if (ancestors.Contains(real))
                            throw new InvalidDataException($"{entry}: a symbolic link that leads back to {real}, a folder it lies in, so the walk would never end. Remove the link.");
                        if (!entered.Contains(real)) Walk(entry, [.. ancestors, real]);
                        break;
                    case PathKind.Special:
                        string message = $"{entry}: is {FileSystemPaths.DescribeSpecial(entry)}, not a file; it is not read.";
                        if (onSpecial is null) throw new InvalidDataException(message + " Remove it from the folder.");
                        onSpecial(message);
                        break;
                    // Missing: a dangling link, nothing to read.
                }
            }
        }
    }
}
