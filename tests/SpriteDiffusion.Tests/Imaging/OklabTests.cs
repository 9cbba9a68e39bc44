using SpriteDiffusion.Imaging;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Imaging;

public class OklabTests
{
    // Ottosson's table of XYZ (D65) -> Oklab pairs, from the Oklab post (2020).
    public static TheoryData<double, double, double, double, double, double> OttossonTable => new()
    {
        { 0.950, 1.000, 1.089, 1.000, 0.000, 0.000 },
        { 1.000, 0.000, 0.000, 0.450, 1.236, -0.019 },
        { 0.000, 1.000, 0.000, 0.922, -0.671, 0.263 },
        { 0.000, 0.000, 1.000, 0.153, -1.415, -0.449 },
    };

    [Theory]
    [MemberData(nameof(OttossonTable))]
    public void Matches_Ottossons_reference_table_through_the_sRGB_matrix(double x, double y, double z, double l, double a, double b)
    {
        // XYZ -> linear sRGB (IEC 61966-2-1 primaries, D65; Lindbloom's precise matrix). Our
        // conversion starts from linear sRGB, so this checks both of Ottosson's matrices at once.
        double r = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z;
        double g = -0.9692660 * x + 1.8760108 * y + 0.0415560 * z;
        double bl = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z;
        var lab = Oklab.FromLinearSrgb(r, g, bl);
        Assert.Equal(l, lab.L, 1e-3);
        Assert.Equal(a, lab.A, 1e-3);
        Assert.Equal(b, lab.B, 1e-3);
    }

    [Theory]
    [InlineData(255, 255, 255, 1.0, 0.0, 0.0)]
    [InlineData(0, 0, 0, 0.0, 0.0, 0.0)]
    [InlineData(255, 0, 0, 0.62796, 0.22486, 0.12585)]
    [InlineData(0, 255, 0, 0.86644, -0.23389, 0.17950)]
    [InlineData(0, 0, 255, 0.45201, -0.03246, -0.31153)]
    public void sRGB_white_black_and_primaries_have_their_published_Oklab_values(byte r, byte g, byte b, double l, double a, double bb)
    {
        var lab = Oklab.FromSrgb(new RgbColor(r, g, b));
        Assert.Equal(l, lab.L, 1e-4);
        Assert.Equal(a, lab.A, 1e-4);
        Assert.Equal(bb, lab.B, 1e-4);
    }

    [Fact]
    public void sRGB_transfer_function_has_its_known_values()
    {
        Assert.Equal(0.0, Oklab.SrgbToLinear(0));
        Assert.Equal(1.0, Oklab.SrgbToLinear(255), 1e-12);
        Assert.Equal(0.2158605, Oklab.SrgbToLinear(128), 1e-6);
        Assert.Equal(10 / 255.0 / 12.92, Oklab.SrgbToLinear(10), 1e-12); // the linear toe
        Assert.Equal(0.5, Oklab.LinearToSrgb(0.21404114), 1e-6);
    }

    [Fact]
    public void Every_sampled_byte_colour_survives_the_round_trip_through_Oklab()
    {
        var random = new Random(7);
        var bytes = new byte[3];
        for (int n = 0; n < 20000; n++)
        {
            random.NextBytes(bytes);
            var color = new RgbColor(bytes[0], bytes[1], bytes[2]);
            Assert.Equal(color, Oklab.ToSrgb(Oklab.FromSrgb(color)));
        }
    }

    [Fact]
    public void Colours_outside_the_sRGB_gamut_are_clipped_per_channel()
    {
        // Far beyond the red primary: clipping gives full red, no wrap-around.
        var outside = new OklabColor(0.7, 0.4, 0.2);
        var (r, _, _) = Oklab.ToLinearSrgb(outside);
        Assert.True(r > 1);
        Assert.Equal(255, Oklab.ToSrgb(outside).R);
        Assert.Equal(new RgbColor(0, 0, 0), Oklab.ToSrgb(new OklabColor(-0.5, 0, 0)));
    }
}
