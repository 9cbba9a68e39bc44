using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SpriteDiffusion.Engine.Gemm;

/// <summary>
/// AVX-512 micro-kernel for products only 16 columns wide (the 16 tiles of a batch of one on an 8x8
/// map, or of F(4x4) on a 16x16 map), where <see cref="Kernel8x32"/> would compute half padding: a
/// 16 x 16 block of C in 16 zmm accumulators, one row each, enough independent chains for two 512-bit
/// FMA pipes. On cores with full-width 512-bit pipes this doubles the 256-bit kernel's peak.
/// </summary>
internal static unsafe class Kernel16x16
{
    public const int MR = 16;
    public const int NR = 16;

    /// <summary>Same contract as <see cref="Kernel6x16.Run"/> for a 16 x 16 block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, nint aRow, nint aStep, float* b, nint bStep, float* c, nint ldc, bool load)
    {
        Vector512<float> c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15;
        if (load)
        {
            c0 = Vector512.Load(c);
            c1 = Vector512.Load(c + ldc);
            c2 = Vector512.Load(c + 2 * ldc);
            c3 = Vector512.Load(c + 3 * ldc);
            c4 = Vector512.Load(c + 4 * ldc);
            c5 = Vector512.Load(c + 5 * ldc);
            c6 = Vector512.Load(c + 6 * ldc);
            c7 = Vector512.Load(c + 7 * ldc);
            c8 = Vector512.Load(c + 8 * ldc);
            c9 = Vector512.Load(c + 9 * ldc);
            c10 = Vector512.Load(c + 10 * ldc);
            c11 = Vector512.Load(c + 11 * ldc);
            c12 = Vector512.Load(c + 12 * ldc);
            c13 = Vector512.Load(c + 13 * ldc);
            c14 = Vector512.Load(c + 14 * ldc);
            c15 = Vector512.Load(c + 15 * ldc);
        }
        else
        {
            c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = c8 = c9 = c10 = c11 = c12 = c13 = c14 = c15 = Vector512<float>.Zero;
        }

        // Rows 3, 6, 9, 12, 15.. go through further bases so every broadcast is one addressing mode.
        float* a3 = a + 3 * aRow;
        float* a6 = a + 6 * aRow;
        float* a9 = a + 9 * aRow;
        float* a12 = a + 12 * aRow;
        float* a15 = a + 15 * aRow;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[aRow]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2 * aRow]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[0]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[aRow]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[2 * aRow]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[0]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[aRow]), b0, c7);
            c8 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[2 * aRow]), b0, c8);
            c9 = Vector512.FusedMultiplyAdd(Vector512.Create(a9[0]), b0, c9);
            c10 = Vector512.FusedMultiplyAdd(Vector512.Create(a9[aRow]), b0, c10);
            c11 = Vector512.FusedMultiplyAdd(Vector512.Create(a9[2 * aRow]), b0, c11);
            c12 = Vector512.FusedMultiplyAdd(Vector512.Create(a12[0]), b0, c12);
            c13 = Vector512.FusedMultiplyAdd(Vector512.Create(a12[aRow]), b0, c13);
            c14 = Vector512.FusedMultiplyAdd(Vector512.Create(a12[2 * aRow]), b0, c14);
            c15 = Vector512.FusedMultiplyAdd(Vector512.Create(a15[0]), b0, c15);
            a += aStep;
            a3 += aStep;
            a6 += aStep;
            a9 += aStep;
            a12 += aStep;
            a15 += aStep;
            b += bStep;
        }

        c0.Store(c);
        c1.Store(c + ldc);
        c2.Store(c + 2 * ldc);
        c3.Store(c + 3 * ldc);
        c4.Store(c + 4 * ldc);
        c5.Store(c + 5 * ldc);
        c6.Store(c + 6 * ldc);
        c7.Store(c + 7 * ldc);
        c8.Store(c + 8 * ldc);
        c9.Store(c + 9 * ldc);
        c10.Store(c + 10 * ldc);
        c11.Store(c + 11 * ldc);
        c12.Store(c + 12 * ldc);
        c13.Store(c + 13 * ldc);
        c14.Store(c + 14 * ldc);
        c15.Store(c + 15 * ldc);
    }
}
