using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace SpriteDiffusion.Evaluation;

/// <summary>
/// C = A B^T in float64 for row-major A (m x k) and B (n x k): every entry is a dot product of two
/// rows, which is the shape of covariances (rows = feature columns) and KID's kernel matrices
/// (rows = images). Blocked so a slice of B stays in cache while all of A streams past it, and
/// register-tiled 2 x 4 so each loaded vector feeds several FMAs; row by row dot products are
/// memory-bound at a fraction of this speed.
/// </summary>
internal static class DenseProducts
{
    private const int BlockRows = 64;

    public static void MultiplyTransposed(double[] a, int m, double[] b, int n, int k, double[] c, bool symmetric = false)
    {
        if (a.Length < (long)m * k || b.Length < (long)n * k || c.Length < (long)m * n)
            throw new ArgumentException("matrix buffers are smaller than their shapes");
        if (symmetric && (m != n || !ReferenceEquals(a, b)))
            throw new ArgumentException("a symmetric product is A A^T");
        int pairs = (m + 1) / 2;
        int chunks = Math.Min(pairs, Environment.ProcessorCount * 4);
        Parallel.For(0, chunks, chunk =>
        {
            int firstPair = (int)((long)pairs * chunk / chunks), endPair = (int)((long)pairs * (chunk + 1) / chunks);
            for (int j0 = 0; j0 < n; j0 += BlockRows)
            {
                int j1 = Math.Min(n, j0 + BlockRows);
                for (int p = firstPair; p < endPair; p++)
                {
                    int i = 2 * p;
                    int start = symmetric ? Math.Max(j0, i & ~3) : j0;
                    if (start >= j1) continue;
                    if (i + 1 < m) TwoRows(a, b, c, i, start, j1, n, k);
                    else OneRow(a, b, c, i, start, j1, n, k);
                }
            }
        });
        if (symmetric)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < i; j++)
                    c[(long)i * n + j] = c[(long)j * n + i];
    }

    private static void TwoRows(double[] a, double[] b, double[] c, int i, int j0, int j1, int n, int k)
    {
        int j = j0;
        for (; j + 4 <= j1; j += 4)
            Tile2x4(a, b, c, i, j, n, k);
        for (; j < j1; j++)
        {
            c[(long)i * n + j] = Dot(a, i, b, j, k);
            c[(long)(i + 1) * n + j] = Dot(a, i + 1, b, j, k);
        }
    }

    private static void OneRow(double[] a, double[] b, double[] c, int i, int j0, int j1, int n, int k)
    {
        for (int j = j0; j < j1; j++)
            c[(long)i * n + j] = Dot(a, i, b, j, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2x4(double[] a, double[] b, double[] c, int i, int j, int n, int k)
    {
        ref double a0 = ref MemoryMarshal.GetArrayDataReference(a);
        ref double b0 = ref MemoryMarshal.GetArrayDataReference(b);
        nuint ra0 = (nuint)((long)i * k), ra1 = ra0 + (nuint)k;
        nuint rb0 = (nuint)((long)j * k), rb1 = rb0 + (nuint)k, rb2 = rb1 + (nuint)k, rb3 = rb2 + (nuint)k;
        int t = 0;
        double s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        if (Vector256.IsHardwareAccelerated && k >= 4)
        {
            Vector256<double> c00 = default, c01 = default, c02 = default, c03 = default;
            Vector256<double> c10 = default, c11 = default, c12 = default, c13 = default;
            for (; t + 4 <= k; t += 4)
            {
                nuint o = (nuint)t;
                var x0 = Vector256.LoadUnsafe(ref a0, ra0 + o);
                var x1 = Vector256.LoadUnsafe(ref a0, ra1 + o);
                var y = Vector256.LoadUnsafe(ref b0, rb0 + o);
                c00 = Vector256.FusedMultiplyAdd(x0, y, c00);
                c10 = Vector256.FusedMultiplyAdd(x1, y, c10);
                y = Vector256.LoadUnsafe(ref b0, rb1 + o);
                c01 = Vector256.FusedMultiplyAdd(x0, y, c01);
                c11 = Vector256.FusedMultiplyAdd(x1, y, c11);
                y = Vector256.LoadUnsafe(ref b0, rb2 + o);
                c02 = Vector256.FusedMultiplyAdd(x0, y, c02);
                c12 = Vector256.FusedMultiplyAdd(x1, y, c12);
                y = Vector256.LoadUnsafe(ref b0, rb3 + o);
                c03 = Vector256.FusedMultiplyAdd(x0, y, c03);
                c13 = Vector256.FusedMultiplyAdd(x1, y, c13);
            }
            s00 = Vector256.Sum(c00); s01 = Vector256.Sum(c01); s02 = Vector256.Sum(c02); s03 = Vector256.Sum(c03);
            s10 = Vector256.Sum(c10); s11 = Vector256.Sum(c11); s12 = Vector256.Sum(c12); s13 = Vector256.Sum(c13);
        }
        for (; t < k; t++)
        {
            nuint o = (nuint)t;
            double x0 = Unsafe.Add(ref a0, ra0 + o), x1 = Unsafe.Add(ref a0, ra1 + o);
            double y0 = Unsafe.Add(ref b0, rb0 + o), y1 = Unsafe.Add(ref b0, rb1 + o);
            double y2 = Unsafe.Add(ref b0, rb2 + o), y3 = Unsafe.Add(ref b0, rb3 + o);
            s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
            s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        }
        long r0 = (long)i * n + j, r1 = r0 + n;
        c[r0] = s00; c[r0 + 1] = s01; c[r0 + 2] = s02; c[r0 + 3] = s03;
        c[r1] = s10; c[r1 + 1] = s11; c[r1 + 2] = s12; c[r1 + 3] = s13;
    }

    private static double Dot(double[] a, int i, double[] b, int j, int k) =>
        System.Numerics.Tensors.TensorPrimitives.Dot(a.AsSpan(i * k, k), b.AsSpan(j * k, k));
}
