using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SpriteDiffusion.Engine;

/// <summary>
/// Vector widths for the F(4x4, 3x3) transforms (<see cref="Winograd4"/>), whose tiles are 4 pixels
/// apart: a vector holds 4 neighbouring tiles of a tile row (one 128-bit group) for 1, 2 or 4 tile
/// rows, so a 16x16 map (4 x 4 tiles) fills one Vector512, or two Vector256. Only 128-bit groups
/// move between memory and registers and the 4x4 transposes stay within them, so every lane does
/// the same arithmetic at every width, and the scalar fallback (one tile) gives the same bits.
/// </summary>
internal unsafe interface IQuadLanes<TV> where TV : unmanaged
{
    /// <summary>Tile rows per vector.</summary>
    static abstract int Rows { get; }
    /// <summary>Tiles per tile row per vector: 4, or 1 for the scalar fallback.</summary>
    static abstract int Tiles { get; }
    static abstract TV Add(TV a, TV b);
    static abstract TV Sub(TV a, TV b);
    /// <summary>a * b + c, rounded once.</summary>
    static abstract TV MulAdd(TV a, TV b, TV c);
    static abstract TV Broadcast(float x);
    /// <summary>Lane (r, i) = p[r * stride + i].</summary>
    static abstract TV LoadRows(float* p, long stride);
    static abstract void StoreRows(TV v, float* p, long stride);
    /// <summary>d_j lane (r, i) = p[r * stride + 4 i + j], j &lt; 6: the 6 columns of each tile, read as 5 quads and transposed.</summary>
    static abstract void LoadSix(float* p, long stride, out TV d0, out TV d1, out TV d2, out TV d3, out TV d4, out TV d5);
    /// <summary>p[r * stride + 4 i + j] = y_j lane (r, i): one 4-pixel row of each tile.</summary>
    static abstract void StoreQuads(TV y0, TV y1, TV y2, TV y3, float* p, long stride);
}

internal unsafe struct Quad16 : IQuadLanes<Vector512<float>>
{
    public static bool Supported { get; } = Sgemm.HasAvx512;
    public static int Rows => 4;
    public static int Tiles => 4;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => Avx512F.Add(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => Avx512F.Subtract(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MulAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Avx512F.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float x) => Vector512.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadRows(float* p, long stride) => stride == 4
        ? Vector512.Load(p)
        : Gather(p, stride);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreRows(Vector512<float> v, float* p, long stride)
    {
        if (stride == 4) { v.Store(p); return; }
        Vector256<float> lo = v.GetLower(), hi = v.GetUpper();
        lo.GetLower().Store(p);
        lo.GetUpper().Store(p + stride);
        hi.GetLower().Store(p + 2 * stride);
        hi.GetUpper().Store(p + 3 * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadSix(float* p, long stride, out Vector512<float> d0, out Vector512<float> d1, out Vector512<float> d2,
        out Vector512<float> d3, out Vector512<float> d4, out Vector512<float> d5)
    {
        var a0 = Gather(p, stride); var a1 = Gather(p + 4, stride); var a2 = Gather(p + 8, stride);
        var a3 = Gather(p + 12, stride); var a4 = Gather(p + 16, stride);
        var t0 = Avx512F.UnpackLow(a0, a1); var t1 = Avx512F.UnpackLow(a2, a3);
        var t2 = Avx512F.UnpackHigh(a0, a1); var t3 = Avx512F.UnpackHigh(a2, a3);
        d0 = Avx512F.UnpackLow(t0.AsDouble(), t1.AsDouble()).AsSingle();
        d1 = Avx512F.UnpackHigh(t0.AsDouble(), t1.AsDouble()).AsSingle();
        d2 = Avx512F.UnpackLow(t2.AsDouble(), t3.AsDouble()).AsSingle();
        d3 = Avx512F.UnpackHigh(t2.AsDouble(), t3.AsDouble()).AsSingle();
        var s0 = Avx512F.UnpackLow(a1, a2); var s1 = Avx512F.UnpackLow(a3, a4);
        d4 = Avx512F.UnpackLow(s0.AsDouble(), s1.AsDouble()).AsSingle();
        d5 = Avx512F.UnpackHigh(s0.AsDouble(), s1.AsDouble()).AsSingle();
    }

    // One quad from each of the 4 tile rows (stride floats apart), not a contiguous load.
    // Vector512.Create(lower, upper) compiles to two inserts into the old value of a register, which
    // ties each gather to the previous one's (through a spill in LoadSix's loop); one insert into the
    // widened lower half does not.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Gather(float* p, long stride) =>
        Avx512F.InsertVector256(Vector256.Create(Vector128.Load(p), Vector128.Load(p + stride)).ToVector512Unsafe(),
            Vector256.Create(Vector128.Load(p + 2 * stride), Vector128.Load(p + 3 * stride)), 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreQuads(Vector512<float> y0, Vector512<float> y1, Vector512<float> y2, Vector512<float> y3, float* p, long stride)
    {
        var t0 = Avx512F.UnpackLow(y0, y1); var t1 = Avx512F.UnpackLow(y2, y3);
        var t2 = Avx512F.UnpackHigh(y0, y1); var t3 = Avx512F.UnpackHigh(y2, y3);
        Scatter(Avx512F.UnpackLow(t0.AsDouble(), t1.AsDouble()).AsSingle(), p, stride);
        Scatter(Avx512F.UnpackHigh(t0.AsDouble(), t1.AsDouble()).AsSingle(), p + 4, stride);
        Scatter(Avx512F.UnpackLow(t2.AsDouble(), t3.AsDouble()).AsSingle(), p + 8, stride);
        Scatter(Avx512F.UnpackHigh(t2.AsDouble(), t3.AsDouble()).AsSingle(), p + 12, stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Scatter(Vector512<float> v, float* p, long stride)
    {
        Vector256<float> lo = v.GetLower(), hi = v.GetUpper();
        lo.GetLower().Store(p);
        lo.GetUpper().Store(p + stride);
        hi.GetLower().Store(p + 2 * stride);
        hi.GetUpper().Store(p + 3 * stride);
    }
}

internal unsafe struct Quad8 : IQuadLanes<Vector256<float>>
{
    public static bool Supported { get; } = Avx2.IsSupported && Fma.IsSupported && !Sgemm.ScalarOnly;
    public static int Rows => 2;
    public static int Tiles => 4;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => Avx.Add(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Sub(Vector256<float> a, Vector256<float> b) => Avx.Subtract(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.MultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float x) => Vector256.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadRows(float* p, long stride) =>
        stride == 4 ? Vector256.Load(p) : Vector256.Create(Vector128.Load(p), Vector128.Load(p + stride));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreRows(Vector256<float> v, float* p, long stride)
    {
        if (stride == 4) { v.Store(p); return; }
        v.GetLower().Store(p);
        v.GetUpper().Store(p + stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadSix(float* p, long stride, out Vector256<float> d0, out Vector256<float> d1, out Vector256<float> d2,
        out Vector256<float> d3, out Vector256<float> d4, out Vector256<float> d5)
    {
        var a0 = Gather(p, stride); var a1 = Gather(p + 4, stride); var a2 = Gather(p + 8, stride);
        var a3 = Gather(p + 12, stride); var a4 = Gather(p + 16, stride);
        var t0 = Avx.UnpackLow(a0, a1); var t1 = Avx.UnpackLow(a2, a3);
        var t2 = Avx.UnpackHigh(a0, a1); var t3 = Avx.UnpackHigh(a2, a3);
        d0 = Avx.UnpackLow(t0.AsDouble(), t1.AsDouble()).AsSingle();
        d1 = Avx.UnpackHigh(t0.AsDouble(), t1.AsDouble()).AsSingle();
        d2 = Avx.UnpackLow(t2.AsDouble(), t3.AsDouble()).AsSingle();
        d3 = Avx.UnpackHigh(t2.AsDouble(), t3.AsDouble()).AsSingle();
        var s0 = Avx.UnpackLow(a1, a2); var s1 = Avx.UnpackLow(a3, a4);
        d4 = Avx.UnpackLow(s0.AsDouble(), s1.AsDouble()).AsSingle();
        d5 = Avx.UnpackHigh(s0.AsDouble(), s1.AsDouble()).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Gather(float* p, long stride) => Vector256.Create(Vector128.Load(p), Vector128.Load(p + stride));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreQuads(Vector256<float> y0, Vector256<float> y1, Vector256<float> y2, Vector256<float> y3, float* p, long stride)
    {
        var t0 = Avx.UnpackLow(y0, y1); var t1 = Avx.UnpackLow(y2, y3);
        var t2 = Avx.UnpackHigh(y0, y1); var t3 = Avx.UnpackHigh(y2, y3);
        Scatter(Avx.UnpackLow(t0.AsDouble(), t1.AsDouble()).AsSingle(), p, stride);
        Scatter(Avx.UnpackHigh(t0.AsDouble(), t1.AsDouble()).AsSingle(), p + 4, stride);
        Scatter(Avx.UnpackLow(t2.AsDouble(), t3.AsDouble()).AsSingle(), p + 8, stride);
        Scatter(Avx.UnpackHigh(t2.AsDouble(), t3.AsDouble()).AsSingle(), p + 12, stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Scatter(Vector256<float> v, float* p, long stride)
    {
        v.GetLower().Store(p);
        v.GetUpper().Store(p + stride);
    }
}

internal unsafe struct Quad4 : IQuadLanes<Vector128<float>>
{
    public static bool Supported { get; } = Fma.IsSupported && !Sgemm.ScalarOnly;
    public static int Rows => 1;
    public static int Tiles => 4;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => Sse.Add(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Sub(Vector128<float> a, Vector128<float> b) => Sse.Subtract(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MulAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Fma.MultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float x) => Vector128.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> LoadRows(float* p, long stride) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreRows(Vector128<float> v, float* p, long stride) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadSix(float* p, long stride, out Vector128<float> d0, out Vector128<float> d1, out Vector128<float> d2,
        out Vector128<float> d3, out Vector128<float> d4, out Vector128<float> d5)
    {
        var a0 = Vector128.Load(p); var a1 = Vector128.Load(p + 4); var a2 = Vector128.Load(p + 8);
        var a3 = Vector128.Load(p + 12); var a4 = Vector128.Load(p + 16);
        var t0 = Sse.UnpackLow(a0, a1); var t1 = Sse.UnpackLow(a2, a3);
        var t2 = Sse.UnpackHigh(a0, a1); var t3 = Sse.UnpackHigh(a2, a3);
        d0 = Sse2.UnpackLow(t0.AsDouble(), t1.AsDouble()).AsSingle();
        d1 = Sse2.UnpackHigh(t0.AsDouble(), t1.AsDouble()).AsSingle();
        d2 = Sse2.UnpackLow(t2.AsDouble(), t3.AsDouble()).AsSingle();
        d3 = Sse2.UnpackHigh(t2.AsDouble(), t3.AsDouble()).AsSingle();
        var s0 = Sse.UnpackLow(a1, a2); var s1 = Sse.UnpackLow(a3, a4);
        d4 = Sse2.UnpackLow(s0.AsDouble(), s1.AsDouble()).AsSingle();
        d5 = Sse2.UnpackHigh(s0.AsDouble(), s1.AsDouble()).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreQuads(Vector128<float> y0, Vector128<float> y1, Vector128<float> y2, Vector128<float> y3, float* p, long stride)
    {
        var t0 = Sse.UnpackLow(y0, y1); var t1 = Sse.UnpackLow(y2, y3);
        var t2 = Sse.UnpackHigh(y0, y1); var t3 = Sse.UnpackHigh(y2, y3);
        Sse2.UnpackLow(t0.AsDouble(), t1.AsDouble()).AsSingle().Store(p);
        Sse2.UnpackHigh(t0.AsDouble(), t1.AsDouble()).AsSingle().Store(p + 4);
        Sse2.UnpackLow(t2.AsDouble(), t3.AsDouble()).AsSingle().Store(p + 8);
        Sse2.UnpackHigh(t2.AsDouble(), t3.AsDouble()).AsSingle().Store(p + 12);
    }
}

/// <summary>One tile, no vector instructions: what is left of a tile row, and the scalar cap.</summary>
internal unsafe struct Quad1 : IQuadLanes<float>
{
    public static int Rows => 1;
    public static int Tiles => 1;
    public static float Add(float a, float b) => a + b;
    public static float Sub(float a, float b) => a - b;
    public static float MulAdd(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);
    public static float Broadcast(float x) => x;
    public static float LoadRows(float* p, long stride) => *p;
    public static void StoreRows(float v, float* p, long stride) => *p = v;

    public static void LoadSix(float* p, long stride, out float d0, out float d1, out float d2, out float d3, out float d4, out float d5) =>
        (d0, d1, d2, d3, d4, d5) = (p[0], p[1], p[2], p[3], p[4], p[5]);

    public static void StoreQuads(float y0, float y1, float y2, float y3, float* p, long stride) =>
        (p[0], p[1], p[2], p[3]) = (y0, y1, y2, y3);
}
