using SpriteDiffusion.IO;
using SpriteDiffusion.IO.Pth;

namespace SpriteDiffusion.Tests.IO.Pth;

/// <summary>Files torch.save wrote, in both formats, against the values PyTorch itself gave them.</summary>
public class PthFixtureTests
{
    public static TheoryData<string, string, PthFormat> ValidFiles => new()
    {
        { "seed_nf8.zip.pth", "seed_nf8", PthFormat.Zip },
        { "seed_nf8.legacy.pth", "seed_nf8", PthFormat.Legacy },
        { "seed_nf16.zip.pth", "seed_nf16", PthFormat.Zip },
        { "seed_nf16.legacy.pth", "seed_nf16", PthFormat.Legacy },
        { "views.zip.pth", "views", PthFormat.Zip },
        { "views.legacy.pth", "views", PthFormat.Legacy },
        { "dtypes.zip.pth", "dtypes", PthFormat.Zip },
        { "dtypes.legacy.pth", "dtypes", PthFormat.Legacy },
        { "legacy_storage_view.pth", "legacy_storage_view", PthFormat.Legacy },
    };

    [Theory]
    [MemberData(nameof(ValidFiles))]
    public void EveryTensorEqualsPyTorchsValuesExactly(string file, string expectedName, PthFormat format)
    {
        var pth = PthFile.Read(PthTestFiles.PathOf(file));
        var expected = SafetensorsFile.Read(PthTestFiles.PathOf(expectedName + ".expected.safetensors"));

        Assert.Equal(format, pth.Format);
        Assert.Equal(expected.Names, pth.Names);
        Assert.Equal(expected.Names, pth.Tensors.Keys);
        foreach (string name in expected.Names)
        {
            var want = expected[name];
            var got = pth[name];
            Assert.Equal(name, got.Name);
            Assert.Equal(want.Shape, got.Shape);
            Assert.Equal(want.ElementCount, got.ElementCount);
            if (want.DType == "I64")
            {
                Assert.Equal(PthDType.Int64, got.DType);
                Assert.Equal(want.ToInt64(), got.Int64Data.ToArray());
            }
            else
            {
                Assert.Equal("F32", want.DType);
                Assert.Equal(PthDType.Float32, got.DType);
                // Bit patterns, so that the comparison is exact (and -0 differs from 0).
                Assert.Equal(Bits(want.ToFloat32()), Bits(got.Float32Data.ToArray()));
            }
        }
    }

    [Theory]
    [InlineData(8, "seed_nf8")]
    [InlineData(16, "seed_nf16")]
    public void TheSeedStateDictHasItsEntriesAndCounters(int nFeat, string name)
    {
        foreach (string suffix in new[] { ".zip.pth", ".legacy.pth" })
        {
            var pth = PthFile.Read(PthTestFiles.PathOf(name + suffix));
            Assert.Equal(158, pth.Count);
            Assert.Equal("init_conv.conv1.0.weight", pth.Names[0]);
            Assert.Equal(new[] { 4 * nFeat, nFeat, 2, 2 }, pth["up1.model.0.weight"].Shape);
            var counter = pth["init_conv.conv1.1.num_batches_tracked"];
            Assert.Equal(PthDType.Int64, counter.DType);
            Assert.Equal("int64", counter.StorageDType);
            Assert.Empty(counter.Shape);
            Assert.Equal(1, counter.ElementCount);
            // The fixture fills each counter with its entry's position + 1.
            int position = pth.Names.ToList().IndexOf("init_conv.conv1.1.num_batches_tracked");
            Assert.Equal(new long[] { position + 1 }, counter.ToInt64());
        }
    }

    [Theory]
    [InlineData("views.zip.pth")]
    [InlineData("views.legacy.pth")]
    public void ViewsOfOneStorageReadAsTheirOwnContiguousArrays(string file)
    {
        var pth = PthFile.Read(PthTestFiles.PathOf(file));
        float[] b = pth["base"].ToFloat32(); // 4 x 6
        float At(int r, int c) => b[6 * r + c];

        Assert.Equal(new[] { 6, 4 }, pth["transposed"].Shape);
        var transposed = pth["transposed"].ToFloat32();
        for (int r = 0; r < 6; r++)
            for (int c = 0; c < 4; c++)
                Assert.Equal(At(c, r), transposed[4 * r + c]);

        Assert.Equal(b.AsSpan(6, 12).ToArray(), pth["rows"].ToFloat32());

        var columns = pth["every_other_column"].ToFloat32();
        Assert.Equal(new[] { 4, 3 }, pth["every_other_column"].Shape);
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 3; c++)
                Assert.Equal(At(r, 1 + 2 * c), columns[3 * r + c]);

        Assert.Empty(pth["element"].Shape);
        Assert.Equal(new[] { At(2, 3) }, pth["element"].ToFloat32());

        Assert.Equal(new float[] { 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2 }, pth["broadcast"].ToFloat32());
        Assert.Equal(new long[] { 102, 105, 108 }, pth["int_slice"].ToInt64());
        Assert.Equal(new long[] { 100, 104, 108, 101, 105, 109, 102, 106, 110, 103, 107, 111 }, pth["int_matrix_t"].ToInt64());
        Assert.Equal(new long[] { 7 }, pth["num_batches_tracked"].ToInt64());
        Assert.Equal(new[] { 0, 3 }, pth["empty"].Shape);
        Assert.Equal(0, pth["empty"].ElementCount);

        // Each entry owns its array: the shared storage is copied out, not aliased.
        Assert.False(pth["rows"].Float32Data.Span.Overlaps(pth["base"].Float32Data.Span));
    }

    [Theory]
    [InlineData("dtypes.zip.pth")]
    [InlineData("dtypes.legacy.pth")]
    public void OtherStorageTypesAreConvertedAndSaySo(string file)
    {
        var pth = PthFile.Read(PthTestFiles.PathOf(file));
        Assert.Equal("float16", pth["half"].StorageDType);
        Assert.Equal("float64", pth["double"].StorageDType);
        Assert.Equal("float64", pth["double_t"].StorageDType);
        Assert.Equal("bfloat16", pth["bfloat16"].StorageDType);
        Assert.Equal("int32", pth["int32"].StorageDType);
        Assert.Equal("float32", pth["weight"].StorageDType); // an nn.Parameter, through _rebuild_parameter
        foreach (string name in new[] { "half", "double", "bfloat16", "weight", "float" })
            Assert.Equal(PthDType.Float32, pth[name].DType);
        Assert.Equal(PthDType.Int64, pth["int32"].DType);
        Assert.Equal(new long[] { -3, 0, 5, int.MaxValue, int.MinValue, 1 }, pth["int32"].ToInt64());
    }

    [Fact]
    public void AccessorsAgreeWithEachOther()
    {
        var pth = PthFile.Read(PthTestFiles.PathOf("views.zip.pth"));
        var t = pth["int_matrix_t"];
        Assert.Equal(new[] { 4, 3 }, t.ShapeArray());
        Assert.Equal(t.ToInt64().Select(v => (float)v), t.ToFloat32());
        Assert.Throws<InvalidOperationException>(() => t.Float32Data);
        Assert.Throws<InvalidOperationException>(() => pth["base"].Int64Data);
        Assert.Throws<ArgumentException>(() => pth["base"].CopyFloat32To(new float[3]));
        Assert.True(pth.Contains("base"));
        Assert.False(pth.Contains("missing"));
        Assert.Equal(pth.Names, pth.Tensors.Values.Select(v => v.Name));

        var wrongType = Assert.Throws<InvalidDataException>(() => pth["base"].ToInt64());
        Assert.StartsWith(PthTestFiles.PathOf("views.zip.pth") + ": tensor 'base' holds float32", wrongType.Message);
        var missing = Assert.Throws<InvalidDataException>(() => pth["missing"]);
        Assert.Contains("has no tensor 'missing'", missing.Message);
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
