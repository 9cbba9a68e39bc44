using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SpriteDiffusion.Engine.Gemm;

/// <summary>
/// Copies a strip of an operand into the panel layout the micro-kernels read with unit stride:
/// dst[p * width + r], zero-filled beyond the valid rows so edge tiles need no special kernel.
/// Both operands and all four transpose cases reduce to a source that is either panel-major
/// already (Copy, CopyPanels) or needs a transpose (Transpose).
/// </summary>
internal static unsafe class Packing
{
    /// <summary>dst[p * width + r] = r &lt; valid ? src[p * ld + r] : 0 (source already panel-major).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Copy(float* src, int ld, int valid, int kc, int width, float* dst)
    {
        if (valid == width)
        {
            CopyPanels(src, ld, 1, width, kc, dst);
            return;
        }

        for (int p = 0; p < kc; p++, src += ld, dst += width)
        {
            int r = 0;
            for (; r < valid; r++) dst[r] = src[r];
            for (; r < width; r++) dst[r] = 0f;
        }
    }

    /// <summary>
    /// Several full panels at once from a panel-major source, dst[t * width * kc + p * width + r] =
    /// src[p * ld + t * width + r]: each source row is read once, front to back, which the
    /// hardware prefetcher follows; panel by panel, every p would be a new page and a stall.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CopyPanels(float* src, int ld, int panels, int width, int kc, float* dst)
    {
        nint panelSize = (nint)width * kc;
        for (int p = 0; p < kc; p++, src += ld, dst += width)
        {
            float* s = src, d = dst;
            switch (width)
            {
                case 6 when Vector128.IsHardwareAccelerated:
                    for (int t = 0; t < panels; t++, s += 6, d += panelSize)
                    {
                        Vector128.Load(s).Store(d);
                        d[4] = s[4];
                        d[5] = s[5];
                    }
                    break;
                case 4 when Vector128.IsHardwareAccelerated:
                    for (int t = 0; t < panels; t++, s += 4, d += panelSize)
                        Vector128.Load(s).Store(d);
                    break;
                case 8 when Vector256.IsHardwareAccelerated:
                    for (int t = 0; t < panels; t++, s += 8, d += panelSize)
                        Vector256.Load(s).Store(d);
                    break;
                case 16 when Vector256.IsHardwareAccelerated:
                    for (int t = 0; t < panels; t++, s += 16, d += panelSize)
                    {
                        Vector256.Load(s).Store(d);
                        Vector256.Load(s + 8).Store(d + 8);
                    }
                    break;
                case 32 when Vector256.IsHardwareAccelerated:
                    for (int t = 0; t < panels; t++, s += 32, d += panelSize)
                    {
                        Vector256.Load(s).Store(d);
                        Vector256.Load(s + 8).Store(d + 8);
                        Vector256.Load(s + 16).Store(d + 16);
                        Vector256.Load(s + 24).Store(d + 24);
                    }
                    break;
                default:
                    for (int t = 0; t < panels; t++, s += width, d += panelSize)
                        for (int r = 0; r < width; r++) d[r] = s[r];
                    break;
            }
        }
    }

    /// <summary>dst[p * width + r] = r &lt; valid ? src[r * ld + p] : 0 (source rows run along p).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose(float* src, int ld, int valid, int kc, int width, float* dst)
    {
        int p = 0;
        if (Avx.IsSupported && (width == 4 || width == 6 || width % 8 == 0))
        {
            for (; p + 8 <= kc; p += 8)
            {
                for (int g = 0; g < width; g += 8)
                {
                    Vector256<float> r0 = Row(src, ld, g, valid, width, p),
                        r1 = Row(src, ld, g + 1, valid, width, p), r2 = Row(src, ld, g + 2, valid, width, p),
                        r3 = Row(src, ld, g + 3, valid, width, p), r4 = Row(src, ld, g + 4, valid, width, p),
                        r5 = Row(src, ld, g + 5, valid, width, p), r6 = Row(src, ld, g + 6, valid, width, p),
                        r7 = Row(src, ld, g + 7, valid, width, p);
                    Transpose8x8(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
                    float* d = dst + p * width + g;
                    if (width == 4)
                    {
                        r0.GetLower().Store(d); r1.GetLower().Store(d + 4); r2.GetLower().Store(d + 8); r3.GetLower().Store(d + 12);
                        r4.GetLower().Store(d + 16); r5.GetLower().Store(d + 20); r6.GetLower().Store(d + 24); r7.GetLower().Store(d + 28);
                        continue;
                    }
                    // For width 6 each 8-float store spills two floats into the next column,
                    // which the next (later) store overwrites; hence ascending order.
                    r0.Store(d); r1.Store(d + width); r2.Store(d + 2 * width); r3.Store(d + 3 * width);
                    r4.Store(d + 4 * width); r5.Store(d + 5 * width); r6.Store(d + 6 * width); r7.Store(d + 7 * width);
                }
            }
        }

        for (; p < kc; p++)
        {
            float* d = dst + p * width;
            int r = 0;
            for (; r < valid; r++) d[r] = src[r * ld + p];
            for (; r < width; r++) d[r] = 0f;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Row(float* src, int ld, int r, int valid, int width, int p) =>
        r < valid && r < width ? Vector256.Load(src + (nint)r * ld + p) : Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose8x8(ref Vector256<float> r0, ref Vector256<float> r1, ref Vector256<float> r2,
        ref Vector256<float> r3, ref Vector256<float> r4, ref Vector256<float> r5,
        ref Vector256<float> r6, ref Vector256<float> r7)
    {
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var s0 = Avx.Shuffle(t0, t2, 0x44);
        var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44);
        var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44);
        var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44);
        var s7 = Avx.Shuffle(t5, t7, 0xEE);
        r0 = Avx.Permute2x128(s0, s4, 0x20);
        r1 = Avx.Permute2x128(s1, s5, 0x20);
        r2 = Avx.Permute2x128(s2, s6, 0x20);
        r3 = Avx.Permute2x128(s3, s7, 0x20);
        r4 = Avx.Permute2x128(s0, s4, 0x31);
        r5 = Avx.Permute2x128(s1, s5, 0x31);
        r6 = Avx.Permute2x128(s2, s6, 0x31);
        r7 = Avx.Permute2x128(s3, s7, 0x31);
    }
}
