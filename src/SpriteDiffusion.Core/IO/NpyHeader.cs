using System.Buffers.Binary;
using System.Text;

namespace SpriteDiffusion.IO;

/// <summary>What a .npy file says about its array, checked against the file's real length.</summary>
public sealed class NpyHeader
{
    /// <summary>NumPy's own reader refuses headers over 10,000 bytes by default; allow more, but never megabytes.</summary>
    public const int MaxHeaderBytes = 1 << 16;
    private const int MaxRank = 32;
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>The format's major version, 1 to 3: 2 allows headers over 64 KiB, 3 a UTF-8 header.</summary>
    public required int MajorVersion { get; init; }
    /// <summary>The format's minor version, always 0.</summary>
    public required int MinorVersion { get; init; }
    /// <summary>The element type.</summary>
    public required NpyDType DType { get; init; }
    /// <summary>The dimensions in C order; empty for a scalar.</summary>
    public required int[] Shape { get; init; }
    /// <summary>Number of elements: the product of the shape (1 for a scalar).</summary>
    public required long Count { get; init; }
    /// <summary>Offset of the first data byte from the start of the file.</summary>
    public required long DataOffset { get; init; }
    /// <summary>The size of the data in bytes: <see cref="Count"/> times the element size.</summary>
    public long DataBytes => Count * DType.ItemSize();

    /// <summary>
    /// Reads and checks the header. When <paramref name="streamLength"/> is known the declared data
    /// size must match the bytes after the header exactly, so nothing is allocated for a lie.
    /// </summary>
    public static NpyHeader Read(Stream stream, string fileName, long? streamLength)
    {
        Span<byte> preamble = stackalloc byte[12];
        if (ReadFully(stream, preamble[..10]) < 10)
            throw new InvalidDataException($"{fileName}: too short to be a .npy file. Re-download or re-save it with numpy.save.");
        if (!preamble[..6].SequenceEqual(Magic))
            throw new InvalidDataException($"{fileName}: not a .npy file (it does not start with the NumPy magic bytes). Save the array with numpy.save.");
        int major = preamble[6], minor = preamble[7];
        if (major is < 1 or > 3 || minor != 0)
            throw new InvalidDataException($"{fileName}: .npy format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are). Re-save it with numpy.save.");

        long headerLength;
        int preambleLength;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(preamble[8..10]);
            preambleLength = 10;
        }
        else
        {
            if (ReadFully(stream, preamble[10..12]) < 2)
                throw Truncated(fileName);
            headerLength = BinaryPrimitives.ReadUInt32LittleEndian(preamble[8..12]);
            preambleLength = 12;
        }
        if (headerLength > MaxHeaderBytes)
            throw new InvalidDataException($"{fileName}: the .npy header claims to be {headerLength:N0} bytes long; real headers are a few hundred. The file is damaged.");
        if (streamLength is long total && preambleLength + headerLength > total)
            throw Truncated(fileName);

        var headerBytes = new byte[headerLength];
        if (ReadFully(stream, headerBytes) < headerLength)
            throw Truncated(fileName);
        string text = Decode(headerBytes, major, fileName);
        var dict = NpyHeaderParser.ParseDict(text, fileName);
        var (dtype, fortran, shape) = Interpret(dict, fileName);

        long count = 0;
        if (!shape.Contains(0))
        {
            count = 1;
            foreach (int d in shape)
            {
                if (count > long.MaxValue / dtype.ItemSize() / d)
                    throw new InvalidDataException($"{fileName}: the shape ({string.Join(", ", shape)}) is absurdly large. The file is damaged.");
                count *= d;
            }
        }
        if (fortran && shape.Count(d => d != 1) > 1)
            throw new InvalidDataException($"{fileName}: the array is stored in Fortran (column-major) order; only C order is read. Re-save it with numpy.save(path, np.ascontiguousarray(arr)).");

        long dataOffset = preambleLength + headerLength;
        var header = new NpyHeader
        {
            MajorVersion = major, MinorVersion = minor, DType = dtype, Shape = shape,
            Count = count, DataOffset = dataOffset,
        };
        if (streamLength is long length)
        {
            long available = length - dataOffset;
            if (header.DataBytes > available)
                throw new InvalidDataException($"{fileName}: the header declares {dtype.Name()} data of shape ({string.Join(", ", shape)}), {header.DataBytes:N0} bytes, but the file holds only {available:N0} bytes after the header. It is truncated or damaged: download or save it again.");
            if (header.DataBytes < available)
                throw new InvalidDataException($"{fileName}: the file has {available - header.DataBytes:N0} bytes more than its header declares (shape ({string.Join(", ", shape)}), {dtype.Name()}). It is damaged: download or save it again.");
        }
        return header;
    }

    /// <summary>The preamble and padded header NumPy would write for this array.</summary>
    public static byte[] Format(NpyDType dtype, ReadOnlySpan<int> shape)
    {
        foreach (int d in shape)
            if (d < 0) throw new ArgumentException("Shape dimensions must be non-negative.", nameof(shape));
        string shapeText = shape.Length switch
        {
            0 => "()",
            1 => $"({shape[0]},)",
            _ => "(" + string.Join(", ", shape.ToArray()) + ")",
        };
        string dict = $"{{'descr': '{dtype.Descr()}', 'fortran_order': False, 'shape': {shapeText}, }}";
        // Pad with spaces and a final newline so data starts on a 64-byte boundary, as NumPy does.
        int major = dict.Length + 1 + 10 <= ushort.MaxValue ? 1 : 2;
        int preambleLength = major == 1 ? 10 : 12;
        int total = (preambleLength + dict.Length + 1 + 63) / 64 * 64;
        int headerLength = total - preambleLength;
        var bytes = new byte[total];
        Magic.CopyTo(bytes);
        bytes[6] = (byte)major;
        bytes[7] = 0;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)headerLength);
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)headerLength);
        var body = bytes.AsSpan(preambleLength);
        body.Fill((byte)' ');
        Encoding.ASCII.GetBytes(dict, body);
        body[^1] = (byte)'\n';
        return bytes;
    }

    private static string Decode(byte[] bytes, int major, string fileName)
    {
        if (major < 3)
            return Encoding.Latin1.GetString(bytes);
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException)
        {
            throw new InvalidDataException($"{fileName}: the .npy header is not valid UTF-8. The file is damaged.");
        }
    }

    private static (NpyDType, bool, int[]) Interpret(Dictionary<string, object?> dict, string fileName)
    {
        if (dict.Count != 3 || !dict.ContainsKey("descr") || !dict.ContainsKey("fortran_order") || !dict.ContainsKey("shape"))
            throw new InvalidDataException($"{fileName}: the .npy header must hold exactly the keys 'descr', 'fortran_order' and 'shape' (found: {NpyDTypes.Printable(string.Join(", ", dict.Keys))}). Re-save it with numpy.save.");
        if (dict["descr"] is not string descr)
            throw new InvalidDataException($"{fileName}: unsupported dtype (a structured or non-string 'descr'); supported are uint8, int64, float32 and float64.");
        var dtype = NpyDTypes.Parse(descr, fileName);
        if (dict["fortran_order"] is not bool fortran)
            throw new InvalidDataException($"{fileName}: the .npy header's 'fortran_order' is not True or False. The file is damaged.");
        if (dict["shape"] is not PyTuple tuple)
            throw new InvalidDataException($"{fileName}: the .npy header's 'shape' is not a tuple. The file is damaged.");
        if (tuple.Items.Count > MaxRank)
            throw new InvalidDataException($"{fileName}: the shape has {tuple.Items.Count} dimensions; at most {MaxRank} are read. The file is damaged.");
        var shape = new int[tuple.Items.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            if (tuple.Items[i] is not long d || d < 0)
                throw new InvalidDataException($"{fileName}: the shape's dimension {i} is not a non-negative integer. The file is damaged.");
            if (d > int.MaxValue)
                throw new InvalidDataException($"{fileName}: the shape's dimension {i} is {d:N0}, absurdly large. The file is damaged.");
            shape[i] = (int)d;
        }
        return (dtype, fortran, shape);
    }

    /// <summary>Bytes read: fewer than asked only where the stream ends.</summary>
    internal static int ReadFully(Stream stream, Span<byte> buffer) =>
        stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);

    internal static InvalidDataException Truncated(string fileName) =>
        new($"{fileName}: the file ends inside its .npy header. It is truncated: download or save it again.");
}
