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
        Multiply(ChooseKernel(n), PanelSource.Auto, PanelSource.Auto, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
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

    /// <summary>Where the kernel reads an operand's full micro-panels from.</summary>
    internal enum PanelSource { Auto, Packed, InPlace }

    /// <summary>The product with a given kernel and panel sources (InPlace B needs an untransposed B).</summary>
    internal static void Multiply(in GemmKernel kernel, PanelSource aSource, PanelSource bSource,
        bool transA, bool transB, int m, int n, int k,
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
        int mr = kernel.MR, nr = kernel.NR;

        // op(X)[row, p] = x[row * xRow + p * xStep] for A, and likewise for B^T.
        nint aRowStride = transA ? 1 : lda, aStepStride = transA ? lda : 1;
        nint bColStride = transB ? ldb : 1, bStepStride = transB ? 1 : ldb;
        bool directA = aSource == PanelSource.Auto ? ReadAInPlace(transA, n, nr) : aSource == PanelSource.InPlace;
        bool directB = !transB && (bSource == PanelSource.Auto ? ReadBInPlace(m, mr, ldb, nr) : bSource == PanelSource.InPlace);

        var scratch = GemmScratch.ForThisThread;
        float* packedB = scratch.PackedB(kcStep * ncStep);
        float* packedA = scratch.PackedA(kcStep * mcStep);

        for (int jc = 0; jc < n; jc += ncStep)
        {
            int nc = Math.Min(ncStep, n - jc);
            for (int pc = 0; pc < k; pc += kcStep)
            {
                int kc = Math.Min(kcStep, k - pc);
                float* bCorner = b + jc * bColStride + pc * bStepStride;
                Panels bPanels = directB
                    ? new Panels(bCorner, nr * bColStride, bColStride, bStepStride, packedB)
                    : new Panels(packedB, nr * kc, 1, nr, packedB + nc / nr * nr * kc);
                PackPanels(bCorner, bColStride, bStepStride, directB ? nc / nr * nr : 0, nc, kc, nr, packedB);

                bool load = accumulate || pc > 0;
                for (int ic = 0; ic < m; ic += mcStep)
                {
                    int mc = Math.Min(mcStep, m - ic);
                    float* aCorner = a + ic * aRowStride + pc * aStepStride;
                    Panels aPanels = directA
                        ? new Panels(aCorner, mr * aRowStride, aRowStride, aStepStride, packedA)
                        : new Panels(packedA, mr * kc, 1, mr, packedA + mc / mr * mr * kc);
                    PackPanels(aCorner, aRowStride, aStepStride, directA ? mc / mr * mr : 0, mc, kc, mr, packedA);
                    MacroKernel(kernel, kc, mc, nc, aPanels, bPanels, c + (nint)ic * ldc + jc, ldc, load, scratch.Tile);
                }
            }
        }
    }

    // Packing A pays off only when its panels are reused across several B panels; a row-major A
    // read in place costs the kernel nothing extra, so small n skips the copy.
    static bool ReadAInPlace(bool transA, int n, int nr) => !transA || n <= 2 * nr;

    // B whose rows are already contiguous panels (n == nr) needs no copy.
    static bool ReadBInPlace(int m, int mr, int ldb, int nr) => ldb == nr;

    /// <summary>
    /// Micro-panels of one operand: panel i starts at First + i * Stride, element (r, p) of a
    /// panel lies at r * Row + p * Step. The last, partial panel is always packed (zero-padded) at Edge.
    /// </summary>
    readonly struct Panels(float* first, nint stride, nint row, nint step, float* edge)
    {
        public readonly float* First = first, Edge = edge;
        public readonly nint Stride = stride, Row = row, Step = step;
    }

    static void MacroKernel(in GemmKernel kernel, int kc, int mc, int nc, in Panels aPanels, in Panels bPanels,
        float* c, int ldc, bool load, float* tile)
    {
        int mr = kernel.MR, nr = kernel.NR;
        var run = kernel.Run;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            bool bFull = cols == nr;
            float* bPanel = bFull ? bPanels.First + jr / nr * bPanels.Stride : bPanels.Edge;
            nint bStep = bFull ? bPanels.Step : nr;
            for (int ir = 0; ir < mc; ir += mr)
            {
                int rows = Math.Min(mr, mc - ir);
                bool aFull = rows == mr;
                float* aPanel = aFull ? aPanels.First + ir / mr * aPanels.Stride : aPanels.Edge;
                nint aRow = aFull ? aPanels.Row : 1, aStep = aFull ? aPanels.Step : mr;
                float* cTile = c + (nint)ir * ldc + jr;
                if (aFull && bFull)
                {
                    run(kc, aPanel, aRow, aStep, bPanel, bStep, cTile, ldc, load);
                    continue;
                }

                if (load) CopyTile(cTile, ldc, tile, nr, rows, cols);
                run(kc, aPanel, aRow, aStep, bPanel, bStep, tile, nr, load);
                CopyTile(tile, nr, cTile, ldc, rows, cols);
            }
        }
    }

    /// <summary>
    /// Packs rows [first, count) of an operand slice, element (r, p) at src[r * row + p * step],
    /// into width-wide panels at dst (the first one at dst).
    /// </summary>
    static void PackPanels(float* src, nint row, nint step, int first, int count, int kc, int width, float* dst)
    {
        for (int r = first; r < count; r += width, dst += width * kc)
        {
            int valid = Math.Min(width, count - r);
            if (row == 1) Packing.Copy(src + r, (int)step, valid, kc, width, dst);
            else Packing.Transpose(src + r * row, (int)row, valid, kc, width, dst);
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
