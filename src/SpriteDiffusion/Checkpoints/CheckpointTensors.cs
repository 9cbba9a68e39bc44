using SpriteDiffusion.IO;
using SpriteDiffusion.IO.Pth;

namespace SpriteDiffusion.Checkpoints;

/// <summary>
/// The named tensors and header of a checkpoint file, whichever format holds them: our
/// safetensors, or a state dict that torch.save wrote (zip or legacy .pth, read without pickle).
/// </summary>
internal sealed class CheckpointTensors
{
    private readonly SafetensorsFile? _safetensors;
    private readonly PthFile? _pth;

    private CheckpointTensors(SafetensorsFile? safetensors, PthFile? pth)
    {
        _safetensors = safetensors;
        _pth = pth;
    }

    public string Path => _safetensors?.Path ?? _pth!.Path;

    /// <summary>The safetensors header's metadata; a .pth state dict has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata =>
        _safetensors?.Metadata ?? (IReadOnlyDictionary<string, string>)new Dictionary<string, string>();

    public IReadOnlyList<string> Names => _safetensors?.Names ?? _pth!.Names;

    public bool Contains(string name) => _safetensors?.Contains(name) ?? _pth!.Contains(name);

    public int[] Shape(string name) => _safetensors is { } s ? s[name].Shape : _pth![name].ShapeArray();

    public void CopyFloat32To(string name, Span<float> destination)
    {
        if (_safetensors is { } s) s[name].CopyFloat32To(destination);
        else _pth![name].CopyFloat32To(destination);
    }

    public long[] ToInt64(string name) => _safetensors is { } s ? s[name].ToInt64() : _pth![name].ToInt64();

    /// <summary>
    /// Opens <paramref name="path"/> by its first bytes: a zip archive or a pickle is a torch.save
    /// file, anything else is read as safetensors (whose reader says what is wrong with it).
    /// </summary>
    public static CheckpointTensors Open(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such checkpoint. Train one, or give the path of a .safetensors or .pth checkpoint.", path);
        return IsTorchSave(path) ? new(null, PthFile.Read(path)) : new(SafetensorsFile.Read(path), null);
    }

    public static bool IsTorchSave(string path)
    {
        Span<byte> head = stackalloc byte[2];
        try
        {
            using var stream = InputFile.OpenRead(path);
            if (stream.ReadAtLeast(head, 2, throwOnEndOfStream: false) < 2) return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot read the file ({e.Message}).", e);
        }
        // "PK" opens the zip format (torch 1.6 and later); 0x80 0x02 the legacy format's first pickle.
        return (head[0] == (byte)'P' && head[1] == (byte)'K') || (head[0] == 0x80 && head[1] == 0x02);
    }
}
