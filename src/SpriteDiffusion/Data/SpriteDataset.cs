using SpriteDiffusion.IO;

namespace SpriteDiffusion.Data;

/// <summary>
/// Sprites ready for the model: N images as N x 3 x S x S float32 (CHW, values in [-1, 1]) and a
/// class index per image. Loaded from the seed's format: images (N, S, S, 3) uint8 and labels
/// (N, K) one-hot.
/// </summary>
public sealed class SpriteDataset
{
    /// <summary>The images' file in a data-set folder: (N, S, S, 3 or 4) uint8.</summary>
    public const string ImagesFileName = "images.npy";
    /// <summary>The labels' file in a data-set folder: (N, K) one-hot.</summary>
    public const string LabelsFileName = "labels.npy";
    /// <summary>The original data set's file names, as <c>sprites data download</c> stores them.</summary>
    public const string OriginalImagesFileName = "sprites_1788_16x16.npy";
    /// <summary>The original labels' file name, beside <see cref="OriginalImagesFileName"/>.</summary>
    public const string OriginalLabelsFileName = "sprite_labels_nc_1788_16x16.npy";
    private const int MaxClasses = 4096;

    /// <summary>
    /// A data set over the given arrays, kept, not copied. Throws <see cref="ArgumentException"/> or
    /// <see cref="ArgumentOutOfRangeException"/> when the sizes disagree or a label is not one of the classes.
    /// </summary>
    /// <param name="images">N x channels x S x S values in [-1, 1], image after image.</param>
    /// <param name="labels">Each image's class index into <paramref name="classNames"/>.</param>
    /// <param name="classNames">At least one name, in label order.</param>
    /// <param name="imageSize">S, the images' side in pixels: a positive multiple of 4.</param>
    /// <param name="channels">3 (RGB) or 4 (straight-alpha RGBA).</param>
    public SpriteDataset(float[] images, int[] labels, string[] classNames, int imageSize, int channels = 3)
    {
        if (imageSize < 4 || imageSize % 4 != 0)
            throw new ArgumentException($"Image size {imageSize} must be a positive multiple of 4.", nameof(imageSize));
        if (channels is not (3 or 4))
            throw new ArgumentOutOfRangeException(nameof(channels), $"Images have 3 (RGB) or 4 (RGBA) channels, not {channels}.");
        int length = channels * imageSize * imageSize;
        if (images.Length != labels.Length * length)
            throw new ArgumentException($"{labels.Length} labels need {labels.Length * length} image values, not {images.Length}.", nameof(images));
        if (classNames.Length == 0)
            throw new ArgumentException("At least one class is needed.", nameof(classNames));
        foreach (int label in labels)
            if ((uint)label >= (uint)classNames.Length)
                throw new ArgumentException($"Label {label} is outside the {classNames.Length} classes.", nameof(labels));
        Images = images;
        Labels = labels;
        ClassNames = classNames;
        ImageSize = imageSize;
        Channels = channels;
    }

    /// <summary>The number of images.</summary>
    public int Count => Labels.Length;
    /// <summary>S, the side of the square images in pixels.</summary>
    public int ImageSize { get; }
    /// <summary>3 (RGB) or 4 (straight-alpha RGBA, fully transparent pixels white).</summary>
    public int Channels { get; }
    /// <summary>Whether the images carry an alpha channel.</summary>
    public bool HasAlpha => Channels == 4;
    /// <summary>Values per image: Channels x ImageSize x ImageSize.</summary>
    public int ImageLength => Channels * ImageSize * ImageSize;
    /// <summary>N x Channels x S x S, CHW, values in [-1, 1].</summary>
    public float[] Images { get; }
    /// <summary>Each image's class index into <see cref="ClassNames"/>.</summary>
    public int[] Labels { get; }
    /// <summary>The class names in label order.</summary>
    public string[] ClassNames { get; }
    /// <summary>The number of classes, the length of a one-hot context.</summary>
    public int NumClasses => ClassNames.Length;

    /// <summary>Image <paramref name="index"/>'s values, <see cref="ImageLength"/> of them, viewing <see cref="Images"/>.</summary>
    public ReadOnlySpan<float> Image(int index) => Images.AsSpan(index * ImageLength, ImageLength);

    /// <summary>Image <paramref name="index"/> as height x width x <see cref="Channels"/> bytes.</summary>
    public void CopyPixels(int index, Span<byte> hwc) => SpritePixels.ChwToHwc(Image(index), hwc, ImageSize, Channels);

    /// <summary>The number of images in each class, in label order.</summary>
    public int[] CountPerClass()
    {
        var counts = new int[NumClasses];
        foreach (int label in Labels) counts[label]++;
        return counts;
    }

    /// <summary>A folder in the bundled layout (images.npy, labels.npy, optional classes.txt), or one holding the original two files.</summary>
    public static SpriteDataset LoadDirectory(string dir)
    {
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"{dir}: no such data folder. Give a folder holding {ImagesFileName} and {LabelsFileName} (e.g. data/twemoji16), or create one with 'sprites data import'.");
        string images = Path.Combine(dir, ImagesFileName), labels = Path.Combine(dir, LabelsFileName);
        if (!File.Exists(images) && File.Exists(Path.Combine(dir, OriginalImagesFileName)))
        {
            images = Path.Combine(dir, OriginalImagesFileName);
            labels = Path.Combine(dir, OriginalLabelsFileName);
        }
        if (!File.Exists(images))
            throw new FileNotFoundException($"{dir}: holds no {ImagesFileName}. Give a folder in the bundled layout (e.g. data/twemoji16), or create one with 'sprites data import'.");
        string classes = Path.Combine(dir, ClassNamesFile.FileName);
        return Load(images, labels, File.Exists(classes) ? classes : null);
    }

    /// <summary>
    /// Reads a data set in the seed's format, converting the images in chunks. Without
    /// <paramref name="classesFile"/> the classes are called "class 0", "class 1", ... Throws
    /// <see cref="InvalidDataException"/> naming the file for shapes, types or counts that do not agree.
    /// </summary>
    public static SpriteDataset Load(string imagesNpy, string labelsNpy, string? classesFile = null)
    {
        var (labels, numClasses) = ReadLabels(labelsNpy);
        string[] names = classesFile is null ? ClassNamesFile.Default(numClasses) : ClassNamesFile.Read(classesFile);
        if (names.Length != numClasses)
            throw new InvalidDataException($"{classesFile}: names {names.Length} classes but {labelsNpy} has {numClasses} label columns. Make them agree.");

        using var reader = NpyReader.Open(imagesNpy);
        int[] shape = reader.Shape;
        if (reader.DType != NpyDType.UInt8 || shape.Length != 4 || shape[3] is not (3 or 4))
            throw new InvalidDataException($"{imagesNpy}: expected images of shape (N, S, S, 3) or (N, S, S, 4) uint8, found ({string.Join(", ", shape)}) {reader.DType.Name()}.");
        int count = shape[0], size = shape[1], channels = shape[3];
        if (shape[2] != size)
            throw new InvalidDataException($"{imagesNpy}: images are {size}x{shape[2]}; they must be square.");
        if (size < 4 || size % 4 != 0)
            throw new InvalidDataException($"{imagesNpy}: images are {size}x{size}; the U-Net needs a size that is a multiple of 4 (16, 32, ...). Re-import them at such a size.");
        if (count != labels.Length)
            throw new InvalidDataException($"{imagesNpy} holds {count:N0} images but {labelsNpy} holds {labels.Length:N0} labels. They must come from the same data set.");
        long valueCount = (long)count * channels * size * size;
        if (valueCount > Array.MaxLength)
            throw new InvalidDataException($"{imagesNpy}: {count:N0} images of {size}x{size} are too many to hold in memory at once. Use a smaller data set.");

        var images = new float[valueCount];
        int pixelsPerImage = size * size * channels;
        int chunkImages = Math.Max(1, (1 << 20) / pixelsPerImage);
        var chunk = new byte[Math.Min(count, chunkImages) * pixelsPerImage];
        for (int start = 0; start < count; start += chunkImages)
        {
            int n = Math.Min(chunkImages, count - start);
            var bytes = chunk.AsSpan(0, n * pixelsPerImage);
            reader.Read<byte>(bytes);
            for (int i = 0; i < n; i++)
                SpritePixels.HwcToChw(bytes.Slice(i * pixelsPerImage, pixelsPerImage), images.AsSpan((start + i) * pixelsPerImage, pixelsPerImage), size, channels);
        }
        return new SpriteDataset(images, labels, names, size, channels);
    }

    private static (int[] Labels, int NumClasses) ReadLabels(string path)
    {
        var array = Npy.Read(path);
        if (array.Rank != 2 || array.DType == NpyDType.UInt8)
            throw new InvalidDataException($"{path}: expected one-hot labels of shape (N, K), float64, float32 or int64; found ({string.Join(", ", array.Shape)}) {array.DType.Name()}.");
        int count = array.Shape[0], k = array.Shape[1];
        if (k < 1 || k > MaxClasses)
            throw new InvalidDataException($"{path}: {k} label columns; between 1 and {MaxClasses} classes are supported.");
        var labels = new int[count];
        for (int row = 0; row < count; row++)
        {
            int hot = -1;
            for (int j = 0; j < k; j++)
            {
                double v = array.ToDouble(row * k + j);
                if (v == 0) continue;
                if (v != 1 || hot >= 0)
                {
                    var values = Enumerable.Range(0, Math.Min(k, 12)).Select(c => array.ToDouble(row * k + c).ToString("G6", System.Globalization.CultureInfo.InvariantCulture));
                    throw new InvalidDataException($"{path}: row {row} is not one-hot ({string.Join(", ", values)}{(k > 12 ? ", ..." : "")}); every row must hold a single 1 and zeros.");
                }
                hot = j;
            }
            if (hot < 0)
                throw new InvalidDataException($"{path}: row {row} is all zeros; every row must hold a single 1 (its class).");
            labels[row] = hot;
        }
        return (labels, k);
    }

    /// <summary>The share of images held out for validation, as the seed does (SPEC section 4).</summary>
    public const double DefaultValidationFraction = 0.1;

    /// <summary>The seed of that draw (the seed project uses 42).</summary>
    public const int DefaultSplitSeed = 42;

    /// <summary>
    /// A reproducible split: a fraction of the images, drawn with <paramref name="seed"/>, goes to
    /// validation (rounded, at least one on each side when there are two images or more). Both parts
    /// keep the original order; <paramref name="validationFraction"/> must be in [0, 1).
    /// </summary>
    public (SpriteDataset Train, SpriteDataset Validation) Split(double validationFraction, int seed)
    {
        if (!(validationFraction >= 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), "The validation fraction must be in [0, 1).");
        int validation = (int)Math.Round(Count * validationFraction, MidpointRounding.AwayFromZero);
        if (validationFraction > 0 && Count >= 2) validation = Math.Clamp(validation, 1, Count - 1);
        var order = Permutation(seed, purpose: 1);
        var validationIndices = order.AsSpan(0, validation).ToArray();
        var trainIndices = order.AsSpan(validation).ToArray();
        Array.Sort(validationIndices);
        Array.Sort(trainIndices);
        return (Select(trainIndices), Select(validationIndices));
    }

    /// <summary>A reproducible random subset of <paramref name="count"/> images (all of them if there are fewer), in the original order.</summary>
    public SpriteDataset Subset(int count, int seed = 0)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        if (count >= Count) return this;
        var chosen = Permutation(seed, purpose: 2).AsSpan(0, count).ToArray();
        Array.Sort(chosen);
        return Select(chosen);
    }

    /// <summary>A new data set of the images at <paramref name="indices"/>, in that order, with the same classes; the values are copied.</summary>
    public SpriteDataset Select(ReadOnlySpan<int> indices)
    {
        var images = new float[indices.Length * ImageLength];
        var labels = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            Image(indices[i]).CopyTo(images.AsSpan(i * ImageLength, ImageLength));
            labels[i] = Labels[indices[i]];
        }
        return new SpriteDataset(images, labels, ClassNames, ImageSize, Channels);
    }

    private int[] Permutation(int seed, int purpose)
    {
        var order = new int[Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        DataRandom.For(seed, 0, purpose).Shuffle(order);
        return order;
    }
}
