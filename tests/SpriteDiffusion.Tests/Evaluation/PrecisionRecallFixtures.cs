using System.Text.Json;
using SpriteDiffusion.Evaluation;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>Reads the reference values written by tools/reference/metrics_pr_fixtures.py.</summary>
internal static class PrecisionRecallFixtures
{
    public static JsonElement Root { get; } =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(MetricFixtures.Directory, "precision_recall.json"))).RootElement;

    public static JsonElement Case(string name) =>
        Root.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    /// <summary>One stored set as a feature matrix: float64 rows as written, or uint8 pixels divided by 255 as the script did.</summary>
    public static FeatureMatrix Set(JsonElement testCase, string which)
    {
        var set = testCase.GetProperty("sets").GetProperty(which);
        int count = set.GetProperty("count").GetInt32(), d = testCase.GetProperty("d").GetInt32();
        string file = set.GetProperty("file").GetString()!;
        double[] values = testCase.GetProperty("format").GetString() == "u8"
            ? File.ReadAllBytes(Path.Combine(MetricFixtures.Directory, file)).Select(b => b / 255.0).ToArray()
            : MetricFixtures.ReadDoubles(file);
        return new FeatureMatrix(values, count, d);
    }

    public static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    public static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    public static bool[] Flags(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32() != 0).ToArray();

    /// <summary>Relative comparison, except that an expected 0 (an exact copy) must come out exactly 0.</summary>
    public static void AssertClose(double expected, double actual, double tolerance, string what)
    {
        if (expected == 0)
            Assert.True(actual == 0, $"{what}: expected exactly 0, got {actual:R}");
        else
            MetricFixtures.AssertRelative(expected, actual, tolerance, what);
    }
}
