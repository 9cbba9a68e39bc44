using System.Runtime.Intrinsics.X86;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Engine.Gemm;

namespace SpriteDiffusion.Tests.Engine;

public unsafe class SgemmTests
{
    /// <summary>One product with its own padded storage: op(A) m x k, op(B) k x n, C m x n.</summary>
    sealed class Case
    {
        public readonly bool TransA, TransB, Accumulate;
        public readonly int M, N, K, Lda, Ldb, Ldc;
        public readonly float[] A, B, C0;

        public Case(Random rng, bool transA, bool transB, int m, int n, int k, bool accumulate, int pad)
        {
            (TransA, TransB, M, N, K, Accumulate) = (transA, transB, m, n, k, accumulate);
            Lda = (transA ? m : k) + pad + (k == 0 && !transA ? 1 : 0);
            Ldb = (transB ? k : n) + pad + (k == 0 && transB ? 1 : 0);
            Ldc = n + pad;
            A = Random(rng, (transA ? k : m) * Lda);
            B = Random(rng, (transB ? n : k) * Ldb);
            C0 = Random(rng, m * Ldc);
        }

        public float[] Run(GemmKernel? kernel, GemmDriver.PanelSource aSource = default, GemmDriver.PanelSource bSource = default)
        {
            var c = (float[])C0.Clone();
            fixed (float* a = A, b = B, pc = c)
            {
                if (kernel is { } kern)
                    GemmDriver.Multiply(kern, aSource, bSource, TransA, TransB, M, N, K, a, Lda, b, Ldb, pc, Ldc, Accumulate);
                else Sgemm.Multiply(TransA, TransB, M, N, K, a, Lda, b, Ldb, pc, Ldc, Accumulate);
            }
            return c;
        }

        public float[] RunReference()
        {
            var c = (float[])C0.Clone();
            fixed (float* a = A, b = B, pc = c)
                ReferenceProduct.MultiplyReference(TransA, TransB, M, N, K, a, Lda, b, Ldb, pc, Ldc, Accumulate);
            return c;
        }

        /// <summary>What Multiply promises bit for bit: one fused chain over p per element.</summary>
        public float[] FusedChain()
        {
            var c = (float[])C0.Clone();
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++)
                {
                    float sum = Accumulate ? c[i * Ldc + j] : 0f;
                    for (int p = 0; p < K; p++) sum = MathF.FusedMultiplyAdd(OpA(i, p), OpB(p, j), sum);
                    c[i * Ldc + j] = sum;
                }
            return c;
        }

        float OpA(int i, int p) => TransA ? A[p * Lda + i] : A[i * Lda + p];
        float OpB(int p, int j) => TransB ? B[j * Ldb + p] : B[p * Ldb + j];

        /// <summary>
        /// Checks C against the double-precision reference with the forward error bound of a
        /// length-k float32 dot product plus the reference's own rounding, (k + 3) u (|C0| + sum |a||b|),
        /// and that the padding of C is untouched.
        /// </summary>
        public void AssertClose(float[] c)
        {
            const double u = 1.0 / (1 << 24);
            var reference = RunReference();
            for (int i = 0; i < M; i++)
            {
                for (int j = 0; j < N; j++)
                {
                    double magnitude = Accumulate ? Math.Abs(C0[i * Ldc + j]) : 0;
                    for (int p = 0; p < K; p++) magnitude += Math.Abs((double)OpA(i, p) * OpB(p, j));
                    double got = c[i * Ldc + j], expected = reference[i * Ldc + j];
                    double bound = (K + 3) * u * magnitude + 1e-30;
                    if (!(Math.Abs(got - expected) <= bound))
                        Assert.Fail($"{Describe()}: C[{i},{j}] = {got}, expected {expected} within {bound}");
                }
                for (int j = N; j < Ldc; j++)
                    Assert.Equal(C0[i * Ldc + j], c[i * Ldc + j]);
            }
        }

        public string Describe() =>
            $"{(TransA ? 'T' : 'N')}{(TransB ? 'T' : 'N')} m={M} n={N} k={K} lda={Lda} ldb={Ldb} ldc={Ldc} acc={Accumulate}";
    }

    static float[] Random(Random rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    static readonly (bool TransA, bool TransB)[] AllTransposes = [(false, false), (true, false), (false, true), (true, true)];

    [Fact]
    public void OddShapesInAllTransposesMatchDoublePrecision()
    {
        var rng = new Random(11);
        int[] sizes = [1, 2, 3, 5, 7, 13, 17, 31, 37, 61];
        int count = 0;
        foreach (var (ta, tb) in AllTransposes)
            for (int trial = 0; trial < 40; trial++)
            {
                int m = sizes[rng.Next(sizes.Length)], n = sizes[rng.Next(sizes.Length)], k = sizes[rng.Next(sizes.Length)];
                if (trial % 10 == 0) k = 260 + rng.Next(300); // several k-slices
                var c = new Case(rng, ta, tb, m, n, k, accumulate: trial % 2 == 1, pad: rng.Next(3) * 3);
                c.AssertClose(c.Run(null));
                count++;
            }
        Assert.Equal(160, count);
    }

    [Theory]
    [InlineData(false, false, 64, 256, 27, false)]
    [InlineData(false, false, 64, 64, 576, false)]
    [InlineData(false, false, 128, 16, 1152, false)]
    [InlineData(false, false, 128, 80, 1152, true)]
    [InlineData(true, false, 576, 256, 64, false)]
    [InlineData(true, false, 1152, 16, 128, false)]
    [InlineData(false, true, 64, 576, 256, true)]
    [InlineData(false, true, 128, 1152, 16, true)]
    public void ConvolutionShapesMatchDoublePrecision(bool transA, bool transB, int m, int n, int k, bool accumulate)
    {
        var c = new Case(new Random(m * 7 + n * 3 + k), transA, transB, m, n, k, accumulate, pad: 5);
        c.AssertClose(c.Run(null));
    }

    /// <summary>
    /// Every kernel computes each element as the same fused chain, so the comparison is exact,
    /// whether it reads panels packed or in place; this covers the paths the machine would not
    /// pick on its own (AVX-512 runs in software where it is not supported, the scalar fallback).
    /// </summary>
    [Fact]
    public void EveryKernelAndPanelSourceIsBitwiseTheReferenceChain()
    {
        var kernels = new List<GemmKernel> { GemmKernel.Scalar, GemmKernel.Avx512, GemmKernel.Avx512Narrow };
        if (Avx2.IsSupported && Fma.IsSupported) kernels.Add(GemmKernel.Avx2);
        var sources = new[] { GemmDriver.PanelSource.Packed, GemmDriver.PanelSource.InPlace };
        var rng = new Random(5);
        var shapes = new (int M, int N, int K)[] { (1, 1, 1), (7, 33, 5), (13, 16, 300), (20, 70, 19), (9, 5, 8) };
        foreach (var kernel in kernels)
            foreach (var (ta, tb) in AllTransposes)
                foreach (var aSource in sources)
                    foreach (var bSource in sources)
                    {
                        // Also a shape of whole row and column panels only, unpadded.
                        var panelShape = (kernel.MR * 2 + 1, kernel.NR, 11);
                        foreach (var (m, n, k) in shapes.Append(panelShape))
                        {
                            int pad = n == kernel.NR ? 0 : 2;
                            var c = new Case(rng, ta, tb, m, n, k, accumulate: rng.Next(2) == 0, pad);
                            Assert.True(c.FusedChain().AsSpan().SequenceEqual(c.Run(kernel, aSource, bSource)),
                                $"{kernel.Name} A {aSource} B {bSource} {c.Describe()}");
                        }
                    }
    }

    [Fact]
    public void ZeroDepthClearsOrKeepsC()
    {
        var rng = new Random(3);
        foreach (bool accumulate in new[] { false, true })
        {
            var c = new Case(rng, false, false, 5, 9, 0, accumulate, pad: 2);
            var result = c.Run(null);
            for (int i = 0; i < 5; i++)
                for (int j = 0; j < c.Ldc; j++)
                    Assert.Equal(accumulate || j >= 9 ? c.C0[i * c.Ldc + j] : 0f, result[i * c.Ldc + j]);
        }
    }

    [Fact]
    public void RepeatedAndOtherThreadCallsAreBitwiseEqual()
    {
        var rng = new Random(17);
        foreach (var (ta, tb) in AllTransposes)
        {
            var c = new Case(rng, ta, tb, 70, 45, 400, accumulate: true, pad: 1);
            var first = c.Run(null);
            var second = c.Run(null);
            float[]? third = null;
            var thread = new Thread(() => third = c.Run(null));
            thread.Start();
            thread.Join();
            Assert.True(first.AsSpan().SequenceEqual(second), c.Describe());
            Assert.True(first.AsSpan().SequenceEqual(third), c.Describe());
        }
    }

    [Fact]
    public void ConcurrentCallsFromTwoThreadsAreCorrect()
    {
        var cases = new[]
        {
            new Case(new Random(1), false, false, 64, 64, 576, false, pad: 0),
            new Case(new Random(2), true, false, 96, 16, 128, false, pad: 3),
            new Case(new Random(3), false, true, 40, 120, 64, true, pad: 1),
        };
        var expected = cases.Select(c => c.FusedChain()).ToArray();
        var failures = new List<string>();
        var workers = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            for (int round = 0; round < 20; round++)
            {
                int i = (round + t) % cases.Length;
                if (!expected[i].AsSpan().SequenceEqual(cases[i].Run(null)))
                    lock (failures) failures.Add($"thread {t}: {cases[i].Describe()}");
            }
        })).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        Assert.Empty(failures);
    }

    [Fact]
    public void SteadyStateCallsAllocateNothing()
    {
        var c = new Case(new Random(9), false, true, 40, 50, 300, accumulate: true, pad: 1);
        var result = (float[])c.C0.Clone();
        fixed (float* a = c.A, b = c.B, pc = result)
        {
            Sgemm.Multiply(false, true, c.M, c.N, c.K, a, c.Lda, b, c.Ldb, pc, c.Ldc, true);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++)
                Sgemm.Multiply(false, true, c.M, c.N, c.K, a, c.Lda, b, c.Ldb, pc, c.Ldc, true);
            Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        }
    }

    [Fact]
    public void PeakFlopsReportsARate()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double gflops = PeakFlops.Measure(1, TimeSpan.FromMilliseconds(20));
        double wall = clock.Elapsed.TotalSeconds;
        // Not a fixed floor, which a loaded machine that stalls the first burst (its JIT included)
        // falls under: at least one burst of 65536 x 12 FMAs of 8 or more lanes (2 flops each) ran
        // within the time measured around the call, so the reported rate can be no lower than that.
        double oneBurst = 65536.0 * 12 * 8 * 2;
        Assert.True(double.IsFinite(gflops) && gflops >= oneBurst / wall / 1e9, $"{gflops} GFLOP/s, the call took {wall:F3} s");
    }

    [Fact]
    public void ShortLeadingDimensionIsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MultiplySmall(false, false, lda: 3, ldb: 3, ldc: 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => MultiplySmall(false, true, lda: 4, ldb: 3, ldc: 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => MultiplySmall(true, false, lda: 3, ldb: 2, ldc: 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => MultiplySmall(false, false, lda: 4, ldb: 3, ldc: 2));
        MultiplySmall(false, false, lda: 4, ldb: 3, ldc: 3);
    }

    /// <summary>3 x 3 = (3 x 4) * (4 x 3) on storage large enough for any of the strides above.</summary>
    static void MultiplySmall(bool transA, bool transB, int lda, int ldb, int ldc)
    {
        var a = new float[16];
        var b = new float[16];
        var c = new float[16];
        fixed (float* pa = a, pb = b, pc = c)
            Sgemm.Multiply(transA, transB, 3, 3, 4, pa, lda, pb, ldb, pc, ldc, false);
    }
}

/// <summary>The SGEMM contract computed the plain way, in double precision: what the kernels are checked against.</summary>
internal static class ReferenceProduct
{
    /// <summary>
    /// Naive triple loop with the same contract, sums in double precision and rounds
    /// once, so it is closer to the exact product than any float32 summation order.
    /// </summary>
    public static unsafe void MultiplyReference(bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        Sgemm.Validate(transA, transB, m, n, k, lda, ldb, ldc);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = accumulate ? c[(nint)i * ldc + j] : 0.0;
                for (int p = 0; p < k; p++)
                {
                    float x = transA ? a[(nint)p * lda + i] : a[(nint)i * lda + p];
                    float y = transB ? b[(nint)j * ldb + p] : b[(nint)p * ldb + j];
                    sum += (double)x * y;
                }
                c[(nint)i * ldc + j] = (float)sum;
            }
    }

}
