using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace SpriteDiffusion.Engine;

/// <summary>Placeholder product (replaced by the packed, register-tiled kernel).</summary>
public static unsafe class Sgemm
{
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (!accumulate) row.Clear();
            if (!transB)
            {
                for (int p = 0; p < k; p++)
                {
                    float s = transA ? a[(long)p * lda + i] : a[(long)i * lda + p];
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(b + (long)p * ldb, n), s, row, row);
                }
            }
            else
            {
                for (int j = 0; j < n; j++)
                {
                    float s = 0;
                    if (!transA) s = TensorPrimitives.Dot(new ReadOnlySpan<float>(a + (long)i * lda, k), new ReadOnlySpan<float>(b + (long)j * ldb, k));
                    else for (int p = 0; p < k; p++) s += a[(long)p * lda + i] * b[(long)j * ldb + p];
                    row[j] += s;
                }
            }
        }
    }
}
