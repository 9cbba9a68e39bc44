using System.Security.Cryptography;
using System.Text.Json;
using SpriteDiffusion.Evaluation;
using SpriteDiffusion.IO;
using SpriteDiffusion.Onnx;
using SpriteDiffusion.Tests.Data;
using SpriteDiffusion.Tests.Reference;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>
/// The fixture of tools/reference/fid_inception_fixtures.py, rebuilt once for every test that needs
/// it: the weights file torch.save wrote (its storages regenerated from the parameter scheme and
/// spliced into the committed skeleton, so the bytes, and so the SHA-256, are torch's), the FID
/// Inception over it, and the sprite sets with PyTorch's features.
/// </summary>
public sealed class FidInceptionFixture : IDisposable
{
    private readonly TempDir _temp = new();

    public FidInceptionFixture()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(PathOf("weights.json")));
        var root = doc.RootElement;
        Sha256 = root.GetProperty("sha256").GetString()!;
        FidScipy = root.GetProperty("fid_scipy_sqrtm").GetDouble();
        Float32FeatureError = root.GetProperty("float32_vs_float64_features").GetDouble();
        WeightsPath = Path.Combine(_temp.Path, root.GetProperty("weights_file").GetString()!);
        File.WriteAllBytes(WeightsPath, RebuildWeights(root));

        Real = ImageFolder.Load(PathOf("real"));
        Fake = ImageFolder.Load(PathOf("fake"));
        var features = SafetensorsFile.Read(PathOf("features.safetensors"));
        RealFeatures = Doubles(features["real"]);
        FakeFeatures = Doubles(features["fake"]);
        Extractor = FidInceptionFeatures.Create(WeightsPath, batchSize: 12);
    }

    public static string PathOf(string name) => ReferenceParameters.FixturePath("inception", name);

    public string Sha256 { get; }
    public string WeightsPath { get; }
    public double FidScipy { get; }
    public double Float32FeatureError { get; }
    public ImageSet Real { get; }
    public ImageSet Fake { get; }
    public double[] RealFeatures { get; }
    public double[] FakeFeatures { get; }
    public OnnxFeatureExtractor Extractor { get; }

    /// <summary>
    /// The FID Inception's values (the fixture script's generate()): the U-Net scheme, except
    /// that convolution weights are scaled by sqrt(6 / fan) so that the signal survives 94 layers.
    /// </summary>
    public static float[] Generate(string name, int[] shape)
    {
        if (!name.EndsWith(".weight", StringComparison.Ordinal) || shape.Length < 2)
            return ReferenceParameters.Generate(name, shape);
        long count = shape.Aggregate(1L, (a, d) => a * d);
        var values = new float[count];
        ReferenceParameters.UniformPm1(ReferenceParameters.Fnv1a32(name), values);
        float scale = (float)Math.Sqrt(6.0 / (count / shape[0]));
        for (int i = 0; i < values.Length; i++) values[i] *= scale;
        return values;
    }

    /// <summary>The skeleton with each storage's bytes put back where the layout says torch wrote them.</summary>
    private static byte[] RebuildWeights(JsonElement root)
    {
        var skeleton = File.ReadAllBytes(PathOf("weights.skeleton"));
        var file = new byte[root.GetProperty("size").GetInt64()];
        int read = 0, written = 0;
        foreach (var entry in root.GetProperty("layout").EnumerateArray())
        {
            int offset = entry.GetProperty("offset").GetInt32();
            skeleton.AsSpan(read, offset - written).CopyTo(file.AsSpan(written));
            read += offset - written;
            written = offset;
            string name = entry.GetProperty("name").GetString()!;
            int[] shape = entry.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            // num_batches_tracked (int64 zeros) is all zero bytes already.
            int length = entry.GetProperty("dtype").GetString() == "int64"
                ? 8 * shape.Aggregate(1, (a, d) => a * d)
                : WriteFloats(Generate(name, shape), file.AsSpan(written));
            written += length;
        }
        Assert.Equal(skeleton.Length, read);
        Assert.Equal(file.Length, written);
        return file;
    }

    private static int WriteFloats(float[] values, Span<byte> target)
    {
        for (int i = 0; i < values.Length; i++)
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(target[(4 * i)..], values[i]);
        return 4 * values.Length;
    }

    private static double[] Doubles(SafeTensor tensor)
    {
        Assert.Equal("F64", tensor.DType);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(tensor.Bytes).ToArray();
    }

    public static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>The model bytes the extractor runs, for tests that inspect the graph or build a variant of it.</summary>
    public byte[] ModelBytes => _modelBytes ??= FidInceptionOnnx.Build(SpriteDiffusion.IO.Pth.PthFile.Read(WeightsPath));
    private byte[]? _modelBytes;

    public void Dispose()
    {
        Extractor.Dispose();
        _temp.Dispose();
    }
}

/// <summary>Tests that run the FID Inception share one session and run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class FidInceptionCollection : ICollectionFixture<FidInceptionFixture>
{
    public const string Name = "FID Inception";
}
