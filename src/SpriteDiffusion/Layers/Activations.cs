using System.Runtime.CompilerServices;
using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Layers;

/// <summary>Exact (erf) GELU and ReLU, forward and backward, over flat buffers in parallel chunks.</summary>
public static unsafe class Activations
{
    internal const int Chunk = 1 << 14;
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float InvSqrt2Pi = 0.39894228040143268f;

    /// <summary>erf with relative error below 1.2e-7 (the Chebyshev-fitted erfc of Numerical Recipes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Erf(float x)
    {
        float z = MathF.Abs(x);
        float t = 1f / (1f + 0.5f * z);
        float poly = -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f +
                     t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
        float erfc = t * MathF.Exp(-z * z + poly);
        return x >= 0 ? 1f - erfc : erfc - 1f;
    }

    public static void GeluForward(Tensor x, Tensor y)
    {
        var body = new GeluBody { X = x.Data, Y = y.Data, N = x.Length };
        Workers.For((x.Length + Chunk - 1) / Chunk, ref body);
    }

    /// <summary>gx = gy * GELU'(x); gx may alias gy.</summary>
    public static void GeluBackward(Tensor x, Tensor gy, Tensor gx)
    {
        var body = new GeluGradBody { X = x.Data, GY = gy.Data, GX = gx.Data, N = x.Length };
        Workers.For((x.Length + Chunk - 1) / Chunk, ref body);
    }

    public static void ReluForward(Tensor x, Tensor y)
    {
        float* px = x.Data, py = y.Data;
        for (int i = 0; i < x.Length; i++) py[i] = px[i] > 0 ? px[i] : 0f;
    }

    /// <summary>Gradient through ReLU from its output y (y > 0 exactly where x > 0); gx may alias gy.</summary>
    public static void ReluBackward(Tensor y, Tensor gy, Tensor gx)
    {
        float* py = y.Data, pg = gy.Data, po = gx.Data;
        for (int i = 0; i < y.Length; i++) po[i] = py[i] > 0 ? pg[i] : 0f;
    }

    private struct GeluBody : IParallelBody
    {
        public float* X, Y;
        public int N;

        public void Run(int chunk)
        {
            int end = Math.Min(N, (chunk + 1) * Chunk);
            for (int i = chunk * Chunk; i < end; i++)
            {
                float v = X[i];
                Y[i] = 0.5f * v * (1f + Erf(v * InvSqrt2));
            }
        }
    }

    private struct GeluGradBody : IParallelBody
    {
        public float* X, GY, GX;
        public int N;

        public void Run(int chunk)
        {
            int end = Math.Min(N, (chunk + 1) * Chunk);
            for (int i = chunk * Chunk; i < end; i++)
            {
                float v = X[i];
                float cdf = 0.5f * (1f + Erf(v * InvSqrt2));
                float pdf = InvSqrt2Pi * MathF.Exp(-0.5f * v * v);
                GX[i] = GY[i] * (cdf + v * pdf);
            }
        }
    }
}
