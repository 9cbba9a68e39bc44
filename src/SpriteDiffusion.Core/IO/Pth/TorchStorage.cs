namespace SpriteDiffusion.IO.Pth;

/// <summary>One of torch's typed storage classes: its element type and what the reader turns it into.</summary>
internal sealed class StorageKind
{
    private StorageKind(TorchGlobal global, string dtype, int elementSize, PthDType output)
    {
        Global = global;
        DType = dtype;
        ElementSize = elementSize;
        Output = output;
    }

    public TorchGlobal Global { get; }

    /// <summary>The element type as PyTorch names it ("float32", "int64", ...).</summary>
    public string DType { get; }

    public int ElementSize { get; }

    public PthDType Output { get; }

    private static readonly StorageKind[] Kinds =
    [
        new(TorchGlobal.FloatStorage, "float32", 4, PthDType.Float32),
        new(TorchGlobal.DoubleStorage, "float64", 8, PthDType.Float32),
        new(TorchGlobal.HalfStorage, "float16", 2, PthDType.Float32),
        new(TorchGlobal.BFloat16Storage, "bfloat16", 2, PthDType.Float32),
        new(TorchGlobal.LongStorage, "int64", 8, PthDType.Int64),
        new(TorchGlobal.IntStorage, "int32", 4, PthDType.Int64),
    ];

    /// <summary>For messages: which storage types the reader accepts.</summary>
    public const string Supported =
        "torch.FloatStorage (float32), torch.DoubleStorage (float64, rounded to float32), torch.HalfStorage (float16), " +
        "torch.BFloat16Storage (bfloat16), torch.LongStorage (int64) and torch.IntStorage (int32, widened to int64)";

    public static StorageKind? For(TorchGlobal global) => Array.Find(Kinds, k => k.Global == global);
}

/// <summary>
/// One storage of the file under its key. Several tensors may share it, so its bytes are read once
/// and every tensor copies its own elements out.
/// </summary>
internal sealed class StorageInfo(string key, StorageKind kind, long numel)
{
    public string Key { get; } = key;

    public StorageKind Kind { get; } = kind;

    /// <summary>Elements, as the persistent id states them; the stored bytes must agree.</summary>
    public long Numel { get; } = numel;

    public byte[]? Bytes { get; private set; }

    public int ByteOffset { get; private set; }

    public void SetBytes(byte[] bytes, int byteOffset)
    {
        Bytes = bytes;
        ByteOffset = byteOffset;
    }
}

/// <summary>
/// What a persistent id stands for: a whole storage or, in old legacy files, a window of one
/// (torch's view_metadata), counted in elements.
/// </summary>
internal sealed class StorageRef(StorageInfo root, long offset, long length)
{
    public StorageInfo Root { get; } = root;

    public long Offset { get; } = offset;

    public long Length { get; } = length;
}

/// <summary>
/// A tensor as _rebuild_tensor_v2 describes it: a strided view of a storage. Its values are copied
/// out only after every storage is read, since a legacy file stores them after the pickle.
/// </summary>
internal sealed class TensorRef(StorageRef storage, long offset, int[] size, long[] stride, long elementCount)
{
    public StorageRef Storage { get; } = storage;

    public long Offset { get; } = offset;

    public int[] Size { get; } = size;

    public long[] Stride { get; } = stride;

    public long ElementCount { get; } = elementCount;

    public string ShapeText => "[" + string.Join(", ", Size) + "]";
}
