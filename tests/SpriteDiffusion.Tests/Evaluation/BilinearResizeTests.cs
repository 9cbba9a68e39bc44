using SpriteDiffusion.Evaluation;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>Upsampling against PyTorch's interpolate(mode="bilinear", align_corners=False).</summary>
public class BilinearResizeTests
{
    private const float Tolerance = 2e-6f;

    [Fact]
    public void MatchesPyTorchAtANonIntegerRatio()
    {
        var bilinear = MetricFixtures.Root.GetProperty("bilinear");
        var input = MetricFixtures.ReadFloats(bilinear.GetProperty("input").GetString()!);
        var expected = MetricFixtures.ReadFloats(bilinear.GetProperty("size37").GetString()!);
        var resize = new BilinearResize(16, 37);
        var output = new float[37 * 37];
        for (int c = 0; c < 3; c++)
        {
            resize.Resize(input.AsSpan(c * 256, 256), output);
            for (int i = 0; i < output.Length; i++)
                Assert.True(Math.Abs(output[i] - expected[c * 37 * 37 + i]) <= Tolerance, $"channel {c} pixel {i}: {output[i]} vs {expected[c * 37 * 37 + i]}");
        }
    }

    [Fact]
    public void MatchesPyTorchAt224()
    {
        var bilinear = MetricFixtures.Root.GetProperty("bilinear");
        var input = MetricFixtures.ReadFloats(bilinear.GetProperty("input").GetString()!);
        var resize = new BilinearResize(16, 224);
        var planes = new float[3][];
        for (int c = 0; c < 3; c++)
        {
            planes[c] = new float[224 * 224];
            resize.Resize(input.AsSpan(c * 256, 256), planes[c]);
        }
        int checkedCount = 0;
        foreach (var sample in bilinear.GetProperty("samples224").EnumerateArray())
        {
            int c = sample[0].GetInt32(), y = sample[1].GetInt32(), x = sample[2].GetInt32();
            float want = sample[3].GetSingle();
            Assert.True(Math.Abs(planes[c][y * 224 + x] - want) <= Tolerance, $"({c}, {y}, {x}): {planes[c][y * 224 + x]} vs {want}");
            checkedCount++;
        }
        Assert.True(checkedCount > 500);
    }

    [Fact]
    public void KeepsAConstantPlaneConstant()
    {
        var source = Enumerable.Repeat(0.25f, 9).ToArray();
        var target = new float[100];
        new BilinearResize(3, 10).Resize(source, target);
        Assert.All(target, v => Assert.Equal(0.25f, v, 6));
    }
}
