using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SpriteDiffusion.Engine;

/// <summary>
/// The F(2x2) output transform on 16 lanes for 8-pixel rows (the 8x8 maps, whose 4 tiles a row
/// left the general path half of 8 lanes): two tile rows and two tile columns' products in each
/// vector, the 2x2 outputs interleaved into whole rows by one permute, GELU applied to the rows
/// while they are in a register instead of in another pass. The same additions in the same order
/// as the general path: the same bits. 32 channels of 8x8 with GELU: 1.77 -> 0.86 us.
/// </summary>
internal static unsafe partial class Winograd
{
    /// <summary>
    /// Whether an output slab fits the 16-lane transform: rows of 8 pixels in pairs of tile rows,
    /// and an even height. (16-pixel rows gain nothing on it: their 8 tiles already fill the
    /// general path's 8 lanes, 2.84 against 3.05 us for 32 channels of 16x16.)
    /// </summary>
    internal static bool WideOutputFits(int h, int w, int rowCount) => h % 2 == 0 && w == 8 && rowCount % 2 == 0;

    /// <summary>
    /// y = A^T M A + bias[o] (then GELU when asked) for output channels [first, first + count) of
    /// each image's tile rows [firstRow, firstRow + rowCount), from m[e][o][t] (eStride floats
    /// between positions, ld per channel row), for slabs that <see cref="WideOutputFits"/>; runs
    /// (slowly) on machines without AVX-512 too.
    /// </summary>
    internal static void TransformOutputWide(float* m, long eStride, int ld, float* y, int images, int channels, int first, int count,
        int h, int w, float* bias, bool gelu, int firstRow, int rowCount)
    {
        if (!WideOutputFits(h, w, rowCount)) throw new ArgumentException($"a {h}x{w} map ({rowCount} tile rows) does not fit the 16-lane output transform");
        int perImage = rowCount * (w / 2);
        for (int image = 0; image < images; image++)
        for (int o = first; o < first + count; o++)
        {
            float* dst = y + ((long)image * channels + o) * h * w;
            var b = Vector512.Create(bias == null ? 0f : bias[o]);
            float* mo = m + (long)o * ld + image * perImage;
            Rows8(mo, eStride, dst, b, gelu, firstRow, rowCount);
        }
    }

    // Lanes 0-3 hold tile row ty's tiles, 4-7 tile row ty + 1's: the interleave puts ty's output
    // row in the low half and ty + 1's in the high half. (A method of its own, kept apart: inlined
    // into its caller, the JIT's inlining budget ran out for Down, which then cost as much as the
    // general path, or twice it.)
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Rows8(float* m, long eStride, float* dst, Vector512<float> b, bool gelu, int firstRow, int rowCount)
    {
        var ix = OutputIndex.Value;
        for (int ty = firstRow; ty < firstRow + rowCount; ty += 2)
        {
            Down(m + (ty - firstRow) * 4, eStride, b, ix, out var top, out var bottom);
            StoreRows8(Vector512.Shuffle(top, ix.Interleave8), dst + 2 * ty * 8, gelu);
            StoreRows8(Vector512.Shuffle(bottom, ix.Interleave8), dst + (2 * ty + 1) * 8, gelu);
        }
    }

    // A^T down the columns, two columns a vector (j and j + 1 in the halves), then along the rows:
    // top = [y00 | y01], bottom = [y10 | y11] of the vector's 8 tiles, as OutputTiles adds them.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Down(float* m, long eStride, Vector512<float> bias, in OutputIndex ix, out Vector512<float> top, out Vector512<float> bottom)
    {
        Vector512<float> Pair(int e) => Join(Vector256.Load(m + e * eStride), Vector256.Load(m + (e + 1) * eStride));
        Vector512<float> m001 = Pair(0), m023 = Pair(2), m101 = Pair(4), m123 = Pair(6);
        Vector512<float> m201 = Pair(8), m223 = Pair(10), m301 = Pair(12), m323 = Pair(14);
        var t001 = (m001 + m101) + m201; var t023 = (m023 + m123) + m223; // t00 | t01, t02 | t03
        var t101 = (m101 - m201) - m301; var t123 = (m123 - m223) - m323; // t10 | t11, t12 | t13
        top = Along(t001, t023, bias, ix);
        bottom = Along(t101, t123, bias, ix);
    }

    // [(t0 + t1) + t2 | (t1 - t2) - t3] + bias, the subtractions as additions of negated halves (exact).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Along(Vector512<float> t01, Vector512<float> t23, Vector512<float> bias, in OutputIndex ix)
    {
        var t12 = Join(t01.GetUpper(), t23.GetLower());
        return ((t01 + (t12 ^ ix.NegateHigh)) + (t23 ^ ix.NegateHigh)) + bias;
    }

    // The low half is one 8-pixel row, the high half the row two below it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRows8(Vector512<float> rows, float* dst, bool gelu)
    {
        if (gelu) rows = Layers.InferenceGelu.Gelu(rows);
        rows.GetLower().Store(dst);
        rows.GetUpper().Store(dst + 16);
    }

    private readonly struct OutputIndex
    {
        public readonly Vector512<int> Interleave8;
        public readonly Vector512<float> NegateHigh;

        private OutputIndex(int unused)
        {
            int[] i8 = new int[16], negate = new int[16];
            for (int c = 0; c < 8; c++) negate[8 + c] = int.MinValue;
            for (int c = 0; c < 4; c++)
            {
                (i8[2 * c], i8[2 * c + 1]) = (c, 8 + c);
                (i8[8 + 2 * c], i8[8 + 2 * c + 1]) = (4 + c, 12 + c);
            }
            Interleave8 = Vector512.Create(i8);
            NegateHigh = Vector512.Create(negate).AsSingle();
        }

        public static readonly OutputIndex Value = new(0);
    }
}
