using System.Runtime.InteropServices;

namespace SpriteDiffusion.IO;

/// <summary>
/// NumPy .npy files: format versions 1.0 to 3.0, little-endian, C order, uint8 / int64 / float32 /
/// float64, any rank. Every problem with a file is a <see cref="InvalidDataException"/> naming the file.
/// </summary>
public static class Npy
{
    /// <summary>The header of a .npy file, checked against the file's length, without reading the data.</summary>
    public static NpyHeader ReadHeader(string path)
    {
        using var reader = NpyReader.Open(path);
        return reader.Header;
    }

    /// <summary>
    /// A whole .npy file in memory. Throws <see cref="FileNotFoundException"/> when it is missing and
    /// <see cref="InvalidDataException"/> naming it for anything it cannot read.
    /// </summary>
    public static NpyArray Read(string path)
    {
        using var reader = NpyReader.Open(path);
        return ReadAll(reader);
    }

    /// <summary>
    /// A whole .npy array from a stream at the array's start; <paramref name="name"/> stands for it in
    /// messages. A stream that cannot seek is copied into memory first, so that a lying header cannot
    /// make the reader allocate more than the stream holds. The stream is left open.
    /// </summary>
    public static NpyArray Read(Stream stream, string name)
    {
        if (!stream.CanSeek)
        {
            // Without a length to check the header against, a lying header could make us allocate
            // what it claims; buffering what the stream really holds bounds the allocation.
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }
        using var reader = NpyReader.Open(stream, name);
        return ReadAll(reader);
    }

    /// <summary>Reads a float32 file (float64 is narrowed), e.g. samples of shape N x 3 x H x W.</summary>
    public static float[] ReadFloat32(string path, out int[] shape)
    {
        var array = Read(path);
        shape = array.Shape;
        return array.Data switch
        {
            float[] f => f,
            double[] d => Array.ConvertAll(d, x => (float)x),
            _ => throw new InvalidDataException($"{path}: holds {array.DType.Name()}; a float32 or float64 array was expected."),
        };
    }

    /// <summary>Writes float32 values of the given shape atomically; throws <see cref="ArgumentException"/> when the shape does not hold them all.</summary>
    public static void WriteFloat32(string path, ReadOnlySpan<float> data, int[] shape) => Write(path, data, shape);

    /// <summary>Writes the array in its own element type, atomically.</summary>
    public static void Write(string path, NpyArray array)
    {
        switch (array.Data)
        {
            case byte[] b: Write<byte>(path, b, array.Shape); break;
            case long[] l: Write<long>(path, l, array.Shape); break;
            case float[] f: Write<float>(path, f, array.Shape); break;
            case double[] d: Write<double>(path, d, array.Shape); break;
            default: throw new InvalidOperationException();
        }
    }

    /// <summary>Writes atomically: readers see the old file or the whole new one.</summary>
    public static unsafe void Write<T>(string path, ReadOnlySpan<T> data, ReadOnlySpan<int> shape) where T : unmanaged
    {
        byte[] header = HeaderFor<T>(data.Length, shape);
        fixed (T* pointer = data)
        {
            // The span cannot be captured by the lambda; the pin keeps the address valid while it runs.
            var address = (IntPtr)pointer;
            long byteCount = (long)data.Length * sizeof(T);
            AtomicFile.Write(path, stream =>
            {
                stream.Write(header);
                WriteBytes(stream, (byte*)address, byteCount);
            });
        }
    }

    /// <summary>
    /// Writes header and data at the stream's position (not atomically: the caller owns the stream).
    /// <typeparamref name="T"/> is byte, long, float or double.
    /// </summary>
    public static void Write<T>(Stream stream, ReadOnlySpan<T> data, ReadOnlySpan<int> shape) where T : unmanaged
    {
        stream.Write(HeaderFor<T>(data.Length, shape));
        stream.Write(MemoryMarshal.AsBytes(data));
    }

    private static byte[] HeaderFor<T>(int length, ReadOnlySpan<int> shape) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException(".npy writing assumes a little-endian machine.");
        long count = 1;
        foreach (int d in shape) count *= d;
        if (count != length)
            throw new ArgumentException($"Shape ({string.Join(", ", shape.ToArray())}) holds {count} elements but the data has {length}.", nameof(shape));
        return NpyHeader.Format(NpyDTypes.Of<T>(), shape);
    }

    private static unsafe void WriteBytes(Stream stream, byte* start, long count)
    {
        while (count > 0)
        {
            int chunk = (int)Math.Min(count, 1 << 24);
            stream.Write(new ReadOnlySpan<byte>(start, chunk));
            start += chunk;
            count -= chunk;
        }
    }

    private static NpyArray ReadAll(NpyReader reader)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException(".npy reading assumes a little-endian machine.");
        var header = reader.Header;
        if (header.Count > Array.MaxLength)
            throw new InvalidDataException($"{reader.Name}: {header.Count:N0} elements are too many to load at once.");
        int count = (int)header.Count;
        switch (header.DType)
        {
            case NpyDType.UInt8: { var a = new byte[count]; reader.Read<byte>(a); return NpyArray.Create(a, header.Shape); }
            case NpyDType.Int64: { var a = new long[count]; reader.Read<long>(a); return NpyArray.Create(a, header.Shape); }
            case NpyDType.Float32: { var a = new float[count]; reader.Read<float>(a); return NpyArray.Create(a, header.Shape); }
            case NpyDType.Float64: { var a = new double[count]; reader.Read<double>(a); return NpyArray.Create(a, header.Shape); }
            default: throw new InvalidOperationException();
        }
    }
}
