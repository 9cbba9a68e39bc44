using SpriteDiffusion.Model;
using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Tests.Reference;

/// <summary>
/// The deterministic parameter scheme of tools/reference/param_scheme.py, so U-Net fixtures need
/// not store 1.5 M parameters: FNV-1a of the name seeds a splitmix64 stream per tensor.
/// </summary>
internal static class FixtureParameters
{
    public static uint Fnv1a32(string name)
    {
        uint h = 2166136261;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(name)) { h ^= b; h *= 16777619; }
        return h;
    }

    public static float[] Generate(string name, int[] shape)
    {
        long count = 1;
        foreach (int d in shape) count *= d;
        var values = new float[count];
        ulong state = Fnv1a32(name);
        float scale = 1f;
        if (name.EndsWith(".weight") && shape.Length >= 2)
        {
            long fan = 1;
            for (int i = 1; i < shape.Length; i++) fan *= shape[i];
            scale = (float)(1.0 / Math.Sqrt(fan));
        }
        for (long i = 0; i < count; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            float u = (z >> 40) / 16777216f;
            float v = 2f * u - 1f;
            values[i] = name switch
            {
                _ when name.EndsWith(".weight") && shape.Length >= 2 => v * scale,
                _ when name.EndsWith(".weight") => 1f + 0.2f * v,
                _ when name.EndsWith(".bias") || name.EndsWith(".running_mean") => 0.1f * v,
                _ when name.EndsWith(".running_var") => 1f + 0.5f * v,
                _ => throw new ArgumentException($"no generation rule for {name}"),
            };
        }
        return values;
    }

    public static void Fill(ParameterStore store)
    {
        foreach (var e in store.Entries)
        {
            if (e.Kind == StateKind.Counter) { e.Count = 0; continue; }
            Generate(e.Name, e.Shape).CopyTo(e.Value.Span);
        }
    }
}
