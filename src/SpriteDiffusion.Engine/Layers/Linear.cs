using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Layers;

/// <summary>y = x W^T + b over a (B, in) batch: the embedding MLPs. Small enough for one thread.</summary>
public sealed unsafe class Linear
{
    private static readonly int PForward = Profiler.Register("linear.forward");
    private static readonly int PBackward = Profiler.Register("linear.backward");

    public Linear(ParameterStore store, string name, int inFeatures, int outFeatures)
    {
        In = inFeatures; Out = outFeatures;
        float bound = 1f / MathF.Sqrt(inFeatures);
        Weight = store.AddUniform(name + ".weight", [outFeatures, inFeatures], bound);
        Bias = store.AddUniform(name + ".bias", [outFeatures], bound);
    }

    public int In { get; }
    public int Out { get; }
    public StateEntry Weight { get; }
    public StateEntry Bias { get; }

    public void Forward(Tensor x, Tensor y)
    {
        using var profile = Profiler.Measure(PForward);
        int batch = x.Dim(0);
        for (int b = 0; b < batch; b++) new Span<float>(Bias.Value.Data, Out).CopyTo(new Span<float>(y.Data + b * Out, Out));
        Sgemm.Multiply(false, true, batch, Out, In, x.Data, In, Weight.Value.Data, In, y.Data, Out, accumulate: true);
    }

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
