using System.Runtime.InteropServices;
using System.Text.Json;
using SpriteDiffusion.Evaluation;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>Reads the reference values written by tools/reference/metrics_fixtures.py.</summary>
internal static class MetricFixtures
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "metrics");

    public static JsonElement Root { get; } = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "metrics.json"))).RootElement;

    public static JsonElement Case(string name) =>
        Root.GetProperty("frechet_kid").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public static FeatureMatrix Features(JsonElement testCase, string which)
    {
        int count = testCase.GetProperty(which == "x" ? "n1" : "n2").GetInt32();
        int d = testCase.GetProperty("d").GetInt32();
        return new FeatureMatrix(ReadDoubles(testCase.GetProperty(which).GetString()!), count, d);
    }

    // The fixtures are raw little-endian values, the layout of every machine .NET runs these tests on.
    public static double[] ReadDoubles(string file) => MemoryMarshal.Cast<byte, double>(File.ReadAllBytes(Path.Combine(Directory, file))).ToArray();

    public static float[] ReadFloats(string file) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(Directory, file))).ToArray();

    public static void AssertRelative(double expected, double actual, double tolerance, string what)
    {
        double error = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-300);
        Assert.True(error <= tolerance, $"{what}: expected {expected:R}, got {actual:R} (relative error {error:E2} > {tolerance:E0})");
    }
}
