using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SpriteDiffusion.Layers;

/// <summary>
/// GELU for the frozen (inference-only) convolutions' epilogue: the same x Phi(x), with an erf
/// fitted for speed instead of the training layers' Numerical Recipes erfc (no exp, one division:
/// a third of its time, which was a third of a frozen 16x16 layer's). Its absolute error, below
/// 4e-7 in erf, is larger than theirs in GELU's negative tail, so training and the layers keep
/// <see cref="Activations"/>; a frozen pass already differs from the eval pass by its Winograd
/// rounding and is held to the eval regression fixtures' 1e-5.
/// </summary>
internal static unsafe class InferenceGelu
{
    private const float InvSqrt2 = 0.70710678118654752f;

    // erf(x) = x P(x^2) / Q(x^2) below ErfOne and +-1 from there (erf(3.92) = 1 - 3.5e-8); the
    // coefficients and their error come from tools/reference/erf_fit.py. Every width, the scalar one
    // included, does the same operations in the same order, so all give the same bits.
    private const float ErfOne = 3.92f;
    // erf(x) = x P(x^2) / Q(x^2), P from the highest power down, Q's constant term 1 (tools/reference/erf_fit.py).
    private const float P0 = 1.9918479310376824e-08f, P1 = -1.9943197457905626e-06f, P2 = 0.00014902366092428565f,
        P3 = 0.0039746761322021484f, P4 = 0.051403261721134186f, P5 = 0.20615753531455994f, P6 = 1.1283787488937378f;
    private const float Q0 = 0.001024533761665225f, Q1 = 0.01489297952502966f, Q2 = 0.11758265644311905f, Q3 = 0.5160311460494995f;

    /// <summary>
    /// erf with absolute error below 4e-7 (a few float32 ulps of 1): a rational function fitted
    /// for this engine, with no exp and one division.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Erf(float x)
    {
        float z2 = x * x;
        float p = P0;
        p = MathF.FusedMultiplyAdd(p, z2, P1);
        p = MathF.FusedMultiplyAdd(p, z2, P2);
        p = MathF.FusedMultiplyAdd(p, z2, P3);
        p = MathF.FusedMultiplyAdd(p, z2, P4);
        p = MathF.FusedMultiplyAdd(p, z2, P5);
        p = MathF.FusedMultiplyAdd(p, z2, P6);
        float q = Q0;
        q = MathF.FusedMultiplyAdd(q, z2, Q1);
        q = MathF.FusedMultiplyAdd(q, z2, Q2);
        q = MathF.FusedMultiplyAdd(q, z2, Q3);
        q = MathF.FusedMultiplyAdd(q, z2, 1f);
        return MathF.Abs(x) >= ErfOne ? MathF.CopySign(1f, x) : x * p / q;
    }

    /// <summary>The same erf, eight lanes at a time, lane for lane the scalar one's operations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Erf(Vector256<float> x)
    {
        var z2 = x * x;
        var p = Vector256.Create(P0);
        p = Vector256.FusedMultiplyAdd(p, z2, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, z2, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, z2, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, z2, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, z2, Vector256.Create(P5));
        p = Vector256.FusedMultiplyAdd(p, z2, Vector256.Create(P6));
        var q = Vector256.Create(Q0);
        q = Vector256.FusedMultiplyAdd(q, z2, Vector256.Create(Q1));
        q = Vector256.FusedMultiplyAdd(q, z2, Vector256.Create(Q2));
        q = Vector256.FusedMultiplyAdd(q, z2, Vector256.Create(Q3));
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
        var p = Vector512.Create(P0);
        p = Vector512.FusedMultiplyAdd(p, z2, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, z2, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, z2, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, z2, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, z2, Vector512.Create(P5));
        p = Vector512.FusedMultiplyAdd(p, z2, Vector512.Create(P6));
        var q = Vector512.Create(Q0);
        q = Vector512.FusedMultiplyAdd(q, z2, Vector512.Create(Q1));
        q = Vector512.FusedMultiplyAdd(q, z2, Vector512.Create(Q2));
        q = Vector512.FusedMultiplyAdd(q, z2, Vector512.Create(Q3));
        q = Vector512.FusedMultiplyAdd(q, z2, Vector512<float>.One);
        // NaN compares false and stays NaN; beyond ErfOne the quotient may be inf / inf.
        var one = Vector512.ConditionalSelect(Vector512.Create(-0f), x, Vector512<float>.One);
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(Vector512.Abs(x), Vector512.Create(ErfOne)), one, x * p / q);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Gelu(float x)
    {
        float h = 0.5f * x;
        return MathF.FusedMultiplyAdd(h, Erf(x * InvSqrt2), h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Gelu(Vector256<float> x)
    {
        var h = Vector256.Create(0.5f) * x;
        return Vector256.FusedMultiplyAdd(h, Erf(x * Vector256.Create(InvSqrt2)), h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Gelu(Vector512<float> x)
    {
        var h = Vector512.Create(0.5f) * x;
        return Vector512.FusedMultiplyAdd(h, Erf(x * Vector512.Create(InvSqrt2)), h);
    }

    /// <summary>y[i] = GELU(x[i]) for i &lt; n, y may be x; every width and the scalar tail give the same bits.</summary>
    internal static void Span(float* x, float* y, int n)
    {
        int i = 0;
        if (Activations.Wide)
            for (; i + 16 <= n; i += 16) Gelu(Vector512.Load(x + i)).Store(y + i);
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8) Gelu(Vector256.Load(x + i)).Store(y + i);
        for (; i < n; i++) y[i] = Gelu(x[i]);
    }
}
