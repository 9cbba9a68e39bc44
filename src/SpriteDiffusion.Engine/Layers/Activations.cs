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

    /// <summary>erf with relative error below 1.2e-7 (the Chebyshev-fitted erfc of Numerical Recipes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Erf(float x)
    {
        float z = MathF.Abs(x);
        float t = 1f / (1f + 0.5f * z);
        float poly = -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f +
                     t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
        float erfc = t * MathF.Exp(-z * z + poly);
        return x >= 0 ? 1f - erfc : erfc - 1f;
    }

    /// <summary>The same erf, eight lanes at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Erf(Vector256<float> x)
    {
        var z = Vector256.Abs(x);
        var one = Vector256<float>.One;
        var t = one / (one + Vector256.Create(0.5f) * z);
        var poly = Vector256.Create(0.17087277f);
        poly = Vector256.FusedMultiplyAdd(poly, t, Vector256.Create(-0.82215223f));
        poly = Vector256.FusedMultiplyAdd(poly, t, Vector256.Create(1.48851587f));
        poly = Vector256.FusedMultiplyAdd(poly, t, Vector256.Create(-1.13520398f));
        poly = Vector256.FusedMultiplyAdd(poly, t, Vector256.Create(0.27886807f));
        poly = Vector256.FusedMultiplyAdd(poly, t, Vector256.Create(-0.18628806f));
        poly = Vector256.FusedMultiplyAdd(poly, t, Vector256.Create(0.09678418f));
        poly = Vector256.FusedMultiplyAdd(poly, t, Vector256.Create(0.37409196f));
        poly = Vector256.FusedMultiplyAdd(poly, t, Vector256.Create(1.00002368f));
        poly = Vector256.FusedMultiplyAdd(poly, t, Vector256.Create(-1.26551223f));
        var erfc = t * VectorMath.Exp(poly - z * z);
        var r = one - erfc;
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), -r, r);
    }

    /// <summary>The same erf, sixteen lanes at a time, lane for lane the operations of the eight-lane one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Erf(Vector512<float> x)
    {
        var z = Vector512.Abs(x);
        var one = Vector512<float>.One;
        var t = one / (one + Vector512.Create(0.5f) * z);
        var poly = Vector512.Create(0.17087277f);
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(-0.82215223f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(1.48851587f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(-1.13520398f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(0.27886807f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(-0.18628806f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(0.09678418f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(0.37409196f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(1.00002368f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(-1.26551223f));
        var erfc = t * VectorMath.Exp(poly - z * z);
        var r = one - erfc;
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), -r, r);
    }

    /// <summary>
    /// Whether the activations take sixteen lanes at a time. The chains of erf are long and
    /// dependent, so twice the lanes per instruction nearly halves their time even where the
    /// core splits 512-bit operations in two; results are the same bits at either width.
    /// </summary>
    internal static bool Wide => Sgemm.HasAvx512;

    /// <summary>GELU(x) = x Phi(x), the exact (erf) form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Gelu(float x) => 0.5f * x * (1f + Erf(x * InvSqrt2));

    /// <summary>GELU'(x) = Phi(x) + x phi(x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float GeluDerivative(float x) =>
        0.5f * (1f + Erf(x * InvSqrt2)) + x * (InvSqrt2Pi * MathF.Exp(-0.5f * x * x));

    /// <summary>GELU for eight lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Gelu(Vector256<float> x)
    {
        var cdf = Vector256.Create(0.5f) * (Vector256<float>.One + Erf(x * Vector256.Create(InvSqrt2)));
        return x * cdf;
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
        var cdf = Vector512.Create(0.5f) * (Vector512<float>.One + Erf(x * Vector512.Create(InvSqrt2)));
        return x * cdf;
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
        var body = new ReluBody { X = x.Data, Y = y.Data, N = x.Length };
        Workers.For((x.Length + Chunk - 1) / Chunk, ref body);
    }

    /// <summary>
    /// Parts for a loop over <paramref name="items"/> of <paramref name="floatsPerItem"/> floats each:
    /// about <see cref="Chunk"/> floats a part, so that a small tensor (batch 1) stays on the calling
    /// thread, where waking the other would cost more than the work.
    /// </summary>
    internal static int PartsFor(long items, long floatsPerItem) =>
        (int)Math.Clamp(items * floatsPerItem / Chunk, 1, Math.Max(1, items));

    private struct ReluBody : IParallelBody
    {
        public float* X, Y;
        public int N;

        // A select, not Max, so that NaN maps to 0 in every lane as in the scalar loop.
        public readonly void Run(int chunk)
        {
            int i = chunk * Chunk, end = Math.Min(N, i + Chunk);
            if (Vector256.IsHardwareAccelerated)
                for (; i + 8 <= end; i += 8)
                {
                    var v = Vector256.Load(X + i);
                    Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, Vector256<float>.Zero).Store(Y + i);
                }
            for (; i < end; i++) Y[i] = X[i] > 0 ? X[i] : 0f;
        }
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
