namespace SpriteDiffusion.Diffusion;

/// <summary>
/// In-betweens of two starting noises x_T. Spherical rather than linear interpolation: Gaussian
/// noise in many dimensions lies near a sphere, and a straight line between two such points
/// passes well inside it (the midpoint has about 0.71 times the norm), noise the model never saw.
/// </summary>
public static class NoiseInterpolation
{
    /// <summary>
    /// Below this angle (radians) the slerp weights sin((1 - t) theta) / sin theta and
    /// sin(t theta) / sin theta differ from 1 - t and t by under 1e-12, and the division would
    /// lose everything as theta reaches 0; the straight line is then used.
    /// </summary>
    public const double ParallelAngle = 1e-6;

    /// <summary>
    /// slerp(a, b, t) = sin((1 - t) theta) / sin theta a + sin(t theta) / sin theta b, theta the
    /// angle between a and b; exactly a at t = 0 and b at t = 1. Vectors of equal norm keep it.
    /// Nearly parallel vectors, a zero vector, and nearly opposite ones (no single great circle
    /// joins those) fall back to the straight line (1 - t) a + t b.
    /// </summary>
    public static void Slerp(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double t, Span<float> result)
    {
        if (a.Length != b.Length || result.Length != a.Length)
            throw new ArgumentException($"slerp needs vectors of one length (got {a.Length}, {b.Length} and a result of {result.Length}).");
        if (t == 0) { a.CopyTo(result); return; }
        if (t == 1) { b.CopyTo(result); return; }
        double theta = Angle(a, b);
        double wa = 1 - t, wb = t;
        if (theta > ParallelAngle && theta < Math.PI - ParallelAngle)
        {
            double sin = Math.Sin(theta);
            wa = Math.Sin((1 - t) * theta) / sin;
            wb = Math.Sin(t * theta) / sin;
        }
        for (int i = 0; i < a.Length; i++) result[i] = (float)(wa * a[i] + wb * b[i]);
    }

    /// <summary><paramref name="count"/> points from a to b at t = i / (count - 1), one after another.</summary>
    public static float[] Path(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int count)
    {
        if (count < 2) throw new ArgumentOutOfRangeException(nameof(count), count, "a path includes both ends, so at least 2 points.");
        int n = a.Length;
        var path = new float[checked(count * n)];
        for (int i = 0; i < count; i++)
            Slerp(a, b, (double)i / (count - 1), path.AsSpan(i * n, n));
        return path;
    }

    /// <summary>
    /// The angle between a and b in radians, 0 if either is zero. 2 atan2(|u - v|, |u + v|) over the
    /// unit vectors u, v rather than acos of their dot product, which loses half its digits near 0 and pi.
    /// </summary>
    public static double Angle(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double na = Norm(a), nb = Norm(b);
        if (na == 0 || nb == 0) return 0;
        double diff = 0, sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double u = a[i] / na, v = b[i] / nb;
            diff += (u - v) * (u - v);
            sum += (u + v) * (u + v);
        }
        return 2 * Math.Atan2(Math.Sqrt(diff), Math.Sqrt(sum));
    }

    /// <summary>The Euclidean norm of <paramref name="v"/>, summed in double.</summary>
    public static double Norm(ReadOnlySpan<float> v)
    {
        double s = 0;
        foreach (float x in v) s += (double)x * x;
        return Math.Sqrt(s);
    }
}
