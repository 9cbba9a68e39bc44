namespace SpriteDiffusion.Engine;

internal static unsafe partial class Winograd
{
    /// <summary>
    /// y[image][o] = A^T M A + bias[o] for the output channels [first, first + count) of channels,
    /// from m[e][o][t] (eStride floats between positions, ld per channel row), then GELU over each
    /// finished plane while it is still in L1 when asked: the epilogue of a frozen convolution whose
    /// BatchNorm is folded into its weights, instead of another pass over the whole activation.
    /// Maps that <see cref="WideOutputFits"/> take the 16-lane path on AVX-512 unless <paramref name="wide"/> is false (tests compare the two).
    /// </summary>
    public static void TransformOutputChannels(float* m, long eStride, int ld, float* y, int images, int channels,
        int first, int count, int h, int w, float* bias, bool gelu, float* plane, bool wide = true) =>
        TransformOutputRange(m, eStride, ld, y, images, channels, first, count, h, w, bias, accumulate: false, gelu, plane, wide: wide);

    /// <summary>
    /// y = A^T M A + bias[o] for every output channel of one image's tile rows [firstRow, firstRow +
    /// rowCount), from m[e][o][t] with t = (tileRow - firstRow) * tilesAcross + tileColumn, then GELU
    /// over the rows written when asked: the epilogue of <see cref="TransformInputRows"/>'s slab.
    /// The map's sides must be even, so that the slab's tiles write exactly its own rows.
    /// <paramref name="wide"/> as for <see cref="TransformOutputChannels"/>.
    /// </summary>
    public static void TransformOutputRows(float* m, long eStride, int ld, float* y, int channels, int h, int w,
        int firstRow, int rowCount, float* bias, bool gelu, bool wide = true)
    {
        if (h % 2 != 0 || w % 2 != 0) throw new ArgumentException($"a slab of tile rows needs even sides, not {h}x{w}");
        TransformOutputRange(m, eStride, ld, y, 1, channels, 0, channels, h, w, bias, accumulate: false, gelu, plane: null, firstRow, rowCount, wide);
    }
}
