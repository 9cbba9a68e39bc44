using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Layers;

/// <summary>Exact (erf) GELU and ReLU, forward and backward, over flat buffers in parallel chunks.</summary>
public static unsafe class Activations
{
    private static readonly int PGeluForward = Profiler.Register("gelu.forward");
    private static readonly int PGeluBackward = Profiler.Register("gelu.backward");
    private static readonly int PReluForward = Profiler.Register("relu.forward");
    private static readonly int PReluBackward = Profiler.Register("relu.backward");

    internal const int Chunk = 1 << 14;
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float InvSqrt2Pi = 0.39894228040143268f;

    // erf(x) = x P(x^2) / Q(x^2) below ErfOne and +-1 from there (erf(3.92) = 1 - 3.5e-8); the
    // coefficients and their error come from tools/reference/erf_fit.py. Every width, the scalar one
    // included, does the same operations in the same order, so all give the same bits.
    private const float ErfOne = 3.92f;

    /// <summary>
    /// erf with absolute error below 4e-7 (a few float32 ulps of 1): a rational function fitted
    /// for this engine, with no exp and one division.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Erf(float x)
    {
        float z2 = x * x;
        float p = 1.9918479310376824e-08f;
        p = MathF.FusedMultiplyAdd(p, z2, -1.9943197457905626e-06f);
        p = MathF.FusedMultiplyAdd(p, z2, 0.00014902366092428565f);
        p = MathF.FusedMultiplyAdd(p, z2, 0.0039746761322021484f);
        p = MathF.FusedMultiplyAdd(p, z2, 0.051403261721134186f);
        p = MathF.FusedMultiplyAdd(p, z2, 0.20615753531455994f);
        p = MathF.FusedMultiplyAdd(p, z2, 1.1283787488937378f);
        float q = 0.001024533761665225f;
        q = MathF.FusedMultiplyAdd(q, z2, 0.01489297952502966f);
        q = MathF.FusedMultiplyAdd(q, z2, 0.11758265644311905f);
        q = MathF.FusedMultiplyAdd(q, z2, 0.5160311460494995f);
        q = MathF.FusedMultiplyAdd(q, z2, 1f);
        return MathF.Abs(x) >= ErfOne ? MathF.CopySign(1f, x) : x * p / q;
    }

    /// <summary>The same erf, eight lanes at a time, lane for lane the scalar one's operations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Erf(Vector256<float> x)
    {
        var z2 = x * x;
        var p = Vector256.Create(1.9918479310376824e-08f);
        p = Vector256.FusedMultiplyAdd(p, z2, Vector256.Create(-1.9943197457905626e-06f));
        p = Vector256.FusedMultiplyAdd(p, z2, Vector256.Create(0.00014902366092428565f));
        p = Vector256.FusedMultiplyAdd(p, z2, Vector256.Create(0.0039746761322021484f));
        p = Vector256.FusedMultiplyAdd(p, z2, Vector256.Create(0.051403261721134186f));
        p = Vector256.FusedMultiplyAdd(p, z2, Vector256.Create(0.20615753531455994f));
        p = Vector256.FusedMultiplyAdd(p, z2, Vector256.Create(1.1283787488937378f));
        var q = Vector256.Create(0.001024533761665225f);
        q = Vector256.FusedMultiplyAdd(q, z2, Vector256.Create(0.01489297952502966f));
        q = Vector256.FusedMultiplyAdd(q, z2, Vector256.Create(0.11758265644311905f));
        q = Vector256.FusedMultiplyAdd(q, z2, Vector256.Create(0.5160311460494995f));
        q = Vector256.FusedMultiplyAdd(q, z2, Vector256<float>.One);
        // NaN compares false and stays NaN; beyond ErfOne the quotient may be inf / inf.
        var one = Vector256.ConditionalSelect(Vector256.Create(-0f), x, Vector256<float>.One);
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(Vector256.Abs(x), Vector256.Create(ErfOne)), one, x * p / q);
    }

    /// <summary>The same erf, sixteen lanes at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Erf(Vector512<float> x)
    {
        var z2 = x * x;
        var p = Vector512.Create(1.9918479310376824e-08f);
        p = Vector512.FusedMultiplyAdd(p, z2, Vector512.Create(-1.9943197457905626e-06f));
        p = Vector512.FusedMultiplyAdd(p, z2, Vector512.Create(0.00014902366092428565f));
        p = Vector512.FusedMultiplyAdd(p, z2, Vector512.Create(0.0039746761322021484f));
        p = Vector512.FusedMultiplyAdd(p, z2, Vector512.Create(0.051403261721134186f));
        p = Vector512.FusedMultiplyAdd(p, z2, Vector512.Create(0.20615753531455994f));
        p = Vector512.FusedMultiplyAdd(p, z2, Vector512.Create(1.1283787488937378f));
        var q = Vector512.Create(0.001024533761665225f);
        q = Vector512.FusedMultiplyAdd(q, z2, Vector512.Create(0.01489297952502966f));
        q = Vector512.FusedMultiplyAdd(q, z2, Vector512.Create(0.11758265644311905f));
        q = Vector512.FusedMultiplyAdd(q, z2, Vector512.Create(0.5160311460494995f));
        q = Vector512.FusedMultiplyAdd(q, z2, Vector512<float>.One);
        // NaN compares false and stays NaN; beyond ErfOne the quotient may be inf / inf.
        var one = Vector512.ConditionalSelect(Vector512.Create(-0f), x, Vector512<float>.One);
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(Vector512.Abs(x), Vector512.Create(ErfOne)), one, x * p / q);
    }

    /// <summary>
    /// Whether the activations take sixteen lanes at a time. The chains of erf are long and
    /// dependent, so twice the lanes per instruction nearly halves their time even where the
    /// core splits 512-bit operations in two; results are the same bits at either width.
    /// </summary>
    internal static bool Wide => Sgemm.HasAvx512;

    /// <summary>GELU(x) = x Phi(x), the exact (erf) form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Gelu(float x)
    {
        float h = 0.5f * x;
        return MathF.FusedMultiplyAdd(h, Erf(x * InvSqrt2), h);
    }

    /// <summary>GELU'(x) = Phi(x) + x phi(x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float GeluDerivative(float x) =>
        0.5f * (1f + Erf(x * InvSqrt2)) + x * (InvSqrt2Pi * MathF.Exp(-0.5f * x * x));

    /// <summary>GELU for eight lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Gelu(Vector256<float> x)
    {
        var h = Vector256.Create(0.5f) * x;
        return Vector256.FusedMultiplyAdd(h, Erf(x * Vector256.Create(InvSqrt2)), h);
    }

    /// <summary>GELU' for eight lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> GeluDerivative(Vector256<float> x)
    {
        var cdf = Vector256.Create(0.5f) * (Vector256<float>.One + Erf(x * Vector256.Create(InvSqrt2)));
        var pdf = Vector256.Create(InvSqrt2Pi) * VectorMath.Exp(Vector256.Create(-0.5f) * x * x);
        return Vector256.FusedMultiplyAdd(x, pdf, cdf);
    }

    /// <summary>GELU for sixteen lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Gelu(Vector512<float> x)
    {
        var h = Vector512.Create(0.5f) * x;
        return Vector512.FusedMultiplyAdd(h, Erf(x * Vector512.Create(InvSqrt2)), h);
    }

    /// <summary>GELU' for sixteen lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> GeluDerivative(Vector512<float> x)
    {
        var cdf = Vector512.Create(0.5f) * (Vector512<float>.One + Erf(x * Vector512.Create(InvSqrt2)));
        var pdf = Vector512.Create(InvSqrt2Pi) * VectorMath.Exp(Vector512.Create(-0.5f) * x * x);
        return Vector512.FusedMultiplyAdd(x, pdf, cdf);
    }

    /// <summary>
    /// y[i] = GELU(x[i]) for i &lt; n, y may be x: sixteen lanes, then eight, then one at a time, so
    /// every element is computed the same way on machines with and without 512-bit vectors.
    /// </summary>
    internal static void GeluSpan(float* x, float* y, int n)
    {
        int i = 0;
        if (Wide)
            for (; i + 16 <= n; i += 16) Gelu(Vector512.Load(x + i)).Store(y + i);
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8) Gelu(Vector256.Load(x + i)).Store(y + i);
        for (; i < n; i++) y[i] = Gelu(x[i]);
    }

    /// <summary>y = GELU(x), the exact (erf) form, element by element in parallel chunks; y may be x.</summary>
    public static void GeluForward(Tensor x, Tensor y)
    {
        using var profile = Profiler.Measure(PGeluForward);
        var body = new GeluBody { X = x.Data, Y = y.Data, N = x.Length };
        Workers.For((x.Length + Chunk - 1) / Chunk, ref body);
    }

    /// <summary>gx = gy * GELU'(x); gx may alias gy.</summary>
    public static void GeluBackward(Tensor x, Tensor gy, Tensor gx)
    {
        using var profile = Profiler.Measure(PGeluBackward);
        var body = new GeluGradBody { X = x.Data, GY = gy.Data, GX = gx.Data, N = x.Length };
        Workers.For((x.Length + Chunk - 1) / Chunk, ref body);
    }

    /// <summary>y = max(x, 0) element by element; y may be x.</summary>
    public static void ReluForward(Tensor x, Tensor y)
    {
        using var profile = Profiler.Measure(PReluForward);
        float* px = x.Data, py = y.Data;
        int i = 0;
        // A select, not Max, so that NaN maps to 0 in every lane as in the scalar loop.
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= x.Length; i += 8)
            {
                var v = Vector256.Load(px + i);
                Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, Vector256<float>.Zero).Store(py + i);
            }
        for (; i < x.Length; i++) py[i] = px[i] > 0 ? px[i] : 0f;
    }

    /// <summary>Gradient through ReLU from its output y (y > 0 exactly where x > 0); gx may alias gy.</summary>
    public static void ReluBackward(Tensor y, Tensor gy, Tensor gx)
    {
        using var profile = Profiler.Measure(PReluBackward);
        float* py = y.Data, pg = gy.Data, po = gx.Data;
        for (int i = 0; i < y.Length; i++) po[i] = py[i] > 0 ? pg[i] : 0f;
    }

    private struct GeluBody : IParallelBody
    {
        public float* X, Y;
        public int N;

        public void Run(int chunk)
        {
            int start = chunk * Chunk;
            GeluSpan(X + start, Y + start, Math.Min(N, start + Chunk) - start);
        }
    }

    private struct GeluGradBody : IParallelBody
    {
        public float* X, GY, GX;
        public int N;

        public void Run(int chunk)
        {
            int end = Math.Min(N, (chunk + 1) * Chunk), i = chunk * Chunk;
            if (Wide)
                for (; i + 16 <= end; i += 16) (Vector512.Load(GY + i) * GeluDerivative(Vector512.Load(X + i))).Store(GX + i);
            if (Vector256.IsHardwareAccelerated)
                for (; i + 8 <= end; i += 8) (Vector256.Load(GY + i) * GeluDerivative(Vector256.Load(X + i))).Store(GX + i);
            for (; i < end; i++) GX[i] = GY[i] * GeluDerivative(X[i]);
        }
    }
}
