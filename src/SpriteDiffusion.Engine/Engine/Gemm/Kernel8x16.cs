using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SpriteDiffusion.Engine.Gemm;

/// <summary>
/// AVX-512 kernel for rows left over by <see cref="Kernel16x16"/> (a multiple of 8 after its 16-row
/// panels), written out like <see cref="Kernel4x32"/> for the same reason.
/// </summary>
internal static unsafe class Kernel8x16
{
    public const int MR = 8;
    public const int NR = 16;

    /// <summary>Same contract as <see cref="Kernel6x16.Run"/> for a 8 x 16 block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, nint aRow, nint aStep, float* b, nint bStep, float* c, nint ldc, bool load)
    {
        Vector512<float> c0, c1, c2, c3, c4, c5, c6, c7;
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
        }
        else
        {
            c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = Vector512<float>.Zero;
        }

        // Rows 3, 6.. go through further bases so every broadcast is one addressing mode.
        float* a3 = a + 3 * aRow;
        float* a6 = a + 6 * aRow;
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
            a += aStep;
            a3 += aStep;
            a6 += aStep;
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
    }
}
