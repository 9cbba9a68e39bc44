using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Tests.Diffusion;

public class SamplingTests
{
    private const int Batch = 2;
    private const int PerImage = 3 * 4 * 4;

    /// <summary>A predictor that knows the clean images, so an exact sampler must end on them.</summary>
    private static NoisePredictor Oracle(NoiseSchedule schedule, float[] x0) => (xt, t, epsHat) =>
    {
        double ab = schedule.AlphaBar[t];
        for (int i = 0; i < xt.Length; i++)
            epsHat[i] = (float)((xt[i] - Math.Sqrt(ab) * x0[i]) / Math.Sqrt(1 - ab));
    };

    /// <summary>A non-trivial, deterministic stand-in for a network.</summary>
    private static void Wobbly(ReadOnlySpan<float> xt, int t, Span<float> epsHat)
    {
        for (int i = 0; i < xt.Length; i++) epsHat[i] = MathF.Tanh(0.7f * xt[i] + 0.001f * t + 0.01f * (i % 7));
    }

    private static float[] StartNoise(ulong seed) => DiffusionFixture.Gaussian(Batch * PerImage, seed);

    [Theory]
    [InlineData("linear", 50)]
    [InlineData("linear", 1)]
    [InlineData("cosine", 20)]
    public void Ddim_with_a_perfect_predictor_recovers_the_clean_images(string schedule, int steps)
    {
        var s = NoiseSchedule.Create(schedule);
        var x0 = DiffusionFixture.Gaussian(Batch * PerImage, 40);
        var x = new float[x0.Length];
        s.AddNoise(x0, StartNoise(41), [s.T - 1, s.T - 1], PerImage, x);
        Sampling.Run(new DdimSampler(s, steps), Oracle(s, x0), x, new Rng(1));
        Reference.Fixture.AssertClose(x0, x, "x_0", 1e-4);
    }

    [Fact]
    public void Ddpm_with_a_perfect_predictor_recovers_the_clean_images()
    {
        var s = NoiseSchedule.Linear();
        var x0 = DiffusionFixture.Gaussian(Batch * PerImage, 42);
        var x = new float[x0.Length];
        s.AddNoise(x0, StartNoise(43), [s.T - 1, s.T - 1], PerImage, x);
        Sampling.Run(new DdpmSampler(s), Oracle(s, x0), x, new Rng(2));
        Reference.Fixture.AssertClose(x0, x, "x_0", 1e-4);
    }

    [Fact]
    public void Ddim_at_eta_0_is_deterministic_whatever_the_generator()
    {
        var sampler = new DdimSampler(NoiseSchedule.Linear(), steps: 25);
        var first = StartNoise(50);
        var second = StartNoise(50);
        var rng = new Rng(1);
        var state = rng.GetState();
        Sampling.Run(sampler, Wobbly, first, rng);
        Sampling.Run(sampler, Wobbly, second, new Rng(12345));
        Assert.Equal(state, rng.GetState());
        Assert.Equal(first, second);
        Assert.NotEqual(StartNoise(50), first);
    }

    [Fact]
    public void Stochastic_samplers_depend_on_the_generator()
    {
        var sampler = new DdimSampler(NoiseSchedule.Linear(), steps: 10, eta: 1.0);
        var first = StartNoise(51);
        var second = StartNoise(51);
        var again = StartNoise(51);
        Sampling.Run(sampler, Wobbly, first, new Rng(1));
        Sampling.Run(sampler, Wobbly, second, new Rng(2));
        Sampling.Run(sampler, Wobbly, again, new Rng(1));
        Assert.NotEqual(first, second);
        Assert.Equal(first, again);
    }

    [Fact]
    public void Run_calls_the_predictor_once_per_step_with_the_whole_batch_and_reports_progress()
    {
        var sampler = new DdimSampler(NoiseSchedule.Linear(), steps: 10, eta: 0.3);
        var x = StartNoise(52);
        var seen = new List<int>();
        var progress = new List<(int, int)>();
        var observed = new List<int>();
        var frames = new List<float[]>();
        Sampling.Run(sampler, (xt, t, eps) =>
            {
                Assert.Equal(Batch * PerImage, xt.Length);
                Assert.Equal(xt.Length, eps.Length);
                seen.Add(t);
                Wobbly(xt, t, eps);
            },
            x, new Rng(3),
            progress: (done, total) => progress.Add((done, total)),
            onStep: (index, current) => { observed.Add(index); frames.Add(current.ToArray()); });

        Assert.Equal(sampler.Timesteps, seen);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (i, 10)), progress);
        Assert.Equal(Enumerable.Range(0, 10), observed);
        Assert.Equal(x, frames[^1]);

        // The same as stepping by hand.
        var manual = StartNoise(52);
        var eps = new float[manual.Length];
        var rng = new Rng(3);
        for (int i = 0; i < 10; i++)
        {
            Wobbly(manual, sampler.Timesteps[i], eps);
            sampler.Step(i, manual, eps, manual, rng);
            Assert.Equal(manual, frames[i]);
        }
    }

    [Fact]
    public void Run_without_timesteps_is_a_bug()
    {
        var x = StartNoise(53);
        Assert.Throws<InvalidOperationException>(() => Sampling.Run(new DdimSampler(NoiseSchedule.Linear()), Wobbly, x, new Rng(1)));
    }

    [Fact]
    public void Samplers_are_created_by_name()
    {
        var schedule = NoiseSchedule.Linear();
        var ddpm = Samplers.Create("DDPM", schedule);
        Assert.IsType<DdpmSampler>(ddpm);
        Assert.Equal(1000, ddpm.Timesteps.Count);
        var ddim = Assert.IsType<DdimSampler>(Samplers.Create("ddim", schedule, steps: 50, eta: 0.5));
        Assert.Equal(0.5, ddim.Eta);
        Assert.Equal(50, ddim.Timesteps.Count);

        Assert.Contains("ddpm, ddim", Assert.Throws<ArgumentException>(() => Samplers.Create("euler", schedule, 10)).Message);
        Assert.Equal("steps", Assert.Throws<ArgumentNullException>(() => Samplers.Create("ddim", schedule)).ParamName);
        Assert.Equal("eta", Assert.Throws<ArgumentOutOfRangeException>(() => Samplers.Create("ddpm", schedule, eta: 0.5)).ParamName);
        Assert.Contains("its step count is 1000", Assert.Throws<ArgumentOutOfRangeException>(() => Samplers.Create("ddpm", schedule, 50)).Message);
    }
}
