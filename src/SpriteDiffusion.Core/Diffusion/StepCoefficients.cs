using SpriteDiffusion.Engine;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace SpriteDiffusion.Diffusion;

/// <summary>
/// One sampler step written as x_next = X x_t + Eps eps_hat + Noise z, z ~ N(0, I). Both DDPM and
/// DDIM steps are affine in (x_t, eps_hat), so this one form lets them share the arithmetic, and
/// lets tests compare the two samplers' steps in float64 without running a model.
/// </summary>
/// <param name="X">The weight of x_t.</param>
/// <param name="Eps">The weight of the predicted noise eps_hat.</param>
/// <param name="Noise">The standard deviation of the fresh noise; 0 for a deterministic step.</param>
public readonly record struct StepCoefficients(double X, double Eps, double Noise)
{
    /// <summary>x_next = X x_t + Eps eps_hat (the step without its noise).</summary>
    public void ApplyMean(ReadOnlySpan<float> xt, ReadOnlySpan<float> epsHat, Span<float> xNext)
    {
        CheckSpans(xt, epsHat, xNext);
        TensorPrimitives.Multiply(xt, (float)X, xNext);
        TensorPrimitives.MultiplyAdd(epsHat, (float)Eps, xNext, xNext);
    }

    /// <summary>
    /// The whole step. The noise is drawn element by element in order (the same numbers as
    /// <see cref="Rng.FillGaussian"/> would give), and only when Noise is non-zero, so a
    /// deterministic step leaves <paramref name="rng"/> untouched.
    /// </summary>
    public void Apply(ReadOnlySpan<float> xt, ReadOnlySpan<float> epsHat, Span<float> xNext, Rng? rng)
    {
        ApplyMean(xt, epsHat, xNext);
        if (Noise == 0) return;
        ArgumentNullException.ThrowIfNull(rng);
        var scale = (float)Noise;
        for (int i = 0; i < xNext.Length; i++)
            xNext[i] += scale * (float)rng.NextGaussian();
    }

    private static void CheckSpans(ReadOnlySpan<float> xt, ReadOnlySpan<float> epsHat, Span<float> xNext)
    {
        if (xt.Length != xNext.Length || epsHat.Length != xNext.Length)
            throw new ArgumentException($"x_t ({xt.Length}), eps_hat ({epsHat.Length}) and x_next ({xNext.Length}) must have the same length.");
        // x_next is written before eps_hat is read, and x_t is read in step with the write: only
        // x_next == x_t (in-place sampling) is safe.
        if (xNext.Overlaps(epsHat))
            throw new ArgumentException("x_next must not overlap eps_hat.", nameof(xNext));
        if (xNext.Overlaps(xt, out int offset) && offset != 0)
            throw new ArgumentException("x_next may be x_t itself but must not partly overlap it.", nameof(xNext));
    }
}
