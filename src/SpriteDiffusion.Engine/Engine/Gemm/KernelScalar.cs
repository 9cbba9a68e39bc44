using System.Runtime.CompilerServices;

namespace SpriteDiffusion.Engine.Gemm;

/// <summary>
/// Portable micro-kernel for machines without AVX2+FMA. It uses fused multiply-adds too, so
/// every path produces the same bits and the SIMD kernels can be checked against it exactly.
/// </summary>
internal static unsafe class KernelScalar
{
    public const int MR = 4;
    public const int NR = 4;

    /// <summary>Same contract as <see cref="Kernel6x16.Run"/> for a 4 x 4 block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, nint aRow, nint aStep, float* b, nint bStep, float* c, nint ldc, bool load)
    {
        float* acc = stackalloc float[MR * NR];
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++)
                acc[r * NR + j] = load ? c[r * ldc + j] : 0f;

        for (int p = 0; p < kc; p++, a += aStep, b += bStep)
            for (int r = 0; r < MR; r++)
            {
                float ar = a[r * aRow];
                for (int j = 0; j < NR; j++)
                    acc[r * NR + j] = MathF.FusedMultiplyAdd(ar, b[j], acc[r * NR + j]);
            }

        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++)
                c[r * ldc + j] = acc[r * NR + j];
    }
}
