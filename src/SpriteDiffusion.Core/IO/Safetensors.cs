using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace SpriteDiffusion.IO;

/// <summary>
/// One tensor of a safetensors file: a view on the file's bytes, converted on demand so that a
/// checkpoint can be read whatever precision it was saved in.
/// </summary>
public sealed class SafeTensor
{
    private readonly byte[] _buffer;
    private readonly int _offset;
    private readonly string _fileForErrors;

    internal SafeTensor(string name, string dtype, int[] shape, long elementCount, byte[] buffer, int offset, string fileForErrors)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
        ElementCount = elementCount;
        _buffer = buffer;
        _offset = offset;
        _fileForErrors = fileForErrors;
    }

    /// <summary>The tensor's key in the file: the PyTorch state-dict name, for a checkpoint.</summary>
    public string Name { get; }

    /// <summary>The safetensors dtype code: "F32", "F64", "F16", "BF16", "I64", "I32", "U8", ...</summary>
    public string DType { get; }

    /// <summary>The dimensions; empty for a scalar.</summary>
    public int[] Shape { get; }

    /// <summary>The number of elements, the product of <see cref="Shape"/>.</summary>
    public long ElementCount { get; }

    /// <summary>The raw little-endian bytes, for callers that need an exact copy.</summary>
    public ReadOnlySpan<byte> Bytes => _buffer.AsSpan(_offset, checked((int)(ElementCount * SafetensorsDType.Size(DType))));

    /// <summary>The values as a new float32 array, converted from whatever type the file stores.</summary>
    public float[] ToFloat32()
    {
        var result = new float[ElementCount];
        CopyFloat32To(result);
        return result;
    }

    /// <summary>
    /// Converts the values into <paramref name="dest"/>, which must hold exactly <see cref="ElementCount"/>
    /// (<see cref="ArgumentException"/> otherwise).
    /// </summary>
    public void CopyFloat32To(Span<float> dest)
    {
        if (dest.Length != ElementCount)
            throw new ArgumentException($"tensor '{Name}' has {ElementCount} elements, the destination {dest.Length}.", nameof(dest));
        var src = Bytes;
        int n = dest.Length;
        switch (DType)
        {
            case "F32":
                src.CopyTo(MemoryMarshal.AsBytes(dest));
                break;
            case "F64":
                for (int i = 0; i < n; i++) dest[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(src[(8 * i)..]);
                break;
            case "F16":
                for (int i = 0; i < n; i++) dest[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(src[(2 * i)..]);
                break;
            case "BF16":
                // bfloat16 is the upper half of a float32's bits.
                for (int i = 0; i < n; i++) dest[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]) << 16);
                break;
            default:
                for (int i = 0; i < n; i++) dest[i] = ReadInteger(src, i);
                break;
        }
    }

    /// <summary>
    /// The values as 64-bit integers. Throws <see cref="InvalidDataException"/> naming the file when the
    /// tensor holds floating-point values.
    /// </summary>
    public long[] ToInt64()
    {
        if (!SafetensorsDType.IsInteger(DType))
            throw new InvalidDataException($"{_fileForErrors}: tensor '{Name}' holds {DType} values where integers were expected. The file was not written by this program or for this purpose.");
        var src = Bytes;
        var result = new long[ElementCount];
        for (int i = 0; i < result.Length; i++) result[i] = ReadInteger(src, i);
        return result;
    }

    private long ReadInteger(ReadOnlySpan<byte> src, int i) => DType switch
    {
        "I64" => BinaryPrimitives.ReadInt64LittleEndian(src[(8 * i)..]),
        "I32" => BinaryPrimitives.ReadInt32LittleEndian(src[(4 * i)..]),
        "I16" => BinaryPrimitives.ReadInt16LittleEndian(src[(2 * i)..]),
        "I8" => (sbyte)src[i],
        "U64" => checked((long)BinaryPrimitives.ReadUInt64LittleEndian(src[(8 * i)..])),
        "U32" => BinaryPrimitives.ReadUInt32LittleEndian(src[(4 * i)..]),
        "U16" => BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]),
        "U8" or "BOOL" => src[i],
        _ => throw new InvalidOperationException($"dtype {DType} is not an integer type."),
    };

    /// <summary>Name, dtype and shape, for messages: <c>out.3.weight F32 [3, 64, 3, 3]</c>.</summary>
    public override string ToString() => $"{Name} {DType} [{string.Join(", ", Shape)}]";
}

internal static class SafetensorsDType
{
    public static int Size(string dtype) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" => 1,
        _ => 0,
    };

    public static bool IsInteger(string dtype) => dtype is "I64" or "I32" or "I16" or "I8" or "U64" or "U32" or "U16" or "U8" or "BOOL";
}

/// <summary>
/// A whole safetensors file read into memory and validated up front, so that a damaged or
/// foreign checkpoint fails with a clear message at load time rather than as garbage weights.
/// </summary>
public sealed class SafetensorsFile
{
    /// <summary>A header beyond this is not a tensor index but a damaged or hostile file.</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    private readonly Dictionary<string, SafeTensor> _tensors;

    private SafetensorsFile(string path, Dictionary<string, string> metadata, List<string> names, Dictionary<string, SafeTensor> tensors)
    {
        Path = path;
        Metadata = metadata;
        Names = names;
        _tensors = tensors;
    }

    /// <summary>The file's path, or the name given to <see cref="Parse"/>, as messages show it.</summary>
    public string Path { get; }

    /// <summary>The string pairs of the header's "__metadata__" block (empty without one): where checkpoints keep their configuration.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensor names in the order the header lists them.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Whether the file holds a tensor under <paramref name="name"/>.</summary>
    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>
    /// The tensor under <paramref name="name"/>. Throws <see cref="InvalidDataException"/> naming the
    /// file when there is none: the file was written for another model or is incomplete.
    /// </summary>
    public SafeTensor this[string name] =>
        _tensors.TryGetValue(name, out var tensor)
            ? tensor
            : throw new InvalidDataException($"{Path}: has no tensor '{name}'. The file holds {_tensors.Count} tensors; it was written for a different model or is incomplete.");

    /// <summary>
    /// Reads and validates a whole file of up to 2 GB. Throws <see cref="FileNotFoundException"/>,
    /// <see cref="IOException"/>, or <see cref="InvalidDataException"/> naming the file for anything malformed.
    /// </summary>
    public static SafetensorsFile Read(string path)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
                throw new FileNotFoundException($"{path}: file not found. Check the path.", path);
            if (info.Length > int.MaxValue)
                throw new InvalidDataException($"{path}: {info.Length} bytes is larger than this reader supports (2 GB).");
            bytes = InputFile.ReadAllBytes(path, int.MaxValue);
        }
        catch (Exception e) when (e is (IOException and not FileNotFoundException) or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot read the file ({e.Message}).", e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses an in-memory file; <paramref name="nameForErrors"/> stands for the file in messages.</summary>
    public static SafetensorsFile Parse(byte[] bytes, string nameForErrors)
    {
        string file = nameForErrors;
        const string notSafetensors = "is not a safetensors file or is damaged; re-save or re-download it";
        if (bytes.Length < 8)
            throw new InvalidDataException($"{file}: only {bytes.Length} bytes, too short for a safetensors header; the file {notSafetensors}.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderBytes)
            throw new InvalidDataException($"{file}: header length {headerLength} bytes exceeds the {MaxHeaderBytes} byte limit; the file {notSafetensors}.");
        if (8 + (long)headerLength > bytes.Length)
            throw new InvalidDataException($"{file}: header length {headerLength} bytes runs past the end of the {bytes.Length} byte file; the file is truncated or {notSafetensors}.");
        int dataStart = 8 + (int)headerLength;
        long dataLength = bytes.Length - dataStart;

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}: the header is not valid JSON ({e.Message}); the file {notSafetensors}.", e);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{file}: the header is JSON but not an object; the file {notSafetensors}.");

            var metadata = new Dictionary<string, string>();
            var names = new List<string>();
            var tensors = new Dictionary<string, SafeTensor>();
            var spans = new List<(long Begin, long End, string Name)>();
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    ReadMetadata(entry.Value, metadata, file);
                    continue;
                }
                if (tensors.ContainsKey(entry.Name))
                    throw new InvalidDataException($"{file}: tensor '{entry.Name}' is listed twice in the header; the file {notSafetensors}.");
                var (tensor, begin, end) = ReadEntry(entry, bytes, dataStart, dataLength, file);
                tensors.Add(entry.Name, tensor);
                names.Add(entry.Name);
                spans.Add((begin, end, entry.Name));
            }

            spans.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            for (int i = 1; i < spans.Count; i++)
            {
                var (prev, cur) = (spans[i - 1], spans[i]);
                if (cur.Begin < prev.End)
                    throw new InvalidDataException($"{file}: tensors '{prev.Name}' and '{cur.Name}' overlap in the data buffer; the file {notSafetensors}.");
            }
            return new SafetensorsFile(file, metadata, names, tensors);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string file)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{file}: '__metadata__' must be an object of strings.");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{file}: metadata '{item.Name}' is {item.Value.ValueKind}, not a string as safetensors requires.");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static (SafeTensor Tensor, long Begin, long End) ReadEntry(JsonProperty entry, byte[] bytes, int dataStart, long dataLength, string file)
    {
        string name = entry.Name;
        string where = $"{file}: tensor '{name}'";
        string damaged = "the file is damaged or not a safetensors file";
        var value = entry.Value;
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{where}: header entry is not an object; {damaged}.");

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"{where}: header entry has no string 'dtype'; {damaged}.");
        string dtype = dtypeElement.GetString()!;
        int elementSize = SafetensorsDType.Size(dtype);
        if (elementSize == 0)
            throw new InvalidDataException($"{where}: unknown dtype '{dtype}'. Supported: F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL.");

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{where}: header entry has no 'shape' array; {damaged}.");
        var shape = new int[shapeElement.GetArrayLength()];
        long count = 1;
        int k = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt32(out int d) || d < 0)
                throw new InvalidDataException($"{where}: shape entry {dim} is not a non-negative integer; {damaged}.");
            shape[k++] = d;
            count *= d;
            if (count > int.MaxValue)
                throw new InvalidDataException($"{where}: shape [{shapeElement}] has more elements than this reader supports; {damaged}.");
        }

        if (!value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
            throw new InvalidDataException($"{where}: header entry has no 'data_offsets' pair; {damaged}.");
        if (!offsetsElement[0].TryGetInt64(out long begin) || !offsetsElement[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw new InvalidDataException($"{where}: data_offsets {offsetsElement} are not an ordered pair of non-negative integers; {damaged}.");
        if (end > dataLength)
            throw new InvalidDataException($"{where}: data_offsets [{begin}, {end}] run past the {dataLength} byte data buffer; the file is truncated or damaged.");
        if (end - begin != count * elementSize)
            throw new InvalidDataException($"{where}: data_offsets [{begin}, {end}] span {end - begin} bytes but {dtype} [{string.Join(", ", shape)}] needs {count * elementSize}; {damaged}.");

        return (new SafeTensor(name, dtype, shape, count, bytes, dataStart + (int)begin, file), begin, end);
    }
}

/// <summary>
/// Builds a safetensors file in memory and writes it atomically, so that an interrupted save
/// never leaves a half-written checkpoint in place of a good one.
/// </summary>
public sealed class SafetensorsWriter
{
    private readonly List<(string Name, string DType, int[] Shape, byte[] Data)> _tensors = new();
    private readonly HashSet<string> _names = new();

    /// <summary>String metadata stored under "__metadata__".</summary>
    public Dictionary<string, string> Metadata { get; } = new();

    /// <summary>
    /// Adds a float32 tensor, copying <paramref name="data"/> at once. Throws <see cref="ArgumentException"/>
    /// for an empty, reserved or repeated name, or a shape that does not hold exactly the data.
    /// </summary>
    public void Add(string name, ReadOnlySpan<float> data, params int[] shape) =>
        AddRaw(name, "F32", shape, data.Length, MemoryMarshal.AsBytes(data));

    /// <summary>Adds an int64 tensor (e.g. a BatchNorm's num_batches_tracked), copying <paramref name="data"/> at once; checked as <see cref="Add"/>.</summary>
    public void AddInt64(string name, ReadOnlySpan<long> data, params int[] shape) =>
        AddRaw(name, "I64", shape, data.Length, MemoryMarshal.AsBytes(data));

    private void AddRaw(string name, string dtype, int[] shape, int length, ReadOnlySpan<byte> bytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == "__metadata__")
            throw new ArgumentException("'__metadata__' is reserved for the metadata block.", nameof(name));
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"tensor '{name}': negative dimension in shape [{string.Join(", ", shape)}].", nameof(shape));
            count *= d;
        }
        if (count != length)
            throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] holds {count} elements but {length} were given.", nameof(shape));
        if (!_names.Add(name))
            throw new ArgumentException($"tensor '{name}' was added twice.", nameof(name));
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors is little-endian; big-endian hosts are not supported.");
        _tensors.Add((name, dtype, (int[])shape.Clone(), bytes.ToArray()));
    }

    /// <summary>Writes the metadata and the tensors, in the order added, to <paramref name="path"/> atomically.</summary>
    public void Save(string path)
    {
        byte[] header = BuildHeader();
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var t in _tensors) stream.Write(t.Data);
        });
    }

    /// <summary>The JSON header, space-padded so the data buffer starts 8-byte aligned as other writers do.</summary>
    private byte[] BuildHeader()
    {
        using var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (Metadata.Count > 0)
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in Metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in _tensors)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.DType);
                w.WriteStartArray("shape");
                foreach (int d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + t.Data.Length);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += t.Data.Length;
            }
            w.WriteEndObject();
        }
        int padded = (int)((json.Length + 7) / 8 * 8);
        var header = new byte[padded];
        json.GetBuffer().AsSpan(0, (int)json.Length).CopyTo(header);
        header.AsSpan((int)json.Length).Fill((byte)' ');
        return header;
    }
}
