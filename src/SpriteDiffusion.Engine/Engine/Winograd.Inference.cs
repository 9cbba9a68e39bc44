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
        int first, int count, int h, int w, float* bias, bool gelu, float* plane) =>
        TransformOutputRange(m, eStride, ld, y, images, channels, first, count, h, w, bias, accumulate: false, gelu, plane);
}
