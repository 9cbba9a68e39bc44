
namespace SpriteDiffusion.Engine;

public enum StateKind { Parameter, Buffer, Counter }

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

    public string Name { get; }
    public int[] Shape { get; }
    public StateKind Kind { get; }
    public int Length { get; }
    /// <summary>The PyTorch default for norms and buffers (1 or 0); NaN when drawn uniformly.</summary>
    internal float Fill { get; }
    internal float InitBound { get; }

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

    public IReadOnlyList<StateEntry> Entries => _entries;
    public Tensor Values { get; private set; } = null!;
    public Tensor Grads { get; private set; } = null!;
    public int ParameterCount { get; private set; }

    /// <summary>Where a parameter's values start in <see cref="Values"/> (and its gradient in <see cref="Grads"/>).</summary>
    public unsafe int OffsetOf(StateEntry parameter) =>
        parameter.Kind == StateKind.Parameter ? (int)(parameter.Value.Data - Values.Data)
            : throw new ArgumentException($"'{parameter.Name}' is not a parameter, so it has no place in Values.", nameof(parameter));

    public StateEntry this[string name] =>
        _byName.TryGetValue(name, out var e) ? e : throw new KeyNotFoundException($"no state entry named '{name}'");

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>A weight or bias drawn from U(-bound, bound), PyTorch's default for conv and linear layers.</summary>
    public StateEntry AddUniform(string name, int[] shape, float bound) => Add(new StateEntry(name, shape, StateKind.Parameter, float.NaN, bound));

    /// <summary>A norm's scale (1) or shift (0).</summary>
    public StateEntry AddConstant(string name, int[] shape, float value) => Add(new StateEntry(name, shape, StateKind.Parameter, value, 0));

    public StateEntry AddBuffer(string name, int[] shape, float value) => Add(new StateEntry(name, shape, StateKind.Buffer, value, 0));

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

    public void Reinitialize(Rng rng)
    {
        foreach (var e in _entries)
        {
            if (e.Kind == StateKind.Counter) { e.Count = 0; continue; }
            if (float.IsNaN(e.Fill)) rng.FillUniform(e.Value.Span, -e.InitBound, e.InitBound);
            else e.Value.Span.Fill(e.Fill);
        }
    }

    public void ZeroGrads() => Grads.Clear();
}
