using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Tests.Reference;

namespace SpriteDiffusion.Tests.Diffusion;

public class DdimSamplerTests
{
    public static TheoryData<string, int, int> Pairs()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var name in new[] { "linear", "cosine" })
            foreach (var (t, s) in new[] { (999, 978), (500, 479), (978, 958), (20, 0), (0, -1), (999, -1), (40, -1) })
                data.Add(name, t, s);
        return data;
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Eta_0_step_matches_torch(string name, int t, int s)
    {
        var file = DiffusionFixture.Load("ddim");
        var xt = file.Floats("xt");
        var epsHat = file.Floats("eps_hat");
        var sampler = new DdimSampler(NoiseSchedule.Create(name), eta: 0.0);

        var step = sampler.Coefficients(t, s);
        Assert.Equal(0.0, step.Noise);
        var actual = new float[xt.Length];
        step.Apply(xt, epsHat, actual, rng: null);
        Fixture.AssertClose(file.Floats($"{name}/eta0.0/t{t}_s{s}/x_next"), actual, "x_next", DiffusionFixture.FloatTolerance);
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Eta_half_sigma_and_deterministic_part_match_torch(string name, int t, int s)
    {
        var file = DiffusionFixture.Load("ddim");
        var xt = file.Floats("xt");
        var epsHat = file.Floats("eps_hat");
        var z = file.Floats("z");
        var sampler = new DdimSampler(NoiseSchedule.Create(name), eta: 0.5);
        string key = $"{name}/eta0.5/t{t}_s{s}";

        var step = sampler.Coefficients(t, s);
        double sigma = file.Scalar(key + "/sigma");
        if (s == -1) Assert.Equal(0.0, sigma);
        else DiffusionFixture.AssertClose(sigma, step.Noise, "sigma");
        Assert.Equal(sigma == 0, step.Noise == 0);

        var det = new float[xt.Length];
        step.ApplyMean(xt, epsHat, det);
        Fixture.AssertClose(file.Floats(key + "/det"), det, "deterministic part", DiffusionFixture.FloatTolerance);
        var next = new float[xt.Length];
        for (int i = 0; i < next.Length; i++) next[i] = det[i] + (float)step.Noise * z[i];
        Fixture.AssertClose(file.Floats(key + "/x_next"), next, "x_next", DiffusionFixture.FloatTolerance);
    }

    [Fact]
    public void Step_pairs_each_timestep_with_its_successor()
    {
        var file = DiffusionFixture.Load("ddim");
        var xt = file.Floats("xt");
        var epsHat = file.Floats("eps_hat");
        var sampler = new DdimSampler(NoiseSchedule.Linear(), steps: 50);
        var actual = new float[xt.Length];

        sampler.Step(0, xt, epsHat, actual, new Rng(1));
        Fixture.AssertClose(file.Floats("linear/eta0.0/t999_s978/x_next"), actual, "first step", DiffusionFixture.FloatTolerance);
        sampler.Step(49, xt, epsHat, actual, new Rng(1));
        Fixture.AssertClose(file.Floats("linear/eta0.0/t0_s-1/x_next"), actual, "last step", DiffusionFixture.FloatTolerance);
        sampler.SetTimesteps(1);
        sampler.Step(0, xt, epsHat, actual, new Rng(1));
        Fixture.AssertClose(file.Floats("linear/eta0.0/t999_s-1/x_next"), actual, "single step", DiffusionFixture.FloatTolerance);
    }

    [Fact]
    public void Stochastic_step_adds_sigma_times_the_generators_noise()
    {
        var xt = DiffusionFixture.Gaussian(96, 20);
        var epsHat = DiffusionFixture.Gaussian(96, 21);
        var sampler = new DdimSampler(NoiseSchedule.Linear(), steps: 10, eta: 0.5);
        var actual = new float[96];
        sampler.Step(3, xt, epsHat, actual, new Rng(22));

        var step = sampler.Coefficients(sampler.Timesteps[3], sampler.Timesteps[4]);
        Assert.True(step.Noise > 0);
        var z = new float[96];
        new Rng(22).FillGaussian(z);
        var expected = new float[96];
        step.ApplyMean(xt, epsHat, expected);
        for (int i = 0; i < 96; i++) expected[i] += (float)step.Noise * z[i];
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(50)]
    [InlineData(10)]
    public void Timesteps_match_torch_linspace(int n)
    {
        var file = DiffusionFixture.Load("ddim");
        var sampler = new DdimSampler(NoiseSchedule.Linear(), steps: n);
        Assert.Equal(file.Ints($"timesteps_n{n}"), sampler.Timesteps);
        Assert.Equal(DdimSampler.LinspaceTimesteps(1000, n), sampler.Timesteps);
    }

    [Fact]
    public void Timesteps_are_exact_where_float_linspace_truncates_low()
    {
        var file = DiffusionFixture.Load("ddim");
        var steps = DdimSampler.LinspaceTimesteps(1000, 100);
        Assert.Equal(file.Ints("timesteps_n100_exact"), steps);
        Assert.Equal(988, steps[1]);
        Assert.Equal(666, steps[33]); // 999 * 66 / 99 = 666 exactly; torch's float64 linspace gives 665.99..., so 665
    }

    [Fact]
    public void Timesteps_run_from_T_minus_1_to_0_strictly_decreasing_for_every_count()
    {
        Assert.Equal([999], DdimSampler.LinspaceTimesteps(1000, 1));
        Assert.Equal(Enumerable.Range(0, 1000).Reverse(), DdimSampler.LinspaceTimesteps(1000, 1000));
        for (int n = 2; n <= 1000; n++)
        {
            var steps = DdimSampler.LinspaceTimesteps(1000, n);
            Assert.Equal(n, steps.Length);
            Assert.Equal(999, steps[0]);
            Assert.Equal(0, steps[^1]);
            for (int k = 1; k < n; k++) Assert.True(steps[k] < steps[k - 1], $"n = {n}: steps not strictly decreasing at {k}");
        }
    }

    /// <summary>
    /// DDIM over all T steps at eta = 1 is DDPM's posterior: the same mean exactly, and variance
    /// beta_tilde[t] = (1 - alpha_bar[t-1]) / (1 - alpha_bar[t]) beta[t]. The SPEC's DDPM adds
    /// beta[t] instead (Ho et al.'s "large" variance, which is at least beta_tilde), so only the
    /// means are the same; the variances are checked against beta_tilde and shown to differ from beta.
    /// </summary>
    [Theory]
    [InlineData("linear")]
    [InlineData("cosine")]
    public void Eta_1_over_all_steps_takes_the_DDPM_mean_and_the_posterior_variance(string name)
    {
        var schedule = NoiseSchedule.Create(name);
        var ddpm = new DdpmSampler(schedule);
        var ddim = new DdimSampler(schedule, steps: schedule.T, eta: 1.0);
        Assert.Equal(ddpm.Timesteps, ddim.Timesteps);

        for (int t = 0; t < schedule.T; t++)
        {
            var a = ddpm.Coefficients(t);
            var b = ddim.Coefficients(t, t - 1);
            DiffusionFixture.AssertClose(a.X, b.X, $"x_t weight at t = {t}", 1e-13);
            // The eps_hat weights are differences of nearby numbers at large t; compare on the scale of the x_t weight.
            Assert.True(Math.Abs(a.Eps - b.Eps) <= 1e-12 * a.X, $"eps_hat weight at t = {t}: DDPM {a.Eps:R}, DDIM {b.Eps:R}");
            double betaTilde = (1 - schedule.AlphaBarAt(t - 1)) / (1 - schedule.AlphaBar[t]) * schedule.Beta[t];
            if (t == 0)
            {
                Assert.Equal(0.0, b.Noise);
                Assert.Equal(0.0, a.Noise);
                continue;
            }
            DiffusionFixture.AssertClose(betaTilde, b.Noise * b.Noise, $"DDIM sigma^2 at t = {t}", 1e-12);
            DiffusionFixture.AssertClose(schedule.Beta[t], a.Noise * a.Noise, $"DDPM variance at t = {t}", 1e-13);
            Assert.True(betaTilde < schedule.Beta[t]);
        }

        // The same in float32 on data, through the samplers' own steps.
        var xt = DiffusionFixture.Gaussian(96, 30);
        var epsHat = DiffusionFixture.Gaussian(96, 31);
        var viaDdpm = new float[96];
        var viaDdim = new float[96];
        foreach (int index in new[] { 0, 500, 998, 999 })
        {
            int t = ddpm.Timesteps[index];
            ddpm.Coefficients(t).ApplyMean(xt, epsHat, viaDdpm);
            ddim.Coefficients(t, t - 1).ApplyMean(xt, epsHat, viaDdim);
            Fixture.AssertClose(viaDdpm, viaDdim, $"means at t = {t}", 1e-6);
        }
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(1.5)]
    public void Bad_eta_is_a_user_error(double eta)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DdimSampler(NoiseSchedule.Linear(), eta));
        Assert.Equal("eta", error.ParamName);
        Assert.Contains("DDIM's eta must be between 0 and 1", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(1001)]
    public void Bad_step_count_is_a_user_error(int steps)
    {
        var sampler = new DdimSampler(NoiseSchedule.Linear());
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => sampler.SetTimesteps(steps));
        Assert.Equal("steps", error.ParamName);
        Assert.StartsWith($"DDIM's step count must be between 1 and 1000 (got {steps}).", error.Message);
    }

    [Fact]
    public void Stepping_before_setting_timesteps_is_a_bug()
    {
        var sampler = new DdimSampler(NoiseSchedule.Linear(), eta: 0.0);
        Assert.Empty(sampler.Timesteps);
        var x = DiffusionFixture.Gaussian(4, 1);
        Assert.Throws<InvalidOperationException>(() => sampler.Step(0, x, x, new float[4], new Rng(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Coefficients(5, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Coefficients(1000, 0));
    }
}
