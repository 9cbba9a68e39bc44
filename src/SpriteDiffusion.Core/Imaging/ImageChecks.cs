using SpriteDiffusion.IO;

namespace SpriteDiffusion.Imaging;

/// <summary>
/// The one check every entry point makes on a caller's image: RgbaImage is a plain record, so
/// nothing else guarantees that its buffer matches its size, and a mismatch would otherwise
/// surface as an index error deep in a pixel loop.
/// </summary>
internal static class ImageChecks
{
    public static void RequireWellFormed(RgbaImage image, string what, string paramName)
    {
        if (image.Width < 1 || image.Height < 1)
            throw new ArgumentException($"{what} is {image.Width}x{image.Height}; an image needs at least one pixel.", paramName);
        if (image.Pixels is null || image.Pixels.LongLength != 4L * image.Width * image.Height)
            throw new ArgumentException(
                $"{what} is {image.Width}x{image.Height}, which takes {4L * image.Width * image.Height} RGBA bytes, but its buffer holds {image.Pixels?.Length ?? 0}.", paramName);
    }
}
