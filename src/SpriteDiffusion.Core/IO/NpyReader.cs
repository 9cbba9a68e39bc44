using System.Runtime.InteropServices;

namespace SpriteDiffusion.IO;

/// <summary>
/// Streams the elements of a .npy file in chunks the caller chooses, so a large file can be
/// converted as it is read instead of being held whole in memory next to its converted copy.
/// </summary>
public sealed class NpyReader : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private long _remainingElements;

    private NpyReader(Stream stream, bool ownsStream, string name, NpyHeader header)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        Name = name;
        Header = header;
        _remainingElements = header.Count;
    }

    /// <summary>The file's path, or the name given with the stream, as messages show it.</summary>
    public string Name { get; }
    /// <summary>The file's header, already checked.</summary>
    public NpyHeader Header { get; }
    /// <summary>The file's element type; <see cref="Read"/> must ask for it.</summary>
    public NpyDType DType => Header.DType;
    /// <summary>The array's dimensions in C order.</summary>
    public int[] Shape => Header.Shape;
    /// <summary>Elements not read yet; reading more than this throws.</summary>
    public long RemainingElements => _remainingElements;

    /// <summary>
    /// Opens a .npy file and reads its header, checked against the file's length. Throws
    /// <see cref="FileNotFoundException"/>, <see cref="IOException"/> or <see cref="InvalidDataException"/>, each naming the file.
    /// </summary>
    public static NpyReader Open(string path)
    {
        var stream = OpenFile(path);
        try { return Open(stream, path, leaveOpen: false); }
        catch { stream.Dispose(); throw; }
    }

    /// <summary>A seekable stream has its length checked against the header before anything is read.</summary>
    public static NpyReader Open(Stream stream, string name, bool leaveOpen = true)
    {
        long? length = stream.CanSeek ? stream.Length - stream.Position : null;
        var header = NpyHeader.Read(stream, name, length);
        return new NpyReader(stream, !leaveOpen, name, header);
    }

    /// <summary>Reads the next elements; <typeparamref name="T"/> must be the file's element type.</summary>
    public void Read<T>(Span<T> destination) where T : unmanaged
    {
        if (NpyDTypes.Of<T>() != DType)
            throw new InvalidOperationException($"{Name} holds {DType.Name()}, not {NpyDTypes.Of<T>().Name()}.");
        ReadRaw(MemoryMarshal.AsBytes(destination));
    }

    /// <summary>Reads the next elements as raw little-endian bytes (a whole number of elements).</summary>
    public void ReadRaw(Span<byte> destination)
    {
        int itemSize = DType.ItemSize();
        if (destination.Length % itemSize != 0)
            throw new ArgumentException($"The buffer must hold whole {DType.Name()} elements.", nameof(destination));
        long elements = destination.Length / itemSize;
        if (elements > _remainingElements)
            throw new InvalidOperationException($"{Name}: asked for {elements} elements but only {_remainingElements} remain.");
        int got;
        try { got = NpyHeader.ReadFully(_stream, destination); }
        catch (IOException e)
        {
            throw new IOException($"{Name}: reading failed ({e.Message}).", e);
        }
        if (got < destination.Length)
            throw new InvalidDataException($"{Name}: the file ends before the {Header.DataBytes:N0} bytes of data its header declares. It is truncated: download or save it again.");
        _remainingElements -= elements;
    }

    /// <summary>Closes the stream, unless it was handed in to be left open.</summary>
    public void Dispose()
    {
        if (_ownsStream) _stream.Dispose();
    }

    internal static FileStream OpenFile(string path)
    {
        try
        {
            return InputFile.OpenRead(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"{path}: file not found.", path, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot open the file ({e.Message}).", e);
        }
    }
}
