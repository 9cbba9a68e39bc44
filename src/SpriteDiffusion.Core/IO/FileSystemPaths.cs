using System.Runtime.InteropServices;

namespace SpriteDiffusion.IO;

/// <summary>What a path names, after following symbolic links.</summary>
public enum PathKind
{
    /// <summary>Nothing exists there (or a link points nowhere).</summary>
    Missing,
    /// <summary>A regular file.</summary>
    File,
    /// <summary>A folder.</summary>
    Directory,
    /// <summary>A FIFO, a device, a socket: reading one can block forever or never end, writing one can reach hardware.</summary>
    Special,
}

/// <summary>
/// The facts about paths that keep a user's files safe: what a path really names (links and ".."
/// resolved), and whether it is a regular file, a folder or something special. .NET reports a
/// FIFO or a device as an ordinary file, and opening a FIFO blocks until someone writes to it, so
/// the kind comes from stat(2).
/// </summary>
public static unsafe partial class FileSystemPaths
{
    private const int MaxLinkHops = 40;

    /// <summary>The kind of what <paramref name="path"/> names, following symbolic links.</summary>
    public static PathKind KindOf(string path)
    {
        if (string.IsNullOrEmpty(path)) return PathKind.Missing;
        if (StatMode(path) is int mode)
            return (mode & 0xF000) switch
            {
                0x8000 => PathKind.File,
                0x4000 => PathKind.Directory,
                _ => PathKind.Special,
            };
        return Directory.Exists(path) ? PathKind.Directory : File.Exists(path) ? PathKind.File : PathKind.Missing;
    }

    /// <summary>A short name for a special file's kind ("a FIFO", "a device"), for messages.</summary>
    public static string DescribeSpecial(string path) => (StatMode(path) & 0xF000) switch
    {
        0x1000 => "a FIFO (named pipe)",
        0x2000 or 0x6000 => "a device",
        0xC000 => "a socket",
        _ => "not a regular file",
    };

    /// <summary>Whether the path lies in a system folder of devices or kernel state (/dev, /proc, /sys), where nothing of ours belongs.</summary>
    public static bool IsSystemPath(string path)
    {
        if (OperatingSystem.IsWindows()) return false;
        string real = Resolve(path);
        return new[] { "/dev", "/proc", "/sys" }.Any(root => real == root || real.StartsWith(root + "/", StringComparison.Ordinal));
    }

    /// <summary>
    /// The absolute path with every symbolic link (of the file and of its folders) and every "." and
    /// ".." resolved; the part that does not exist yet is appended as given. Two paths name the same
    /// file exactly when their resolved forms are equal (hard links aside).
    /// </summary>
    public static string Resolve(string path)
    {
        string full = Path.GetFullPath(path);
        for (int hop = 0; hop < MaxLinkHops; hop++)
        {
            if (RealPath(full) is { } real) return real;
            // The last part does not resolve: a dangling link, or a name still to be created.
            string? parent = Path.GetDirectoryName(full);
            string name = Path.GetFileName(full);
            if (parent is null || name.Length == 0) return full;
            string resolvedParent = Resolve(parent);
            string candidate = Path.Combine(resolvedParent, name);
            string? target;
            try { target = new FileInfo(candidate).LinkTarget; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { target = null; }
            if (target is null) return candidate;
            full = Path.GetFullPath(target, resolvedParent);
        }
        return full;
    }

    /// <summary>Whether <paramref name="inner"/> is <paramref name="outer"/> or lies inside it, both resolved.</summary>
    public static bool IsWithin(string inner, string outer)
    {
        string a = Resolve(inner), b = Path.TrimEndingDirectorySeparator(Resolve(outer));
        return a == b || a.StartsWith(b + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    private static string? RealPath(string path)
    {
        if (OperatingSystem.IsWindows())
            return System.IO.File.Exists(path) || System.IO.Directory.Exists(path) ? path : null;
        try
        {
            nint result = realpath(path, 0);
            if (result == 0) return null;
            try { return Marshal.PtrToStringUTF8(result); }
            finally { free(result); }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return System.IO.File.Exists(path) || System.IO.Directory.Exists(path) ? path : null;
        }
    }

    /// <summary>st_mode through .NET's own native shim, whose FileStatus layout is the same on every Unix (Mode is its second int).</summary>
    private static int? StatMode(string path)
    {
        if (OperatingSystem.IsWindows()) return null;
        byte* status = stackalloc byte[512];
        try { return SystemNativeStat(path, status) == 0 ? *(int*)(status + 4) : null; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return null; }
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint realpath(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void free(nint pointer);

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SystemNativeStat(string path, byte* output);
}
