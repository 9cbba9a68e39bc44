using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using SpriteDiffusion.Tests.Reference;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Generation;

namespace SpriteDiffusion.Tests.Diffusion;

public class DpmSolverSamplerTests
{
    private const int Length = 96;

    [Theory]
    [InlineData("linear", 5)]
    [InlineData("cosine", 5)]
    [InlineData("linear", 1)]
    [InlineData("cosine", 1)]
    public void Every_step_of_a_run_matches_torch(string name, int steps)
    {
        var file = DiffusionFixture.Load("dpm_solver");
        var sampler = new DpmSolverSampler(NoiseSchedule.Create(name), steps);
        Assert.Equal(file.Ints($"timesteps_n{steps}"), sampler.Timesteps);

        var x = file.Floats($"{name}/x_T");
        for (int i = 0; i < steps; i++)
        {
            sampler.Step(i, x, file.Floats(i == 0 ? $"{name}/eps_hat0" : $"eps_hat{i}"), x, new Rng(1));
            Fixture.AssertClose(file.Floats($"{name}/n{steps}/x{i + 1}"), x, $"x after step {i + 1} of {steps}", DiffusionFixture.FloatTolerance);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(20)]
    public void Only_the_first_step_the_step_into_t_0_and_the_last_are_first_order(int steps)
    {
        var schedule = NoiseSchedule.Linear();
        var sampler = new DpmSolverSampler(schedule, steps);
        for (int i = 0; i < steps; i++)
        {
            var c = sampler.Coefficients(i);
            int t = sampler.Timesteps[i], s = i + 1 < steps ? sampler.Timesteps[i + 1] : -1;
            DiffusionFixture.AssertClose(1 / Math.Sqrt(schedule.AlphaBar[t]), c.XToX0, $"x_t weight of x0_hat at step {i}", 1e-14);
            // D is a weighted mean of the x0 predictions, so its weights always add up to alpha_s (1 - exp(-h)).
            double sigmaT = Math.Sqrt(1 - schedule.AlphaBar[t]), sigmaS = Math.Sqrt(1 - schedule.AlphaBarAt(s));
            double alphaS = Math.Sqrt(schedule.AlphaBarAt(s));
            double expected = s < 0 ? 1 : alphaS - Math.Sqrt(schedule.AlphaBar[t]) * sigmaS / sigmaT;
            DiffusionFixture.AssertClose(expected, c.X0 + c.PreviousX0, $"D weights at step {i}", 1e-12);
            bool firstOrder = i == 0 || s <= 0;
            Assert.Equal(firstOrder, c.PreviousX0 == 0);
            if (!firstOrder) Assert.True(c.PreviousX0 < 0, $"step {i}: x0_prev weight {c.PreviousX0}");
        }
    }

    [Theory]
    [InlineData("linear", 1)]
    [InlineData("linear", 2)]
    [InlineData("linear", 20)]
    [InlineData("cosine", 10)]
    public void With_a_perfect_predictor_it_recovers_the_clean_images(string name, int steps)
    {
        // x0_hat is then the same at every step, so the first- and second-order updates are both exact.
        var schedule = NoiseSchedule.Create(name);
        var x0 = DiffusionFixture.Gaussian(Length, 60);
        var x = new float[Length];
        schedule.AddNoise(x0, DiffusionFixture.Gaussian(Length, 61), [schedule.T - 1], Length, x);
        Sampling.Run(new DpmSolverSampler(schedule, steps), (xt, t, eps) =>
        {
            double ab = schedule.AlphaBar[t];
            for (int i = 0; i < xt.Length; i++) eps[i] = (float)((xt[i] - Math.Sqrt(ab) * x0[i]) / Math.Sqrt(1 - ab));
        }, x, new Rng(1));
        Fixture.AssertClose(x0, x, "x_0", 1e-4);
    }

    /// <summary>
    /// Data N(mu, s^2) in every coordinate, where both the noise predictor and the ODE's solution
    /// are known exactly. x_t = alpha_t x_0 + sigma_t eps is N(alpha_t mu, v_t^2) with
    /// v_t^2 = alpha_t^2 s^2 + sigma_t^2, so the score is -(x - alpha_t mu) / v_t^2 and the exact
    /// eps_hat = -sigma_t score = sigma_t (x - alpha_t mu) / v_t^2. The probability-flow ODE is then
    /// linear in x and carries N(alpha_t mu, v_t^2) into N(alpha_s mu, v_s^2) for every s, so it keeps
    /// z = (x_t - alpha_t mu) / v_t fixed: x_t = alpha_t mu + v_t z all the way to x_0 = mu + s z.
    /// </summary>
    private sealed class GaussianData(NoiseSchedule schedule, double mu, double s)
    {
        private readonly float[] _z = DiffusionFixture.Gaussian(64, 70);

        public NoiseSchedule Schedule => schedule;

        /// <summary>x_t on the ODE's paths through the fixed z; t = -1 is x_0.</summary>
        public float[] State(int t)
        {
            var (alpha, v) = AlphaAndSpread(t);
            return Array.ConvertAll(_z, z => (float)(alpha * mu + v * z));
        }

        public void Predict(ReadOnlySpan<float> xt, int t, Span<float> epsHat)
        {
            var (alpha, v) = AlphaAndSpread(t);
            double sigma = Math.Sqrt(1 - schedule.AlphaBar[t]);
            for (int i = 0; i < xt.Length; i++) epsHat[i] = (float)(sigma * (xt[i] - alpha * mu) / (v * v));
        }

        /// <summary>The largest distance from the exact x at Timesteps[steps] (x_0 after the last) after that many steps.</summary>
        public double Error(ISampler sampler, int steps)
        {
            var x = State(sampler.Timesteps[0]);
            var eps = new float[x.Length];
            for (int i = 0; i < steps; i++)
            {
                Predict(x, sampler.Timesteps[i], eps);
                sampler.Step(i, x, eps, x, new Rng(1));
            }
            var exact = State(steps < sampler.Timesteps.Count ? sampler.Timesteps[steps] : -1);
            double worst = 0;
            for (int i = 0; i < x.Length; i++) worst = Math.Max(worst, Math.Abs(x[i] - (double)exact[i]));
            return worst;
        }

        private (double Alpha, double Spread) AlphaAndSpread(int t)
        {
            double ab = schedule.AlphaBarAt(t);
            return (Math.Sqrt(ab), Math.Sqrt(ab * s * s + 1 - ab));
        }
    }

    private static GaussianData Data(string schedule) => new(NoiseSchedule.Create(schedule), mu: 0.5, s: 1.0);

    [Theory]
    [InlineData("linear")]
    [InlineData("cosine")]
    public void On_gaussian_data_it_ends_far_closer_to_the_ODE_solution_than_DDIM(string schedule)
    {
        var data = Data(schedule);
        foreach (int steps in new[] { 10, 20, 40 })
        {
            double ddim = data.Error(new DdimSampler(data.Schedule, steps), steps);
            double dpm = data.Error(new DpmSolverSampler(data.Schedule, steps), steps);
            Assert.True(dpm < ddim / 2, $"{steps} steps: DPM-Solver++ error {dpm:E2}, DDIM {ddim:E2}");
        }
    }

    /// <summary>
    /// The order shows in the middle of a run, at t = 444, which 10, 19 and 37 steps all reach
    /// (after 5, 10 and 20 steps) because each grid halves the one before it. Halving the step
    /// should divide a second-order solver's error by about 4 and DDIM's by 2. The end of a run
    /// hides this: the step into t = 0 is first order and spans a lambda interval that shrinks far
    /// more slowly than the others.
    /// </summary>
    [Theory]
    [InlineData("linear")]
    [InlineData("cosine")]
    public void On_gaussian_data_its_error_falls_with_the_square_of_the_step(string schedule)
    {
        var data = Data(schedule);
        int[] counts = [10, 19, 37];
        double[] dpm = new double[counts.Length], ddim = new double[counts.Length];
        for (int k = 0; k < counts.Length; k++)
        {
            var solver = new DpmSolverSampler(data.Schedule, counts[k]);
            int reached = solver.Timesteps.ToList().IndexOf(444);
            Assert.Equal(5 << k, reached);
            dpm[k] = data.Error(solver, reached);
            ddim[k] = data.Error(new DdimSampler(data.Schedule, counts[k]), reached);
        }
        string table = $"DPM-Solver++ {string.Join(", ", dpm.Select(e => e.ToString("E2")))}; DDIM {string.Join(", ", ddim.Select(e => e.ToString("E2")))}";
        for (int k = 0; k + 1 < counts.Length; k++)
        {
            Assert.True(dpm[k] / dpm[k + 1] > 3, $"DPM-Solver++ from {counts[k]} to {counts[k + 1]} steps: {table}");
            Assert.InRange(ddim[k] / ddim[k + 1], 1.8, 2.2);
            Assert.True(dpm[k] < ddim[k], table);
        }
    }

    private static void Wobbly(ReadOnlySpan<float> xt, int t, Span<float> epsHat)
    {
        for (int i = 0; i < xt.Length; i++) epsHat[i] = MathF.Tanh(0.7f * xt[i] + 0.001f * t + 0.01f * (i % 7));
    }

    [Fact]
    public void It_is_deterministic_and_never_draws_from_the_generator()
    {
        var first = DiffusionFixture.Gaussian(Length, 80);
        var second = DiffusionFixture.Gaussian(Length, 80);
        var rng = new Rng(1);
        var state = rng.GetState();
        Sampling.Run(new DpmSolverSampler(NoiseSchedule.Linear(), 12), Wobbly, first, rng);
        Sampling.Run(new DpmSolverSampler(NoiseSchedule.Linear(), 12), Wobbly, second, new Rng(999));
        Assert.Equal(state, rng.GetState());
        Assert.Equal(first, second);
        Assert.NotEqual(DiffusionFixture.Gaussian(Length, 80), first);
    }

    [Fact]
    public void Each_run_starts_afresh_whether_or_not_the_last_one_finished()
    {
        var sampler = new DpmSolverSampler(NoiseSchedule.Cosine(), 8);
        var fresh = DiffusionFixture.Gaussian(Length, 81);
        Sampling.Run(new DpmSolverSampler(NoiseSchedule.Cosine(), 8), Wobbly, fresh, new Rng(1));

        var again = DiffusionFixture.Gaussian(Length, 81);
        Sampling.Run(sampler, Wobbly, DiffusionFixture.Gaussian(Length, 82), new Rng(1));
        Sampling.Run(sampler, Wobbly, again, new Rng(1));
        Assert.Equal(fresh, again);

        // Abandoned after three steps with a different batch size, then reset.
        var partial = DiffusionFixture.Gaussian(2 * Length, 83);
        var eps = new float[partial.Length];
        for (int i = 0; i < 3; i++)
        {
            Wobbly(partial, sampler.Timesteps[i], eps);
            sampler.Step(i, partial, eps, partial, new Rng(1));
        }
        sampler.SetTimesteps(8);
        var afterReset = DiffusionFixture.Gaussian(Length, 81);
        Sampling.Run(sampler, Wobbly, afterReset, new Rng(1));
        Assert.Equal(fresh, afterReset);
    }

    [Fact]
    public void Stepping_into_a_separate_buffer_gives_the_same_as_stepping_in_place()
    {
        var sampler = new DpmSolverSampler(NoiseSchedule.Linear(), 6);
        var inPlace = DiffusionFixture.Gaussian(Length, 84);
        Sampling.Run(new DpmSolverSampler(NoiseSchedule.Linear(), 6), Wobbly, inPlace, new Rng(1));

        var x = DiffusionFixture.Gaussian(Length, 84);
        var eps = new float[Length];
        for (int i = 0; i < 6; i++)
        {
            var next = new float[Length];
            Wobbly(x, sampler.Timesteps[i], eps);
            sampler.Step(i, x, eps, next, new Rng(1));
            x = next;
        }
        Assert.Equal(inPlace, x);
    }

    [Fact]
    public void Steps_out_of_order_are_a_bug()
    {
        var x = DiffusionFixture.Gaussian(Length, 85);
        var eps = DiffusionFixture.Gaussian(Length, 86);
        var output = new float[Length];
        var unset = new DpmSolverSampler(NoiseSchedule.Linear());
        Assert.Throws<InvalidOperationException>(() => unset.Step(0, x, eps, output, new Rng(1)));

        var sampler = new DpmSolverSampler(NoiseSchedule.Linear(), 10);
        Assert.Throws<InvalidOperationException>(() => sampler.Step(1, x, eps, output, new Rng(1)));
        sampler.Step(0, x, eps, output, new Rng(1));
        Assert.Throws<InvalidOperationException>(() => sampler.Step(2, x, eps, output, new Rng(1)));
        Assert.Throws<InvalidOperationException>(() => sampler.Step(1, new float[2 * Length], new float[2 * Length], new float[2 * Length], new Rng(1)));
        sampler.Step(1, x, eps, output, new Rng(1));
        sampler.Step(1, x, eps, output, new Rng(1)); // the step just taken may be taken again (RePaint)
        Assert.Throws<InvalidOperationException>(() => sampler.Step(3, x, eps, output, new Rng(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Step(10, x, eps, output, new Rng(1)));
        Assert.Throws<ArgumentException>(() => sampler.Step(0, x, eps, new float[Length - 1], new Rng(1)));

        sampler.SetTimesteps(10);
        Assert.Throws<InvalidOperationException>(() => sampler.Step(2, x, eps, output, new Rng(1)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1001)]
    public void Bad_step_count_is_a_user_error(int steps)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DpmSolverSampler(NoiseSchedule.Linear(), steps));
        Assert.Equal("steps", error.ParamName);
        Assert.StartsWith($"DPM-Solver++'s step count must be between 1 and 1000 (got {steps}).", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Samplers.Create("dpm++2m", NoiseSchedule.Linear(), steps));
    }

    [Fact]
    public void It_is_created_by_name_needs_a_step_count_and_takes_no_eta()
    {
        var schedule = NoiseSchedule.Linear();
        Assert.Contains(DpmSolverSampler.SamplerName, Samplers.Names);
        var sampler = Assert.IsType<DpmSolverSampler>(Samplers.Create("DPM++2M", schedule, 20));
        Assert.Equal("dpm++2m", sampler.Name);
        Assert.Equal(DdimSampler.LinspaceTimesteps(1000, 20), sampler.Timesteps);

        Assert.Equal("steps", Assert.Throws<ArgumentNullException>(() => Samplers.Create("dpm++2m", schedule)).ParamName);
        var eta = Assert.Throws<ArgumentOutOfRangeException>(() => Samplers.Create("dpm++2m", schedule, 20, eta: 0.5));
        Assert.Equal("eta", eta.ParamName);
        Assert.Contains("eta applies to DDIM only", eta.Message);
        Assert.Contains("0.5", eta.Message);
    }

    [Fact]
    public void The_generator_gives_each_method_its_own_default_step_count()
    {
        var model = new UNet(new UNetConfig(NFeat: 8), seed: 1);
        var generator = new SpriteGenerator(model, new CheckpointInfo { Model = model.Config });
        Assert.Equal(DpmSolverSampler.DefaultSteps, generator.CreateSampler("dpm++2m", null, 0).Timesteps.Count);
        Assert.Equal(20, DpmSolverSampler.DefaultSteps);
        Assert.Equal(50, generator.CreateSampler("ddim", null, 0).Timesteps.Count);
        Assert.Equal(100, generator.CreateSampler("ddim", null, 0, defaultDdimSteps: 100).Timesteps.Count);
        Assert.Equal(1000, generator.CreateSampler("ddpm", null, 0).Timesteps.Count);
        Assert.Equal(7, generator.CreateSampler("dpm++2m", 7, 0).Timesteps.Count);
    }
}
