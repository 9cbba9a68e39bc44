using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.IO;
using Xunit.Abstractions;

namespace SpriteDiffusion.Tests.Diffusion;

/// <summary>
/// The v target and the conversions of a v model's output, against prediction.safetensors
/// (tools/reference/diffusion_fixtures.py, float64 torch).
/// </summary>
public class PredictionTests(ITestOutputHelper output)
{
    /// <summary>What the float32 results must reach: max |ours - ref| / max |ref|.</summary>
    private const double Tolerance = 1e-6;

    /// <summary>
    /// A step out of t = 999 on the cosine schedule, where alpha_bar is 2.4e-9: the samplers take
    /// eps, and there eps = a v + s x_t is x_t to within a = 4.9e-5 times v, so its float32
    /// rounding holds x0 to only about 1e-3, and the step's X x_t + Eps eps_hat cancels terms 667
    /// times its result. The conversion itself is exact (the test above); this is the samplers'
    /// float32 eps form, which an eps model meets in the same way (dpm_solver.safetensors scales its
    /// inputs to stay clear of it). Measured: DDIM 7.0e-5, DPM-Solver++ 5.1e-4 of the largest value.
    /// </summary>
    private const double CosineFirstStepTolerance = 1e-3;

    private static readonly SafetensorsFile File = DiffusionFixture.Load("prediction");

    /// <summary>max |ours - ref| / max |ref| over float64 references; asserts it is within tolerance and reports it.</summary>
    private double AssertNear(string name, ReadOnlySpan<float> actual, double tolerance = Tolerance)
    {
        var expected = File.Doubles(name);
        Assert.Equal(expected.Length, actual.Length);
        double maxRef = 0, maxDiff = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            maxRef = Math.Max(maxRef, Math.Abs(expected[i]));
            double d = Math.Abs(expected[i] - actual[i]);
            maxDiff = Math.Max(maxDiff, double.IsNaN(d) ? double.PositiveInfinity : d);
        }
        Assert.True(maxRef > 0, $"{name}: the reference is all zeros");
        double relative = maxDiff / maxRef;
        output.WriteLine($"{name}: {relative:E2}");
        Assert.True(relative <= tolerance, $"{name}: max |diff| / max |ref| = {relative:E2} > {tolerance:E0}");
        return relative;
    }

    [Theory]
    [InlineData("linear")]
    [InlineData("cosine")]
    public void TheVelocityTargetMatchesTorch(string schedule)
    {
        var x0 = File.Floats("x0");
        var eps = File.Floats("eps");
        var v = new float[x0.Length];
        NoiseSchedule.Create(schedule).Velocity(x0, eps, File.Ints("t"), x0.Length / 4, v);
        AssertNear($"{schedule}/v", v);
    }

    public static TheoryData<string, int> Timesteps()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in new[] { "linear", "cosine" })
            foreach (int t in new[] { 999, 500, 20, 0 })
                data.Add(name, t);
        return data;
    }

    [Theory]
    [MemberData(nameof(Timesteps))]
    public void AVelocityBecomesTheCleanImageAndNoiseItImplies(string schedule, int t)
    {
        double alphaBar = NoiseSchedule.Create(schedule).AlphaBar[t];
        var xt = File.Floats("xt");
        var v = File.Floats("v_hat");
        var x0 = new float[xt.Length];
        Prediction.ToCleanImage(PredictionTarget.Velocity, xt, v, alphaBar, x0);
        AssertNear($"{schedule}/t{t}/x0", x0);

        var eps = v.ToArray();
        Prediction.ToNoise(PredictionTarget.Velocity, xt, eps, alphaBar, clipCleanImage: false);
        AssertNear($"{schedule}/t{t}/eps", eps);

        var clipped = v.ToArray();
        Prediction.ToNoise(PredictionTarget.Velocity, xt, clipped, alphaBar, clipCleanImage: true);
        AssertNear($"{schedule}/t{t}/eps_clipped", clipped);
        // The fixture's x_t and v are N(0, 1), so some implied pixels leave [-1, 1] at every t.
        Assert.NotEqual(eps, clipped);
    }

    public static TheoryData<string, int, int> DdimPairs()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var name in new[] { "linear", "cosine" })
            foreach (var (t, s) in new[] { (999, 978), (500, 479), (20, 0), (0, -1) })
                data.Add(name, t, s);
        return data;
    }

    [Theory]
    [MemberData(nameof(DdimPairs))]
    public void ADdimStepFromAVelocityMatchesTorch(string schedule, int t, int s)
    {
        var sampler = new DdimSampler(NoiseSchedule.Create(schedule));
        var xt = File.Floats("xt");
        var eps = File.Floats("v_hat");
        Prediction.ToNoise(PredictionTarget.Velocity, xt, eps, sampler.Schedule.AlphaBar[t], clipCleanImage: false);
        var next = new float[xt.Length];
        sampler.Coefficients(t, s).Apply(xt, eps, next, rng: null);
        AssertNear($"{schedule}/ddim/t{t}_s{s}/x_next", next, schedule == "cosine" && t == 999 ? CosineFirstStepTolerance : Tolerance);
    }

    /// <summary>Five steps over t = 999, 749, 499, 249, 0: first order, two second-order steps, first order into 0 and to x0.</summary>
    [Theory]
    [InlineData("linear")]
    [InlineData("cosine")]
    public void ADpmSolverRunFromVelocitiesMatchesTorch(string schedule)
    {
        var sampler = new DpmSolverSampler(NoiseSchedule.Create(schedule), 5);
        Assert.Equal(File.Ints("timesteps_n5"), sampler.Timesteps);
        var x = File.Floats("x_T");
        for (int k = 0; k < 5; k++)
        {
            var eps = File.Floats($"v_hat{k}");
            Prediction.ToNoise(PredictionTarget.Velocity, x, eps, sampler.Schedule.AlphaBar[sampler.Timesteps[k]], clipCleanImage: false);
            sampler.Step(k, x, eps, x, new Rng(0));
            AssertNear($"{schedule}/dpm_n5/x{k + 1}", x, schedule == "cosine" ? CosineFirstStepTolerance : Tolerance);
        }
    }

    [Fact]
    public void AnEpsModelWithoutClippingIsLeftAsItIsAndNamesRoundTrip()
    {
        var xt = File.Floats("xt");
        var eps = File.Floats("v_hat");
        var copy = eps.ToArray();
        Prediction.ToNoise(PredictionTarget.Noise, xt, copy, 0.5, clipCleanImage: false);
        Assert.Equal(eps, copy);
        Prediction.ToNoise(PredictionTarget.Noise, xt, copy, 0.5, clipCleanImage: true);
        Assert.NotEqual(eps, copy);

        Assert.Equal(PredictionTarget.Noise, Prediction.Default);
        foreach (var target in new[] { PredictionTarget.Noise, PredictionTarget.Velocity })
            Assert.Equal(target, Prediction.Parse(Prediction.Name(target)));
        Assert.Equal(["eps", "v"], Prediction.Names);
        Assert.Contains("'x0'", Assert.Throws<InvalidDataException>(() => Prediction.Parse("x0", "f.safetensors")).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Prediction.ToNoise(PredictionTarget.Velocity, xt, copy, 1.0, false));
    }
}
