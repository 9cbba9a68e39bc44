using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using SpriteDiffusion.Layers;

namespace SpriteDiffusion.Engine;

/// <summary>
/// The transforms of the Winograd convolution F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms for
/// Convolutional Neural Networks", 2016): each 2x2 block of a 3x3 "same" convolution's output is
/// A^T [ (G g G^T) . (B^T d B) ] A for its 4x4 input tile d, so a layer becomes 16 independent
/// channel products (one per tile position e) with 16 multiplies per 4 outputs instead of 36.
/// <para>
/// Layouts: transformed weights u[e][out][in]; transformed tiles v[e][channel][t] with
/// t = image * tilesPerImage + tileRow * tilesAcross + tileColumn, ld elements per channel row
/// and <see cref="PositionStride"/> elements per position.
/// Odd sizes get a last, half-used tile row or column (zero input, discarded output).
/// </para>
/// </summary>
internal static unsafe partial class Winograd
{
    public const int Positions = 16;

    public static int TilesAlong(int size) => (size + 1) / 2;

    /// <summary>
    /// Floats between tile positions e in v and m: the channel rows, rounded up and then offset by
    /// 256 bytes, because the transforms touch all 16 positions of a tile at once and 16 streams a
    /// multiple of 4 KiB apart would all compete for one set of the L1 cache.
    /// </summary>
    public static long PositionStride(int channels, int ld) => ((long)channels * ld + 1023) / 1024 * 1024 + 64;

    /// <summary>Floats of the per-thread plane buffer that the transforms of an h x w map need.</summary>
    public static int PlaneLength(int h, int w) => (2 * TilesAlong(h) + 2) * (2 * TilesAlong(w) + 2);

    /// <summary>u[e][o][i] = (G w[o, i] G^T)[e] for 3x3 weights w[o][i][3][3].</summary>
    public static void TransformWeights(float* w, float* u, int outChannels, int inChannels)
    {
        long pairs = (long)outChannels * inChannels;
        float* t = stackalloc float[12];
        for (long oi = 0; oi < pairs; oi++)
        {
            float* g = w + oi * 9;
            for (int c = 0; c < 3; c++) G(g[c], g[3 + c], g[6 + c], out t[c], out t[3 + c], out t[6 + c], out t[9 + c]);
            for (int r = 0; r < 4; r++)
            {
                G(t[3 * r], t[3 * r + 1], t[3 * r + 2], out float u0, out float u1, out float u2, out float u3);
                u[(4 * r) * pairs + oi] = u0;
                u[(4 * r + 1) * pairs + oi] = u1;
                u[(4 * r + 2) * pairs + oi] = u2;
                u[(4 * r + 3) * pairs + oi] = u3;
            }
        }
    }

    /// <summary>gw[o][i] += G^T gu[o, i] G: the weight gradient from the gradient of the transformed weights.</summary>
    public static void AddWeightGradient(float* gu, float* gw, int outChannels, int inChannels)
    {
        long pairs = (long)outChannels * inChannels;
        float* s = stackalloc float[12];
        for (long oi = 0; oi < pairs; oi++)
        {
            for (int j = 0; j < 4; j++)
                GT(gu[j * pairs + oi], gu[(4 + j) * pairs + oi], gu[(8 + j) * pairs + oi], gu[(12 + j) * pairs + oi],
                    out s[j], out s[4 + j], out s[8 + j]);
            float* g = gw + oi * 9;
            for (int r = 0; r < 3; r++)
            {
                GT(s[4 * r], s[4 * r + 1], s[4 * r + 2], s[4 * r + 3], out float g0, out float g1, out float g2);
                g[3 * r] += g0;
                g[3 * r + 1] += g1;
                g[3 * r + 2] += g2;
            }
        }
    }

    // G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1] and its transpose, on one column.
    static void G(float a, float b, float c, out float r0, out float r1, out float r2, out float r3)
    {
        r0 = a;
        r1 = 0.5f * (a + b + c);
        r2 = 0.5f * (a - b + c);
        r3 = c;
    }

    static void GT(float a, float b, float c, float d, out float r0, out float r1, out float r2)
    {
        r0 = a + 0.5f * (b + c);
        r1 = 0.5f * (b - c);
        r2 = 0.5f * (b + c) + d;
    }

    /// <summary>
    /// v[e][c][t] = (B^T d B)[e] for every tile d of images [0, images) of x (channels planes of
    /// h x w each); plane is a scratch of <see cref="PlaneLength"/> floats. The one-pixel border the 3x3
    /// kernel reaches into is zeros, or with <paramref name="circular"/> the opposite edge (the image as a torus).
    /// Maps that <see cref="WideFits"/> take the 16-lane path on AVX-512 unless <paramref name="wide"/> is false (tests compare the two).
    /// </summary>
    public static void TransformInput(float* x, int images, int channels, int h, int w, float* v, int ld, float* plane, bool circular = false,
        bool wide = true)
    {
        if (wide && WideSupported && WideFits(h, w, TilesAlong(h), circular)) TransformInputWide(x, images, channels, h, w, 0, TilesAlong(h), v, ld);
        else ToTiles<InputTiles>(x, images, channels, h, w, v, ld, plane, border: 1, circular);
    }

    /// <summary>
    /// <see cref="TransformInput"/> for one image's tile rows [firstRow, firstRow + rowCount) only:
    /// v[e][c][t] with t = (tileRow - firstRow) * tilesAcross + tileColumn. Each thread of a batch of
    /// one transforms its own slab of tiles rather than all of them. <paramref name="wide"/> as for <see cref="TransformInput"/>.
    /// </summary>
    public static void TransformInputRows(float* x, int channels, int h, int w, int firstRow, int rowCount, float* v, int ld, float* plane,
        bool circular = false, bool wide = true)
    {
        if (wide && WideSupported && WideFits(h, w, rowCount, circular)) TransformInputWide(x, 1, channels, h, w, firstRow, rowCount, v, ld);
        else ToTiles<InputTiles>(x, 1, channels, h, w, v, ld, plane, border: 1, circular, firstRow, rowCount);
    }

    /// <summary>
    /// <see cref="TransformInputRows"/> of one h x w image held as two halves of rows: rows [0, h/2)
    /// of channel c at upper + c channelStride, rows [h/2, h) at lower + c channelStride (w floats
    /// a row). With channelStride h w and lower = upper + h w / 2 that is one whole map.
    /// </summary>
    public static void TransformInputHalves(float* upper, float* lower, long channelStride, int channels, int h, int w, int firstRow, int rowCount,
        float* v, int ld, float* plane, bool wide = true)
    {
        if (h % 4 != 0) throw new ArgumentException($"halves of a {h}x{w} map need whole tile rows in each half (h a multiple of 4)");
        if (wide && WideSupported && WideFits(h, w, rowCount, circular: false))
            TransformInputHalvesWide(upper, lower, channelStride, channels, h, w, firstRow, rowCount, v, ld);
        else ToTiles<InputTiles>(upper, 1, channels, h, w, v, ld, plane, border: 1, circular: false, firstRow, rowCount, lower, channelStride);
    }

    /// <summary>
    /// gm[e][o][t] = (A gy A^T)[e] for every 2x2 block of gy: the gradient of M in the forward
    /// pass y = A^T M A, for images [0, images); plane is a scratch of <see cref="PlaneLength"/> floats.
    /// </summary>
    public static void TransformOutputGradient(float* gy, int images, int channels, int h, int w, float* gm, int ld, float* plane) =>
        ToTiles<GradientTiles>(gy, images, channels, h, w, gm, ld, plane, border: 0);

    /// <summary>Transforms of a run of tiles along one tile row: reads rows (pw apart), writes the 16 positions eStride apart.</summary>
    interface ITileRow
    {
        static abstract int Run<L, TV>(float* rows, int pw, int tx, int end, float* dst, long eStride)
            where L : ILanes<TV> where TV : struct;
    }

    /// <summary>Runs a tile transform over every tile of every channel plane, into dst[e][c][t].</summary>
    static void ToTiles<K>(float* src, int images, int channels, int h, int w, float* dst, int ld, float* plane, int border, bool circular = false,
        int firstRow = 0, int rowCount = -1, float* lower = null, long halvesStride = 0)
        where K : struct, ITileRow
    {
        int tilesDown = TilesAlong(h), tilesAcross = TilesAlong(w);
        if (rowCount < 0) rowCount = tilesDown;
        int endRow = firstRow + rowCount, tilesPerImage = rowCount * tilesAcross;
        // A slab's tiles read image rows 2 firstRow - 1 to 2 endRow (its padding included); only
        // those are copied, unless the wrapped border needs the opposite edge.
        bool slab = rowCount < tilesDown && !circular;
        int copyFirst = slab ? Math.Max(0, 2 * firstRow - 1) : 0, copyEnd = slab ? Math.Min(h, 2 * endRow + 1) : h;
        // Tiles read a copy with a zero border (the convolution's padding, and the missing half of
        // an odd size's last tile) unless the plane itself already has whole tiles and no border.
        bool direct = border == 0 && h % 2 == 0 && w % 2 == 0;
        int pw = direct ? w : 2 * tilesAcross + 2;
        if (!direct) new Span<float>(plane, PlaneLength(h, w)).Clear();
        long eStride = PositionStride(channels, ld);
        for (int image = 0; image < images; image++)
        for (int c = 0; c < channels; c++)
        {
            float* map = src + ((long)image * channels + c) * h * w;
            if (lower != null)
            {
                // One image in two halves of rows (see TransformInputHalves): each half's part of the slab's rows.
                int half = h / 2;
                float* up = src + c * halvesStride, low = lower + c * halvesStride;
                if (copyFirst < half) CopyPlane(up + (long)copyFirst * w, w, plane + (border + copyFirst) * pw + border, pw, Math.Min(copyEnd, half) - copyFirst, w);
                int lowFirst = Math.Max(copyFirst, half);
                if (lowFirst < copyEnd) CopyPlane(low + (long)(lowFirst - half) * w, w, plane + (border + lowFirst) * pw + border, pw, copyEnd - lowFirst, w);
            }
            else if (!direct) CopyPlane(map + (long)copyFirst * w, w, plane + (border + copyFirst) * pw + border, pw, copyEnd - copyFirst, w);
            if (circular) WrapBorder(plane, pw, h, w);
            float* source = direct ? map : plane;
            float* dc = dst + (long)c * ld + image * tilesPerImage;
            for (int ty = firstRow; ty < endRow; ty++)
            {
                float* rows = source + 2 * ty * pw;
                float* dt = dc + (ty - firstRow) * tilesAcross;
                int tx = 0;
                if (Lanes8.Supported) tx = K.Run<Lanes8, Vector256<float>>(rows, pw, tx, tilesAcross, dt, eStride);
                if (Lanes4.Supported) tx = K.Run<Lanes4, Vector128<float>>(rows, pw, tx, tilesAcross, dt, eStride);
                K.Run<Lanes1, float>(rows, pw, tx, tilesAcross, dt, eStride);
            }
        }
    }

    // B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], down the columns and then along the rows.
    struct InputTiles : ITileRow
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Run<L, TV>(float* rows, int pw, int tx, int end, float* v, long eStride)
            where L : ILanes<TV> where TV : struct
        {
            for (; tx + L.Count <= end; tx += L.Count)
            {
                float* p = rows + 2 * tx;
                L.LoadPairs(p, out var d00, out var d01); L.LoadPairs(p + 2, out var d02, out var d03);
                p += pw;
                L.LoadPairs(p, out var d10, out var d11); L.LoadPairs(p + 2, out var d12, out var d13);
                p += pw;
                L.LoadPairs(p, out var d20, out var d21); L.LoadPairs(p + 2, out var d22, out var d23);
                p += pw;
                L.LoadPairs(p, out var d30, out var d31); L.LoadPairs(p + 2, out var d32, out var d33);
                Row<L, TV>(L.Sub(d00, d20), L.Sub(d01, d21), L.Sub(d02, d22), L.Sub(d03, d23), v + tx, eStride);
                Row<L, TV>(L.Add(d10, d20), L.Add(d11, d21), L.Add(d12, d22), L.Add(d13, d23), v + 4 * eStride + tx, eStride);
                Row<L, TV>(L.Sub(d20, d10), L.Sub(d21, d11), L.Sub(d22, d12), L.Sub(d23, d13), v + 8 * eStride + tx, eStride);
                Row<L, TV>(L.Sub(d10, d30), L.Sub(d11, d31), L.Sub(d12, d32), L.Sub(d13, d33), v + 12 * eStride + tx, eStride);
            }
            return tx;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row<L, TV>(TV a0, TV a1, TV a2, TV a3, float* v, long eStride) where L : ILanes<TV> where TV : struct
    {
        L.Store(L.Sub(a0, a2), v);
        L.Store(L.Add(a1, a2), v + eStride);
        L.Store(L.Sub(a2, a1), v + 2 * eStride);
        L.Store(L.Sub(a1, a3), v + 3 * eStride);
    }

    /// <summary>
    /// y[image][o] = A^T M A (+ bias[o]), or y += A^T M A when accumulating, from m[e][o][t]
    /// (ld elements per row) for images [0, images); plane is a scratch of <see cref="PlaneLength"/> floats.
    /// </summary>
    public static void TransformOutput(float* m, int ld, float* y, int images, int channels, int h, int w,
        float* bias, bool accumulate, float* plane) =>
        TransformOutputRange(m, PositionStride(channels, ld), ld, y, images, channels, 0, channels, h, w, bias, accumulate, gelu: false, plane);

    // The output transform of channels [first, first + count): the training pass takes them all and
    // may accumulate; a frozen convolution may take a block of them and apply GELU to each plane, or
    // (a batch of one, even sides) all of them over its slab of tile rows [firstRow, firstRow + rowCount).
    private static void TransformOutputRange(float* m, long eStride, int ld, float* y, int images, int channels,
        int first, int count, int h, int w, float* bias, bool accumulate, bool gelu, float* plane, int firstRow = 0, int rowCount = -1,
        bool wide = true)
    {
        int tilesDown = TilesAlong(h), tilesAcross = TilesAlong(w);
        if (rowCount < 0) rowCount = tilesDown;
        if (wide && !accumulate && WideSupported && WideOutputFits(h, w, rowCount))
        {
            TransformOutputWide(m, eStride, ld, y, images, channels, first, count, h, w, bias, gelu, firstRow, rowCount);
            return;
        }
        int tilesPerImage = rowCount * tilesAcross, firstPixel = 2 * firstRow * w, pixels = Math.Min(h * w, 2 * (firstRow + rowCount) * w) - firstPixel;
        // An odd size writes whole tiles into the plane and keeps the part that exists.
        bool direct = h % 2 == 0 && w % 2 == 0;
        int pw = direct ? w : 2 * tilesAcross;
        for (int image = 0; image < images; image++)
        for (int o = first; o < first + count; o++)
        {
            float* dst = y + ((long)image * channels + o) * h * w;
            float* target = direct ? dst : plane;
            if (!direct && accumulate) CopyPlane(dst, w, plane, pw, h, w);
            float b = bias == null ? 0f : bias[o];
            float* mo = m + (long)o * ld + image * tilesPerImage;
            for (int ty = firstRow; ty < firstRow + rowCount; ty++)
            {
                float* rows = target + 2 * ty * pw;
                float* mt = mo + (ty - firstRow) * tilesAcross;
                int tx = 0;
                if (Lanes8.Supported) tx = OutputTiles<Lanes8, Vector256<float>>(mt, eStride, rows, pw, b, accumulate, tx, tilesAcross);
                if (Lanes4.Supported) tx = OutputTiles<Lanes4, Vector128<float>>(mt, eStride, rows, pw, b, accumulate, tx, tilesAcross);
                OutputTiles<Lanes1, float>(mt, eStride, rows, pw, b, accumulate, tx, tilesAcross);
            }
            if (!direct) CopyPlane(plane, pw, dst, w, h, w);
            if (gelu) InferenceGelu.Span(dst + firstPixel, dst + firstPixel, pixels);
        }
    }

    // A^T = [1 1 1 0; 0 1 -1 -1], down the columns and then along the rows.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int OutputTiles<L, TV>(float* m, long eStride, float* rows, int pw, float bias, bool accumulate, int tx, int end)
        where L : ILanes<TV> where TV : struct
    {
        var b = L.Broadcast(bias);
        for (; tx + L.Count <= end; tx += L.Count)
        {
            float* p = m + tx;
            TV t00, t01, t02, t03, t10, t11, t12, t13;
            {
                TV m0 = L.Load(p), m1 = L.Load(p + 4 * eStride), m2 = L.Load(p + 8 * eStride), m3 = L.Load(p + 12 * eStride);
                t00 = L.Add(L.Add(m0, m1), m2); t10 = L.Sub(L.Sub(m1, m2), m3);
            }
            {
                p += eStride;
                TV m0 = L.Load(p), m1 = L.Load(p + 4 * eStride), m2 = L.Load(p + 8 * eStride), m3 = L.Load(p + 12 * eStride);
                t01 = L.Add(L.Add(m0, m1), m2); t11 = L.Sub(L.Sub(m1, m2), m3);
            }
            {
                p += eStride;
                TV m0 = L.Load(p), m1 = L.Load(p + 4 * eStride), m2 = L.Load(p + 8 * eStride), m3 = L.Load(p + 12 * eStride);
                t02 = L.Add(L.Add(m0, m1), m2); t12 = L.Sub(L.Sub(m1, m2), m3);
            }
            {
                p += eStride;
                TV m0 = L.Load(p), m1 = L.Load(p + 4 * eStride), m2 = L.Load(p + 8 * eStride), m3 = L.Load(p + 12 * eStride);
                t03 = L.Add(L.Add(m0, m1), m2); t13 = L.Sub(L.Sub(m1, m2), m3);
            }
            TV y00 = L.Add(L.Add(L.Add(t00, t01), t02), b), y01 = L.Add(L.Sub(L.Sub(t01, t02), t03), b);
            TV y10 = L.Add(L.Add(L.Add(t10, t11), t12), b), y11 = L.Add(L.Sub(L.Sub(t11, t12), t13), b);
            float* out0 = rows + 2 * tx, out1 = out0 + pw;
            if (accumulate)
            {
                L.LoadPairs(out0, out var e0, out var o0);
                L.LoadPairs(out1, out var e1, out var o1);
                (y00, y01, y10, y11) = (L.Add(e0, y00), L.Add(o0, y01), L.Add(e1, y10), L.Add(o1, y11));
            }
            L.StorePairs(y00, y01, out0);
            L.StorePairs(y10, y11, out1);
        }
        return tx;
    }

    // A = [1 0; 1 1; 1 -1; 0 -1], down the columns and then along the rows.
    struct GradientTiles : ITileRow
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Run<L, TV>(float* rows, int pw, int tx, int end, float* gm, long eStride)
            where L : ILanes<TV> where TV : struct
        {
            for (; tx + L.Count <= end; tx += L.Count)
            {
                L.LoadPairs(rows + 2 * tx, out var g00, out var g01);
                L.LoadPairs(rows + pw + 2 * tx, out var g10, out var g11);
                float* p = gm + tx;
                GradientRow<L, TV>(g00, g01, p, eStride);
                GradientRow<L, TV>(L.Add(g00, g10), L.Add(g01, g11), p + 4 * eStride, eStride);
                GradientRow<L, TV>(L.Sub(g00, g10), L.Sub(g01, g11), p + 8 * eStride, eStride);
                GradientRow<L, TV>(L.Neg(g10), L.Neg(g11), p + 12 * eStride, eStride);
            }
            return tx;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void GradientRow<L, TV>(TV a, TV b, float* p, long eStride) where L : ILanes<TV> where TV : struct
    {
        L.Store(a, p);
        L.Store(L.Add(a, b), p + eStride);
        L.Store(L.Sub(a, b), p + 2 * eStride);
        L.Store(L.Neg(b), p + 3 * eStride);
    }

    /// <summary>
    /// Fills the one-pixel border around the h x w image at (1, 1) of the plane with the opposite
    /// edges: rows first, then columns over the rows just filled, so the corners wrap both ways. An
    /// odd size's extra row and column stay zero: only outputs that are dropped read them.
    /// </summary>
    internal static void WrapBorder(float* plane, int pw, int h, int w)
    {
        CopyPlane(plane + (long)h * pw + 1, pw, plane + 1, pw, 1, w);
        CopyPlane(plane + pw + 1, pw, plane + (long)(h + 1) * pw + 1, pw, 1, w);
        for (int r = 0; r < h + 2; r++)
        {
            float* row = plane + (long)r * pw;
            row[0] = row[w];
            row[w + 1] = row[1];
        }
    }

    // The maps' rows are short (4 to 32 pixels), and a call into the runtime's copy per row cost
    // more than the copy: a channel of a 16x16 map took 60 ns of an F(4x4) input transform's 100.
    internal static void CopyPlane(float* src, int srcLd, float* dst, int dstLd, int h, int w)
    {
        for (int r = 0; r < h; r++)
        {
            float* s = src + (long)r * srcLd, d = dst + (long)r * dstLd;
            int i = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; i + 16 <= w; i += 16) Vector512.Load(s + i).Store(d + i);
            if (Vector256.IsHardwareAccelerated)
                for (; i + 8 <= w; i += 8) Vector256.Load(s + i).Store(d + i);
            for (; i < w; i++) d[i] = s[i];
        }
    }
}
