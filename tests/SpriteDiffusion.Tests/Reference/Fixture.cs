using SpriteDiffusion.Engine;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Reference;

/// <summary>Loads PyTorch reference fixtures (tools/reference/) and compares against them.</summary>
internal static class Fixture
{
    public const double Tolerance = 1e-4;

    public static SafetensorsFile Load(string relative) =>
        SafetensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", relative + ".safetensors"));

    public static Tensor Tensor(this SafetensorsFile file, string name)
    {
        var t = file[name];
        int[] shape = t.Shape.Length == 0 ? [1] : t.Shape;
        return SpriteDiffusion.Engine.Tensor.FromArray(t.ToFloat32(), shape);
    }

    public static void CopyInto(this SafetensorsFile file, string name, Tensor destination)
    {
        var values = file[name].ToFloat32();
        Assert.Equal(destination.Length, values.Length);
        values.CopyTo(destination.Span);
    }

    /// <summary>max |ours - ref| / max |ref| below the tolerance; the reference must not be trivial.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, double tolerance = Tolerance)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        double maxRef = 0, maxDiff = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            maxRef = Math.Max(maxRef, Math.Abs(expected[i]));
            double d = Math.Abs((double)expected[i] - actual[i]);
            if (double.IsNaN(d)) d = double.PositiveInfinity;
            maxDiff = Math.Max(maxDiff, d);
        }
        Assert.True(maxRef > 0, $"{what}: the reference is all zeros, so the comparison proves nothing");
        double rel = maxDiff / maxRef;
        Assert.True(rel <= tolerance, $"{what}: relative error {rel:E3} exceeds {tolerance:E1} (max |diff| {maxDiff:E3}, max |ref| {maxRef:E3})");
    }

    public static void AssertClose(this SafetensorsFile file, string name, Tensor actual, double tolerance = Tolerance) =>
        AssertClose(file[name].ToFloat32(), actual.Span, name, tolerance);
}
