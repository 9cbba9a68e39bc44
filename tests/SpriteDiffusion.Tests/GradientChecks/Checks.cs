using SpriteDiffusion.Engine;
using SpriteDiffusion.Model;

namespace SpriteDiffusion.Tests.GradientChecks;

/// <summary>
/// Random inputs, the finite-difference check of a float64 reference, and the comparison of the
/// float32 engine against that reference.
/// </summary>
internal static class Checks
{
    public const double FdStep = 1e-6;
    public const double FdTolerance = 1e-6;
    public const double EngineTolerance = 1e-5;
    public const int FdSample = 50;

    /// <summary>
    /// A gradient whose every element is below this is compared absolutely (tolerance times this
    /// floor) rather than relatively: only degenerate draws (a ReLU input with no positive element)
    /// get there, and dividing by their exact zero would turn rounding noise into failure.
    /// </summary>
    private const double ScaleFloor = 1e-3;

    public static int Draw(Rng rng, int low, int high) => low + rng.NextInt(high - low + 1);

    /// <summary>Values are rounded to float32 so the engine and the reference see the same inputs.</summary>
    public static double[] Normal(Rng rng, int n, double std = 1, double mean = 0)
    {
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (float)(mean + std * rng.NextGaussian());
        return v;
    }

    public static double[] Uniform(Rng rng, int n, double low, double high)
    {
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (float)(low + (high - low) * rng.NextDouble());
        return v;
    }

    /// <summary>Normal values at least margin away from zero, where ReLU has its kink.</summary>
    public static double[] AwayFromZero(Rng rng, int n, double margin)
    {
        var v = Normal(rng, n);
        for (int i = 0; i < n; i++) v[i] = (float)(v[i] + (v[i] >= 0 ? margin : -margin));
        return v;
    }

    public static Tensor ToTensor(double[] values, params int[] shape)
    {
        var t = Tensor.Zeros(shape);
        Load(t, values);
        return t;
    }

    public static void Load(Tensor t, double[] values)
    {
        if (values.Length != t.Length) throw new ArgumentException($"{values.Length} values for {t}");
        var span = t.Span;
        for (int i = 0; i < values.Length; i++) span[i] = (float)values[i];
    }

    /// <summary>NaN everywhere, so an output element the engine forgets to write fails the comparison.</summary>
    public static Tensor Poisoned(params int[] shape)
    {
        var t = Tensor.Zeros(shape);
        t.Span.Fill(float.NaN);
        return t;
    }

    public static double[] ToDoubles(ReadOnlySpan<float> values)
    {
        var v = new double[values.Length];
        for (int i = 0; i < v.Length; i++) v[i] = values[i];
        return v;
    }

    public static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>
    /// Central differences of L = sum(y * gy) against the analytic gradients, on every element of
    /// small tensors and FdSample random elements of larger ones. L(+h) - L(-h) is summed as
    /// sum(gy * (y+ - y-)) so that the large terms of L do not cancel in the subtraction, and the
    /// step actually taken (after rounding v +- h) is the divisor. scales may raise a tensor's
    /// denominator above its own largest gradient (for gradients that are zero in exact arithmetic).
    /// Returns the worst relative error.
    /// </summary>
    public static double FiniteDifference(string what, (string Name, double[] Values)[] inputs, Func<double[]> forward,
        double[] gy, double[][] analytic, Rng rng, IReadOnlyDictionary<string, double>? scales = null)
    {
        double worst = 0;
        for (int t = 0; t < inputs.Length; t++)
        {
            var (name, values) = inputs[t];
            Assert.Equal(values.Length, analytic[t].Length);
            double maxFd = 0, maxAnalytic = 0, maxDiff = 0;
            foreach (int i in SampleIndices(rng, values.Length))
            {
                double v = values[i];
                double plus = v + FdStep, minus = v - FdStep;
                values[i] = plus;
                var yPlus = forward();
                values[i] = minus;
                var yMinus = forward();
                values[i] = v;
                double diff = 0;
                for (int j = 0; j < gy.Length; j++) diff += gy[j] * (yPlus[j] - yMinus[j]);
                double fd = diff / (plus - minus);
                maxFd = Math.Max(maxFd, Math.Abs(fd));
                maxAnalytic = Math.Max(maxAnalytic, Math.Abs(analytic[t][i]));
                maxDiff = Math.Max(maxDiff, Math.Abs(fd - analytic[t][i]));
            }
            double scale = Math.Max(Math.Max(maxAnalytic, ScaleFloor), scales?.GetValueOrDefault(name) ?? 0);
            double error = maxDiff / scale;
            worst = Math.Max(worst, error);
            Assert.True(error <= FdTolerance,
                $"{what}: finite differences of d/d{name} disagree with the float64 backward: max |fd - analytic| = {maxDiff:E3}, " +
                $"max |analytic| = {maxAnalytic:E3}, max |fd| = {maxFd:E3}, relative {error:E3} > {FdTolerance:E0}");
        }
        return worst;
    }

    private static IEnumerable<int> SampleIndices(Rng rng, int length)
    {
        if (length <= FdSample) return Enumerable.Range(0, length);
        var all = Enumerable.Range(0, length).ToArray();
        for (int i = 0; i < FdSample; i++)
        {
            int j = i + rng.NextInt(length - i);
            (all[i], all[j]) = (all[j], all[i]);
        }
        return all.Take(FdSample);
    }

    /// <summary>max |actual - expected| / max |expected| within tolerance; a NaN or infinity anywhere fails.</summary>
    public static double AssertClose(string what, ReadOnlySpan<float> actual, double[] expected, double tolerance = EngineTolerance, double scale = 0) =>
        AssertAdded(what, actual, default, expected, tolerance, scale);

    /// <summary>As AssertClose, for a result that was to be added onto before (the values held before the call).</summary>
    public static double AssertAdded(string what, ReadOnlySpan<float> actual, ReadOnlySpan<float> before, double[] expected,
        double tolerance = EngineTolerance, double scale = 0)
    {
        Assert.True(actual.Length == expected.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double a = before.IsEmpty ? actual[i] : (double)actual[i] - before[i];
            Assert.True(double.IsFinite(a), $"{what}: element {i} is {actual[i]} (unwritten or overflowed); expected {expected[i]}");
            maxDiff = Math.Max(maxDiff, Math.Abs(a - expected[i]));
            maxRef = Math.Max(maxRef, Math.Abs(expected[i]));
        }
        double error = maxDiff / Math.Max(Math.Max(maxRef, ScaleFloor), scale);
        Assert.True(error <= tolerance,
            $"{what}: float32 engine vs float64 reference: max |diff| = {maxDiff:E3}, max |ref| = {maxRef:E3}, relative {error:E3} > {tolerance:E0}");
        return error;
    }

    /// <summary>Random gradients already in place, so a backward that overwrites instead of adding fails.</summary>
    public static float[][] PrefillGrads(ParameterStore store, Rng rng)
    {
        var before = new List<float[]>();
        foreach (var e in store.Entries.Where(e => e.Kind == StateKind.Parameter))
        {
            Load(e.Grad!, Normal(rng, e.Length, 0.5));
            before.Add(e.Grad!.ToArray());
        }
        return [.. before];
    }

    public static float[] ToFloats(double[] v) => v.Select(d => (float)d).ToArray();
}
