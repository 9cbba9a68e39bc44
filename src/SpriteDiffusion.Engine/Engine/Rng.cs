namespace SpriteDiffusion.Engine;

/// <summary>
/// The engine's seeded random generator (xoshiro256** seeded through splitmix64). Ours rather than
/// System.Random so that a seed means the same numbers on every .NET version and machine.
/// </summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spare;
    private bool _hasSpare;

    /// <summary>A generator whose whole stream is fixed by <paramref name="seed"/> (splitmix64 expands it to the 256-bit state).</summary>
    public Rng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    /// <summary>An independent stream derived from a seed and a stream number (for per-purpose generators).</summary>
    public static Rng Derive(ulong seed, ulong stream) => new(seed ^ (0xD1B54A32D192ED03UL * (stream + 1)));

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits (one xoshiro256** step); every other draw is made from these.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3; _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n));
        return (int)((NextUInt64() >> 33) * (ulong)n >> 31);
    }

    /// <summary>Standard normal (Box-Muller, both values used).</summary>
    public double NextGaussian()
    {
        if (_hasSpare) { _hasSpare = false; return _spare; }
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spare = r * Math.Sin(2 * Math.PI * u2);
        _hasSpare = true;
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Overwrites <paramref name="dest"/> with values uniform in [<paramref name="low"/>, <paramref name="high"/>), in index order.</summary>
    public void FillUniform(Span<float> dest, float low, float high)
    {
        for (int i = 0; i < dest.Length; i++) dest[i] = (float)(low + (high - low) * NextDouble());
    }

    /// <summary>Overwrites <paramref name="dest"/> with standard normal values in index order; a pair's second value carries over to the next call.</summary>
    public void FillGaussian(Span<float> dest)
    {
        for (int i = 0; i < dest.Length; i++) dest[i] = (float)NextGaussian();
    }

    /// <summary>The generator's full state, for resumable checkpoints.</summary>
    public ulong[] GetState() => [_s0, _s1, _s2, _s3, _hasSpare ? 1UL : 0UL, BitConverter.DoubleToUInt64Bits(_spare)];

    /// <summary>
    /// Restores a state taken with <see cref="GetState"/>, so that the stream continues exactly where it
    /// was saved (a resumed run draws the same numbers). Throws <see cref="ArgumentException"/> unless there are six words.
    /// </summary>
    public void SetState(ReadOnlySpan<ulong> state)
    {
        if (state.Length != 6) throw new ArgumentException($"a random generator state has 6 words (got {state.Length}).", nameof(state));
        _s0 = state[0]; _s1 = state[1]; _s2 = state[2]; _s3 = state[3];
        _hasSpare = state[4] != 0; _spare = BitConverter.UInt64BitsToDouble(state[5]);
    }
}
