using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SpriteDiffusion.Engine.Gemm;

/// <summary>
/// AVX2+FMA kernel for rows left over by <see cref="Kernel6x16"/>: 64 rows run as 10 x 6 + 4 and
/// 128 as 20 x 6 + 2 x 4, so no work goes to padding. Its 8 chains just cover the FMA latency.
/// The body is Kernel6x16's first four rows written out again: sharing one body would need the
/// row count as a generic or a branch in the inner loop, and the accumulators must stay in registers.
/// </summary>
internal static unsafe class Kernel4x16
{
    public const int MR = 4;
    public const int NR = 16;

    /// <summary>Same contract as <see cref="Kernel6x16.Run"/> for a 4 x 16 block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, nint aRow, nint aStep, float* b, nint bStep, float* c, nint ldc, bool load)
    {
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (load)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + 8);
            c10 = Vector256.Load(c + ldc); c11 = Vector256.Load(c + ldc + 8);
            c20 = Vector256.Load(c + 2 * ldc); c21 = Vector256.Load(c + 2 * ldc + 8);
            c30 = Vector256.Load(c + 3 * ldc); c31 = Vector256.Load(c + 3 * ldc + 8);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector256<float>.Zero;
        }

        // Row 3 goes through a second base so every broadcast is one addressing mode.
        float* a3 = a + 3 * aRow;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var ar = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(ar, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(ar, b1, c01);
            ar = Vector256.Create(a[aRow]);
            c10 = Vector256.FusedMultiplyAdd(ar, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(ar, b1, c11);
            ar = Vector256.Create(a[2 * aRow]);
            c20 = Vector256.FusedMultiplyAdd(ar, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(ar, b1, c21);
            ar = Vector256.Create(a3[0]);
            c30 = Vector256.FusedMultiplyAdd(ar, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(ar, b1, c31);
            a += aStep;
            a3 += aStep;
            b += bStep;
        }

        c00.Store(c); c01.Store(c + 8);
        c10.Store(c + ldc); c11.Store(c + ldc + 8);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 8);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 8);
    }
}
