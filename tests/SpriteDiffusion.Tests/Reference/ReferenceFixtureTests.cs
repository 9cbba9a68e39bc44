using System.Text.Json;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Reference;

/// <summary>The committed PyTorch fixtures are complete and agree with the C# parameter scheme.</summary>
public class ReferenceFixtureTests
{
    public static TheoryData<string> UnetFixtures => new() { "unet16_train", "unet16_eval", "unet64_train", "unet64_eval", "unet16_rgba_train", "unet16_rgba_eval" };

    [Theory]
    [MemberData(nameof(UnetFixtures))]
    public void GeneratedParametersMatchPyTorchBitForBit(string fixture)
    {
        var file = SafetensorsFile.Read(ReferenceParameters.FixturePath("unet", fixture + ".safetensors"));
        int checkedEntries = 0;
        foreach (var (name, shape, dtype) in ReferenceParameters.StateDictEntries(file))
        {
            if (dtype != "F32") continue;
            var expected = file["init." + name].ToFloat32();
            var ours = ReferenceParameters.Generate(name, shape);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(ours[i]),
                    $"{fixture}: {name}[{i}] is {ours[i]:R}, PyTorch side {expected[i]:R}");
            checkedEntries++;
        }
        Assert.Equal(158 - 18, checkedEntries);
    }

    [Theory]
    [MemberData(nameof(UnetFixtures))]
    public void UnetFixtureHoldsEveryDocumentedTensor(string fixture)
    {
        var file = SafetensorsFile.Read(ReferenceParameters.FixturePath("unet", fixture + ".safetensors"));
        int nFeat = int.Parse(file.Metadata["n_feat"]);
        bool train = file.Metadata["mode"] == "train";
        bool subsample = file.Metadata["subsample"] == "1";
        Assert.Equal(nFeat == 64, subsample);
        Assert.Equal([4, int.Parse(file.Metadata["in_channels"]), 16, 16], file["x"].Shape);
        Assert.Equal([4, 1], file["t"].Shape);
        Assert.Equal([4, 5], file["c"].Shape);
        foreach (string name in new[] { "y", "gy", "grad.x" }) Assert.Equal([4, int.Parse(file.Metadata["in_channels"]), 16, 16], file[name].Shape);
        Assert.Equal([4, 1], file["grad.t"].Shape);
        Assert.Equal([4, 5], file["grad.c"].Shape);

        long parameters = 0;
        var entries = ReferenceParameters.StateDictEntries(file);
        Assert.Equal(158, entries.Count);
        foreach (var (name, shape, dtype) in entries)
        {
            long count = shape.Aggregate(1L, (a, d) => a * d);
            bool isBuffer = name.EndsWith("running_mean") || name.EndsWith("running_var") || name.EndsWith("num_batches_tracked");
            int stride = ReferenceParameters.SubsampleStride(count, subsample);
            long stored = (count + stride - 1) / stride;
            if (!isBuffer)
            {
                parameters += count;
                Assert.Equal(stored, file["grad." + name].ElementCount);
                Assert.Equal(train, file.Contains("adam." + name));
                if (train) Assert.Equal(stored, file["adam." + name].ElementCount);
            }
            else if (dtype == "F32")
            {
                Assert.Equal(train, file.Contains("after." + name));
            }
        }
        Assert.Equal(long.Parse(file.Metadata["parameter_count"]), parameters);
        if (nFeat == 64) Assert.Equal(1_481_027, parameters);

        var zeroGrad = JsonSerializer.Deserialize<string[]>(file.Metadata["zero_grad_in_train"])!;
        Assert.Equal(train ? 18 : 0, zeroGrad.Length);
    }

    [Fact]
    public void StateDictListMatchesTheFixtureNames()
    {
        var lines = File.ReadAllLines(ReferenceParameters.FixturePath("unet", "statedict_names_nf64.txt"));
        var file = SafetensorsFile.Read(ReferenceParameters.FixturePath("unet", "unet64_eval.safetensors"));
        var entries = ReferenceParameters.StateDictEntries(file);
        Assert.Equal(entries.Count, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            var (name, shape, dtype) = entries[i];
            Assert.Equal($"{name}\t{string.Join(",", shape)}\t{dtype}", lines[i]);
        }
    }

    [Fact]
    public void GeneratorReproducesKnownValues()
    {
        Assert.Equal(2166136261u, ReferenceParameters.Fnv1a32(""));
        Assert.Equal(0xE40C292Cu, ReferenceParameters.Fnv1a32("a"));
        var v = ReferenceParameters.Generate("init_conv.conv1.0.weight", [64, 3, 3, 3]);
        Assert.Equal(-0.07228056f, v[0], 1e-7f);
        Assert.Equal(0.08511952f, v[1], 1e-7f);
    }

    public static TheoryData<string, string> OpFixtures => new()
    {
        { "conv3x3", "x weight bias y gy gx gweight gbias" },
        { "conv3x3_wide", "x weight bias y gy gx gweight gbias" },
        { "conv1x1", "x weight bias y gy gx gweight gbias" },
        { "convT2", "x weight bias y gy gx gweight gbias" },
        { "convT4", "x weight bias y gy gx gweight gbias" },
        { "bn_gelu_train", "x weight bias running_mean running_var y gy gx gweight gbias running_mean_after running_var_after" },
        { "bn_gelu_eval", "x weight bias running_mean running_var y gy gx gweight gbias" },
        { "groupnorm", "x weight bias y gy gx gweight gbias" },
        { "gelu", "x y gy gx" },
        { "relu", "x y gy gx" },
        { "maxpool2", "x y gy gx" },
        { "avgpool4", "x y gy gx" },
        { "linear", "x weight bias y gy gx gweight gbias" },
        { "cat", "x0 x1 y gy gx0 gx1" },
        { "embed_broadcast", "x s b y gy gx gs gb" },
        { "residual", "a b y gy ga gb" },
        { "mse", "pred target loss gpred" },
        { "adam", "p g1 g2 g3 p_after1 d_after1 p_after3 d_after3" },
    };

    [Theory]
    [MemberData(nameof(OpFixtures))]
    public void OpFixtureHoldsExactlyTheDocumentedTensors(string fixture, string names)
    {
        var file = SafetensorsFile.Read(ReferenceParameters.FixturePath("ops", fixture + ".safetensors"));
        Assert.Equal(names.Split(' '), file.Names);
        if (file.Contains("gy"))
            Assert.Equal(file["y"].Shape, file["gy"].Shape);
        foreach (string name in file.Names)
            Assert.Contains(file[name].ToFloat32(), v => v != 0f);
    }
}
