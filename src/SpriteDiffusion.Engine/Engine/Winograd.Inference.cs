using System.Runtime.Intrinsics;
using SpriteDiffusion.Layers;

namespace SpriteDiffusion.Engine;

internal static unsafe partial class Winograd
{
    /// <summary>
    /// y[image][o] = A^T M A + bias[o] for the output channels [first, first + count) of channels,
    /// from m[e][o][t] (eStride floats between positions, ld per channel row), then GELU over each
    /// finished plane while it is still in L1 when asked: the epilogue of a frozen convolution whose
    /// BatchNorm is folded into its weights, instead of another pass over the whole activation.
    /// </summary>
    public static void TransformOutputChannels(float* m, long eStride, int ld, float* y, int images, int channels,
        int first, int count, int h, int w, float* bias, bool gelu, float* plane)
    {
        int tilesDown = TilesAlong(h), tilesAcross = TilesAlong(w), tilesPerImage = tilesDown * tilesAcross;
        bool direct = h % 2 == 0 && w % 2 == 0;
        int pw = direct ? w : 2 * tilesAcross;
        for (int image = 0; image < images; image++)
        for (int o = first; o < first + count; o++)
        {
            float* dst = y + ((long)image * channels + o) * h * w;
            float* target = direct ? dst : plane;
            float* mo = m + (long)o * ld + image * tilesPerImage;
            for (int ty = 0; ty < tilesDown; ty++)
            {
                float* rows = target + 2 * ty * pw;
                float* mt = mo + ty * tilesAcross;
                int tx = 0;
                if (Lanes8.Supported) tx = OutputTiles<Lanes8, Vector256<float>>(mt, eStride, rows, pw, bias[o], false, tx, tilesAcross);
                if (Lanes4.Supported) tx = OutputTiles<Lanes4, Vector128<float>>(mt, eStride, rows, pw, bias[o], false, tx, tilesAcross);
                OutputTiles<Lanes1, float>(mt, eStride, rows, pw, bias[o], false, tx, tilesAcross);
            }
            if (!direct) CopyPlane(plane, pw, dst, w, h, w);
            if (gelu) GeluInPlace(dst, h * w);
        }
    }

    /// <summary>p[i] = GELU(p[i]) over n floats, as <see cref="Activations.GeluForward"/> computes it.</summary>
    public static void GeluInPlace(float* p, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8) Activations.Gelu(Vector256.Load(p + i)).Store(p + i);
        for (; i < n; i++) p[i] = Activations.Gelu(p[i]);
    }
}
