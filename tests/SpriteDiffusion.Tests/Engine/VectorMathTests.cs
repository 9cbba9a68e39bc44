using System.Runtime.Intrinsics;
using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Tests.Engine;

public class VectorMathTests
{
    [Fact]
    public void ExpIsWithinAFewUlpsOverTheFloatRange()
    {
        double worst = 0;
        var rng = new Rng(3);
        for (int i = 0; i < 20_000; i++)
        {
            var lanes = new float[8];
            for (int j = 0; j < 8; j++) lanes[j] = (float)(rng.NextDouble() * 170 - 86);
            var result = VectorMath.Exp(Vector256.Create(lanes));
            for (int j = 0; j < 8; j++)
            {
                double exact = Math.Exp(lanes[j]);
                worst = Math.Max(worst, Math.Abs(result[j] - exact) / exact);
            }
        }
        Assert.True(worst < 3e-7, $"worst relative error {worst:E2}");
        Assert.Equal(1f, VectorMath.Exp(Vector256<float>.Zero)[0]);
        Assert.True(VectorMath.Exp(Vector256.Create(-1000f))[0] < 1e-37f);
    }
}
