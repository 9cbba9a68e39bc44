using System.Runtime.Intrinsics;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;

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

    // The frozen convolutions' GELU has a rational erf (tools/reference/erf_fit.py): within 4e-7 of the float64 erf, the
    // scalar path the same bits as the vector lanes, and the edges (saturation, NaN, infinities) as erf's.
    [Fact]
    public void ErfIsWithinFourTenMillionthsAndTheScalarPathGivesTheLanesBits()
    {
        double worst = 0;
        var rng = new Rng(17);
        var lanes = new float[8];
        for (int i = 0; i < 50_000; i++)
        {
            for (int j = 0; j < 8; j++) lanes[j] = (float)(rng.NextDouble() * 12 - 6);
            var result = InferenceGelu.Erf(Vector256.Create(lanes));
            for (int j = 0; j < 8; j++)
            {
                worst = Math.Max(worst, Math.Abs(result[j] - MathNet.Numerics.SpecialFunctions.Erf(lanes[j])));
                Assert.Equal(BitConverter.SingleToInt32Bits(InferenceGelu.Erf(lanes[j])), BitConverter.SingleToInt32Bits(result[j]));
            }
        }
        Assert.True(worst < 4e-7, $"worst absolute error {worst:E2}");
        Assert.True(worst > 1e-8, "a float32 erf cannot be this close: the reference is not being compared");
        Assert.Equal(0f, InferenceGelu.Erf(0f));
        Assert.Equal(1f, InferenceGelu.Erf(3.92f));
        Assert.Equal(-1f, InferenceGelu.Erf(-1e30f));
        Assert.Equal(1f, InferenceGelu.Erf(float.PositiveInfinity));
        Assert.Equal(-1f, InferenceGelu.Erf(Vector256.Create(float.NegativeInfinity))[3]);
        Assert.True(float.IsNaN(InferenceGelu.Erf(float.NaN)));
        Assert.True(float.IsNaN(InferenceGelu.Erf(Vector256.Create(float.NaN))[0]));
    }

    // GELU in float32 against float64 x Phi(x): tiny for large negative x (no x * (1 + erf) cancellation
    // left over as in x * 3e-8), x itself for large positive x.
    [Fact]
    public void GeluIsCloseToTheFloat64OneAcrossTheRange()
    {
        double worst = 0;
        for (double v = -12; v <= 12; v += 1e-3)
        {
            float x = (float)v;
            double exact = 0.5 * x * (1 + MathNet.Numerics.SpecialFunctions.Erf(x / Math.Sqrt(2)));
            worst = Math.Max(worst, Math.Abs(InferenceGelu.Gelu(x) - exact));
        }
        Assert.True(worst < 1e-6, $"worst absolute error {worst:E2}");
        if (Vector512.IsHardwareAccelerated)
        {
            var lanes = new float[16];
            var rng = new Rng(19);
            for (int i = 0; i < 4000; i++)
            {
                for (int j = 0; j < 16; j++) lanes[j] = (float)(rng.NextDouble() * 16 - 8);
                var wide = InferenceGelu.Gelu(Vector512.Create(lanes));
                for (int j = 0; j < 16; j++)
                    Assert.Equal(BitConverter.SingleToInt32Bits(InferenceGelu.Gelu(lanes[j])), BitConverter.SingleToInt32Bits(wide[j]));
            }
        }
        Assert.Equal(0f, Math.Abs(InferenceGelu.Gelu(-8f)));
        Assert.Equal(8f, InferenceGelu.Gelu(8f));
    }

    // The activations take sixteen lanes where the machine has them and eight elsewhere; a model
    // must give the same bits on both kinds of machine, so the widths must agree lane for lane.
    [Fact]
    public void SixteenLanesGiveTheBitsOfEight()
    {
        if (!Vector512.IsHardwareAccelerated) return; // nothing to compare on an AVX2 machine: only the eight-lane path runs there
        var rng = new Rng(11);
        var lanes = new float[16];
        for (int i = 0; i < 4000; i++)
        {
            double scale = i % 4 == 0 ? 100 : 6; // also far tails, where erf saturates and exp underflows
            for (int j = 0; j < 16; j++) lanes[j] = (float)((rng.NextDouble() * 2 - 1) * scale);
            var wide = Vector512.Create(lanes);
            var lo = Vector256.Create(lanes, 0);
            var hi = Vector256.Create(lanes, 8);
            AssertSameBits(VectorMath.Exp(wide), VectorMath.Exp(lo), VectorMath.Exp(hi));
            AssertSameBits(Activations.Gelu(wide), Activations.Gelu(lo), Activations.Gelu(hi));
            AssertSameBits(Activations.GeluDerivative(wide), Activations.GeluDerivative(lo), Activations.GeluDerivative(hi));
        }
    }

    [Fact]
    public unsafe void GeluSpanMatchesTheEightLaneGeluForEveryLengthAndTail()
    {
        var rng = new Rng(5);
        for (int n = 0; n < 70; n++)
        {
            var x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 10 - 5);
            var y = new float[n];
            fixed (float* px = x, py = y) Activations.GeluSpan(px, py, n);
            for (int i = 0; i < n; i++)
            {
                // Elements past the last whole eight are computed one at a time, as the eight-lane loops leave them.
                float expected = i < n / 8 * 8 ? Activations.Gelu(Vector256.Create(x, i / 8 * 8))[i % 8] : Activations.Gelu(x[i]);
                Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(y[i]));
            }
        }
    }

    private static void AssertSameBits(Vector512<float> wide, Vector256<float> lo, Vector256<float> hi)
    {
        for (int j = 0; j < 16; j++)
        {
            float narrow = j < 8 ? lo[j] : hi[j - 8];
            Assert.Equal(BitConverter.SingleToInt32Bits(narrow), BitConverter.SingleToInt32Bits(wide[j]));
        }
    }
}
