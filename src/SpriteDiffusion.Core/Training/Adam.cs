using System.Runtime.Intrinsics;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Model;

namespace SpriteDiffusion.Training;

/// <summary>
/// Adam with PyTorch's defaults and update order (bias-corrected, no weight decay), over the
/// store's flat parameter and gradient buffers.
/// </summary>
public sealed unsafe class Adam
{
    private static readonly int PUpdate = Profiler.Register("adam.update");

    private const int Chunk = 1 << 15;

    /// <summary>An optimiser with zeroed moments over the store's parameters, which must already be allocated. The defaults are PyTorch's.</summary>
    public Adam(ParameterStore store, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f)
    {
        Store = store;
        LearningRate = lr; Beta1 = beta1; Beta2 = beta2; Eps = eps;
        M = Tensor.Zeros(store.ParameterCount);
        V = Tensor.Zeros(store.ParameterCount);
    }

    /// <summary>The parameters it updates and whose gradients it reads.</summary>
    public ParameterStore Store { get; }
    /// <summary>The step size; may be changed between updates.</summary>
    public float LearningRate { get; set; }
    /// <summary>The decay of the first-moment (mean) estimate.</summary>
    public float Beta1 { get; }
    /// <summary>The decay of the second-moment (uncentred variance) estimate.</summary>
    public float Beta2 { get; }
    /// <summary>Added to the denominator sqrt(v_hat) so that a parameter with no gradient history does not divide by zero.</summary>
    public float Eps { get; }
    /// <summary>Updates taken so far, which the bias correction depends on; a resumed run restores it with <see cref="M"/> and <see cref="V"/>.</summary>
    public long Step { get; set; }
    /// <summary>First-moment estimates, laid out like the store's parameters.</summary>
    public Tensor M { get; }
    /// <summary>Second-moment estimates.</summary>
    public Tensor V { get; }

    /// <summary>
    /// One Adam step from the store's gradients as they stand (zero them before back-propagating), then
    /// counts it in <see cref="Step"/>. Element-wise, so the result does not depend on the thread count.
    /// </summary>
    public void Update()
    {
        using var profile = Profiler.Measure(PUpdate);
        Step++;
        double bc1 = 1 - Math.Pow(Beta1, Step), bc2 = 1 - Math.Pow(Beta2, Step);
        var body = new UpdateBody
        {
            P = Store.Values.Data, G = Store.Grads.Data, M = M.Data, V = V.Data, N = Store.ParameterCount,
            B1 = Beta1, B2 = Beta2, Eps = Eps, StepSize = (float)(LearningRate / bc1), Bc2Sqrt = (float)Math.Sqrt(bc2),
        };
        Workers.For((Store.ParameterCount + Chunk - 1) / Chunk, ref body);
    }

    private struct UpdateBody : IParallelBody
    {
        public float* P, G, M, V;
        public int N;
        public float B1, B2, Eps, StepSize, Bc2Sqrt;

        public void Run(int chunk)
        {
            int i = chunk * Chunk, end = Math.Min(N, i + Chunk);
            float c1 = 1 - B1, c2 = 1 - B2;
            if (Vector256.IsHardwareAccelerated)
            {
                var vb1 = Vector256.Create(B1); var vb2 = Vector256.Create(B2); var vc1 = Vector256.Create(c1); var vc2 = Vector256.Create(c2);
                var veps = Vector256.Create(Eps); var vstep = Vector256.Create(StepSize); var vbc = Vector256.Create(Bc2Sqrt);
                for (; i + 8 <= end; i += 8)
                {
                    var g = Vector256.Load(G + i);
                    var m = vb1 * Vector256.Load(M + i) + vc1 * g;
                    var v = vb2 * Vector256.Load(V + i) + vc2 * (g * g);
                    m.Store(M + i);
                    v.Store(V + i);
                    var denom = Vector256.Sqrt(v) / vbc + veps;
                    (Vector256.Load(P + i) - vstep * (m / denom)).Store(P + i);
                }
            }
            for (; i < end; i++)
            {
                float g = G[i];
                float m = B1 * M[i] + c1 * g;
                float v = B2 * V[i] + c2 * (g * g);
                M[i] = m;
                V[i] = v;
                float denom = MathF.Sqrt(v) / Bc2Sqrt + Eps;
                P[i] -= StepSize * (m / denom);
            }
        }
    }
}
