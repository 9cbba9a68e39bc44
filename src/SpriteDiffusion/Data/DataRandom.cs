namespace SpriteDiffusion.Data;

/// <summary>
/// SplitMix64: a tiny generator whose output is fixed by its definition, so that splits and
/// batch orders stay the same across .NET versions (System.Random promises no such thing).
/// </summary>
internal struct DataRandom
{
    private ulong _state;

    public DataRandom(ulong seed) => _state = seed;

    /// <summary>A generator for one purpose of one seed (e.g. epoch 7's order), independent of the others.</summary>
    public static DataRandom For(int seed, long stream, long purpose = 0)
    {
        ulong s = Mix((ulong)(uint)seed * 0x9E3779B97F4A7C15UL);
        s = Mix(s ^ (ulong)stream);
        s = Mix(s ^ ((ulong)purpose * 0xD1B54A32D192ED03UL));
        return new DataRandom(s);
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, bound) without modulo bias (Lemire's multiply-and-reject).</summary>
    public int NextInt(int bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound));
        ulong b = (ulong)bound;
        while (true)
        {
            ulong x = NextUInt64() >> 32;
            ulong m = x * b;
            if ((uint)m >= (uint)(((1UL << 32) - b) % b))
                return (int)(m >> 32);
        }
    }

    public bool NextBool() => (NextUInt64() >> 63) != 0;

    /// <summary>Fisher-Yates.</summary>
    public void Shuffle(Span<int> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
