namespace SpriteDiffusion.IO;

/// <summary>The element types this project reads and writes in .npy files (little-endian only).</summary>
public enum NpyDType
{
    /// <summary>Bytes, descr '|u1': the seed's images, 0 to 255.</summary>
    UInt8,
    /// <summary>Signed 64-bit integers, descr '&lt;i8'.</summary>
    Int64,
    /// <summary>32-bit floats, descr '&lt;f4': what this project computes in.</summary>
    Float32,
    /// <summary>64-bit floats, descr '&lt;f8'; read as float32 where values are needed.</summary>
    Float64,
}

/// <summary>Facts about each <see cref="NpyDType"/>: its size, NumPy's descr and name, and the C# types that map to it.</summary>
public static class NpyDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int ItemSize(this NpyDType dtype) => dtype switch
    {
        NpyDType.UInt8 => 1,
        NpyDType.Int64 => 8,
        NpyDType.Float32 => 4,
        NpyDType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>The descr string NumPy itself writes for this type.</summary>
    public static string Descr(this NpyDType dtype) => dtype switch
    {
        NpyDType.UInt8 => "|u1",
        NpyDType.Int64 => "<i8",
        NpyDType.Float32 => "<f4",
        NpyDType.Float64 => "<f8",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>NumPy's name for the type, e.g. "float32", as messages show it.</summary>
    public static string Name(this NpyDType dtype) => dtype switch
    {
        NpyDType.UInt8 => "uint8",
        NpyDType.Int64 => "int64",
        NpyDType.Float32 => "float32",
        NpyDType.Float64 => "float64",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>The dtype of C# element type <typeparamref name="T"/> (byte, long, float or double); throws <see cref="NotSupportedException"/> for any other.</summary>
    public static NpyDType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(byte)) return NpyDType.UInt8;
        if (typeof(T) == typeof(long)) return NpyDType.Int64;
        if (typeof(T) == typeof(float)) return NpyDType.Float32;
        if (typeof(T) == typeof(double)) return NpyDType.Float64;
        throw new NotSupportedException($"{typeof(T).Name} has no .npy dtype here; use byte, long, float or double.");
    }

    /// <summary>
    /// Maps a header's descr to a supported type, or explains why it cannot be read. Byte order
    /// marks: '&lt;' little, '|' not applicable, '=' native (little on every machine .NET runs here),
    /// '&gt;' big.
    /// </summary>
    internal static NpyDType Parse(string descr, string fileName)
    {
        if (descr.Length is < 2 or > 16)
            throw Unsupported(descr, fileName);
        char order = descr[0];
        string code = order is '<' or '>' or '|' or '=' ? descr[1..] : descr;
        bool oneByte = code is "u1" or "B";
        if (order == '>' && !oneByte)
            throw new InvalidDataException($"{fileName}: the array is big-endian ('{descr}'); only little-endian files are read. Convert it with numpy: np.save(path, arr.astype(arr.dtype.newbyteorder('<'))).");
        return code switch
        {
            "u1" or "B" => NpyDType.UInt8,
            "i8" => NpyDType.Int64,
            "f4" => NpyDType.Float32,
            "f8" => NpyDType.Float64,
            _ => throw Unsupported(descr, fileName),
        };
    }

    private static InvalidDataException Unsupported(string descr, string fileName) =>
        new($"{fileName}: unsupported dtype '{Printable(descr)}'; supported are uint8, int64, float32 and float64. Convert it with numpy, e.g. np.save(path, arr.astype(np.float32)).");

    internal static string Printable(string s)
    {
        var sb = new System.Text.StringBuilder();
        foreach (char c in s.Length > 40 ? s[..40] + "..." : s)
            sb.Append(c is >= ' ' and <= '~' ? c : '?');
        return sb.ToString();
    }
}
