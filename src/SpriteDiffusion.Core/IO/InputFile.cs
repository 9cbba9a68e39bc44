using System.Text;

namespace SpriteDiffusion.IO;

/// <summary>
/// Every file the tool reads goes through here, so that a FIFO (which would block forever), a
/// device (which never ends) or a folder is refused by name, and a file too large for what it is
/// meant to hold is refused before it is read into memory.
/// </summary>
public static class InputFile
{
    /// <summary>The size limit of small text inputs (configs, class names, index files, palettes).</summary>
    public const long TextLimit = 64L << 20;

    /// <summary>
    /// Throws <see cref="FileNotFoundException"/> when nothing is at <paramref name="path"/>, and
    /// <see cref="IOException"/> naming it when it is a folder or a special file.
    /// </summary>
    public static void Require(string path)
    {
        switch (FileSystemPaths.KindOf(path))
        {
            case PathKind.Missing:
                throw new FileNotFoundException($"{path}: file not found. Check the path.", path);
            case PathKind.Directory:
                throw new IOException($"{path}: is a folder, not a file; give the file's path.");
            case PathKind.Special:
                throw new IOException($"{path}: is {FileSystemPaths.DescribeSpecial(path)}, not a regular file; reading it could block or never end. Give a regular file.");
        }
    }

    /// <summary>Opens a regular file for reading, after <see cref="Require"/>.</summary>
    public static FileStream OpenRead(string path)
    {
        Require(path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
    }

    /// <summary>
    /// The whole file, after <see cref="Require"/>; throws <see cref="InvalidDataException"/> when it
    /// holds more than <paramref name="maxBytes"/> bytes (checked before, and again while, reading).
    /// </summary>
    public static byte[] ReadAllBytes(string path, long maxBytes)
    {
        using var stream = OpenRead(path);
        long length = stream.Length;
        if (length > maxBytes) throw TooLarge(path, length, maxBytes);
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        // The file may grow while it is read; what is beyond the length read is not this file's.
        return bytes;
    }

    /// <summary>The file as UTF-8 text, after <see cref="Require"/>, at most <paramref name="maxBytes"/> bytes.</summary>
    public static string ReadAllText(string path, long maxBytes = TextLimit)
    {
        byte[] bytes = ReadAllBytes(path, maxBytes);
        var text = new UTF8Encoding(false).GetString(bytes);
        return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
    }

    /// <summary>The file's lines (split at \n, \r\n or \r), after <see cref="Require"/>, at most <paramref name="maxBytes"/> bytes.</summary>
    public static string[] ReadAllLines(string path, long maxBytes = TextLimit)
    {
        string text = ReadAllText(path, maxBytes);
        if (text.Length == 0) return [];
        var lines = text.Split(["\r\n", "\n", "\r"], StringSplitOptions.None);
        return text.EndsWith('\n') || text.EndsWith('\r') ? lines[..^1] : lines;
    }

    private static InvalidDataException TooLarge(string path, long length, long max) =>
        new($"{path}: {length:N0} bytes is more than such a file can hold ({max:N0} bytes at most); it is not the file this expects, or is damaged.");
}
