using SpriteDiffusion.Data;
using SpriteDiffusion.Evaluation;
using SpriteDiffusion.Tests.Data;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Evaluation;

public class ImageFolderTests
{
    [Fact]
    public void SavedImagesLoadBackExactly()
    {
        using var temp = new TempDir();
        var images = ProceduralSprites.Make(7, seed: 21);
        ImageFolder.Save(images, temp.Path);
        var back = ImageFolder.Load(temp.Path);
        Assert.Equal(7, back.Count);
        Assert.Equal(16, back.Size);
        Assert.Equal(images.Chw, back.Chw);
        Assert.Equal(3, ImageFolder.Load(temp.Path, maxCount: 3).Count);
    }

    [Fact]
    public void PixelMappingRoundTripsEveryByte()
    {
        for (int v = 0; v < 256; v++)
            Assert.Equal((byte)v, SpritePixels.ToByte(SpritePixels.ToValue((byte)v)));
        Assert.Equal(0, SpritePixels.ToByte(-3f));
        Assert.Equal(255, SpritePixels.ToByte(3f));
    }
}
