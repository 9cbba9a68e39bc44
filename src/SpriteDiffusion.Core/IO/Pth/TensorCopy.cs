using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace SpriteDiffusion.IO.Pth;

/// <summary>
/// Copies a strided view out of its storage into a contiguous row-major array, converting the
/// element type. Each tensor gets its own array, so views sharing a storage stay independent.
/// </summary>
internal static class TensorCopy
{
    public static PthTensor ToTensor(string file, string name, TensorRef tensor)
    {
        var storage = tensor.Storage;
        var kind = storage.Root.Kind;
        byte[] bytes = storage.Root.Bytes ?? throw new InvalidOperationException($"storage '{storage.Root.Key}' was not read before its tensors.");
        int count = checked((int)tensor.ElementCount);
        float[]? floats = kind.Output == PthDType.Float32 ? new float[count] : null;
        long[]? longs = kind.Output == PthDType.Int64 ? new long[count] : null;

        if (count > 0)
        {
            // Element offsets are relative to the whole storage; the view's bounds were checked when
            // the tensor was rebuilt and the storage's length when its bytes were read.
            long start = storage.Offset + tensor.Offset;
            var size = tensor.Size;
            var stride = tensor.Stride;
            int dims = size.Length;
            int rowLength = dims == 0 ? 1 : size[dims - 1];
            long rowStride = dims == 0 ? 1 : stride[dims - 1];
            var index = new int[Math.Max(dims - 1, 0)];
            long rowStart = start;
            for (int done = 0; done < count; done += rowLength)
            {
                long byteStart = storage.Root.ByteOffset + rowStart * kind.ElementSize;
                if (floats is not null) ReadFloats(kind, bytes, byteStart, rowStride, floats.AsSpan(done, rowLength));
                else ReadLongs(kind, bytes, byteStart, rowStride, longs.AsSpan(done, rowLength));

                // Odometer over all dimensions but the last.
                for (int d = dims - 2; d >= 0; d--)
                {
                    rowStart += stride[d];
                    if (++index[d] < size[d]) break;
                    rowStart -= stride[d] * size[d];
                    index[d] = 0;
                }
            }
        }
        return new PthTensor(file, name, kind.DType, tensor.Size, floats, longs);
    }

    private static void ReadFloats(StorageKind kind, byte[] bytes, long byteStart, long stride, Span<float> dest)
    {
        int size = kind.ElementSize;
        if (kind.Global == TorchGlobal.FloatStorage && stride == 1 && BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(bytes.AsSpan((int)byteStart, dest.Length * size)).CopyTo(dest);
            return;
        }
        long step = stride * size;
        for (int i = 0; i < dest.Length; i++)
        {
            var at = bytes.AsSpan((int)(byteStart + i * step), size);
            dest[i] = kind.Global switch
            {
                TorchGlobal.FloatStorage => BinaryPrimitives.ReadSingleLittleEndian(at),
                TorchGlobal.DoubleStorage => (float)BinaryPrimitives.ReadDoubleLittleEndian(at),
                TorchGlobal.HalfStorage => (float)BinaryPrimitives.ReadHalfLittleEndian(at),
                // bfloat16 is the upper half of a float32's bits, so this is exact.
                TorchGlobal.BFloat16Storage => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(at) << 16),
                _ => throw new InvalidOperationException($"{kind.DType} is not a float type."),
            };
        }
    }

    private static void ReadLongs(StorageKind kind, byte[] bytes, long byteStart, long stride, Span<long> dest)
    {
        int size = kind.ElementSize;
        long step = stride * size;
        for (int i = 0; i < dest.Length; i++)
        {
            var at = bytes.AsSpan((int)(byteStart + i * step), size);
            dest[i] = kind.Global switch
            {
                TorchGlobal.LongStorage => BinaryPrimitives.ReadInt64LittleEndian(at),
                TorchGlobal.IntStorage => BinaryPrimitives.ReadInt32LittleEndian(at),
                _ => throw new InvalidOperationException($"{kind.DType} is not an integer type."),
            };
        }
    }
}
