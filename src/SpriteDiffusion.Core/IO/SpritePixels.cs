namespace SpriteDiffusion.IO;

/// <summary>
/// The one mapping between 8-bit pixels and the model's values: x / 255, then (x - 0.5) / 0.5,
/// computed in float32 in that order so values match the seed's torchvision transform bit for bit.
/// </summary>
public static class SpritePixels
{
    private static readonly float[] ByteToValue = BuildTable();

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
