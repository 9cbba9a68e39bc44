using SpriteDiffusion.Engine;
using SpriteDiffusion.Model;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace SpriteDiffusion.Training;

/// <summary>
/// An exponential moving average of a model's weights, kept beside the raw weights. Parameters and
/// BatchNorm running statistics are both averaged (the statistics were measured with the raw weights,
/// so averaging them too keeps them consistent with averaged weights); batch counters are not state
/// that averages. The decay warms up as min(decay, (1 + n) / (10 + n)) after n updates, so the early
/// average is not dominated by the random initial weights.
/// </summary>
public sealed class WeightAverage
{
    private readonly ParameterStore _store;
    private readonly StateEntry[] _buffers;

    /// <summary>An average starting at the store's current weights; throws <see cref="ArgumentOutOfRangeException"/> unless 0 &lt; decay &lt; 1.</summary>
    public WeightAverage(ParameterStore store, double decay)
    {
        if (!(decay > 0 && decay < 1))
            throw new ArgumentOutOfRangeException(nameof(decay), $"the EMA decay must be between 0 and 1, exclusive (got {decay}); 0.995 averages over about 200 steps.");
        _store = store;
        Decay = decay;
        _buffers = store.Entries.Where(e => e.Kind == StateKind.Buffer).ToArray();
        Parameters = Tensor.Zeros(store.Values.Length);
        Buffers = _buffers.Select(e => Tensor.Zeros(e.Shape)).ToArray();
        var averages = new List<(StateEntry, Tensor)>();
        foreach (var e in store.Entries.Where(e => e.Kind == StateKind.Parameter))
            averages.Add((e, Parameters.View(store.OffsetOf(e), e.Shape)));
        for (int i = 0; i < _buffers.Length; i++) averages.Add((_buffers[i], Buffers[i]));
        Averages = averages;
        Reset();
    }

    /// <summary>The long-run decay per update (0.995 averages over about 200 steps); early updates use less, see <see cref="DecayAt"/>.</summary>
    public double Decay { get; }

    /// <summary>The averaged parameters, laid out as the store's <see cref="ParameterStore.Values"/>.</summary>
    public Tensor Parameters { get; }

    /// <summary>The averaged running statistics, one per buffer entry of the store, in store order.</summary>
    public IReadOnlyList<Tensor> Buffers { get; }

    /// <summary>Every averaged state entry (parameters, then buffers) with its average, shaped like the entry.</summary>
    public IReadOnlyList<(StateEntry Entry, Tensor Average)> Averages { get; }

    /// <summary>The store's buffer entries, matching <see cref="Buffers"/>.</summary>
    public IReadOnlyList<StateEntry> BufferEntries => _buffers;

    /// <summary>The decay used by the update after <paramref name="updates"/> earlier ones.</summary>
    public double DecayAt(long updates) => Math.Min(Decay, (1.0 + updates) / (10.0 + updates));

    /// <summary>Starts the average at the store's current weights.</summary>
    public void Reset()
    {
        _store.Values.Span.CopyTo(Parameters.Span);
        for (int i = 0; i < _buffers.Length; i++) _buffers[i].Value.Span.CopyTo(Buffers[i].Span);
    }

    /// <summary>average = d average + (1 - d) weights, with d = <see cref="DecayAt"/>(<paramref name="updates"/>).</summary>
    public void Update(long updates)
    {
        float keep = (float)DecayAt(updates);
        Blend(Parameters.Span, _store.Values.Span, 1 - keep);
        for (int i = 0; i < _buffers.Length; i++) Blend(Buffers[i].Span, _buffers[i].Value.Span, 1 - keep);
    }

    /// <summary>Exchanges the store's weights with the average (twice restores both), e.g. to validate the average.</summary>
    public void Swap()
    {
        SwapSpans(_store.Values.Span, Parameters.Span);
        for (int i = 0; i < _buffers.Length; i++) SwapSpans(_buffers[i].Value.Span, Buffers[i].Span);
    }

    private static void Blend(Span<float> average, ReadOnlySpan<float> weights, float amount) =>
        TensorPrimitives.Lerp(average, weights, amount, average);

    private static void SwapSpans(Span<float> a, Span<float> b)
    {
        // Swapping through a small stack window keeps it allocation-free for any store size.
        Span<float> window = stackalloc float[1024];
        for (int start = 0; start < a.Length; start += window.Length)
        {
            int n = Math.Min(window.Length, a.Length - start);
            var wa = a.Slice(start, n); var wb = b.Slice(start, n); var w = window[..n];
            wa.CopyTo(w); wb.CopyTo(wa); w.CopyTo(wb);
        }
    }
}
