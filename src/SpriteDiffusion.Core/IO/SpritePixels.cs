namespace SpriteDiffusion.IO;

/// <summary>
/// The one mapping between 8-bit pixels and the model's values: x / 255, then (x - 0.5) / 0.5,
/// computed in float32 in that order so values match the seed's torchvision transform bit for bit.
/// </summary>
public static class SpritePixels
{
    private static readonly float[] ByteToValue = BuildTable();

    /// <summary>
    /// The colour stored for fully transparent pixels of RGBA sprites, in data sets and in what is
    /// generated: white, the background the RGB data set is composited onto, so an RGBA data set's
    /// colour channels agree with the RGB one wherever nothing is half transparent, and a model does
    /// not learn noise in the colour of nothing.
    /// </summary>
    public static readonly RgbColor TransparentColor = RgbColor.White;

    /// <summary>The model's value for an 8-bit channel value: -1 for 0, 1 for 255 (the exact float32 of the seed's transform).</summary>
    public static float ToValue(byte pixel) => ByteToValue[pixel];

    /// <summary>clamp((x + 1) / 2, 0, 1) * 255, rounded to nearest so a pixel survives the round trip.</summary>
    public static byte ToByte(float value)
    {
        float unit = (value + 1f) / 2f;
        if (!(unit > 0f)) return 0; // also catches NaN
        if (unit >= 1f) return 255;
        return (byte)(unit * 255f + 0.5f);
    }

    /// <summary>One image: height x width x channels bytes to channels x height x width values.</summary>
    public static void HwcToChw(ReadOnlySpan<byte> hwc, Span<float> chw, int size, int channels = 3)
    {
        int plane = size * size;
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < channels; c++)
                chw[c * plane + p] = ByteToValue[hwc[p * channels + c]];
    }

    /// <summary>One image back to bytes: channels x size x size values to size x size x channels bytes, each through <see cref="ToByte"/>.</summary>
    public static void ChwToHwc(ReadOnlySpan<float> chw, Span<byte> hwc, int size, int channels = 3)
    {
        int plane = size * size;
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < channels; c++)
                hwc[p * channels + c] = ToByte(chw[c * plane + p]);
    }

    private static float[] BuildTable()
    {
        var table = new float[256];
        for (int i = 0; i < 256; i++)
            table[i] = (i / 255f - 0.5f) / 0.5f;
        return table;
    }
}
