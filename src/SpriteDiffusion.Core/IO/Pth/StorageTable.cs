namespace SpriteDiffusion.IO.Pth;

/// <summary>
/// torch's persistent_load for the main pickle: turns each ('storage', type, key, location, numel[, view])
/// id into a <see cref="StorageRef"/>, remembering every storage once, in the order first named,
/// so that its bytes can be read after the pickle.
/// </summary>
internal sealed class StorageTable(PthErrors errors, bool legacy)
{
    /// <summary>Distinct storages in one file; a state dict has one per tensor at most.</summary>
    public const int MaxStorages = 1 << 20;

    private readonly Dictionary<string, StorageInfo> _byKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StorageRef> _views = new(StringComparer.Ordinal);
    private readonly List<StorageInfo> _inOrder = new();

    public IReadOnlyList<StorageInfo> InOrder => _inOrder;

    public bool TryGet(string key, out StorageInfo info) => _byKey.TryGetValue(key, out info!);

    /// <summary>Elements of all storages together, for the bound on what the tensors may expand to.</summary>
    public long TotalElements => _inOrder.Sum(s => s.Numel);

    public object Load(object? pid, string at)
    {
        int expected = legacy ? 6 : 5;
        if (pid is not PickleTuple id || id.Count == 0)
            throw errors.Damaged($"{at}: a persistent id is {PickleDescribe.TypeOf(pid)}, not torch's storage tuple");
        if (id[0] is "module")
            throw errors.NotStateDict($"{at}: the file pickles a whole module with its source code");
        if (id[0] is not "storage" || id.Count != expected)
            throw errors.Damaged($"{at}: a persistent id is {PickleDescribe.TypeOf(pid)} starting with {PickleDescribe.TypeOf(id[0])}, not torch's ('storage', type, key, location, numel{(legacy ? ", view" : "")})");
        if (id[1] is not PickleGlobal type)
            throw errors.Damaged($"{at}: a storage's type is {PickleDescribe.TypeOf(id[1])}");
        var kind = StorageKind.For(type.Kind)
            ?? throw errors.Damaged($"{at}: a storage's type is {type.FullName}, not a storage class");
        if (id[2] is not string key)
            throw errors.Damaged($"{at}: a storage key is {PickleDescribe.TypeOf(id[2])}, not a str");
        if (id[3] is not string)
            throw errors.Damaged($"{at}: storage '{PthErrors.Show(key)}' has a location that is {PickleDescribe.TypeOf(id[3])}, not a str");
        long numel = TorchCalls.NonNegative(id[4], "storage size", errors, at);
        if (numel > Array.MaxLength / kind.ElementSize)
            throw errors.TooLarge($"{at}: storage '{PthErrors.Show(key)}' of {numel} {kind.DType} elements");

        if (_byKey.TryGetValue(key, out var info))
        {
            if (info.Kind != kind || info.Numel != numel)
                throw errors.Damaged($"{at}: storage '{PthErrors.Show(key)}' is named as {kind.DType} x {numel} after {info.Kind.DType} x {info.Numel}");
        }
        else
        {
            if (_inOrder.Count >= MaxStorages)
                throw errors.TooLarge($"{at}: more than {MaxStorages} storages");
            info = new StorageInfo(key, kind, numel);
            _byKey.Add(key, info);
            _inOrder.Add(info);
        }

        if (!legacy || id[5] is null)
            return new StorageRef(info, 0, numel);
        return View(info, id[5], at);
    }

    /// <summary>
    /// Old legacy files could name a window (view_key, offset, size) of a storage; like torch, the
    /// first id naming a view key decides what it is.
    /// </summary>
    private StorageRef View(StorageInfo root, object? metadata, string at)
    {
        if (metadata is not PickleTuple { Count: 3 } view || view[0] is not string viewKey)
            throw errors.Damaged($"{at}: storage '{PthErrors.Show(root.Key)}' has view metadata that is {PickleDescribe.TypeOf(metadata)}, not (key, offset, size)");
        if (_views.TryGetValue(viewKey, out var known))
            return known;
        long offset = TorchCalls.NonNegative(view[1], "view offset", errors, at);
        long size = TorchCalls.NonNegative(view[2], "view size", errors, at);
        if (offset > root.Numel || size > root.Numel - offset)
            throw errors.Damaged($"{at}: view '{PthErrors.Show(viewKey)}' covers elements {offset} to {offset + size} of storage '{PthErrors.Show(root.Key)}', which holds {root.Numel}");
        if (_views.Count >= MaxStorages)
            throw errors.TooLarge($"{at}: more than {MaxStorages} storage views");
        var result = new StorageRef(root, offset, size);
        _views.Add(viewKey, result);
        return result;
    }
}
