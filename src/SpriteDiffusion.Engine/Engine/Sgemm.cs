using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SpriteDiffusion.Engine.Gemm;

namespace SpriteDiffusion.Engine;

/// <summary>
/// Single-threaded float32 matrix product, safe to call from several threads at once (each has
/// its own packing buffers). Every element of C is one fused multiply-add chain over p in order,
/// started from C (accumulate) or zero, whatever the kernel or blocking: results are bitwise the
/// same on every thread and every run.
/// </summary>
public static unsafe class Sgemm
{
    // SPRITEDIFFUSION_GEMM=avx2 or =scalar caps the instruction set, to compare kernels on one machine
    // (scalar also turns off the vector paths of the Winograd transforms).
    static readonly string? Cap = Environment.GetEnvironmentVariable("SPRITEDIFFUSION_GEMM")?.Trim().ToLowerInvariant();
    internal static bool ScalarOnly => Cap == "scalar";
    internal static readonly bool HasAvx2 = Avx2.IsSupported && Fma.IsSupported && Cap != "scalar";
    // Also decides the sixteen-lane paths of the activations, so the avx2 cap tests their eight-lane ones.
    internal static readonly bool HasAvx512 = HasAvx2 && Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Cap != "avx2";

    /// <summary>Which micro-kernels this machine uses, for benchmark reports.</summary>
    public static string KernelDescription =>
        HasAvx512 ? $"{GemmKernel.Avx512.Name} ({GemmKernel.Avx512Narrow.Name} for n <= {Kernel16x16.NR})" : ChooseKernel(64).Name;

    /// <summary>
    /// Row-major C[m x n] = op(A)[m x k] * op(B)[k x n] (+ C if accumulate), where
    /// op(A)[i,p] = transA ? a[p*lda + i] : a[i*lda + p], op(B)[p,j] = transB ? b[j*ldb + p] : b[p*ldb + j],
    /// C[i,j] = c[i*ldc + j]. k = 0 gives C = 0 (or C unchanged with accumulate).
    /// </summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        Validate(transA, transB, m, n, k, lda, ldb, ldc);
        GemmDriver.Multiply(ChooseKernel(n), GemmDriver.PanelSource.Auto, GemmDriver.PanelSource.Auto, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    }

    // A 32-wide kernel would waste half its work on 16-column products (4x4 images in training,
    // a batch of one's 8x8 maps in sampling); 16 columns take 16 rows of one zmm each instead of
    // the 256-bit kernel, which has half the peak where the 512-bit pipes are full width (Zen 5).
    internal static GemmKernel ChooseKernel(int n) =>
        HasAvx512 ? (n > Kernel16x16.NR ? GemmKernel.Avx512 : GemmKernel.Avx512Narrow) : HasAvx2 ? GemmKernel.Avx2 : GemmKernel.Scalar;

    internal static void Validate(bool transA, bool transB, int m, int n, int k, int lda, int ldb, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (lda < Math.Max(1, transA ? m : k)) throw new ArgumentOutOfRangeException(nameof(lda), lda, "lda is shorter than a row of A.");
        if (ldb < Math.Max(1, transB ? k : n)) throw new ArgumentOutOfRangeException(nameof(ldb), ldb, "ldb is shorter than a row of B.");
        if (ldc < Math.Max(1, n)) throw new ArgumentOutOfRangeException(nameof(ldc), ldc, "ldc is shorter than a row of C.");
    }
}
