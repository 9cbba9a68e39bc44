using System.Numerics;

namespace SpriteDiffusion.IO.Pth;

/// <summary>
/// The Python globals a state-dict pickle may name. Anything else is refused when the GLOBAL opcode
/// is read, before the name could be used for anything.
/// </summary>
internal enum TorchGlobal
{
    OrderedDict,
    RebuildTensorV2,
    RebuildParameter,
    FloatStorage,
    DoubleStorage,
    HalfStorage,
    BFloat16Storage,
    LongStorage,
    IntStorage,
}

/// <summary>A Python global from the allow-list; only <see cref="TorchCalls"/> gives it meaning.</summary>
internal sealed class PickleGlobal(string module, string name, TorchGlobal kind)
{
    public string Module { get; } = module;

    public string Name { get; } = name;

    public TorchGlobal Kind { get; } = kind;

    public string FullName => Module + "." + Name;

    /// <summary>The allow-list, keyed by "module name" as the GLOBAL opcode spells it.</summary>
    public static readonly IReadOnlyDictionary<string, TorchGlobal> Allowed = new Dictionary<string, TorchGlobal>(StringComparer.Ordinal)
    {
        ["collections OrderedDict"] = TorchGlobal.OrderedDict,
        ["torch._utils _rebuild_tensor_v2"] = TorchGlobal.RebuildTensorV2,
        ["torch._utils _rebuild_parameter"] = TorchGlobal.RebuildParameter,
        ["torch FloatStorage"] = TorchGlobal.FloatStorage,
        ["torch DoubleStorage"] = TorchGlobal.DoubleStorage,
        ["torch HalfStorage"] = TorchGlobal.HalfStorage,
        ["torch BFloat16Storage"] = TorchGlobal.BFloat16Storage,
        ["torch LongStorage"] = TorchGlobal.LongStorage,
        ["torch IntStorage"] = TorchGlobal.IntStorage,
    };
}

/// <summary>A Python tuple; kept apart from lists because torch's argument lists are tuples.</summary>
internal sealed class PickleTuple(object?[] items)
{
    public object?[] Items { get; } = items;

    public int Count => Items.Length;

    public object? this[int index] => Items[index];
}

/// <summary>A Python list.</summary>
internal sealed class PickleList
{
    public List<object?> Items { get; } = new();
}

/// <summary>
/// A Python dict or OrderedDict. Insertion order is kept because a state dict's order is the
/// order its entries are reported in; setting an existing key keeps its place, as Python does.
/// </summary>
internal sealed class PickleDict(bool ordered)
{
    private static readonly object NoneKey = new();
    private readonly List<object> _keys = new();
    private readonly List<object?> _values = new();
    private readonly Dictionary<object, int> _index = new();

    public bool Ordered { get; } = ordered;

    /// <summary>What BUILD gave an OrderedDict: torch stores the modules' version metadata here, which nothing needs.</summary>
    public object? State { get; set; }

    public int Count => _keys.Count;

    public IEnumerable<(object? Key, object? Value)> Entries
    {
        get
        {
            for (int i = 0; i < _keys.Count; i++)
                yield return (ReferenceEquals(_keys[i], NoneKey) ? null : _keys[i], _values[i]);
        }
    }

    /// <summary>False when the key is not a type this reader can hash like Python does.</summary>
    public static bool IsSupportedKey(object? key) => key is null or string or long or BigInteger or bool or double;

    public void Set(object? key, object? value)
    {
        object k = key ?? NoneKey;
        if (_index.TryGetValue(k, out int i))
        {
            _values[i] = value;
            return;
        }
        _index.Add(k, _keys.Count);
        _keys.Add(k);
        _values.Add(value);
    }

    public bool TryGet(string key, out object? value)
    {
        if (_index.TryGetValue(key, out int i))
        {
            value = _values[i];
            return true;
        }
        value = null;
        return false;
    }
}

/// <summary>Short descriptions of pickle values for error messages, without walking into them.</summary>
internal static class PickleDescribe
{
    public static string TypeOf(object? value) => value switch
    {
        null => "None",
        bool => "a bool",
        long or BigInteger => "an int",
        double => "a float",
        string => "a str",
        PickleTuple t => $"a tuple of {t.Count}",
        PickleList l => $"a list of {l.Items.Count}",
        PickleDict { Ordered: true } d => $"an OrderedDict of {d.Count}",
        PickleDict d => $"a dict of {d.Count}",
        PickleGlobal g => $"the Python object {g.FullName}",
        StorageRef => "a storage",
        TensorRef => "a tensor",
        _ => value.GetType().Name,
    };
}
