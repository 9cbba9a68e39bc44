using SpriteDiffusion.Data;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Evaluation;

/// <summary>
/// A folder of PNG images as an <see cref="ImageSet"/>, like pytorch-fid's path mode: the .png
/// files directly inside it, in ordinal name order, with alpha dropped (as PIL's convert("RGB")
/// does). Every image must be square and of one size.
/// </summary>
public static class ImageFolder
{
    /// <summary>
    /// The .png files directly in <paramref name="directory"/>, in ordinal name order. Throws
    /// <see cref="DirectoryNotFoundException"/> for a missing folder and <see cref="InvalidDataException"/> when it holds no PNG.
    /// </summary>
    public static IReadOnlyList<string> PngFiles(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"{directory}: folder not found. Give a folder of .png images.");
        var files = Directory.EnumerateFiles(directory)
            .Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
            throw new InvalidDataException($"{directory}: the folder holds no .png images. Point it at a folder of PNG sprites.");
        return files;
    }

    /// <summary>
    /// The folder's images as RGB in [-1, 1]; throws <see cref="InvalidDataException"/> naming the file
    /// for a PNG that is not square or not the first one's size.
    /// </summary>
    /// <param name="directory">The folder, whose files are listed by <see cref="PngFiles"/>.</param>
    /// <param name="maxCount">Read only the first this many files (in name order); null reads all.</param>
    /// <param name="progress">Receives the number of images read so far, every 64 images and at the end.</param>
    public static ImageSet Load(string directory, int? maxCount = null, IProgress<int>? progress = null)
    {
        var files = PngFiles(directory);
        if (maxCount is int max && max < files.Count) files = files.Take(max).ToList();
        var first = Png.Read(files[0]);
        int size = first.Width;
        CheckShape(first, files[0], size, files[0]);
        int plane = size * size;
        var chw = new float[(long)files.Count * 3 * plane];
        for (int n = 0; n < files.Count; n++)
        {
            var image = n == 0 ? first : Png.Read(files[n]);
            CheckShape(image, files[n], size, files[0]);
            var target = chw.AsSpan(n * 3 * plane, 3 * plane);
            for (int p = 0; p < plane; p++)
                for (int c = 0; c < 3; c++)
                    target[c * plane + p] = SpritePixels.ToValue(image.Pixels[4 * p + c]);
            if ((n & 63) == 63 || n == files.Count - 1) progress?.Report(n + 1);
        }
        return new ImageSet(chw, files.Count, 3, size);
    }

    /// <summary>Writes images as 00000.png, 00001.png, ... into <paramref name="directory"/>: RGB opaque, RGBA with its transparency.</summary>
    public static void Save(ImageSet images, string directory)
    {
        if (images.Channels is not (3 or 4)) throw new ArgumentException("only RGB and RGBA images can be saved", nameof(images));
        Directory.CreateDirectory(directory);
        var hwc = new byte[images.Size * images.Size * images.Channels];
        int digits = Math.Max(5, images.Count.ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        for (int n = 0; n < images.Count; n++)
        {
            SpritePixels.ChwToHwc(images.Image(n), hwc, images.Size, images.Channels);
            var image = images.Channels == 3 ? Png.FromRgb(images.Size, images.Size, hwc) : new RgbaImage(images.Size, images.Size, (byte[])hwc.Clone());
            Png.Write(Path.Combine(directory, n.ToString(new string('0', digits), System.Globalization.CultureInfo.InvariantCulture) + ".png"), image);
        }
    }

    private static void CheckShape(RgbaImage image, string path, int size, string firstPath)
    {
        if (image.Width != image.Height)
            throw new InvalidDataException($"{path}: the image is {image.Width}x{image.Height}; only square images can be compared.");
        if (image.Width != size)
            throw new InvalidDataException($"{path}: the image is {image.Width}x{image.Height}, but {firstPath} is {size}x{size}; all images in a folder must have one size.");
    }
}
