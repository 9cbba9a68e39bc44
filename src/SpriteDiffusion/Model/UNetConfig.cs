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
