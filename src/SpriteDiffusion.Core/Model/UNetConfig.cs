using SpriteDiffusion.Layers;

namespace SpriteDiffusion.Model;

/// <summary>The seed U-Net's hyper-parameters (SPEC section 2).</summary>
/// <param name="InChannels">Image channels: 3 for RGB sprites, 4 with alpha.</param>
/// <param name="NFeat">n_feat, the width of the first level (doubled below it); a multiple of 8.</param>
/// <param name="NCFeat">n_cfeat, the length of the context vector: the number of classes.</param>
/// <param name="Height">The side of the square images in pixels, a multiple of 4 (16 for the seed).</param>
public sealed record UNetConfig(int InChannels = 3, int NFeat = 64, int NCFeat = 5, int Height = 16)
{
    /// <summary>The largest image channel count accepted (RGBA is 4).</summary>
    public const int MaxInChannels = 16;
    /// <summary>The widest network accepted (the seed's widest is 128).</summary>
    public const int MaxNFeat = 1024;
    /// <summary>The most classes accepted.</summary>
    public const int MaxNCFeat = 65536;
    /// <summary>The largest image side accepted (sprites are 16).</summary>
    public const int MaxHeight = 256;

    /// <summary>
    /// What every 3x3 convolution reads beyond the edges: zeros (the seed's), or the opposite edge
    /// (circular), which makes the sprite a torus so that it tiles without seams. A model trained
    /// one way has learned its borders that way; both have the same parameters.
    /// </summary>
    public PaddingMode Padding { get; init; } = PaddingMode.Zeros;

    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/>, naming the field, for a shape the network cannot
    /// have: n_feat must be a multiple of 8 (GroupNorm's 8 groups), the height a multiple of 4 (two 2x poolings).
    /// </summary>
    public void Validate()
    {
        // Bounds far beyond any sprite model, so that a damaged file or a typo is refused before it allocates.
        if (InChannels < 1 || InChannels > MaxInChannels) throw new ArgumentOutOfRangeException(nameof(InChannels), $"in_channels must be between 1 and {MaxInChannels} (got {InChannels}).");
        if (NFeat < 8 || NFeat % 8 != 0 || NFeat > MaxNFeat) throw new ArgumentOutOfRangeException(nameof(NFeat), $"n_feat must be a positive multiple of 8 (GroupNorm uses 8 groups), at most {MaxNFeat}; got {NFeat}.");
        if (NCFeat < 1 || NCFeat > MaxNCFeat) throw new ArgumentOutOfRangeException(nameof(NCFeat), $"n_cfeat must be between 1 and {MaxNCFeat} (got {NCFeat}).");
        if (Height < 4 || Height % 4 != 0 || Height > MaxHeight) throw new ArgumentOutOfRangeException(nameof(Height), $"height must be a positive multiple of 4 (two 2x poolings), at most {MaxHeight}; got {Height}.");
    }
}

/// <summary>What one forward pass of the U-Net costs, for the benchmarks' FLOP/s figures.</summary>
public static class UNetCost
{
    /// <summary>
    /// Multiply-adds of one forward pass for one image (convolutions and linear layers), counted
    /// as direct convolutions: the work PyTorch's figure refers to.
    /// </summary>
    public static double ForwardMultiplyAdds(UNetConfig c) => Sum(c, (i, o, k, size) => (double)i * o * k * k * size * size);

    /// <summary>The multiply-adds our engine performs for the same pass (3x3 layers through Winograd do fewer).</summary>
    public static double ExecutedMultiplyAdds(UNetConfig c) => Sum(c, (i, o, k, size) => Conv2d.MultiplyAdds(i, o, k, size, size));

    /// <summary>
    /// The multiply-adds per image of the frozen eval pass that sampling runs at this batch (see
    /// UNet.Freeze): 3x3 layers through Winograd F(4x4) on large maps when each thread has two
    /// images or more, F(2x2) elsewhere.
    /// </summary>
    public static double SampledMultiplyAdds(UNetConfig c, int batch) =>
        Sum(c, (i, o, k, size) => Conv2d.Frozen.MultiplyAdds(i, o, k, size, size, batch));

    /// <summary>How the frozen pass at this batch runs its 3x3 layers, in words for the benchmark reports.</summary>
    public static string SampledAlgorithm(UNetConfig c, int batch) =>
        Conv2d.Frozen.AutoPicksF4(batch, c.Height, c.Height)
            ? $"3x3 layers on {c.Height}x{c.Height} maps through Winograd F(4x4,3x3), the smaller maps through F(2x2,3x3)"
            : "3x3 layers through Winograd F(2x2,3x3)";

    private static double Sum(UNetConfig c, Func<int, int, int, int, double> conv)
    {
        int nf = c.NFeat, s = c.Height, h = s / 2, q = s / 4, inC = c.InChannels;
        double init = conv(inC, nf, 3, s) + conv(nf, nf, 3, s) + conv(inC, nf, 1, s);
        double down1 = 4 * conv(nf, nf, 3, s);
        double down2 = conv(nf, 2 * nf, 3, h) + 3 * conv(2 * nf, 2 * nf, 3, h);
        double up0 = 4.0 * nf * nf * q * q;
        double up1 = 4.0 * nf * nf * 4 * q * q + 4 * conv(nf, nf, 3, h);
        double up2 = 2.0 * nf * nf * 4 * h * h + 4 * conv(nf, nf, 3, s);
        double outc = conv(2 * nf, nf, 3, s) + conv(nf, inC, 3, s);
        double embed = (1 * 2 * nf + 4.0 * nf * nf) + (nf + nf * nf) + (c.NCFeat * 2 * nf + 4.0 * nf * nf) + (c.NCFeat * nf + nf * nf);
        return init + down1 + down2 + up0 + up1 + up2 + outc + embed;
    }
}
