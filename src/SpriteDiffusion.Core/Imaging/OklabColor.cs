namespace SpriteDiffusion.Imaging;

/// <summary>A colour in Oklab: perceived lightness L (0 black .. 1 white) and two opponent axes.</summary>
/// <param name="L">Perceived lightness; 0 for black, 1 for the sRGB white.</param>
/// <param name="A">Green (negative) to red (positive).</param>
/// <param name="B">Blue (negative) to yellow (positive).</param>
public readonly record struct OklabColor(double L, double A, double B)
{
    /// <summary>Squared Euclidean distance; Oklab is built so that this tracks perceived difference.</summary>
    public double DistanceSquared(OklabColor other)
    {
        double dl = L - other.L, da = A - other.A, db = B - other.B;
        return dl * dl + da * da + db * db;
    }
}
