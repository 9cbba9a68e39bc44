namespace SpriteDiffusion.Model;

/// <summary>The seed U-Net's hyper-parameters (SPEC section 2).</summary>
public sealed record UNetConfig(int InChannels = 3, int NFeat = 64, int NCFeat = 5, int Height = 16)
{
    public void Validate()
    {
        if (InChannels < 1) throw new UserError($"in_channels must be at least 1 (got {InChannels}).");
        if (NFeat < 8 || NFeat % 8 != 0) throw new UserError($"n_feat must be a positive multiple of 8 (GroupNorm uses 8 groups); got {NFeat}.");
        if (NCFeat < 1) throw new UserError($"n_cfeat must be at least 1 (got {NCFeat}).");
        if (Height < 4 || Height % 4 != 0) throw new UserError($"height must be a positive multiple of 4 (two 2x poolings); got {Height}.");
    }
}

public static class UNetCost
{
    /// <summary>Multiply-adds of one forward pass for one image (convolutions and linear layers).</summary>
    public static double ForwardMultiplyAdds(UNetConfig c)
    {
        double nf = c.NFeat, s2 = (double)c.Height * c.Height, h2 = s2 / 4, q2 = s2 / 16, inC = c.InChannels;
        double conv3 = 9;
        double init = inC * nf * conv3 * s2 + nf * nf * conv3 * s2 + inC * nf * s2;
        double down1 = 4 * nf * nf * conv3 * s2;
        double down2 = (nf * 2 * nf + 3 * 4 * nf * nf) * conv3 * h2;
        double up0 = 4 * nf * nf * q2;
        double up1 = 4 * nf * nf * 4 * q2 + 4 * nf * nf * conv3 * h2;
        double up2 = 2 * nf * nf * 4 * h2 + 4 * nf * nf * conv3 * s2;
        double outc = 2 * nf * nf * conv3 * s2 + nf * inC * conv3 * s2;
        double embed = (1 * 2 * nf + 4 * nf * nf) + (nf + nf * nf) + (c.NCFeat * 2 * nf + 4 * nf * nf) + (c.NCFeat * nf + nf * nf);
        return init + down1 + down2 + up0 + up1 + up2 + outc + embed;
    }
}
