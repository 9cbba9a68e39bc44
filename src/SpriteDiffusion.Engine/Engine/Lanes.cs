using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SpriteDiffusion.Engine;

/// <summary>
/// A vector width for kernels written once and run at 8, 4 or 1 lanes: the wide width over the
/// bulk of a row, the narrower ones over what is left (and on machines without the instructions).
/// Pairs are the even and odd elements of 2 * Count consecutive floats, the interleaving of the
/// 2x2 output tiles of a Winograd convolution.
/// </summary>
internal unsafe interface ILanes<TV> where TV : struct
{
    static abstract int Count { get; }
    static abstract TV Load(float* p);
    static abstract void Store(TV v, float* p);
    static abstract TV Add(TV a, TV b);
    static abstract TV Sub(TV a, TV b);
    static abstract TV Neg(TV a);
    static abstract TV Broadcast(float x);
    static abstract void LoadPairs(float* p, out TV even, out TV odd);
    static abstract void StorePairs(TV even, TV odd, float* p);
}

internal unsafe struct Lanes8 : ILanes<Vector256<float>>
{
    public static bool Supported { get; } = Avx2.IsSupported && !Sgemm.ScalarOnly;
    public static int Count => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* p) => Avx.LoadVector256(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> v, float* p) => Avx.Store(p, v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => Avx.Add(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Sub(Vector256<float> a, Vector256<float> b) => Avx.Subtract(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Neg(Vector256<float> a) => Avx.Subtract(Vector256<float>.Zero, a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float x) => Vector256.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadPairs(float* p, out Vector256<float> even, out Vector256<float> odd)
    {
        var lo = Avx.LoadVector256(p);
        var hi = Avx.LoadVector256(p + 8);
        // Shuffle pairs within 128-bit halves (lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6); the 64-bit permute restores order.
        even = Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();
        odd = Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StorePairs(Vector256<float> even, Vector256<float> odd, float* p)
    {
        var lo = Avx.UnpackLow(even, odd);   // e0 o0 e1 o1 | e4 o4 e5 o5
        var hi = Avx.UnpackHigh(even, odd);  // e2 o2 e3 o3 | e6 o6 e7 o7
        Avx.Store(p, Avx.Permute2x128(lo, hi, 0x20));
        Avx.Store(p + 8, Avx.Permute2x128(lo, hi, 0x31));
    }
}

internal unsafe struct Lanes4 : ILanes<Vector128<float>>
{
    public static bool Supported { get; } = Sse.IsSupported && !Sgemm.ScalarOnly;
    public static int Count => 4;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(float* p) => Sse.LoadVector128(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> v, float* p) => Sse.Store(p, v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => Sse.Add(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Sub(Vector128<float> a, Vector128<float> b) => Sse.Subtract(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Neg(Vector128<float> a) => Sse.Subtract(Vector128<float>.Zero, a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float x) => Vector128.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadPairs(float* p, out Vector128<float> even, out Vector128<float> odd)
    {
        var lo = Sse.LoadVector128(p);
        var hi = Sse.LoadVector128(p + 4);
        even = Sse.Shuffle(lo, hi, 0b10_00_10_00);
        odd = Sse.Shuffle(lo, hi, 0b11_01_11_01);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StorePairs(Vector128<float> even, Vector128<float> odd, float* p)
    {
        Sse.Store(p, Sse.UnpackLow(even, odd));
        Sse.Store(p + 4, Sse.UnpackHigh(even, odd));
    }
}

internal unsafe struct Lanes1 : ILanes<float>
{
    public static int Count => 1;
    public static float Load(float* p) => *p;
    public static void Store(float v, float* p) => *p = v;
    public static float Add(float a, float b) => a + b;
    public static float Sub(float a, float b) => a - b;
    public static float Neg(float a) => 0f - a; // as the vector widths do: 0 - 0 is +0
    public static float Broadcast(float x) => x;

    public static void LoadPairs(float* p, out float even, out float odd) { even = p[0]; odd = p[1]; }
    public static void StorePairs(float even, float odd, float* p) { p[0] = even; p[1] = odd; }
}
