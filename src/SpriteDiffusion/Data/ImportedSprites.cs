using System.Text;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Data;

/// <summary>
/// Sprites gathered by an importer, held as bytes until written out in the seed's format
/// (images.npy (N, S, S, 3) uint8, or (N, S, S, 4) straight-alpha RGBA, labels.npy (N, K) float64
/// one-hot, classes.txt, sources.tsv).
/// </summary>
public sealed class ImportedSprites
{
    /// <summary>The file beside the data set that says where each image came from, one line per image.</summary>
    public const string SourcesFileName = "sources.tsv";
    private readonly List<byte[]> _images = [];
    private readonly List<int> _labels = [];
    private readonly List<string> _sources = [];

    internal ImportedSprites(int imageSize, string[] classNames, int channels = 3)
    {
        ImageSize = imageSize;
        ClassNames = classNames;
        Channels = channels;
    }

    /// <summary>The side of the square sprites in pixels.</summary>
    public int ImageSize { get; }
    /// <summary>3 (RGB) or 4 (straight-alpha RGBA).</summary>
    public int Channels { get; }
    /// <summary>The class names in label order. Without an imposed <see cref="ImportOptions.ClassOrder"/>, classes that got no images are dropped.</summary>
    public string[] ClassNames { get; private set; }
    /// <summary>The number of sprites imported.</summary>
    public int Count => _images.Count;
    /// <summary>Each sprite's class index into <see cref="ClassNames"/>.</summary>
    public IReadOnlyList<int> Labels => _labels;
    /// <summary>Where each sprite came from: its file relative to the imported folder, or "sheet:column,row" and the index's note.</summary>
    public IReadOnlyList<string> Sources => _sources;
    /// <summary>Each skipped file or tile, with why ("name: reason").</summary>
    public List<string> Skipped { get; } = [];
    /// <summary>Things worth telling the user that did not stop the import.</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>Image <paramref name="index"/> as height x width x <see cref="Channels"/> bytes.</summary>
    public byte[] Pixels(int index) => _images[index];

    /// <summary><paramref name="className"/> must be one of <see cref="ClassNames"/>.</summary>
    internal void Add(byte[] hwc, string className, string source)
    {
        int label = Array.IndexOf(ClassNames, className);
        if (label < 0) throw new ArgumentException($"'{className}' is not one of the classes.", nameof(className));
        _images.Add(hwc);
        _labels.Add(label);
        _sources.Add(source);
    }

    /// <summary>The number of sprites in each class, in label order.</summary>
    public int[] CountPerClass()
    {
        var counts = new int[ClassNames.Length];
        foreach (int l in _labels) counts[l]++;
        return counts;
    }

    /// <summary>Drops classes that ended up with no images, renumbering the rest in order.</summary>
    internal void DropEmptyClasses()
    {
        var counts = CountPerClass();
        if (counts.All(c => c > 0)) return;
        var map = new int[counts.Length];
        var kept = new List<string>();
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] == 0)
            {
                Warnings.Add($"class '{ClassNames[i]}' has no usable images and was left out");
                map[i] = -1;
            }
            else
            {
                map[i] = kept.Count;
                kept.Add(ClassNames[i]);
            }
        }
        for (int i = 0; i < _labels.Count; i++) _labels[i] = map[_labels[i]];
        ClassNames = kept.ToArray();
    }

    /// <summary>The sprites as model input, N x Channels x S x S in [-1, 1], without writing any file.</summary>
    public SpriteDataset ToDataset()
    {
        int length = ImageSize * ImageSize * Channels;
        var values = new float[Count * length];
        for (int i = 0; i < Count; i++)
            SpritePixels.HwcToChw(_images[i], values.AsSpan(i * length, length), ImageSize, Channels);
        return new SpriteDataset(values, _labels.ToArray(), ClassNames, ImageSize, Channels);
    }

    /// <summary>
    /// Writes the data set into <paramref name="outDir"/> as a group: every file goes to a temp
    /// name first and only when all are complete are they renamed into place, so a failed run
    /// leaves the folder as it was. Other files in the folder (a README, say) are left alone.
    /// </summary>
    public void WriteTo(string outDir, bool overwrite, IReadOnlyDictionary<string, string>? extraTextFiles = null)
    {
        if (Count == 0)
            throw new InvalidDataException("No images were imported, so nothing was written.");
        string dir = Path.GetFullPath(outDir);
        if (File.Exists(dir))
            throw new IOException($"{outDir}: is a file; give a folder for the data set.");
        bool existed = Directory.Exists(dir);
        string imagesPath = Path.Combine(dir, SpriteDataset.ImagesFileName);
        string labelsPath = Path.Combine(dir, SpriteDataset.LabelsFileName);
        if (!overwrite && (File.Exists(imagesPath) || File.Exists(labelsPath)))
            throw new IOException($"{outDir}: already holds a data set. Choose another folder or allow replacing it.");

        int size = ImageSize, k = ClassNames.Length, n = Count;
        var files = new List<(string Path, Action<Stream> Write)>();
        files.Add((imagesPath, s =>
        {
            // Image by image after the header: the images are already the file's bytes, so no joined copy.
            s.Write(NpyHeader.Format(NpyDType.UInt8, [n, size, size, Channels]));
            foreach (byte[] image in _images) s.Write(image);
        }));
        files.Add((labelsPath, s =>
        {
            var oneHot = new double[n * k];
            for (int i = 0; i < n; i++) oneHot[i * k + _labels[i]] = 1.0;
            Npy.Write<double>(s, oneHot, [n, k]);
        }));
        files.Add((Path.Combine(dir, ClassNamesFile.FileName), s => WriteText(s, ClassNamesFile.Format(ClassNames))));
        files.Add((Path.Combine(dir, SourcesFileName), s => WriteText(s, FormatSources())));
        foreach (var (name, text) in extraTextFiles ?? new Dictionary<string, string>())
            files.Add((Path.Combine(dir, name), s => WriteText(s, text)));

        var temps = new List<string>();
        try
        {
            AtomicFile.CreateFolder(dir, outDir);
            foreach (var (path, _) in files) AtomicFile.RemoveLeftovers(path);
            foreach (var (path, write) in files)
            {
                string temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
                temps.Add(temp);
                using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            for (int i = 0; i < files.Count; i++)
                File.Move(temps[i], files[i].Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Cleanup(temps, dir, existed);
            throw new IOException($"{outDir}: writing the data set failed ({e.Message}); nothing was changed.", e);
        }
        catch
        {
            Cleanup(temps, dir, existed);
            throw;
        }
    }

    private string FormatSources()
    {
        var sb = new StringBuilder("# index\tclass\tsource\n");
        for (int i = 0; i < Count; i++)
            sb.Append(i).Append('\t').Append(ClassNames[_labels[i]]).Append('\t').Append(Escaped(_sources[i])).Append('\n');
        return sb.ToString();
    }

    /// <summary>A source (a file name) as one TSV field: backslash, tab and line breaks escaped, as the file's readers expect.</summary>
    internal static string Escaped(string source) =>
        source.Replace("\\", "\\\\").Replace("\t", "\\t").Replace("\n", "\\n").Replace("\r", "\\r");

    private static void WriteText(Stream stream, string text) => stream.Write(new UTF8Encoding(false).GetBytes(text));

    private static void Cleanup(List<string> temps, string dir, bool existed)
    {
        foreach (string temp in temps)
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        if (!existed)
            try { if (!Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir); }
            catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
