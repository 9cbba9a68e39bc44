using SpriteDiffusion.Diffusion;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Generation;

/// <summary>
/// Sprites and masks from files into what a <see cref="SamplingEdit"/> holds. A picture may be at
/// the model's size or a whole-number nearest-neighbour upscale of it (what sample --each and
/// --scale write), which is read back at 1x; anything else is refused with the file's name.
/// </summary>
public static class EditInputs
{
    /// <summary>
    /// The files behind <paramref name="paths"/>: a file as it is, a folder as the .png files directly
    /// in it in ordinal name order. Throws <see cref="FileNotFoundException"/> for a path that is
    /// neither and <see cref="InvalidDataException"/> for a folder without PNGs.
    /// </summary>
    public static IReadOnlyList<string> ExpandPaths(IEnumerable<string> paths)
    {
        var files = new List<string>();
        foreach (string path in paths)
        {
            if (Directory.Exists(path))
            {
                var pngs = Directory.EnumerateFiles(path).Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList();
                if (pngs.Count == 0) throw new InvalidDataException($"{path}: the folder holds no .png images; give PNG sprites or a folder of them.");
                files.AddRange(pngs);
            }
            else if (File.Exists(path)) files.Add(path);
            else throw new FileNotFoundException($"{path}: no such file or folder; give a PNG sprite or a folder of them.", path);
        }
        return files;
    }

    /// <summary>A PNG sprite as the model's values (channels x size x size, [-1, 1]); see <see cref="FromImage"/>.</summary>
    public static float[] ReadImage(string path, int size, int channels) => FromImage(Png.Read(path), size, channels, path);

    /// <summary>
    /// A sprite as the model's values. An RGB model sees the picture composited onto
    /// <see cref="SpritePixels.TransparentColor"/>, as its data set was; an RGBA model gets straight
    /// alpha with fully transparent pixels in that colour, as it was trained.
    /// </summary>
    /// <param name="image">The picture, at the model's size or a nearest-neighbour upscale of it.</param>
    /// <param name="size">The model's sprite size.</param>
    /// <param name="channels">3 (RGB) or 4 (RGBA).</param>
    /// <param name="name">The file (or other name) to put in error messages.</param>
    public static float[] FromImage(RgbaImage image, int size, int channels, string name)
    {
        if (channels is not (3 or 4)) throw new ArgumentOutOfRangeException(nameof(channels), $"only RGB and RGBA models can start from a picture (got {channels} channels).");
        var pixels = AtModelSize(image, size, name, "sprite");
        int plane = size * size;
        var values = new float[channels * plane];
        var clear = SpritePixels.TransparentColor;
        byte[] background = [clear.R, clear.G, clear.B];
        for (int p = 0; p < plane; p++)
        {
            int alpha = pixels[4 * p + 3];
            for (int c = 0; c < 3; c++)
            {
                int colour = pixels[4 * p + c];
                byte value = channels == 4
                    ? (alpha == 0 ? background[c] : (byte)colour)
                    : (byte)((colour * alpha + background[c] * (255 - alpha) + 127) / 255);
                values[c * plane + p] = SpritePixels.ToValue(value);
            }
            if (channels == 4) values[3 * plane + p] = SpritePixels.ToValue((byte)alpha);
        }
        return values;
    }

    /// <summary>A black-and-white PNG mask as size x size values: 1 where white (drawn), 0 where black (kept); see <see cref="MaskFromImage"/>.</summary>
    public static float[] ReadMask(string path, int size) => MaskFromImage(Png.Read(path), size, path);

    /// <summary>
    /// A mask picture as size x size values, 1 where it is white (the sampler draws there) and 0 where
    /// it is black (the sprite is kept). Throws <see cref="InvalidDataException"/> for any other colour
    /// (grey, anti-aliased edges), which would leave it unclear what is kept. Alpha is ignored.
    /// </summary>
    public static float[] MaskFromImage(RgbaImage image, int size, string name)
    {
        var pixels = AtModelSize(image, size, name, "mask");
        var mask = new float[size * size];
        for (int p = 0; p < mask.Length; p++)
        {
            byte r = pixels[4 * p], g = pixels[4 * p + 1], b = pixels[4 * p + 2];
            if (r == 255 && g == 255 && b == 255) mask[p] = 1;
            else if (r != 0 || g != 0 || b != 0)
                throw new InvalidDataException($"{name}: pixel ({p % size}, {p / size}) is #{r:x2}{g:x2}{b:x2}; a mask is black (keep) and white (regenerate) only. Save it without anti-aliasing.");
        }
        return mask;
    }

    /// <summary>
    /// A size x size mask that is 1 (drawn) inside the rectangle of <paramref name="width"/> x
    /// <paramref name="height"/> pixels at column <paramref name="x"/>, row <paramref name="y"/> (from the
    /// top left) and 0 (kept) elsewhere. Throws <see cref="ArgumentException"/> for a rectangle that is
    /// empty or does not lie inside the sprite.
    /// </summary>
    public static float[] RectangleMask(int x, int y, int width, int height, int size)
    {
        if (width < 1 || height < 1 || x < 0 || y < 0 || x + width > size || y + height > size)
            throw new ArgumentException($"the rectangle {x},{y},{width},{height} (x, y, width, height) must be non-empty and lie inside the {size}x{size} sprite.", "rectangle");
        var mask = new float[size * size];
        for (int row = y; row < y + height; row++)
            mask.AsSpan(row * size + x, width).Fill(1);
        return mask;
    }

    /// <summary>
    /// The edit for a batch of <paramref name="images"/>.Count x <paramref name="perImage"/> sprites:
    /// each starting image repeated for its <paramref name="perImage"/> variations, the size x size
    /// <paramref name="mask"/> (if any) applied to every channel of every sprite.
    /// </summary>
    public static SamplingEdit Build(IReadOnlyList<float[]> images, int perImage, float[]? mask, double strength, int resample)
    {
        if (images.Count == 0) throw new ArgumentException("an edit needs at least one starting image.", nameof(images));
        if (perImage < 1) throw new ArgumentOutOfRangeException("count", $"the number of sprites per starting image must be at least 1 (got {perImage}).");
        int length = images[0].Length;
        var batch = new float[checked(images.Count * perImage * length)];
        for (int i = 0; i < images.Count; i++)
            for (int k = 0; k < perImage; k++)
                images[i].CopyTo(batch, (i * perImage + k) * length);
        float[]? batchMask = null;
        if (mask is not null)
        {
            if (length % mask.Length != 0)
                throw new ArgumentException($"the mask holds {mask.Length} values, which is no plane of a {length}-value sprite.", nameof(mask));
            batchMask = new float[batch.Length];
            for (int plane = 0; plane < batch.Length / mask.Length; plane++) mask.CopyTo(batchMask, plane * mask.Length);
        }
        return new SamplingEdit(batch, strength, batchMask, resample);
    }

    /// <summary>The RGBA bytes of the picture at size x size: itself, or every k-th pixel of a k-times nearest-neighbour upscale.</summary>
    private static byte[] AtModelSize(RgbaImage image, int size, string name, string what)
    {
        int k = image.Width / size;
        if (image.Width != image.Height || k < 1 || image.Width != k * size)
            throw new InvalidDataException($"{name}: the {what} is {image.Width}x{image.Height}, but this model draws {size}x{size} sprites; give a {size}x{size} picture (or a whole-number upscale of one).");
        if (k == 1) return image.Pixels;
        var small = new byte[size * size * 4];
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                int source = 4 * (y * image.Width + x), target = 4 * ((y / k) * size + x / k);
                if (x % k == 0 && y % k == 0) Array.Copy(image.Pixels, source, small, target, 4);
                else if (!image.Pixels.AsSpan(source, 4).SequenceEqual(image.Pixels.AsSpan(4 * ((y / k * k) * image.Width + x / k * k), 4)))
                    throw new InvalidDataException($"{name}: the {what} is {image.Width}x{image.Height}, which is not a {k}x nearest-neighbour upscale of a {size}x{size} sprite (pixel ({x}, {y}) differs from its block); give the {size}x{size} picture.");
            }
        return small;
    }
}
