using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SpriteDiffusion.Engine.Gemm;

/// <summary>
/// AVX2+FMA micro-kernel: a 6 x 16 block of C held in 12 ymm accumulators, which with two B
/// vectors and one broadcast fills the 16 ymm registers of an AVX2 machine. 12 independent chains
/// cover the 4-cycle FMA latency on two FMA pipes with room to spare.
/// </summary>
internal static unsafe class Kernel6x16
{
    public const int MR = 6;
    public const int NR = 16;

    /// <summary>
    /// C[6 x 16] (row stride ldc) = (load ? C : 0) + A * B over kc steps, each element one
    /// sequential fused chain over p, so the bits do not depend on blocking or kernel choice.
    /// A[r, p] = a[r * aRow + p * aStep] (packed: 1, 6; or the caller's matrix read in place);
    /// B[p, j] = b[p * bStep + j] (packed: 16; or the caller's rows in place).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, nint aRow, nint aStep, float* b, nint bStep, float* c, nint ldc, bool load)
    {
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (load)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + 8);
            c10 = Vector256.Load(c + ldc); c11 = Vector256.Load(c + ldc + 8);
            c20 = Vector256.Load(c + 2 * ldc); c21 = Vector256.Load(c + 2 * ldc + 8);
            c30 = Vector256.Load(c + 3 * ldc); c31 = Vector256.Load(c + 3 * ldc + 8);
            c40 = Vector256.Load(c + 4 * ldc); c41 = Vector256.Load(c + 4 * ldc + 8);
            c50 = Vector256.Load(c + 5 * ldc); c51 = Vector256.Load(c + 5 * ldc + 8);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector256<float>.Zero;
        }

        // Rows 3.. go through a second base so every broadcast is one addressing mode.
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
            ar = Vector256.Create(a3[aRow]);
            c40 = Vector256.FusedMultiplyAdd(ar, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(ar, b1, c41);
            ar = Vector256.Create(a3[2 * aRow]);
            c50 = Vector256.FusedMultiplyAdd(ar, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(ar, b1, c51);
            a += aStep;
            a3 += aStep;
            b += bStep;
        }

        c00.Store(c); c01.Store(c + 8);
        c10.Store(c + ldc); c11.Store(c + ldc + 8);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 8);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 8);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 8);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 8);
    }
}
