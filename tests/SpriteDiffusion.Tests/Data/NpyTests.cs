using System.Globalization;
using System.Text;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Data;

public class NpyTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Data", "npy", name);

    /// <summary>NumPy wrote these as version 1.0, as the writer does, so the writer must match them byte for byte.</summary>
    private static readonly string[] Version1 =
        ["v1_uint8_4d", "v1_int64_2d", "v1_float32_3d", "v1_float64_1d", "v1_float64_scalar", "v1_float32_empty"];

    public static TheoryData<string> Version1Fixtures => new(Version1);
    public static TheoryData<string> ReadableFixtures => new([.. Version1, "v2_float32_2d", "v3_float64_2d"]);

    [Theory]
    [MemberData(nameof(ReadableFixtures))]
    public void ReadsWhatNumpyWrote(string name)
    {
        var lines = File.ReadAllLines(Fixture(name + ".txt"));
        int[] shape = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        var array = Npy.Read(Fixture(name + ".npy"));
        Assert.Equal(shape, array.Shape);
        Assert.Equal(lines[1], array.DType.Name());
        var expected = lines.Skip(2).ToArray();
        Assert.Equal(expected.Length, array.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            if (array.Data is long[] longs)
                Assert.Equal(long.Parse(expected[i], CultureInfo.InvariantCulture), longs[i]);
            else
                Assert.Equal(double.Parse(expected[i], CultureInfo.InvariantCulture), array.ToDouble(i));
        }
    }

    [Theory]
    [MemberData(nameof(Version1Fixtures))]
    public void WritesTheSameBytesAsNumpy(string name)
    {
        byte[] numpy = File.ReadAllBytes(Fixture(name + ".npy"));
        var array = Npy.Read(Fixture(name + ".npy"));
        using var dir = new TempDir();
        string path = dir.File("copy.npy");
        Npy.Write(path, array);
        Assert.Equal(numpy, File.ReadAllBytes(path));
    }

    [Theory]
    [InlineData("bad_fortran", "Fortran")]
    [InlineData("bad_bigendian", "big-endian")]
    [InlineData("bad_int32", "unsupported dtype '<i4'")]
    [InlineData("bad_structured", "unsupported dtype")]
    public void RefusesWhatItCannotReadWithTheReason(string name, string reason)
    {
        string path = Fixture(name + ".npy");
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void RoundTripsEveryDtypeAndRank()
    {
        var rng = new Random(11);
        using var dir = new TempDir();
        int[][] shapes = [[], [5], [3, 4], [2, 3, 4], [2, 1, 3, 2], [1, 2, 1, 2, 3]];
        foreach (int[] shape in shapes)
        {
            int n = shape.Aggregate(1, (a, b) => a * b);
            var bytes = new byte[n]; rng.NextBytes(bytes);
            var longs = Enumerable.Range(0, n).Select(_ => rng.NextInt64(long.MinValue, long.MaxValue)).ToArray();
            var floats = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 200 - 100)).ToArray();
            var doubles = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2e6 - 1e6).ToArray();
            string p = dir.File("a.npy");
            Npy.Write<byte>(p, bytes, shape); Assert.Equal(bytes, Npy.Read(p).Get<byte>());
            Npy.Write<long>(p, longs, shape); Assert.Equal(longs, Npy.Read(p).Get<long>());
            Npy.Write<float>(p, floats, shape); Assert.Equal(floats, Npy.Read(p).Get<float>());
            Npy.Write<double>(p, doubles, shape);
            var back = Npy.Read(p);
            Assert.Equal(doubles, back.Get<double>());
            Assert.Equal(shape, back.Shape);
            Assert.Equal(0, Npy.ReadHeader(p).DataOffset % 64);
        }
    }

    [Fact]
    public void Float32HelpersRoundTripSamples()
    {
        var rng = new Random(5);
        var samples = Enumerable.Range(0, 4 * 3 * 16 * 16).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray();
        using var dir = new TempDir();
        string p = dir.File("samples.npy");
        Npy.WriteFloat32(p, samples, [4, 3, 16, 16]);
        var back = Npy.ReadFloat32(p, out int[] shape);
        Assert.Equal([4, 3, 16, 16], shape);
        Assert.Equal(samples, back);
        Npy.Write<byte>(p, new byte[6], [2, 3]);
        Assert.Contains("float32", Assert.Throws<InvalidDataException>(() => Npy.ReadFloat32(p, out _)).Message);
    }

    [Fact]
    public void WriteRefusesAShapeThatDoesNotMatchTheData()
    {
        using var dir = new TempDir();
        Assert.Throws<ArgumentException>(() => Npy.Write<float>(dir.File("x.npy"), new float[5], [2, 3]));
        Assert.False(File.Exists(dir.File("x.npy")));
    }

    [Fact]
    public void TruncatedAndOverlongFilesAreNamedAndExplained()
    {
        using var dir = new TempDir();
        string p = dir.File("t.npy");
        Npy.Write<double>(p, Enumerable.Range(0, 12).Select(i => i * 1.5).ToArray(), [3, 4]);
        byte[] good = File.ReadAllBytes(p);

        File.WriteAllBytes(p, good[..^5]);
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(p));
        Assert.Contains(p, e.Message);
        Assert.Contains("truncated", e.Message);

        File.WriteAllBytes(p, [.. good, 1, 2, 3]);
        e = Assert.Throws<InvalidDataException>(() => Npy.Read(p));
        Assert.Contains("3 bytes more", e.Message);

        File.WriteAllBytes(p, good[..40]);
        e = Assert.Throws<InvalidDataException>(() => Npy.Read(p));
        Assert.Contains("ends inside its .npy header", e.Message);
    }

    [Fact]
    public void ALyingShapeIsRefusedWithoutAllocatingIt()
    {
        byte[] file = Handmade("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000, 1000), }", new byte[64]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(file), "liar.npy"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("liar.npy", e.Message);
        Assert.Contains("holds only 64 bytes", e.Message);
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");

        byte[] overflow = Handmade("{'descr': '<f8', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647), }", []);
        Assert.Contains("absurdly large", Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(overflow), "x.npy")).Message);
        byte[] tooBig = Handmade("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999,), }", []);
        Assert.Contains("absurdly large", Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(tooBig), "x.npy")).Message);
        byte[] negative = Handmade("{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 3), }", []);
        Assert.Contains("non-negative", Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(negative), "x.npy")).Message);
    }

    [Fact]
    public void AHeaderOfMegabytesIsRefusedBeforeItIsRead()
    {
        var file = new byte[64];
        file[0] = 0x93;
        "NUMPY"u8.CopyTo(file.AsSpan(1));
        file[6] = 2;
        BitConverter.GetBytes(50_000_000u).CopyTo(file, 8);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(file), "big-header.npy"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Contains("big-header.npy", e.Message);
        Assert.Contains("50,000,000 bytes", e.Message);
    }

    [Theory]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }", true)] // Python 2 NumPy
    [InlineData("{\"shape\": (2, 3), \"descr\": \"<f8\", \"fortran_order\": False}", true)]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (6), }", false)] // (6) is an int, not a tuple
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': [2, 3], }", false)]
    [InlineData("{'descr': '<f8', 'fortran_order': False, }", false)]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}", false)]
    [InlineData("{'descr': '<f8', 'fortran_order': 0, 'shape': (2, 3), }", false)]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), } junk", false)]
    [InlineData("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", false)]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3", false)]
    [InlineData("{'descr': '<f8", false)]
    public void ParsesTheHeaderLiteralNumpyWritesAndNothingLooser(string dict, bool valid)
    {
        byte[] file = Handmade(dict, new byte[6 * 8]);
        if (valid)
            Assert.Equal([2, 3], Npy.Read(new MemoryStream(file), "h.npy").Shape);
        else
            Assert.Contains("h.npy", Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(file), "h.npy")).Message);
    }

    [Fact]
    public void DeepNestingIsAnErrorNotAStackOverflow()
    {
        string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': " + new string('(', 60000) + "}";
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(Handmade(dict, [])), "deep.npy"));
        Assert.Contains("nested too deeply", e.Message);
    }

    [Fact]
    public void NonNpyAndMissingFilesAreNamed()
    {
        using var dir = new TempDir();
        string p = dir.File("notes.npy");
        File.WriteAllText(p, "these are not the bytes you are looking for");
        Assert.Contains("not a .npy file", Assert.Throws<InvalidDataException>(() => Npy.Read(p)).Message);
        string missing = dir.File("missing.npy");
        var e = Assert.Throws<FileNotFoundException>(() => Npy.Read(missing));
        Assert.Contains(missing, e.Message);
        Assert.Contains("not found", e.Message);
        Assert.Contains("version 4.0", Assert.Throws<InvalidDataException>(() =>
            Npy.Read(new MemoryStream([0x93, .. "NUMPY"u8, 4, 0, 0, 0]), "v4.npy")).Message);
    }

    [Fact]
    public void ANonSeekableStreamIsCheckedAsWell()
    {
        byte[] file = Handmade("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000,), }", new byte[16]);
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(new ForwardOnlyStream(file), "pipe.npy"));
        Assert.Contains("pipe.npy", e.Message);
    }

    /// <summary>
    /// The seed's image file is 70 MB: reading it must cost its own size once, not a second copy
    /// for parsing and a third for conversion.
    /// </summary>
    [Fact]
    public void ReadingA70MegabyteFileAllocatesItsSizeOnce()
    {
        using var dir = new TempDir();
        string p = dir.File("big.npy");
        int[] shape = [89400, 16, 16, 3];
        var data = new byte[89400 * 768];
        new Random(3).NextBytes(data.AsSpan(0, 1 << 20));
        Npy.Write<byte>(p, data, shape);
        data = null!;

        long before = GC.GetAllocatedBytesForCurrentThread();
        var array = Npy.Read(p);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(shape, array.Shape);
        Assert.True(allocated < 89400L * 768 + (1 << 20), $"allocated {allocated:N0} bytes for a {89400L * 768:N0}-byte array");

        before = GC.GetAllocatedBytesForCurrentThread();
        using (var reader = NpyReader.Open(p))
        {
            var chunk = new byte[768 * 1000];
            while (reader.RemainingElements > 0)
                reader.Read<byte>(chunk.AsSpan(0, (int)Math.Min(chunk.Length, reader.RemainingElements)));
        }
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 2 << 20, $"streaming allocated {allocated:N0} bytes");
    }

    /// <summary>A .npy v1.0 file with the given header dict text, padded the way NumPy pads.</summary>
    internal static byte[] Handmade(string dict, byte[] data)
    {
        int total = (10 + dict.Length + 1 + 63) / 64 * 64;
        var header = new byte[total];
        header[0] = 0x93;
        "NUMPY"u8.CopyTo(header.AsSpan(1));
        header[6] = 1;
        BitConverter.GetBytes((ushort)(total - 10)).CopyTo(header, 8);
        header.AsSpan(10).Fill((byte)' ');
        Encoding.Latin1.GetBytes(dict).CopyTo(header, 10);
        header[^1] = (byte)'\n';
        return [.. header, .. data];
    }
}

/// <summary>A stream that cannot seek or tell its length, like a pipe.</summary>
internal sealed class ForwardOnlyStream(byte[] bytes) : Stream
{
    private readonly MemoryStream _inner = new(bytes);
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 7));
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
