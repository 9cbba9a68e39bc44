using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SpriteDiffusion.Engine.Gemm;

namespace SpriteDiffusion.Engine;

/// <summary>
/// Single-threaded float32 matrix product, safe to call from several threads at once (each has
/// its own packing buffers). Every element of C is one fused multiply-add chain over p in order,
/// started from C (accumulate) or zero, whatever the kernel or blocking: results are bitwise the
/// same on every thread and every run.
/// </summary>
public static unsafe class Sgemm
{
    static readonly bool HasAvx512 = Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Avx.IsSupported;
    static readonly bool HasAvx2 = Avx2.IsSupported && Fma.IsSupported;

    /// <summary>
    /// Row-major C[m x n] = op(A)[m x k] * op(B)[k x n] (+ C if accumulate), where
    /// op(A)[i,p] = transA ? a[p*lda + i] : a[i*lda + p], op(B)[p,j] = transB ? b[j*ldb + p] : b[p*ldb + j],
    /// C[i,j] = c[i*ldc + j]. k = 0 gives C = 0 (or C unchanged with accumulate).
    /// </summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        Validate(transA, transB, m, n, k, lda, ldb, ldc);
        Multiply(ChooseKernel(n), transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    }

    /// <summary>Naive triple loop with the same contract, for tests.</summary>
    public static void MultiplyReference(bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        Validate(transA, transB, m, n, k, lda, ldb, ldc);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float sum = accumulate ? c[(nint)i * ldc + j] : 0f;
                for (int p = 0; p < k; p++)
                {
                    float x = transA ? a[(nint)p * lda + i] : a[(nint)i * lda + p];
                    float y = transB ? b[(nint)j * ldb + p] : b[(nint)p * ldb + j];
                    sum = MathF.FusedMultiplyAdd(x, y, sum);
                }
                c[(nint)i * ldc + j] = sum;
            }
    }

    // A 32-wide kernel would waste half its work on the 16-column products of 4x4 images.
    internal static GemmKernel ChooseKernel(int n) =>
        HasAvx512 && n > 16 ? GemmKernel.Avx512 : HasAvx2 ? GemmKernel.Avx2 : GemmKernel.Scalar;

    internal static void Multiply(in GemmKernel kernel, bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++) new Span<float>(c + (nint)i * ldc, n).Clear();
            return;
        }

        // Equal k-slices (a multiple of 8 for the vector transposes), fixed by k alone.
        int kSlices = (k + kernel.KC - 1) / kernel.KC;
        int kcStep = Math.Min(kernel.KC, ((k + kSlices - 1) / kSlices + 7) & ~7);
        int ncStep = Math.Min(kernel.NC, RoundUp(n, kernel.NR));
        int mcStep = Math.Min(kernel.MC, RoundUp(m, kernel.MR));

        var scratch = GemmScratch.ForThisThread;
        float* packedB = scratch.PackedB(kcStep * ncStep);
        float* packedA = scratch.PackedA(kcStep * mcStep);

        for (int jc = 0; jc < n; jc += ncStep)
        {
            int nc = Math.Min(ncStep, n - jc);
            for (int pc = 0; pc < k; pc += kcStep)
            {
                int kc = Math.Min(kcStep, k - pc);
                PackB(kernel.NR, transB, b, ldb, pc, kc, jc, nc, packedB);
                bool load = accumulate || pc > 0;
                for (int ic = 0; ic < m; ic += mcStep)
                {
                    int mc = Math.Min(mcStep, m - ic);
                    PackA(kernel.MR, transA, a, lda, ic, mc, pc, kc, packedA);
                    MacroKernel(kernel, kc, mc, nc, packedA, packedB, c + (nint)ic * ldc + jc, ldc, load, scratch.Tile);
                }
            }
        }
    }

    static void MacroKernel(in GemmKernel kernel, int kc, int mc, int nc, float* packedA, float* packedB,
        float* c, int ldc, bool load, float* tile)
    {
        int mr = kernel.MR, nr = kernel.NR;
        var run = kernel.Run;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            float* bPanel = packedB + (nint)jr * kc;
            for (int ir = 0; ir < mc; ir += mr)
            {
                int rows = Math.Min(mr, mc - ir);
                float* aPanel = packedA + (nint)ir * kc;
                float* cTile = c + (nint)ir * ldc + jr;
                if (rows == mr && cols == nr)
                {
                    run(kc, aPanel, bPanel, cTile, ldc, load);
                    continue;
                }

                if (load) CopyTile(cTile, ldc, tile, nr, rows, cols);
                run(kc, aPanel, bPanel, tile, nr, load);
                CopyTile(tile, nr, cTile, ldc, rows, cols);
            }
        }
    }

    static void PackA(int mr, bool transA, float* a, int lda, int i0, int mc, int p0, int kc, float* dst)
    {
        for (int ir = 0; ir < mc; ir += mr, dst += mr * kc)
        {
            int rows = Math.Min(mr, mc - ir);
            int i = i0 + ir;
            if (transA) Packing.Copy(a + (nint)p0 * lda + i, lda, rows, kc, mr, dst);
            else Packing.Transpose(a + (nint)i * lda + p0, lda, rows, kc, mr, dst);
        }
    }

    static void PackB(int nr, bool transB, float* b, int ldb, int p0, int kc, int j0, int nc, float* dst)
    {
        for (int jr = 0; jr < nc; jr += nr, dst += nr * kc)
        {
            int cols = Math.Min(nr, nc - jr);
            int j = j0 + jr;
            if (transB) Packing.Transpose(b + (nint)j * ldb + p0, ldb, cols, kc, nr, dst);
            else Packing.Copy(b + (nint)p0 * ldb + j, ldb, cols, kc, nr, dst);
        }
    }

    static void CopyTile(float* src, int srcLd, float* dst, int dstLd, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
            new ReadOnlySpan<float>(src + (nint)r * srcLd, cols).CopyTo(new Span<float>(dst + (nint)r * dstLd, cols));
    }

    static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    static void Validate(bool transA, bool transB, int m, int n, int k, int lda, int ldb, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (lda < Math.Max(1, transA ? m : k)) throw new ArgumentOutOfRangeException(nameof(lda), lda, "lda is shorter than a row of A.");
        if (ldb < Math.Max(1, transB ? k : n)) throw new ArgumentOutOfRangeException(nameof(ldb), ldb, "ldb is shorter than a row of B.");
        if (ldc < Math.Max(1, n)) throw new ArgumentOutOfRangeException(nameof(ldc), ldc, "ldc is shorter than a row of C.");
    }
}
