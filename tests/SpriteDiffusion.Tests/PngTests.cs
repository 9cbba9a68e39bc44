using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests;

public class PngTests
{
    [Fact]
    public void RoundTripKeepsEveryPixel()
    {
        var rng = new Random(7);
        var rgb = new byte[5 * 3 * 3];
        rng.NextBytes(rgb);
        var image = Png.FromRgb(5, 3, rgb);
        var back = Png.Decode(Png.Encode(image), "memory");
        Assert.Equal(5, back.Width);
        Assert.Equal(3, back.Height);
        Assert.Equal(image.Pixels, back.Pixels);
    }

    [Fact]
    public void GarbageIsAnInvalidDataError()
    {
        var e = Assert.Throws<InvalidDataException>(() => Png.Decode(new byte[] { 1, 2, 3, 4, 5 }, "junk.png"));
        Assert.Contains("junk.png", e.Message);
    }
}
