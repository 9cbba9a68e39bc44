using System.Buffers.Binary;
using System.Text;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.IO;

public class SafetensorsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "safetensors-tests-" + Guid.NewGuid().ToString("N"));

    public SafetensorsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    [Fact]
    public void RoundTripKeepsValuesShapesOrderAndMetadata()
    {
        var rng = new Random(11);
        var a = new float[2 * 3 * 4];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 4 - 2);
        var b = new long[] { -9, 0, 1L << 40, 5, long.MaxValue };
        var writer = new SafetensorsWriter();
        writer.Metadata["n_feat"] = "64";
        writer.Metadata["quote\"and\\slash"] = "ünïcode ✓";
        writer.Add("z.weight", a, 2, 3, 4);
        writer.AddInt64("a.num_batches_tracked", b, 5);
        writer.Add("scalar", new float[] { 3.25f });
        writer.Add("empty", ReadOnlySpan<float>.Empty, 0, 3);
        string path = PathOf("round.safetensors");
        writer.Save(path);

        var file = SafetensorsFile.Read(path);
        Assert.Equal(new[] { "z.weight", "a.num_batches_tracked", "scalar", "empty" }, file.Names);
        Assert.Equal("64", file.Metadata["n_feat"]);
        Assert.Equal("ünïcode ✓", file.Metadata["quote\"and\\slash"]);
        Assert.Equal(a, file["z.weight"].ToFloat32());
        Assert.Equal(new[] { 2, 3, 4 }, file["z.weight"].Shape);
        Assert.Equal("F32", file["z.weight"].DType);
        Assert.Equal(b, file["a.num_batches_tracked"].ToInt64());
        Assert.Equal("I64", file["a.num_batches_tracked"].DType);
        Assert.Empty(file["scalar"].Shape);
        Assert.Equal(1, file["scalar"].ElementCount);
        Assert.Equal(3.25f, file["scalar"].ToFloat32()[0]);
        Assert.Equal(0, file["empty"].ElementCount);
        Assert.True(file.Contains("scalar"));
        Assert.False(file.Contains("missing"));

        var dest = new float[24];
        file["z.weight"].CopyFloat32To(dest);
        Assert.Equal(a, dest);

        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(File.ReadAllBytes(path));
        Assert.Equal(0, headerLength % 8);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void ReadsTheFileThePythonWriterProduced()
    {
        var file = SafetensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "io", "python_written.safetensors"));
        Assert.Equal(new[] { "f32", "f64", "f16", "bf16", "i64", "i32", "u8", "scalar" }, file.Names);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("written by tools/reference", file.Metadata["note"]);
        Assert.Equal(new[] { 2, 3 }, file["f32"].Shape);
        Assert.Equal(new[] { 0.5f, -1.25f, 3.0f, 1e-3f, -7.5f, 100.0f }, file["f32"].ToFloat32());
        Assert.Equal(new[] { 1.5f, -2.25f, 1e10f }, file["f64"].ToFloat32());
        Assert.Equal(new[] { 0.5f, -2.0f, 65504.0f }, file["f16"].ToFloat32());
        Assert.Equal(new[] { 1.0f, -3.5f, 0.15625f }, file["bf16"].ToFloat32());
        Assert.Equal(new[] { -3L, 0, 1L << 40, 7 }, file["i64"].ToInt64());
        Assert.Equal(new[] { -3f, 0, (float)(1L << 40), 7 }, file["i64"].ToFloat32());
        Assert.Equal(new[] { -5L, 6 }, file["i32"].ToInt64());
        Assert.Equal(new[] { 0f, 255, 7 }, file["u8"].ToFloat32());
        Assert.Empty(file["scalar"].Shape);
        Assert.Equal(new[] { 2.5f }, file["scalar"].ToFloat32());
    }

    [Fact]
    public void MissingTensorNamesFileAndTensor()
    {
        string path = WriteSample("sample.safetensors");
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Read(path)["nope"]);
        Assert.Contains(path, e.Message);
        Assert.Contains("nope", e.Message);
    }

    [Fact]
    public void IntegersFromAFloatTensorIsAnInvalidDataError()
    {
        string path = WriteSample("sample.safetensors");
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Read(path)["w"].ToInt64());
        Assert.Contains("'w'", e.Message);
    }

    [Fact]
    public void WriterRejectsShapeMismatchAndDuplicates()
    {
        var writer = new SafetensorsWriter();
        Assert.Throws<ArgumentException>(() => writer.Add("x", new float[5], 2, 3));
        writer.Add("x", new float[6], 2, 3);
        Assert.Throws<ArgumentException>(() => writer.Add("x", new float[6], 6));
        Assert.Throws<ArgumentException>(() => writer.Add("__metadata__", new float[1]));
    }

    [Fact]
    public void TooShortFile() => AssertCorrupt("short.safetensors", new byte[] { 1, 2, 3 }, "too short");

    [Fact]
    public void HeaderLengthBeyondFile()
    {
        var bytes = SampleBytes();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)bytes.Length);
        AssertCorrupt("beyond.safetensors", bytes, "past the end");
    }

    [Fact]
    public void AbsurdHeaderLength()
    {
        var bytes = SampleBytes();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1UL << 40);
        AssertCorrupt("absurd.safetensors", bytes, "limit");
    }

    [Fact]
    public void TruncatedData()
    {
        var bytes = SampleBytes();
        AssertCorrupt("truncated.safetensors", bytes[..^4], "past the");
    }

    [Fact]
    public void BadJson() => AssertCorrupt("badjson.safetensors", Build("{\"w\": {\"dtype\": \"F32\",", 0), "not valid JSON");

    [Fact]
    public void HeaderNotAnObject() => AssertCorrupt("array.safetensors", Build("[1, 2]", 0), "not an object");

    [Fact]
    public void UnknownDType() =>
        AssertCorrupt("dtype.safetensors", Build("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2), "unknown dtype 'F8_E4M3'");

    [Fact]
    public void OffsetsOutOfRange() =>
        AssertCorrupt("range.safetensors", Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4), "run past");

    [Fact]
    public void OffsetsReversed() =>
        AssertCorrupt("reversed.safetensors", Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8), "ordered pair");

    [Fact]
    public void OffsetsNotMatchingShape() =>
        AssertCorrupt("size.safetensors", Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 12), "needs 12");

    [Fact]
    public void OverlappingTensors() =>
        AssertCorrupt("overlap.safetensors",
            Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12),
            "overlap");

    [Fact]
    public void DuplicateNames() =>
        AssertCorrupt("dup.safetensors",
            Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
            "twice");

    [Fact]
    public void NegativeDimension() =>
        AssertCorrupt("neg.safetensors", Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4), "non-negative");

    [Fact]
    public void MissingFields() =>
        AssertCorrupt("fields.safetensors", Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "data_offsets");

    [Fact]
    public void NonStringMetadata() =>
        AssertCorrupt("meta.safetensors", Build("{\"__metadata__\":{\"n\":3}}", 0), "not a string");

    [Fact]
    public void MissingFileIsNamed()
    {
        string path = PathOf("absent.safetensors");
        var e = Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Read(path));
        Assert.Contains(path, e.Message);
    }

    private void AssertCorrupt(string fileName, byte[] bytes, string expectedFragment)
    {
        string path = PathOf(fileName);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expectedFragment, e.Message);
    }

    private static byte[] Build(string header, int dataBytes)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        for (int i = 8 + json.Length; i < bytes.Length; i++) bytes[i] = (byte)(i * 37);
        return bytes;
    }

    private string WriteSample(string name)
    {
        string path = PathOf(name);
        File.WriteAllBytes(path, SampleBytes());
        return path;
    }

    private byte[] SampleBytes()
    {
        var writer = new SafetensorsWriter();
        writer.Add("w", new[] { 1.5f, -2f, 0.25f, 8f }, 2, 2);
        string path = PathOf("sample-source-" + Guid.NewGuid().ToString("N") + ".safetensors");
        writer.Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }
}
