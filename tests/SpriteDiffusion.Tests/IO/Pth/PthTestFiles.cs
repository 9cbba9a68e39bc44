using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace SpriteDiffusion.Tests.IO.Pth;

/// <summary>The committed .pth fixtures (tools/reference/pth_fixtures.py) and a builder for hand-made ones.</summary>
internal static class PthTestFiles
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "pth");

    public static string PathOf(string name) => Path.Combine(Dir, name);

    /// <summary>Where the hostile pickles would create a file if anything ever ran them.</summary>
    public const string Marker = "/tmp/spritediffusion-pth-hostile-pickle-ran";

    /// <summary>A zip laid out as torch.save lays it out, around a hand-written pickle.</summary>
    public static byte[] Zip(byte[] dataPkl, params (string Key, byte[] Bytes)[] storages)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            void Add(string name, byte[] data)
            {
                using var stream = zip.CreateEntry("archive/" + name, CompressionLevel.NoCompression).Open();
                stream.Write(data);
            }
            Add("data.pkl", dataPkl);
            foreach (var (key, bytes) in storages) Add("data/" + key, bytes);
            Add("version", "3\n"u8.ToArray());
        }
        return memory.ToArray();
    }

    public static byte[] Floats(params float[] values)
    {
        var bytes = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }
}

/// <summary>
/// Writes pickle opcodes by hand (protocol 2, as torch.save does), so that tests can state exactly
/// the structure a damaged or hostile file has.
/// </summary>
internal sealed class PickleBuilder
{
    private readonly List<byte> _bytes = [0x80, 2];

    public byte[] ToArray() => [.. _bytes];

    public PickleBuilder Op(params byte[] ops)
    {
        _bytes.AddRange(ops);
        return this;
    }

    public PickleBuilder Global(string module, string name) => Op((byte)'c').Raw(module + "\n" + name + "\n");

    public PickleBuilder Str(string text)
    {
        var data = Encoding.UTF8.GetBytes(text);
        Op((byte)'X');
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)data.Length);
        _bytes.AddRange(length.ToArray());
        _bytes.AddRange(data);
        return this;
    }

    /// <summary>Any long, as LONG1 (8 bytes, little-endian two's complement).</summary>
    public PickleBuilder Int(long value)
    {
        Op(0x8a, 8);
        Span<byte> data = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(data, value);
        _bytes.AddRange(data.ToArray());
        return this;
    }

    public PickleBuilder Mark() => Op((byte)'(');

    public PickleBuilder Tuple() => Op((byte)'t');

    public PickleBuilder Ints(params long[] values)
    {
        Mark();
        foreach (long v in values) Int(v);
        return Tuple();
    }

    public PickleBuilder OrderedDict() => Global("collections", "OrderedDict").Op((byte)')', (byte)'R');

    /// <summary>torch's zip-format persistent id for a storage.</summary>
    public PickleBuilder Storage(string type, string key, long numel) =>
        Mark().Str("storage").Global("torch", type).Str(key).Str("cpu").Int(numel).Tuple().Op((byte)'Q');

    /// <summary>A _rebuild_tensor_v2 call on a zip-format storage.</summary>
    public PickleBuilder Tensor(string type, string key, long numel, long offset, long[] size, long[] stride)
    {
        Global("torch._utils", "_rebuild_tensor_v2").Mark();
        Storage(type, key, numel).Int(offset).Ints(size).Ints(stride).Op(0x89);
        return OrderedDict().Tuple().Op((byte)'R');
    }

    /// <summary>SETITEM then STOP: closes a one-entry state dict.</summary>
    public byte[] SetItemAndStop() => Op((byte)'s', (byte)'.').ToArray();

    private PickleBuilder Raw(string text)
    {
        _bytes.AddRange(Encoding.UTF8.GetBytes(text));
        return this;
    }
}
