using System.Runtime.InteropServices;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Diffusion;

/// <summary>The PyTorch float64 fixtures of tools/reference/diffusion_fixtures.py.</summary>
internal static class DiffusionFixture
{
    /// <summary>Float32 arithmetic on float64 references: a few ulps of the largest value.</summary>
    public const double FloatTolerance = 1e-5;

    /// <summary>
    /// Schedule values and coefficients are float64 on both sides, but the cosine schedule's
    /// beta = 1 - f(t+1)/f(t) cancels (beta[0] is 4e-5, so about 5 of 16 digits go), and torch's
    /// cos is not glibc's: they agree to a few 1e-12.
    /// </summary>
    public const double DoubleTolerance = 1e-10;

    public static SafetensorsFile Load(string name) =>
        SafetensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "diffusion", name + ".safetensors"));

    public static double[] Doubles(this SafetensorsFile file, string name)
    {
        var tensor = file[name];
        Assert.Equal("F64", tensor.DType);
        return MemoryMarshal.Cast<byte, double>(tensor.Bytes).ToArray();
    }

    public static double Scalar(this SafetensorsFile file, string name) => Assert.Single(file.Doubles(name));

    public static float[] Floats(this SafetensorsFile file, string name) => file[name].ToFloat32();

    public static int[] Ints(this SafetensorsFile file, string name) => Array.ConvertAll(file[name].ToInt64(), v => checked((int)v));

    /// <summary>Element-wise |ours - ref| / |ref|, for arrays whose values span many magnitudes (alpha_bar).</summary>
    public static void AssertEachClose(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, string what, double tolerance = DoubleTolerance)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
            AssertClose(expected[i], actual[i], $"{what}[{i}]", tolerance);
    }

    public static void AssertClose(double expected, double actual, string what, double tolerance = DoubleTolerance)
    {
        double diff = Math.Abs(expected - actual);
        Assert.True(diff <= tolerance * Math.Abs(expected), $"{what}: {actual:R} vs reference {expected:R} (relative {diff / Math.Abs(expected):E2})");
    }

    /// <summary>Non-trivial standard normal values, seeded.</summary>
    public static float[] Gaussian(int count, ulong seed)
    {
        var values = new float[count];
        new SpriteDiffusion.Engine.Rng(seed).FillGaussian(values);
        return values;
    }
}
