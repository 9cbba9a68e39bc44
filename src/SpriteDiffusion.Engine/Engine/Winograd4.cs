using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using SpriteDiffusion.Layers;

namespace SpriteDiffusion.Engine;

/// <summary>
/// Winograd F(4x4, 3x3) for frozen (inference-only) convolutions: each 4x4 block of the output is
/// A^T [ (G g G^T) . (B^T d B) ] A for its 6x6 input tile d (tiles 4 pixels apart), so a layer
/// becomes 36 channel products with 36 multiplies per 16 outputs, where F(2x2) does 16 per 4.
/// <para>
/// The interpolation points are 0, 1, -1, 2, -1/2 and infinity rather than Lavin and Gray's
/// 0, +-1, +-2: in float32 against a float64 direct convolution, at this model's channel counts,
/// one layer's max error is about 2-3e-6 of the output's largest value instead of 5-14e-6 (F(2x2):
/// 3-7e-7); the error is mostly the channel sums' rounding magnified by A^T, whose entries here are
/// at most 8 (and all powers of two, as are B^T's but for 3/2 and 5/2). The matrices (Toom-Cook
/// from those points, checked exactly in rational arithmetic):
/// </para>
/// <code>
/// B^T = [1  3/2   -2  -3/2    1  0]   G = [    1     0     0]   A^T = [1  1  1  1     1  0]
///       [0   -1 -5/2  -1/2    1  0]       [ -1/3  -1/3  -1/3]         [0  1 -1  2  -1/2  0]
///       [0    1  1/2  -5/2    1  0]       [  1/3  -1/3   1/3]         [0  1  1  4   1/4  0]
///       [0 -1/2   -1   1/2    1  0]       [ 1/15  2/15  4/15]         [0  1 -1  8  -1/8  1]
///       [0    2   -1    -2    1  0]       [-16/15 8/15 -4/15]
///       [0    1  3/2    -2 -3/2  1]       [    0     0     1]
/// </code>
/// <para>
/// Layouts as <see cref="Winograd"/>'s with 36 positions e = 6 * row + column: u[e][out][in],
/// v[e][channel][t] and m[e][channel][t], t = image * tilesPerImage + tileRow * tilesAcross +
/// tileColumn. A size that is not a multiple of 4 gets a partly used last tile row or column.
/// </para>
/// </summary>
internal static unsafe class Winograd4
{
    public const int Positions = 36;

    public static int TilesAlong(int size) => (size + 3) / 4;

    // Tiles read 20 columns from their first (5 quads, transposed), hence 4 columns beyond the last tile's 6.
    private static int PlaneWidth(int w) => 4 * TilesAlong(w) + 4;

    /// <summary>Floats of the per-thread plane buffer that the transforms of an h x w map need.</summary>
    public static int PlaneLength(int h, int w) => (4 * TilesAlong(h) + 2) * PlaneWidth(w);

    private static readonly double[,] GMatrix =
    {
        { 1, 0, 0 },
        { -1.0 / 3, -1.0 / 3, -1.0 / 3 },
        { 1.0 / 3, -1.0 / 3, 1.0 / 3 },
        { 1.0 / 15, 2.0 / 15, 4.0 / 15 },
        { -16.0 / 15, 8.0 / 15, -4.0 / 15 },
        { 0, 0, 1 },
    };

    /// <summary>
    /// u[e][o][i] = (G w[o, i] G^T)[e] for 3x3 weights w[o][i][3][3], in float64 and rounded once:
    /// G's thirds and fifteenths are not floats, and this runs once per frozen layer.
    /// </summary>
    public static void TransformWeights(float* w, float* u, int outChannels, int inChannels)
    {
        long pairs = (long)outChannels * inChannels;
        Span<double> t = stackalloc double[18];
        for (long oi = 0; oi < pairs; oi++)
        {
            float* g = w + oi * 9;
            for (int k = 0; k < 6; k++)
            for (int c = 0; c < 3; c++)
                t[3 * k + c] = GMatrix[k, 0] * g[c] + GMatrix[k, 1] * g[3 + c] + GMatrix[k, 2] * g[6 + c];
            for (int k = 0; k < 6; k++)
            for (int l = 0; l < 6; l++)
                u[(6 * k + l) * pairs + oi] = (float)(t[3 * k] * GMatrix[l, 0] + t[3 * k + 1] * GMatrix[l, 1] + t[3 * k + 2] * GMatrix[l, 2]);
        }
    }

    /// <summary>
    /// v[e][c][t] = (B^T d B)[e] for every 6x6 tile d of images [0, images) of x (channels planes of
    /// h x w each); plane is a scratch of <see cref="PlaneLength"/> floats. The one-pixel border is
    /// zeros, or with <paramref name="circular"/> the opposite edge. <paramref name="maxLanes"/>
    /// caps the vector width (16, 8, 4 or 1), for tests that compare the widths.
    /// </summary>
    public static void TransformInput(float* x, int images, int channels, int h, int w, float* v, int ld, float* plane,
        bool circular = false, int maxLanes = 16)
    {
        int tilesDown = TilesAlong(h), tilesAcross = TilesAlong(w), tilesPerImage = tilesDown * tilesAcross;
        int pw = PlaneWidth(w);
        new Span<float>(plane, PlaneLength(h, w)).Clear();
        long eStride = Winograd.PositionStride(channels, ld);
        float* tmp = stackalloc float[Positions * 16];
        for (int image = 0; image < images; image++)
        for (int c = 0; c < channels; c++)
        {
            Winograd.CopyPlane(x + ((long)image * channels + c) * h * w, w, plane + pw + 1, pw, h, w);
            if (circular) Winograd.WrapBorder(plane, pw, h, w);
            var rows = new TileRows { Plane = plane, Pw = pw, Tiles = v + (long)c * ld + image * tilesPerImage,
                Across = tilesAcross, Down = tilesDown, EStride = eStride, Tmp = tmp };
            int ty = 0;
            if (maxLanes >= 16 && Quad16.Supported) ty = rows.Input<Quad16, Vector512<float>>(ty);
            if (maxLanes >= 8 && Quad8.Supported) ty = rows.Input<Quad8, Vector256<float>>(ty);
            if (maxLanes >= 4 && Quad4.Supported) ty = rows.Input<Quad4, Vector128<float>>(ty);
            rows.Input<Quad1, float>(ty);
        }
    }

    /// <summary>
    /// y[image][o] = A^T M A + bias[o] for the output channels [first, first + count) of channels,
    /// from m[e][o][t] (eStride floats between positions, ld per channel row), then GELU over each
    /// finished plane when asked: the epilogue of a frozen convolution, as
    /// <see cref="Winograd.TransformOutputChannels"/> does for F(2x2).
    /// </summary>
    public static void TransformOutputChannels(float* m, long eStride, int ld, float* y, int images, int channels,
        int first, int count, int h, int w, float* bias, bool gelu, float* plane, int maxLanes = 16)
    {
        int tilesDown = TilesAlong(h), tilesAcross = TilesAlong(w), tilesPerImage = tilesDown * tilesAcross;
        // A size that is not a multiple of 4 writes whole tiles into the plane and keeps the part that exists.
        bool direct = h % 4 == 0 && w % 4 == 0;
        int pw = direct ? w : 4 * tilesAcross;
        float* tmp = stackalloc float[Positions * 16];
        for (int image = 0; image < images; image++)
        for (int o = first; o < first + count; o++)
        {
            float* dst = y + ((long)image * channels + o) * h * w;
            var rows = new TileRows { Plane = direct ? dst : plane, Pw = pw, Tiles = m + (long)o * ld + image * tilesPerImage,
                Across = tilesAcross, Down = tilesDown, EStride = eStride, Tmp = tmp, Bias = bias == null ? 0f : bias[o] };
            int ty = 0;
            if (maxLanes >= 16 && Quad16.Supported) ty = rows.Output<Quad16, Vector512<float>>(ty);
            if (maxLanes >= 8 && Quad8.Supported) ty = rows.Output<Quad8, Vector256<float>>(ty);
            if (maxLanes >= 4 && Quad4.Supported) ty = rows.Output<Quad4, Vector128<float>>(ty);
            rows.Output<Quad1, float>(ty);
            if (!direct) Winograd.CopyPlane(plane, pw, dst, w, h, w);
            if (gelu) InferenceGelu.Span(dst, dst, h * w);
        }
    }

    /// <summary>
    /// One channel plane's tiles: the pixel plane (Pw floats a row; padded for the input transform)
    /// and the transformed tiles (Across per tile row, EStride between positions). Runs tile rows from
    /// a given one while a whole vector's rows remain, 4 tiles at a time and the rest one by one.
    /// </summary>
    private struct TileRows
    {
        public float* Plane, Tiles, Tmp;
        public int Pw, Across, Down;
        public long EStride;
        public float Bias;

        public int Input<Q, TV>(int ty) where Q : IQuadLanes<TV> where TV : unmanaged
        {
            for (; ty + Q.Rows <= Down; ty += Q.Rows)
            {
                int tx = 0;
                for (; tx + Q.Tiles <= Across; tx += Q.Tiles)
                    InputBlock<Q, TV>(Plane + 4L * ty * Pw + 4 * tx, Pw, Tiles + (long)ty * Across + tx, Across, EStride, (TV*)Tmp);
                for (int r = 0; r < Q.Rows; r++)
                for (int t = tx; t < Across; t++)
                    InputBlock<Quad1, float>(Plane + 4L * (ty + r) * Pw + 4 * t, Pw, Tiles + (long)(ty + r) * Across + t, Across, EStride, Tmp);
            }
            return ty;
        }

        public int Output<Q, TV>(int ty) where Q : IQuadLanes<TV> where TV : unmanaged
        {
            for (; ty + Q.Rows <= Down; ty += Q.Rows)
            {
                int tx = 0;
                for (; tx + Q.Tiles <= Across; tx += Q.Tiles)
                    OutputBlock<Q, TV>(Tiles + (long)ty * Across + tx, EStride, Across, Plane + 4L * ty * Pw + 4 * tx, Pw, Bias, (TV*)Tmp);
                for (int r = 0; r < Q.Rows; r++)
                for (int t = tx; t < Across; t++)
                    OutputBlock<Quad1, float>(Tiles + (long)(ty + r) * Across + t, EStride, Across, Plane + 4L * (ty + r) * Pw + 4 * t, Pw, Bias, Tmp);
            }
            return ty;
        }
    }

    // V = B^T d B for the tiles of one vector: each of the 6 rows along x into tmp[l][a], then down
    // the columns, each position stored for all the vector's tiles at once.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputBlock<Q, TV>(float* src, int pw, float* dst, int across, long eStride, TV* tmp)
        where Q : IQuadLanes<TV> where TV : unmanaged
    {
        for (int a = 0; a < 6; a++)
        {
            Q.LoadSix(src + (long)a * pw, 4L * pw, out var d0, out var d1, out var d2, out var d3, out var d4, out var d5);
            BT<Q, TV>(d0, d1, d2, d3, d4, d5, out tmp[a], out tmp[6 + a], out tmp[12 + a], out tmp[18 + a], out tmp[24 + a], out tmp[30 + a]);
        }
        for (int l = 0; l < 6; l++)
        {
            TV* t = tmp + 6 * l;
            BT<Q, TV>(t[0], t[1], t[2], t[3], t[4], t[5], out var r0, out var r1, out var r2, out var r3, out var r4, out var r5);
            float* p = dst + l * eStride;
            Q.StoreRows(r0, p, across);
            Q.StoreRows(r1, p + 6 * eStride, across);
            Q.StoreRows(r2, p + 12 * eStride, across);
            Q.StoreRows(r3, p + 18 * eStride, across);
            Q.StoreRows(r4, p + 24 * eStride, across);
            Q.StoreRows(r5, p + 30 * eStride, across);
        }
    }

    // The rows of B^T (see the class comment) on one column d, sharing d1 - d3 and d4 - d2.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BT<Q, TV>(TV d0, TV d1, TV d2, TV d3, TV d4, TV d5,
        out TV r0, out TV r1, out TV r2, out TV r3, out TV r4, out TV r5) where Q : IQuadLanes<TV> where TV : unmanaged
    {
        TV e = Q.Sub(d1, d3), f = Q.Sub(d4, d2);
        r0 = Q.MulAdd(Q.Broadcast(1.5f), e, Q.MulAdd(Q.Broadcast(-2f), d2, Q.Add(d0, d4)));
        r1 = Q.MulAdd(Q.Broadcast(-2.5f), d2, Q.MulAdd(Q.Broadcast(-0.5f), d3, Q.Sub(d4, d1)));
        r2 = Q.MulAdd(Q.Broadcast(-2.5f), d3, Q.MulAdd(Q.Broadcast(0.5f), d2, Q.Add(d4, d1)));
        r3 = Q.MulAdd(Q.Broadcast(-0.5f), e, f);
        r4 = Q.MulAdd(Q.Broadcast(2f), e, f);
        r5 = Q.MulAdd(Q.Broadcast(1.5f), Q.Sub(d2, d4), Q.MulAdd(Q.Broadcast(-2f), d3, Q.Add(d1, d5)));
    }

    // Y = A^T M A + bias for the tiles of one vector: down the columns into tmp[i][l], then along
    // each output row, transposed back into 4-pixel rows of the tiles.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputBlock<Q, TV>(float* m, long eStride, int across, float* dst, int pw, float bias, TV* tmp)
        where Q : IQuadLanes<TV> where TV : unmanaged
    {
        for (int l = 0; l < 6; l++)
        {
            float* p = m + l * eStride;
            AT<Q, TV>(Q.LoadRows(p, across), Q.LoadRows(p + 6 * eStride, across), Q.LoadRows(p + 12 * eStride, across),
                Q.LoadRows(p + 18 * eStride, across), Q.LoadRows(p + 24 * eStride, across), Q.LoadRows(p + 30 * eStride, across),
                out tmp[l], out tmp[6 + l], out tmp[12 + l], out tmp[18 + l]);
        }
        TV b = Q.Broadcast(bias);
        for (int i = 0; i < 4; i++)
        {
            TV* t = tmp + 6 * i;
            AT<Q, TV>(t[0], t[1], t[2], t[3], t[4], t[5], out var y0, out var y1, out var y2, out var y3);
            Q.StoreQuads(Q.Add(y0, b), Q.Add(y1, b), Q.Add(y2, b), Q.Add(y3, b), dst + (long)i * pw, 4L * pw);
        }
    }

    // The rows of A^T on one column m, sharing m1 + m2 and m1 - m2.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AT<Q, TV>(TV m0, TV m1, TV m2, TV m3, TV m4, TV m5, out TV y0, out TV y1, out TV y2, out TV y3)
        where Q : IQuadLanes<TV> where TV : unmanaged
    {
        TV s = Q.Add(m1, m2), d = Q.Sub(m1, m2);
        y0 = Q.Add(Q.Add(m0, s), Q.Add(m3, m4));
        y1 = Q.MulAdd(Q.Broadcast(2f), m3, Q.MulAdd(Q.Broadcast(-0.5f), m4, d));
        y2 = Q.MulAdd(Q.Broadcast(4f), m3, Q.MulAdd(Q.Broadcast(0.25f), m4, s));
        y3 = Q.MulAdd(Q.Broadcast(8f), m3, Q.MulAdd(Q.Broadcast(-0.125f), m4, Q.Add(d, m5)));
    }
}
