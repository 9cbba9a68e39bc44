using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Layers;

/// <summary>y = x W^T + b over a (B, in) batch: the embedding MLPs. Small enough for one thread.</summary>
public sealed unsafe class Linear
{
    private static readonly int PForward = Profiler.Register("linear.forward");
    private static readonly int PBackward = Profiler.Register("linear.backward");

    /// <summary>
    /// Registers <c>name.weight</c> (out x in) and <c>name.bias</c> (out), both drawn from
    /// U(-1/sqrt(in), 1/sqrt(in)) as PyTorch does.
    /// </summary>
    public Linear(ParameterStore store, string name, int inFeatures, int outFeatures)
    {
        In = inFeatures; Out = outFeatures;
        float bound = 1f / MathF.Sqrt(inFeatures);
        Weight = store.AddUniform(name + ".weight", [outFeatures, inFeatures], bound);
        Bias = store.AddUniform(name + ".bias", [outFeatures], bound);
    }

    /// <summary>Input features.</summary>
    public int In { get; }
    /// <summary>Output features.</summary>
    public int Out { get; }
    /// <summary>The weights, out x in (PyTorch's layout).</summary>
    public StateEntry Weight { get; }
    /// <summary>One bias per output feature.</summary>
    public StateEntry Bias { get; }

    /// <summary>y (B x Out) = x (B x In) W^T + b, overwriting y.</summary>
    public void Forward(Tensor x, Tensor y)
    {
        using var profile = Profiler.Measure(PForward);
        int batch = x.Dim(0);
        for (int b = 0; b < batch; b++) new Span<float>(Bias.Value.Data, Out).CopyTo(new Span<float>(y.Data + b * Out, Out));
        Sgemm.Multiply(false, true, batch, Out, In, x.Data, In, Weight.Value.Data, In, y.Data, Out, accumulate: true);
    }

    /// <summary>Adds the weight and bias gradients; when <paramref name="gx"/> is given, overwrites it with gy W (B x In).</summary>
    public void Backward(Tensor x, Tensor gy, Tensor? gx)
    {
        using var profile = Profiler.Measure(PBackward);
        int batch = x.Dim(0);
        Sgemm.Multiply(true, false, Out, In, batch, gy.Data, Out, x.Data, In, Weight.Grad!.Data, In, accumulate: true);
        var gb = new Span<float>(Bias.Grad!.Data, Out);
        for (int b = 0; b < batch; b++) TensorPrimitives.Add(gb, new ReadOnlySpan<float>(gy.Data + b * Out, Out), gb);
        if (gx is not null)
            Sgemm.Multiply(false, false, batch, In, Out, gy.Data, Out, Weight.Value.Data, In, gx.Data, In, accumulate: false);
    }
}
