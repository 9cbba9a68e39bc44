using System.Collections.ObjectModel;

namespace SpriteDiffusion.IO.Pth;

/// <summary>Which of torch.save's two layouts a .pth file has.</summary>
public enum PthFormat
{
    /// <summary>The zip archive torch.save writes by default since torch 1.6.</summary>
    Zip,

    /// <summary>The older stream of pickles and raw storages (also _use_new_zipfile_serialization=False).</summary>
    Legacy,
}

/// <summary>
/// A state dict saved with <c>torch.save(model.state_dict(), path)</c>, read without running Python's
/// pickle: a restricted reader accepts only what such a file holds (an OrderedDict of tensors over
/// float32, float64, float16, bfloat16, int64 and int32 storages) and refuses any other Python
/// global by name, so a malicious file cannot run anything. Every tensor is copied out whole and
/// validated before this returns; a damaged or foreign file fails with
/// <see cref="InvalidDataException"/> naming the file.
/// </summary>
public sealed class PthFile
{
    /// <summary>Output may repeat storage elements (shared storages, broadcast views) this many times over.</summary>
    public const int MaxOutputFactor = 4;

    /// <summary>Elements beyond <see cref="MaxOutputFactor"/> times the storages that small files may still produce.</summary>
    public const long OutputAllowance = 1 << 24;

    private PthFile(string path, PthFormat format, List<PthTensor> tensors)
    {
        Path = path;
        Format = format;
        var ordered = new OrderedDictionary<string, PthTensor>(tensors.Count, StringComparer.Ordinal);
        foreach (var t in tensors) ordered.Add(t.Name, t);
        Tensors = new ReadOnlyDictionary<string, PthTensor>(ordered);
        Names = tensors.Select(t => t.Name).ToArray().AsReadOnly();
    }

    /// <summary>The file as named in messages.</summary>
    public string Path { get; }

    /// <summary>The layout the file had.</summary>
    public PthFormat Format { get; }

    /// <summary>Every entry by name; enumerates in the state dict's order.</summary>
    public IReadOnlyDictionary<string, PthTensor> Tensors { get; }

    /// <summary>Entry names in the state dict's order (the order the model registered them).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The number of entries.</summary>
    public int Count => Names.Count;

    /// <summary>Whether the state dict has an entry <paramref name="name"/>.</summary>
    public bool Contains(string name) => Tensors.ContainsKey(name);

    /// <summary>The entry <paramref name="name"/>.</summary>
    /// <exception cref="InvalidDataException">The file has no such entry; the message names the file.</exception>
    public PthTensor this[string name] =>
        Tensors.TryGetValue(name, out var tensor)
            ? tensor
            : throw new InvalidDataException($"{Path}: has no tensor '{name}'. The file holds {Count} tensors; it was saved from a different model or is incomplete.");

    /// <summary>Reads and validates a .pth file of either format.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file cannot be read, is damaged, is not a state dict, or names a Python global outside the allow-list.</exception>
    public static PthFile Read(string path)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
                throw new FileNotFoundException($"{path}: file not found. Check the path.", path);
            if (info.Length > Array.MaxLength)
                throw new InvalidDataException($"{path}: {info.Length} bytes is larger than this reader supports ({Array.MaxLength} bytes); convert the checkpoint to safetensors in PyTorch instead.");
            bytes = InputFile.ReadAllBytes(path, Array.MaxLength);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new FileNotFoundException($"{path}: file not found (its folder does not exist). Check the path.", path, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not FileNotFoundException)
        {
            throw new InvalidDataException($"{path}: cannot read the file ({e.Message}). Check that it exists and is readable.", e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses a .pth file held in memory; <paramref name="nameForErrors"/> stands for the file in messages.</summary>
    /// <exception cref="InvalidDataException">The bytes are damaged, not a state dict, or name a Python global outside the allow-list.</exception>
    public static PthFile Parse(byte[] bytes, string nameForErrors)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var errors = new PthErrors(nameForErrors);
        var format = Sniff(bytes, errors);
        var (root, storages) = format == PthFormat.Zip ? PthZipReader.Read(bytes, errors) : PthLegacyReader.Read(bytes, errors);
        return new PthFile(nameForErrors, format, Assemble(root, storages, errors));
    }

    private static PthFormat Sniff(byte[] bytes, PthErrors errors)
    {
        if (bytes.Length >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] is 3 or 5 && bytes[3] == bytes[2] + 1)
            return PthFormat.Zip;
        if (bytes.Length >= 2 && bytes[0] == 0x80 && bytes[1] <= 5)
            return PthFormat.Legacy;
        if (bytes.Length >= 9 && bytes[8] == '{')
            throw errors.NotStateDict("looks like a safetensors file, not a .pth file; read it as safetensors");
        throw errors.NotStateDict(bytes.Length == 0
            ? "is empty"
            : "is not a PyTorch checkpoint: it starts with neither a zip header nor a pickle");
    }

    private static List<PthTensor> Assemble(object? root, StorageTable storages, PthErrors errors)
    {
        if (root is not PickleDict dict)
            throw errors.NotStateDict($"holds {PickleDescribe.TypeOf(root)}, not a dict of tensors");

        var entries = new List<(string Name, TensorRef Tensor)>(dict.Count);
        long total = 0;
        long budget = MaxOutputFactor * storages.TotalElements + OutputAllowance;
        foreach (var (key, value) in dict.Entries)
        {
            if (key is not string name)
                throw errors.NotStateDict($"has a key that is {PickleDescribe.TypeOf(key)} where a state dict has names");
            if (value is not TensorRef tensor)
                throw errors.NotStateDict($"has an entry '{PthErrors.Show(name)}' that is {PickleDescribe.TypeOf(value)}, not a tensor");
            total += tensor.ElementCount;
            if (total > budget)
                throw errors.TooLarge($"its tensors repeat their {storages.TotalElements} stored elements into more than {budget}");
            entries.Add((name, tensor));
        }
        return entries.Select(e => TensorCopy.ToTensor(errors.File, e.Name, e.Tensor)).ToList();
    }
}
