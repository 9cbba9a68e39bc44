using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Tests.Reference;

namespace SpriteDiffusion.Tests.Diffusion;

public class DdpmSamplerTests
{
    [Theory]
    [InlineData("linear", 999)]
    [InlineData("linear", 500)]
    [InlineData("linear", 1)]
    [InlineData("linear", 0)]
    [InlineData("cosine", 999)]
    [InlineData("cosine", 500)]
    [InlineData("cosine", 0)]
    public void Mean_and_noise_scale_match_torch(string name, int t)
    {
        var file = DiffusionFixture.Load("ddpm");
        var xt = file.Floats("xt");
        var epsHat = file.Floats("eps_hat");
        var sampler = new DdpmSampler(NoiseSchedule.Create(name));

        var step = sampler.Coefficients(t);
        var mean = new float[xt.Length];
        step.ApplyMean(xt, epsHat, mean);
        Fixture.AssertClose(file.Floats($"{name}/t{t}/mean"), mean, "mean", DiffusionFixture.FloatTolerance);
        double noiseScale = file.Scalar($"{name}/t{t}/noise_scale");
        if (t == 0) Assert.Equal(0.0, step.Noise);
        else DiffusionFixture.AssertClose(noiseScale, step.Noise, "noise scale");
    }

    [Fact]
    public void Step_adds_scaled_noise_from_the_generator_in_element_order()
    {
        var file = DiffusionFixture.Load("ddpm");
        var xt = file.Floats("xt");
        var epsHat = file.Floats("eps_hat");
        var sampler = new DdpmSampler(NoiseSchedule.Linear());
        int index = 499; // t = 500
        Assert.Equal(500, sampler.Timesteps[index]);

        var actual = new float[xt.Length];
        sampler.Step(index, xt, epsHat, actual, new Rng(11));

        var z = new float[xt.Length];
        new Rng(11).FillGaussian(z);
        var expected = new float[xt.Length];
        var step = sampler.Coefficients(500);
        step.ApplyMean(xt, epsHat, expected);
        for (int i = 0; i < expected.Length; i++) expected[i] += (float)step.Noise * z[i];
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Last_step_is_the_mean_and_draws_no_noise()
    {
        var xt = DiffusionFixture.Gaussian(96, 3);
        var epsHat = DiffusionFixture.Gaussian(96, 4);
        var sampler = new DdpmSampler(NoiseSchedule.Linear());
        var rng = new Rng(5);
        var before = rng.GetState();

        var actual = new float[96];
        sampler.Step(999, xt, epsHat, actual, rng);

        Assert.Equal(before, rng.GetState());
        var mean = new float[96];
        sampler.Coefficients(0).ApplyMean(xt, epsHat, mean);
        Assert.Equal(mean, actual);
    }

    [Fact]
    public void Step_in_place_equals_step_into_a_new_buffer()
    {
        var xt = DiffusionFixture.Gaussian(96, 6);
        var epsHat = DiffusionFixture.Gaussian(96, 7);
        var sampler = new DdpmSampler(NoiseSchedule.Cosine());
        var separate = new float[96];
        sampler.Step(10, xt, epsHat, separate, new Rng(8));
        sampler.Step(10, xt, epsHat, xt, new Rng(8));
        Assert.Equal(separate, xt);
    }

    [Fact]
    public void Visits_every_timestep_from_T_minus_1_down()
    {
        var sampler = new DdpmSampler(NoiseSchedule.Linear(50));
        Assert.Equal(Enumerable.Range(0, 50).Reverse(), sampler.Timesteps);
        sampler.SetTimesteps(50);
        Assert.Equal(50, sampler.Timesteps.Count);
        Assert.Equal("ddpm", sampler.Name);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(50)]
    [InlineData(999)]
    [InlineData(1001)]
    public void Steps_other_than_T_are_user_errors(int steps)
    {
        var sampler = new DdpmSampler(NoiseSchedule.Linear());
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => sampler.SetTimesteps(steps));
        Assert.Equal("steps", error.ParamName);
        Assert.Contains("DDPM visits every timestep, so its step count is 1000", error.Message);
        Assert.Contains($"got {steps}", error.Message);
    }

    [Fact]
    public void Misuse_is_rejected()
    {
        var sampler = new DdpmSampler(NoiseSchedule.Linear(10));
        var x = DiffusionFixture.Gaussian(8, 9);
        var output = new float[8];
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Step(10, x, x, output, new Rng(1)));
        Assert.Throws<ArgumentException>(() => sampler.Step(0, x, x, new float[7], new Rng(1)));
        Assert.Throws<ArgumentException>(() => sampler.Step(0, x, output, output, new Rng(1)));
        var eps = DiffusionFixture.Gaussian(7, 10);
        Assert.Throws<ArgumentException>(() => sampler.Step(0, x.AsSpan(0, 7), eps, x.AsSpan(1, 7), new Rng(1)));
    }
}
