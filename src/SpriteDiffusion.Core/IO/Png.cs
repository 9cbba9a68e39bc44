using SkiaSharp;

namespace SpriteDiffusion.IO;

/// <summary>An 8-bit RGBA image, unpremultiplied, rows top to bottom.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Pixels">Width x Height x 4 bytes, R, G, B, A per pixel; shared, not copied.</param>
public sealed record RgbaImage(int Width, int Height, byte[] Pixels);

/// <summary>PNG decoding and encoding through SkiaSharp.</summary>
public static class Png
{
    /// <summary>The largest PNG file read: far beyond any sprite, sheet or palette, short of what would exhaust memory.</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>
    /// Decodes a PNG file to 8-bit unpremultiplied RGBA. Throws <see cref="IOException"/> when it
    /// cannot be read and <see cref="InvalidDataException"/> naming it when it is not a usable PNG.
    /// </summary>
    public static RgbaImage Read(string path)
    {
        byte[] bytes;
        try { bytes = InputFile.ReadAllBytes(path, MaxFileBytes); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot read the file ({e.Message}).", e);
        }
        return Decode(bytes, path);
    }

    /// <summary>
    /// Decodes PNG bytes to 8-bit unpremultiplied RGBA; <paramref name="nameForErrors"/> stands for the
    /// file in messages. Throws <see cref="InvalidDataException"/> for anything but a PNG, a damaged one,
    /// or one of more than 64 Mi pixels.
    /// </summary>
    public static RgbaImage Decode(byte[] bytes, string nameForErrors)
    {
        using var codec = SKCodec.Create(new SKMemoryStream(bytes));
        if (codec is null || codec.EncodedFormat != SKEncodedImageFormat.Png)
            throw new InvalidDataException($"{nameForErrors}: not a PNG image (or a corrupt one). Remove it or replace it with a valid PNG.");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        if (info.Width <= 0 || info.Height <= 0 || (long)info.Width * info.Height > 64L * 1024 * 1024)
            throw new InvalidDataException($"{nameForErrors}: image size {info.Width}x{info.Height} is not usable.");
        var pixels = new byte[info.BytesSize];
        unsafe
        {
            fixed (byte* p = pixels)
            {
                var result = codec.GetPixels(info, (IntPtr)p);
                if (result != SKCodecResult.Success)
                    throw new InvalidDataException($"{nameForErrors}: the PNG data is damaged ({result}). Re-export the image.");
            }
        }
        return new RgbaImage(info.Width, info.Height, pixels);
    }

    /// <summary>
    /// 8-bit RGBA, or 8-bit RGB when <paramref name="opaque"/> (the alpha bytes are then ignored):
    /// SkiaSharp picks the PNG colour type from the alpha type, never from the pixels.
    /// </summary>
    public static byte[] Encode(RgbaImage image, bool opaque = false)
    {
        using var bitmap = ToBitmap(image, opaque);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>The image as a SkiaSharp bitmap (unpremultiplied RGBA, or opaque), e.g. to draw on.</summary>
    public static SKBitmap ToBitmap(RgbaImage image, bool opaque = false)
    {
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, opaque ? SKAlphaType.Opaque : SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        System.Runtime.InteropServices.Marshal.Copy(image.Pixels, 0, bitmap.GetPixels(), image.Pixels.Length);
        return bitmap;
    }

    /// <summary>Writes the image as an 8-bit RGBA PNG, atomically.</summary>
    public static void Write(string path, RgbaImage image) => AtomicFile.WriteAllBytes(path, Encode(image));

    /// <summary>Opaque RGB pixels (3 bytes each) to RGBA.</summary>
    public static RgbaImage FromRgb(int width, int height, ReadOnlySpan<byte> rgb)
    {
        var rgba = new byte[width * height * 4];
        for (int i = 0, j = 0; i < width * height; i++, j += 3)
        {
            rgba[4 * i] = rgb[j];
            rgba[4 * i + 1] = rgb[j + 1];
            rgba[4 * i + 2] = rgb[j + 2];
            rgba[4 * i + 3] = 255;
        }
        return new RgbaImage(width, height, rgba);
    }
}
