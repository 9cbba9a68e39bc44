using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SpriteDiffusion.Engine;

/// <summary>
/// The F(2x2) input transform on 16 lanes for the model's own map widths, 16 and 8 pixels: each
/// row of the plane is one vector (two rows of 8 pixels, two tile rows apart, share one), so the
/// tiles come from register permutes instead of a zero-bordered copy of the plane and 8- or 4-lane
/// pair loads. The same additions in the same order as the general path: the same bits.
/// </summary>
internal static unsafe partial class Winograd
{
    /// <summary>Whether <see cref="TransformInput"/> may take the 16-lane path: AVX-512 (the avx2 cap turns it off).</summary>
    internal static bool WideSupported => Sgemm.HasAvx512;

    /// <summary>
    /// Whether a map fits the 16-lane input transform: rows of 16 pixels, or of 8 taken two tile
    /// rows at a time (an even count of them), an even height, and zero padding.
    /// </summary>
    internal static bool WideFits(int h, int w, int rowCount, bool circular) =>
        !circular && h % 2 == 0 && (w == 16 || w == 8 && rowCount % 2 == 0);

    /// <summary>
    /// <see cref="TransformInput"/> (or, for one image, <see cref="TransformInputRows"/>) of the
    /// tile rows [firstRow, firstRow + rowCount) of each image, for maps that
    /// <see cref="WideFits"/>; runs (slowly) on machines without AVX-512 too.
    /// </summary>
    internal static void TransformInputWide(float* x, int images, int channels, int h, int w, int firstRow, int rowCount, float* v, int ld)
    {
        if (!WideFits(h, w, rowCount, circular: false)) throw new ArgumentException($"a {h}x{w} map ({rowCount} tile rows) does not fit the 16-lane input transform");
        int across = w / 2, perImage = rowCount * across;
        long eStride = PositionStride(channels, ld);
        for (int image = 0; image < images; image++)
        for (int c = 0; c < channels; c++)
        {
            float* map = x + ((long)image * channels + c) * h * w;
            float* tiles = v + (long)c * ld + image * perImage;
            if (w == 16) Rows16(map, map, h, h, firstRow, firstRow + rowCount, tiles, eStride);
            else Rows8(map, map, h, h, firstRow, firstRow + rowCount, tiles, eStride);
        }
    }

    /// <summary><see cref="TransformInputWide"/> of one image held as two halves of rows, as <see cref="TransformInputHalves"/> reads them.</summary>
    internal static void TransformInputHalvesWide(float* upper, float* lower, long channelStride, int channels, int h, int w, int firstRow, int rowCount,
        float* v, int ld)
    {
        if (!WideFits(h, w, rowCount, circular: false)) throw new ArgumentException($"a {h}x{w} map in halves ({rowCount} tile rows) does not fit the 16-lane input transform");
        int half = h / 2;
        long eStride = PositionStride(channels, ld);
        for (int c = 0; c < channels; c++)
        {
            float* tiles = v + (long)c * ld;
            if (w == 16) Rows16(upper + c * channelStride, lower + c * channelStride, half, h, firstRow, firstRow + rowCount, tiles, eStride);
            else Rows8(upper + c * channelStride, lower + c * channelStride, half, h, firstRow, firstRow + rowCount, tiles, eStride);
        }
    }

    // Down the columns (B^T on the tile's 4 rows, each a whole row of the plane), then along them.
    // Rows [0, split) come from upper, [split, h) from lower (split = h for one whole map).
    private static void Rows16(float* upper, float* lower, int split, int h, int first, int end, float* dst, long eStride)
    {
        var ix = Index16.Value;
        var r0 = Row16(upper, lower, split, h, 2 * first - 1);
        var r1 = Row16(upper, lower, split, h, 2 * first);
        for (int ty = first; ty < end; ty++)
        {
            var r2 = Row16(upper, lower, split, h, 2 * ty + 1);
            var r3 = Row16(upper, lower, split, h, 2 * ty + 2);
            float* d = dst + (ty - first) * 8;
            Across(r0 - r2, d, eStride, ix);
            Across(r1 + r2, d + 4 * eStride, eStride, ix);
            Across(r2 - r1, d + 8 * eStride, eStride, ix);
            Across(r1 - r3, d + 12 * eStride, eStride, ix);
            (r0, r1) = (r2, r3);
        }
    }

    // Tile rows ty and ty + 1 together: the low half of each vector is a row of ty's tiles, the
    // high half the same row of ty + 1's, so one store holds both tile rows' 4 tiles of a position.
    private static void Rows8(float* upper, float* lower, int split, int h, int first, int end, float* dst, long eStride)
    {
        var ix = Index8.Value;
        for (int ty = first; ty < end; ty += 2)
        {
            var r0 = Join(Row8(upper, lower, split, h, 2 * ty - 1), Row8(upper, lower, split, h, 2 * ty + 1));
            var r1 = Join(Row8(upper, lower, split, h, 2 * ty), Row8(upper, lower, split, h, 2 * ty + 2));
            var r2 = Join(Row8(upper, lower, split, h, 2 * ty + 1), Row8(upper, lower, split, h, 2 * ty + 3));
            var r3 = Join(Row8(upper, lower, split, h, 2 * ty + 2), Row8(upper, lower, split, h, 2 * ty + 4));
            float* d = dst + (ty - first) * 4;
            Across(r0 - r2, d, eStride, ix);
            Across(r1 + r2, d + 4 * eStride, eStride, ix);
            Across(r2 - r1, d + 8 * eStride, eStride, ix);
            Across(r1 - r3, d + 12 * eStride, eStride, ix);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Row16(float* upper, float* lower, int split, int h, int r) =>
        (uint)r >= (uint)h ? Vector512<float>.Zero : r < split ? Vector512.Load(upper + r * 16) : Vector512.Load(lower + (r - split) * 16);

    // Vector512.Create(lower, upper) compiled to two inserts into a stale 64-byte value reloaded
    // from the stack on every use; one insert into the widened lower half is a single instruction.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Join(Vector256<float> lower, Vector256<float> upper) => lower.ToVector512Unsafe().WithUpper(upper);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Row8(float* upper, float* lower, int split, int h, int r) =>
        (uint)r >= (uint)h ? Vector256<float>.Zero : r < split ? Vector256.Load(upper + r * 8) : Vector256.Load(lower + (r - split) * 8);

    // B^T along a row of the tiles' columns a, b, c, d (pixels 2 tx - 1 to 2 tx + 2, zero past
    // the edges): a - c, b + c, c - b, b - d to positions 0 to 3, as Row does.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Across(Vector512<float> row, float* d, long eStride, in WideIndex ix)
    {
        var ab = Vector512.Shuffle(row, ix.AB) & ix.KeepAB;
        var cd = Vector512.Shuffle(row, ix.CD) & ix.KeepCD;
        var bc = Vector512.Shuffle(row, ix.BC);
        var cNegB = Vector512.Shuffle(row, ix.CB) ^ ix.NegateHigh;
        var v03 = ab - cd;    // a - c | b - d
        var v12 = bc + cNegB; // b + c | c + (-b), which is c - b exactly
        v03.GetLower().Store(d);
        v12.GetLower().Store(d + eStride);
        v12.GetUpper().Store(d + 2 * eStride);
        v03.GetUpper().Store(d + 3 * eStride);
    }

    /// <summary>
    /// Where a row vector's lanes come from for the columns a, b, c, d of its tiles (a and b in
    /// one vector's halves, c and d in another's; b | c and c | b), and the lanes that are the
    /// zero border.
    /// </summary>
    private readonly struct WideIndex
    {
        public readonly Vector512<int> AB, CD, BC, CB;
        public readonly Vector512<float> KeepAB, KeepCD, NegateHigh;

        // A row vector holds 16 pixels, or two rows of 8 (tilesPerHalf 4), one in each half; pixel
        // (half, column) is lane 8 half + column. Columns -1 and the width are the zero border.
        public WideIndex(int tilesPerHalf, int width)
        {
            int[] ab = new int[16], cd = new int[16], bc = new int[16], cb = new int[16];
            int[] keepAb = new int[16], keepCd = new int[16], negate = new int[16];
            for (int lane = 0; lane < 8; lane++)
            {
                int half = lane / tilesPerHalf % 2, tx = lane % tilesPerHalf, col = 2 * tx;
                int Lane(int column) => column < 0 || column >= width ? 0 : 8 * half + column;
                int Keep(int column) => column < 0 || column >= width ? 0 : -1;
                (ab[lane], keepAb[lane]) = (Lane(col - 1), Keep(col - 1));
                (ab[8 + lane], keepAb[8 + lane]) = (Lane(col), -1);
                (cd[lane], keepCd[lane]) = (Lane(col + 1), -1);
                (cd[8 + lane], keepCd[8 + lane]) = (Lane(col + 2), Keep(col + 2));
                (bc[lane], bc[8 + lane]) = (Lane(col), Lane(col + 1));
                (cb[lane], cb[8 + lane]) = (Lane(col + 1), Lane(col));
                negate[8 + lane] = int.MinValue;
            }
            AB = Vector512.Create(ab); CD = Vector512.Create(cd); BC = Vector512.Create(bc); CB = Vector512.Create(cb);
            KeepAB = Vector512.Create(keepAb).AsSingle(); KeepCD = Vector512.Create(keepCd).AsSingle();
            NegateHigh = Vector512.Create(negate).AsSingle();
        }
    }

    // 16-pixel rows: 8 tiles in the one half. Two 8-pixel rows: 4 tiles in each half.
    private static class Index16 { public static readonly WideIndex Value = new(8, 16); }
    private static class Index8 { public static readonly WideIndex Value = new(4, 8); }
}
