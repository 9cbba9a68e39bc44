using SpriteDiffusion.Evaluation;

namespace SpriteDiffusion.Tests.Evaluation;

public class ImageFolderTests
{
    [Fact]
    public void SavedImagesLoadBackExactly()
    {
        using var temp = new TempDirectory();
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
            Assert.Equal((byte)v, ImageSet.SignedToByte(ImageSet.ByteToSigned((byte)v)));
        Assert.Equal(0, ImageSet.SignedToByte(-3f));
        Assert.Equal(255, ImageSet.SignedToByte(3f));
    }

    [Fact]
    public void HwcBytesBecomeChwPlanes()
    {
        var hwc = new byte[2 * 2 * 2 * 3];
        new Random(8).NextBytes(hwc);
        var set = ImageSet.FromHwcBytes(hwc, 2, 2);
        // Image 1, pixel (y=1, x=0), green: HWC offset 12 + (1*2+0)*3 + 1, CHW offset 12 + 1*4 + 2.
        Assert.Equal(ImageSet.ByteToSigned(hwc[12 + 7]), set.Chw[12 + 4 + 2]);
    }
}
