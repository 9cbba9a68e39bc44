
namespace SpriteDiffusion.Engine;

/// <summary>What a <see cref="StateEntry"/> is, which decides its storage and whether it is trained.</summary>
public enum StateKind
{
    /// <summary>A trained tensor: its values sit in <see cref="ParameterStore.Values"/> and it has a gradient.</summary>
    Parameter,
    /// <summary>A running statistic (BatchNorm's mean and variance): saved and averaged, never trained.</summary>
    Buffer,
    /// <summary>A batch counter (num_batches_tracked), an int64 kept in <see cref="StateEntry.Count"/>.</summary>
    Counter,
}

/// <summary>One state-dict entry: a trainable tensor, a running statistic, or a batch counter.</summary>
public sealed class StateEntry
{
    internal StateEntry(string name, int[] shape, StateKind kind, float fill, float initBound)
    {
        Name = name; Shape = shape; Kind = kind; Fill = fill; InitBound = initBound;
        long n = 1;
        foreach (int d in shape) n *= d;
        Length = (int)n;
    }

    /// <summary>The PyTorch state-dict name, e.g. <c>init_conv.conv1.0.weight</c>; checkpoints are keyed by it.</summary>
    public string Name { get; }
    /// <summary>The dimensions in PyTorch's order (out x in x k x k for a conv weight); empty for a counter. Not to be changed.</summary>
    public int[] Shape { get; }
    /// <summary>Whether this is a trained parameter, a running statistic or a batch counter.</summary>
    public StateKind Kind { get; }
    /// <summary>The number of values, the product of <see cref="Shape"/> (1 for a counter).</summary>
    public int Length { get; }
    /// <summary>The PyTorch default for norms and buffers (1 or 0); NaN when drawn uniformly.</summary>
    internal float Fill { get; }
    internal float InitBound { get; }

    /// <summary>
    /// The values: a view into <see cref="ParameterStore.Values"/> for a parameter, a tensor of its own
    /// for a buffer, one unused element for a counter (whose count is <see cref="Count"/>). Set by
    /// <see cref="ParameterStore.Allocate"/>.
    /// </summary>
    public Tensor Value { get; internal set; } = null!;
    /// <summary>The gradient, for parameters only.</summary>
    public Tensor? Grad { get; internal set; }
    /// <summary>num_batches_tracked, an int64 in PyTorch.</summary>
    public long Count { get; set; }
}

/// <summary>
/// Every parameter, buffer and counter of a model under its PyTorch state-dict name. Parameters
/// and gradients each live in one contiguous pinned buffer, so the optimiser walks flat arrays.
/// </summary>
public sealed class ParameterStore
{
    private readonly List<StateEntry> _entries = [];
    private readonly Dictionary<string, StateEntry> _byName = [];
    private bool _allocated;

    /// <summary>Every entry in the order the layers registered them.</summary>
    public IReadOnlyList<StateEntry> Entries => _entries;
    /// <summary>
    /// Every parameter's values end to end in registration order, in one pinned tensor of
    /// <see cref="ParameterCount"/> elements: what the optimiser and the weight average walk. Set by <see cref="Allocate"/>.
    /// </summary>
    public Tensor Values { get; private set; } = null!;
    /// <summary>
    /// The parameters' gradients, laid out as <see cref="Values"/>. Backward passes add into it, so it
    /// is cleared with <see cref="ZeroGrads"/> before each step.
    /// </summary>
    public Tensor Grads { get; private set; } = null!;
    /// <summary>The number of trainable values (parameters only, not buffers or counters); 0 until <see cref="Allocate"/>.</summary>
    public int ParameterCount { get; private set; }

    /// <summary>Where a parameter's values start in <see cref="Values"/> (and its gradient in <see cref="Grads"/>).</summary>
    public unsafe int OffsetOf(StateEntry parameter) =>
        parameter.Kind == StateKind.Parameter ? (int)(parameter.Value.Data - Values.Data)
            : throw new ArgumentException($"'{parameter.Name}' is not a parameter, so it has no place in Values.", nameof(parameter));

    /// <summary>The entry registered under a state-dict name; throws <see cref="KeyNotFoundException"/> for an unknown one.</summary>
    public StateEntry this[string name] =>
        _byName.TryGetValue(name, out var e) ? e : throw new KeyNotFoundException($"no state entry named '{name}'");

    /// <summary>Whether an entry is registered under the state-dict name (the indexer throws for an unknown one).</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>A weight or bias drawn from U(-bound, bound), PyTorch's default for conv and linear layers.</summary>
    public StateEntry AddUniform(string name, int[] shape, float bound) => Add(new StateEntry(name, shape, StateKind.Parameter, float.NaN, bound));

    /// <summary>A norm's scale (1) or shift (0).</summary>
    public StateEntry AddConstant(string name, int[] shape, float value) => Add(new StateEntry(name, shape, StateKind.Parameter, value, 0));

    /// <summary>
    /// A running statistic: saved in the state dict but not trained (no gradient), filled with
    /// <paramref name="value"/> at allocation. Throws <see cref="InvalidOperationException"/> after allocation or for a name already taken.
    /// </summary>
    public StateEntry AddBuffer(string name, int[] shape, float value) => Add(new StateEntry(name, shape, StateKind.Buffer, value, 0));

    /// <summary>A num_batches_tracked counter, kept in <see cref="StateEntry.Count"/>, starting at 0.</summary>
    public StateEntry AddCounter(string name) => Add(new StateEntry(name, [], StateKind.Counter, 0, 0));

    private StateEntry Add(StateEntry e)
    {
        if (_allocated) throw new InvalidOperationException("parameters are already allocated");
        if (!_byName.TryAdd(e.Name, e)) throw new InvalidOperationException($"duplicate state entry '{e.Name}'");
        _entries.Add(e);
        return e;
    }

    /// <summary>Lays out storage and draws the initial values from the generator, in registration order.</summary>
    public void Allocate(Rng rng)
    {
        if (_allocated) throw new InvalidOperationException("parameters are already allocated");
        _allocated = true;
        int total = _entries.Where(e => e.Kind == StateKind.Parameter).Sum(e => e.Length);
        ParameterCount = total;
        Values = Tensor.Zeros(total);
        Grads = Tensor.Zeros(total);
        int offset = 0;
        foreach (var e in _entries)
        {
            switch (e.Kind)
            {
                case StateKind.Parameter:
                    e.Value = Values.View(offset, e.Shape);
                    e.Grad = Grads.View(offset, e.Shape);
                    offset += e.Length;
                    break;
                case StateKind.Buffer:
                    e.Value = Tensor.Zeros(e.Shape);
                    break;
                case StateKind.Counter:
                    e.Value = Tensor.Zeros(1);
                    break;
            }
        }
        Reinitialize(rng);
    }

    /// <summary>
    /// Draws every parameter and buffer again as <see cref="Allocate"/> did (uniform or constant) and
    /// zeroes the counters. Gradients are left as they are.
    /// </summary>
    public void Reinitialize(Rng rng)
    {
        foreach (var e in _entries)
        {
            if (e.Kind == StateKind.Counter) { e.Count = 0; continue; }
            if (float.IsNaN(e.Fill)) rng.FillUniform(e.Value.Span, -e.InitBound, e.InitBound);
            else e.Value.Span.Fill(e.Fill);
        }
    }

    /// <summary>Sets every parameter gradient to zero; needed once per step because backward passes add into <see cref="Grads"/>.</summary>
    public void ZeroGrads() => Grads.Clear();
}
