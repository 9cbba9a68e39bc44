using System.Text;
using System.Text.Json;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Reference;

/// <summary>
/// The U-Net fixtures' parameter scheme (tools/reference/param_scheme.py), so that tests can
/// rebuild the exact parameters PyTorch used instead of the fixtures storing 1.5 M of them.
/// </summary>
public static class ReferenceParameters
{
    public static string FixturePath(params string[] parts) =>
        Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    public static uint Fnv1a32(string name)
    {
        uint h = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(name))
            h = unchecked((h ^ b) * 16777619);
        return h;
    }

    /// <summary>splitmix64 stream mapped to float32 in [-1, 1); every step is exact in float32.</summary>
    public static void UniformPm1(ulong seed, Span<float> dest)
    {
        ulong state = seed;
        for (int i = 0; i < dest.Length; i++)
        {
            unchecked
            {
                state += 0x9E3779B97F4A7C15UL;
                ulong z = state;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                z ^= z >> 31;
                float u = (z >> 40) / 16777216f;
                dest[i] = 2f * u - 1f;
            }
        }
    }

    /// <summary>The float values of one state-dict entry (num_batches_tracked: zeros).</summary>
    public static float[] Generate(string name, int[] shape)
    {
        long count = 1;
        foreach (int d in shape) count *= d;
        var values = new float[count];
        if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            return values;
        UniformPm1(Fnv1a32(name), values);
        if (name.EndsWith(".weight", StringComparison.Ordinal) && shape.Length >= 2)
        {
            long fan = count / shape[0];
            float scale = (float)(1.0 / Math.Sqrt(fan));
            for (int i = 0; i < values.Length; i++) values[i] *= scale;
        }
        else if (name.EndsWith(".weight", StringComparison.Ordinal))
            for (int i = 0; i < values.Length; i++) values[i] = 1f + 0.2f * values[i];
        else if (name.EndsWith(".bias", StringComparison.Ordinal) || name.EndsWith(".running_mean", StringComparison.Ordinal))
            for (int i = 0; i < values.Length; i++) values[i] = 0.1f * values[i];
        else if (name.EndsWith(".running_var", StringComparison.Ordinal))
            for (int i = 0; i < values.Length; i++) values[i] = 1f + 0.5f * values[i];
        else
            throw new ArgumentException($"no generation rule for '{name}'.", nameof(name));
        return values;
    }

    /// <summary>The state-dict entries a U-Net fixture lists in its "names" metadata, in order.</summary>
    public static List<(string Name, int[] Shape, string DType)> StateDictEntries(SafetensorsFile fixture)
    {
        using var doc = JsonDocument.Parse(fixture.Metadata["names"]);
        var entries = new List<(string, int[], string)>();
        foreach (var e in doc.RootElement.EnumerateArray())
            entries.Add((e[0].GetString()!, e[1].EnumerateArray().Select(d => d.GetInt32()).ToArray(), e[2].GetString()!));
        return entries;
    }

    /// <summary>Stride of the stored gradient/Adam samples: flat elements [0, s, 2s, ...].</summary>
    public static int SubsampleStride(long count, bool subsample) => subsample ? (int)Math.Max(1, count / 1024) : 1;
}
