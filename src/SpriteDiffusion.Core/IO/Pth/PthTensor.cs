namespace SpriteDiffusion.IO.Pth;

/// <summary>The element type of a tensor read from a .pth file, after conversion.</summary>
public enum PthDType
{
    /// <summary>32-bit floats (safetensors "F32"): float32 storages, and float64, float16 and bfloat16 ones converted.</summary>
    Float32,

    /// <summary>64-bit integers (safetensors "I64"): int64 storages, and int32 ones widened.</summary>
    Int64,
}

/// <summary>
/// One entry of a .pth state dict: its values copied out of the file's storage into a contiguous
/// row-major (C-order) array, whatever offset and strides the file gave the tensor.
/// </summary>
public sealed class PthTensor
{
    private readonly string _file;
    private readonly int[] _shape;
    private readonly float[]? _float32;
    private readonly long[]? _int64;

    internal PthTensor(string file, string name, string storageDType, int[] shape, float[]? float32, long[]? int64)
    {
        _file = file;
        Name = name;
        StorageDType = storageDType;
        _shape = shape;
        _float32 = float32;
        _int64 = int64;
        DType = float32 is not null ? PthDType.Float32 : PthDType.Int64;
        ElementCount = float32?.Length ?? int64!.Length;
        Shape = Array.AsReadOnly(shape);
    }

    /// <summary>The state-dict key, e.g. "init_conv.conv1.0.weight".</summary>
    public string Name { get; }

    /// <summary>The element type of <see cref="Float32Data"/> or <see cref="Int64Data"/>.</summary>
    public PthDType DType { get; }

    /// <summary>
    /// The element type the file stored, as PyTorch names it: "float32", "float64", "float16",
    /// "bfloat16", "int64" or "int32". Differs from <see cref="DType"/> when the values were converted.
    /// </summary>
    public string StorageDType { get; }

    /// <summary>The dimensions, outermost first; empty for a 0-d scalar such as num_batches_tracked.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>The number of elements: the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>A copy of the shape, for APIs that take <c>int[]</c>.</summary>
    public int[] ShapeArray() => (int[])_shape.Clone();

    /// <summary>The values of a <see cref="PthDType.Float32"/> tensor, row-major.</summary>
    /// <exception cref="InvalidOperationException">The tensor holds integers; check <see cref="DType"/> first.</exception>
    public ReadOnlyMemory<float> Float32Data =>
        _float32 ?? throw new InvalidOperationException($"tensor '{Name}' holds {DType} values; use {nameof(Int64Data)}.");

    /// <summary>The values of a <see cref="PthDType.Int64"/> tensor, row-major.</summary>
    /// <exception cref="InvalidOperationException">The tensor holds floats; check <see cref="DType"/> first.</exception>
    public ReadOnlyMemory<long> Int64Data =>
        _int64 ?? throw new InvalidOperationException($"tensor '{Name}' holds {DType} values; use {nameof(Float32Data)}.");

    /// <summary>A new array of the values as float32; integers are converted, as <see cref="SafeTensor.ToFloat32"/> does.</summary>
    public float[] ToFloat32()
    {
        var result = new float[ElementCount];
        CopyFloat32To(result);
        return result;
    }

    /// <summary>Writes the values as float32 into <paramref name="destination"/>, which must hold exactly <see cref="ElementCount"/>.</summary>
    public void CopyFloat32To(Span<float> destination)
    {
        if (destination.Length != ElementCount)
            throw new ArgumentException($"tensor '{Name}' has {ElementCount} elements, the destination {destination.Length}.", nameof(destination));
        if (_float32 is not null)
        {
            _float32.CopyTo(destination);
            return;
        }
        for (int i = 0; i < destination.Length; i++) destination[i] = _int64![i];
    }

    /// <summary>A new array of the values of an integer tensor.</summary>
    /// <exception cref="InvalidDataException">The file stored floats where the caller expects integers; the message names the file.</exception>
    public long[] ToInt64() =>
        _int64 is not null
            ? (long[])_int64.Clone()
            : throw new InvalidDataException($"{_file}: tensor '{Name}' holds {StorageDType} values where integers were expected. The file was saved from a different model or is not a state dict of this program's model.");

    /// <summary>Name, stored dtype and shape, for logs.</summary>
    public override string ToString() => $"{Name} {StorageDType} [{string.Join(", ", _shape)}]";
}
