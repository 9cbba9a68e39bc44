using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace SpriteDiffusion.Engine.Gemm;

/// <summary>
/// The blocked product behind <see cref="Sgemm.Multiply"/>: k-slices of kc, a B block packed (or
/// read in place) per slice, A blocks of mc rows, then micro-panels down each column of C
/// (BLIS order, so one B micro-panel serves a whole column of A micro-panels).
/// </summary>
internal static unsafe class GemmDriver
{
    /// <summary>Where the kernel reads an operand's full micro-panels from.</summary>
    internal enum PanelSource { Auto, Packed, InPlace }

    /// <summary>The product with a given kernel and panel sources (InPlace B needs an untransposed B).</summary>
    /// <remarks>Arguments are assumed valid (see <see cref="Sgemm.Validate"/>).</remarks>
    // Fully optimised from the first call: tier-0 code here would slow the first hundred
    // milliseconds of every run (and every short benchmark) several times over.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
        int nr = kernel.NR;

        // op(A)[i, p] = a[i * aRow + p * aStep]; op(B)[p, j] = b[j * bCol + p * bStep].
        nint aRow = transA ? 1 : lda, aStep = transA ? lda : 1;
        nint bCol = transB ? ldb : 1, bStep = transB ? 1 : ldb;
        bool aInPlace = aSource == PanelSource.Auto ? ReadAInPlace(transA, n, nr, lda) : aSource == PanelSource.InPlace;
        bool bInPlace = !transB && (bSource == PanelSource.Auto ? ReadBInPlace(ldb) : bSource == PanelSource.InPlace);

        var scratch = GemmScratch.ForThisThread;
        float* packedB = scratch.PackedB(kcStep * ncStep);
        float* packedA = scratch.PackedA(kcStep * (mcStep + kernel.MR));

        for (int jc = 0; jc < n; jc += ncStep)
        {
            int nc = Math.Min(ncStep, n - jc);
            int fullColumnPanels = nc / nr;
            for (int pc = 0; pc < k; pc += kcStep)
            {
                int kc = Math.Min(kcStep, k - pc);
                float* bCorner = b + jc * bCol + pc * bStep;
                // Column panels: full ones in place or packed; a partial last one always packed.
                int firstPacked = bInPlace ? fullColumnPanels * nr : 0;
                for (int j = firstPacked; j < nc; j += nr)
                    PackPanel(bCorner + j * bCol, bCol, bStep, Math.Min(nr, nc - j), kc, nr, packedB + (j - firstPacked) * kc);
                var bPanels = bInPlace
                    ? new Panels(bCorner, nr * bCol, bStep, packedB)
                    : new Panels(packedB, nr * kc, nr, packedB + fullColumnPanels * nr * kc);

                bool load = accumulate || pc > 0;
                for (int ic = 0; ic < m; ic += mcStep)
                {
                    int mc = Math.Min(mcStep, m - ic);
                    var rows = new RowPlan(mc, kernel.MR, kernel.MR2);
                    float* aCorner = a + ic * aRow + pc * aStep;
                    int firstPanel = aInPlace ? rows.FullPanels : 0;
                    if (firstPanel == 0 && aRow == 1)
                    {
                        Packing.CopyPanels(aCorner, (int)aStep, rows.Wide, kernel.MR, kc, packedA);
                        int narrowFirst = rows.Wide * kernel.MR;
                        Packing.CopyPanels(aCorner + narrowFirst, (int)aStep, rows.Narrow, kernel.MR2, kc, packedA + narrowFirst * kc);
                        firstPanel = rows.FullPanels;
                    }
                    for (int panel = firstPanel; panel < rows.Panels; panel++)
                    {
                        int first = rows.FirstRow(panel);
                        PackPanel(aCorner + first * aRow, aRow, aStep, rows.RowsIn(panel), kc, rows.Width(panel), packedA + first * kc);
                    }
                    MacroKernel(kernel, kc, rows, nc, aInPlace, aCorner, aRow, aStep, packedA, bPanels,
                        c + (nint)ic * ldc + jc, ldc, load, scratch.Tile);
                }
            }
        }
    }

    // The kernel reads A by broadcasts, so a row-major A (rows along p) costs it nothing in place;
    // a transposed A is read one short run per p and pays its copy back only over several B
    // panels. Row strides of a multiple of 4 KiB would pile the rows into one L1 set.
    static bool ReadAInPlace(bool transA, int n, int nr, int lda) =>
        n <= 2 * nr || (!transA && lda % 1024 != 0);

    // An untransposed B is already a row of vectors per p. In place its micro-panel streams from
    // L2 instead of L1, which the kernel absorbs, unless the row stride is a multiple of 2 KiB,
    // which maps a panel onto too few L2 sets to stay resident.
    static bool ReadBInPlace(int ldb) => ldb % 512 != 0;

    /// <summary>
    /// How mc rows split into micro-panels: Wide panels of MR rows, then Narrow panels of MR2 rows,
    /// then at most one partial panel (padded to MR2, or MR when more rows are left). 64 rows on a
    /// 6-row kernel become 10 x 6 + 4 and 128 become 20 x 6 + 2 x 4, so no work is padding.
    /// </summary>
    readonly struct RowPlan
    {
        public readonly int Wide, Narrow, Tail, MR, MR2;

        public RowPlan(int rows, int mr, int mr2)
        {
            (MR, MR2) = (mr, mr2);
            Wide = rows / mr;
            int rest = rows % mr;
            if (mr2 < mr && rest % mr2 != 0 && Wide > 0 && (rest + mr) % mr2 == 0)
            {
                Wide--;
                rest += mr;
            }
            Narrow = mr2 < mr ? rest / mr2 : 0;
            Tail = rest - Narrow * mr2;
        }

        public int FullPanels => Wide + Narrow;
        public int Panels => FullPanels + (Tail > 0 ? 1 : 0);
        public int FirstRow(int panel) => panel <= Wide ? panel * MR : Wide * MR + (panel - Wide) * MR2;
        public int Width(int panel) => panel < Wide ? MR : panel < FullPanels ? MR2 : Tail <= MR2 ? MR2 : MR;
        public int RowsIn(int panel) => panel < Wide ? MR : panel < FullPanels ? MR2 : Tail;
    }

    /// <summary>
    /// Column micro-panels of B: full panel j starts at First + j * Stride with row step Step;
    /// the partial last panel, if any, is packed at Edge with row step nr.
    /// </summary>
    readonly struct Panels(float* first, nint stride, nint step, float* edge)
    {
        public readonly float* First = first, Edge = edge;
        public readonly nint Stride = stride, Step = step;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void MacroKernel(in GemmKernel kernel, int kc, in RowPlan rows, int nc,
        bool aInPlace, float* aCorner, nint aRow, nint aStep, float* packedA, in Panels bPanels,
        float* c, int ldc, bool load, float* tile)
    {
        int nr = kernel.NR;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            if (cols == nr)
            {
                float* bPanel = bPanels.First + jr / nr * bPanels.Stride;
                // With a short k a tile costs only some hundred cycles, so the full panels run
                // in straight loops with nothing per tile but the call and a prefetch.
                float* cTile = c + jr;
                cTile = FullPanels(kernel.Run, kernel.MR, rows.Wide, kc, aInPlace, aCorner, aRow, aStep, packedA,
                    bPanel, bPanels.Step, cTile, ldc, nr, load);
                int narrowFirst = rows.Wide * kernel.MR;
                FullPanels(kernel.RunNarrow, kernel.MR2, rows.Narrow, kc, aInPlace, aCorner + narrowFirst * aRow, aRow, aStep,
                    packedA + narrowFirst * kc, bPanel, bPanels.Step, cTile, ldc, nr, load);
                if (rows.Tail > 0)
                    PartialTile(kernel, kc, rows, rows.Panels - 1, aInPlace, aCorner, aRow, aStep, packedA,
                        bPanel, bPanels.Step, c + jr, ldc, nr, load, tile);
            }
            else
            {
                for (int panel = 0; panel < rows.Panels; panel++)
                    PartialTile(kernel, kc, rows, panel, aInPlace, aCorner, aRow, aStep, packedA,
                        bPanels.Edge, nr, c + jr, ldc, cols, load, tile);
            }
        }
    }

    /// <summary>Runs count full row panels of one width down a column of C; returns the C tile after them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float* FullPanels(delegate*<int, float*, nint, nint, float*, nint, float*, nint, bool, void> run,
        int width, int count, int kc, bool aInPlace, float* a, nint aRow, nint aStep, float* packedA,
        float* bPanel, nint bStep, float* cTile, int ldc, int nr, bool load)
    {
        float* aPanel = aInPlace ? a : packedA;
        nint panelStride = aInPlace ? width * aRow : width * kc;
        nint panelRow = aInPlace ? aRow : 1, panelStep = aInPlace ? aStep : width;
        nint tileStride = (nint)width * ldc;
        for (int i = 0; i < count; i++, aPanel += panelStride, cTile += tileStride)
        {
            PrefetchTile(cTile + tileStride, ldc, width, nr);
            run(kc, aPanel, panelRow, panelStep, bPanel, bStep, cTile, ldc, load);
        }
        return cTile;
    }

    /// <summary>
    /// One row panel against one column panel through the tile, for the edges of C: the partial
    /// last row panel against a full column panel, or any row panel against the partial last
    /// column panel (packed, row step NR). Only cols of the tile's NR columns reach C.
    /// </summary>
    static void PartialTile(in GemmKernel kernel, int kc, in RowPlan rows, int panel,
        bool aInPlace, float* aCorner, nint aRow, nint aStep, float* packedA, float* bPanel, nint bStep,
        float* c, int ldc, int cols, bool load, float* tile)
    {
        int nr = kernel.NR;
        int first = rows.FirstRow(panel), width = rows.Width(panel), count = rows.RowsIn(panel);
        var run = width == kernel.MR ? kernel.Run : kernel.RunNarrow;
        // The partial row panel is always packed, padded to its width.
        bool inPlace = aInPlace && panel < rows.FullPanels;
        float* aPanel = inPlace ? aCorner + first * aRow : packedA + first * kc;
        nint panelRow = inPlace ? aRow : 1, panelStep = inPlace ? aStep : width;
        float* cTile = c + (nint)first * ldc;
        if (load) CopyTile(cTile, ldc, tile, nr, count, cols);
        run(kc, aPanel, panelRow, panelStep, bPanel, bStep, tile, nr, load);
        CopyTile(tile, nr, cTile, ldc, count, cols);
    }

    /// <summary>
    /// Starts fetching a C tile (to read it, or to own it before the stores): with a short k the
    /// kernel would wait about as long for C rows from L3 as it computes, and rows ldc apart
    /// defeat the hardware prefetcher. Prefetches never fault, so running past C is harmless.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void PrefetchTile(float* tile, int ldc, int rows, int nr)
    {
        if (!Sse.IsSupported) return;
        for (int r = 0; r < rows; r++, tile += ldc)
        {
            // A tile row may straddle two cache lines.
            Sse.Prefetch0(tile);
            Sse.Prefetch0(tile + nr - 1);
        }
    }

    /// <summary>
    /// Packs one micro-panel, element (r, p) at src[r * row + p * step] for r &lt; valid, into
    /// dst[p * width + r], zero-padding rows valid..width.
    /// </summary>
    static void PackPanel(float* src, nint row, nint step, int valid, int kc, int width, float* dst)
    {
        if (row == 1) Packing.Copy(src, (int)step, valid, kc, width, dst);
        else Packing.Transpose(src, (int)row, valid, kc, width, dst);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void CopyTile(float* src, int srcLd, float* dst, int dstLd, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
            new ReadOnlySpan<float>(src + (nint)r * srcLd, cols).CopyTo(new Span<float>(dst + (nint)r * dstLd, cols));
    }

    static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

}
