namespace SpriteDiffusion.Engine.Gemm;

/// <summary>
/// The channel products of a frozen Winograd layer, m[e] = U[e] v[e] for every tile position e,
/// straight through the micro-kernels (AVX-512, or AVX2 where that is missing or capped) from
/// weights packed once into their row panels: a sampling step's products are small (16 to 64
/// channels by 16 to 64 tiles, 16 or 36 of them per layer), so the blocked driver's per-call work
/// was a large part of them, and the kernels' broadcasts now stream one contiguous panel instead
/// of 16 rows of U. Each element is the same fused chain over the input channels as
/// <see cref="Sgemm.Multiply"/> computes: the same bits.
/// </summary>
internal static unsafe class PanelProducts
{
    /// <summary>Rows of a packed panel: the 16-row kernel's height (the last panel has 8 when the output channels are 8 more than a multiple of 16).</summary>
    public const int PanelRows = 16;

    /// <summary>Whether the weights can be packed: AVX-512 or AVX2 kernels (not the scalar cap), and output channels in whole 8-row blocks.</summary>
    public static bool CanPack(int outChannels) => Sgemm.HasAvx2 && outChannels % 8 == 0;

    /// <summary>Whether <see cref="Multiply(float*, int, int, int, float*, long, int, float*, long, int, int)"/> takes the AVX-512 kernels (else the AVX2 ones).</summary>
    public static bool Wide => Sgemm.HasAvx512;

    /// <summary>Whether a product of this many tiles runs on panels: whole 16-column (or 32-column) panels of tiles.</summary>
    public static bool Fits(int tiles) => tiles % 16 == 0;

    /// <summary>
    /// packed[e] = u[e][o][i] (positions x outChannels x inChannels) in panels of
    /// <see cref="PanelRows"/> output channels, channel r of a panel at p * rows + r for input channel p.
    /// </summary>
    public static void Pack(float* u, float* packed, int positions, int outChannels, int inChannels)
    {
        long perPosition = (long)outChannels * inChannels;
        for (int e = 0; e < positions; e++)
            Pack(u + e * perPosition, inChannels, 1, packed + e * perPosition, outChannels, inChannels);
    }

    /// <summary>
    /// One position's panels from a matrix whose element (o, i) is a[o * oStride + i * iStride]:
    /// row-major weights, or a transposed convolution's W (in x out k k) read as its transpose.
    /// </summary>
    public static void Pack(float* a, long oStride, long iStride, float* packed, int outChannels, int inChannels)
    {
        for (int o0 = 0; o0 < outChannels; o0 += PanelRows)
        {
            int rows = Math.Min(PanelRows, outChannels - o0);
            float* panel = packed + (long)o0 * inChannels;
            for (int p = 0; p < inChannels; p++)
                for (int r = 0; r < rows; r++)
                    panel[p * rows + r] = a[(o0 + r) * oStride + p * iStride];
        }
    }

    /// <summary>
    /// m[e][o][t] = packed U[e][o] . v[e][.][t] for output channels [o0, o1) (multiples of 8) and
    /// every position: v[e] is inChannels rows of <paramref name="tiles"/> (a multiple of 16), m[e]
    /// outChannels rows of them. With AVX-512, 32-column panels where the tiles fill them (the 8 x 32
    /// kernel, on 8-row halves of a panel), else 16 (the 16 x 16 kernel, 8 x 16 on an 8-row
    /// remainder); without it, 16 columns on the 6 x 16 kernel and 4 x 16 for the rows left over.
    /// </summary>
    public static void Multiply(float* packed, int positions, int outChannels, int inChannels,
        float* v, long vStride, int tiles, float* m, long mStride, int o0, int o1)
    {
        if (Wide) Multiply512(packed, positions, outChannels, inChannels, v, vStride, tiles, m, mStride, o0, o1);
        else Multiply256(packed, positions, outChannels, inChannels, v, vStride, tiles, m, mStride, o0, o1);
    }

    internal static void Multiply512(float* packed, int positions, int outChannels, int inChannels,
        float* v, long vStride, int tiles, float* m, long mStride, int o0, int o1)
    {
        bool wide = tiles % Kernel8x32.NR == 0;
        long perPosition = (long)outChannels * inChannels;
        for (int e = 0; e < positions; e++)
        {
            float* pe = packed + e * perPosition, ve = v + e * vStride, me = m + e * mStride;
            for (int o = o0; o < o1;)
            {
                int panel = o / PanelRows * PanelRows, rows = Math.Min(PanelRows, outChannels - panel);
                float* a = pe + (long)panel * inChannels + (o - panel);
                float* c = me + (long)o * tiles;
                bool sixteen = !wide && o == panel && rows == PanelRows && o1 - o >= PanelRows;
                if (wide)
                    for (int j = 0; j < tiles; j += Kernel8x32.NR) Kernel8x32.Run(inChannels, a, 1, rows, ve + j, tiles, c + j, tiles, false);
                else if (sixteen)
                    for (int j = 0; j < tiles; j += Kernel16x16.NR) Kernel16x16.Run(inChannels, a, 1, rows, ve + j, tiles, c + j, tiles, false);
                else
                    for (int j = 0; j < tiles; j += Kernel8x16.NR) Kernel8x16.Run(inChannels, a, 1, rows, ve + j, tiles, c + j, tiles, false);
                o += sixteen ? PanelRows : Kernel8x32.MR;
            }
        }
    }

    // AVX2: the 6 x 16 kernel down a panel's rows with the 4 x 16 one for the rest (16 rows: 6, 6,
    // 4; an 8-row block: 4, 4), each over every 16 tiles while its rows of the panel stay in L1.
    internal static void Multiply256(float* packed, int positions, int outChannels, int inChannels,
        float* v, long vStride, int tiles, float* m, long mStride, int o0, int o1)
    {
        long perPosition = (long)outChannels * inChannels;
        for (int e = 0; e < positions; e++)
        {
            float* pe = packed + e * perPosition, ve = v + e * vStride, me = m + e * mStride;
            for (int o = o0; o < o1;)
            {
                int panel = o / PanelRows * PanelRows, rows = Math.Min(PanelRows, outChannels - panel);
                int left = Math.Min(o1, panel + rows) - o;
                float* a = pe + (long)panel * inChannels + (o - panel);
                float* c = me + (long)o * tiles;
                if (left >= Kernel6x16.MR + Kernel4x16.MR)
                {
                    for (int j = 0; j < tiles; j += Kernel6x16.NR) Kernel6x16.Run(inChannels, a, 1, rows, ve + j, tiles, c + j, tiles, false);
                    o += Kernel6x16.MR;
                }
                else
                {
                    for (int j = 0; j < tiles; j += Kernel4x16.NR) Kernel4x16.Run(inChannels, a, 1, rows, ve + j, tiles, c + j, tiles, false);
                    o += Kernel4x16.MR;
                }
            }
        }
    }
}
