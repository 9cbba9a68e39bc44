using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Tests.Reference;

namespace SpriteDiffusion.Tests.Diffusion;

public class NoiseScheduleTests
{
    [Theory]
    [InlineData("linear", 1000)]
    [InlineData("linear", 50)]
    [InlineData("cosine", 1000)]
    [InlineData("cosine", 50)]
    public void Schedule_matches_torch_float64(string name, int T)
    {
        var file = DiffusionFixture.Load("schedule");
        var schedule = NoiseSchedule.Create(name, T);
        Assert.Equal(name, schedule.Name);
        Assert.Equal(T, schedule.T);
        DiffusionFixture.AssertEachClose(file.Doubles($"{name}_T{T}/beta"), schedule.Beta, "beta");
        DiffusionFixture.AssertEachClose(file.Doubles($"{name}_T{T}/alpha_bar"), schedule.AlphaBar, "alpha_bar");
        for (int t = 0; t < T; t++) Assert.Equal(1.0 - schedule.Beta[t], schedule.Alpha[t]);
    }

    [Fact]
    public void Linear_schedule_has_exact_endpoints_and_default_length()
    {
        var schedule = NoiseSchedule.Linear();
        Assert.Equal(1000, schedule.T);
        Assert.Equal(1e-4, schedule.Beta[0]);
        Assert.Equal(0.02, schedule.Beta[^1]);
        Assert.Equal(1.0, schedule.AlphaBarAt(-1));
        Assert.Equal(schedule.AlphaBar[999], schedule.AlphaBarAt(999));
    }

    [Fact]
    public void Cosine_schedule_clips_only_the_last_beta()
    {
        var schedule = NoiseSchedule.Cosine();
        Assert.Equal(0.999, schedule.Beta[^1]);
        Assert.All(schedule.Beta[..^1], b => Assert.InRange(b, 1e-6, 0.999 - 1e-9));
        Assert.True(schedule.AlphaBar[^1] > 0);
    }

    [Fact]
    public void Names_are_case_insensitive_and_unknown_ones_are_user_errors()
    {
        Assert.Equal("cosine", NoiseSchedule.Create(" Cosine ").Name);
        var error = Assert.Throws<ArgumentException>(() => NoiseSchedule.Create("quadratic"));
        Assert.Contains("'quadratic'", error.Message);
        Assert.Contains("linear, cosine", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => NoiseSchedule.Linear(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => NoiseSchedule.Cosine(-5));
    }

    [Theory]
    [InlineData("linear")]
    [InlineData("cosine")]
    public void AddNoise_matches_torch_per_image(string name)
    {
        var file = DiffusionFixture.Load("forward");
        var schedule = NoiseSchedule.Create(name);
        var x0 = file.Floats("x0");
        var eps = file.Floats("eps");
        var t = file.Ints("t");
        int perImage = x0.Length / t.Length;
        var expected = file.Floats($"{name}/xt");

        var xt = new float[x0.Length];
        schedule.AddNoise(x0, eps, t, perImage, xt);
        Fixture.AssertClose(expected, xt, "x_t", DiffusionFixture.FloatTolerance);

        // In place over either input gives the same numbers.
        var intoEps = (float[])eps.Clone();
        schedule.AddNoise(x0, intoEps, t, perImage, intoEps);
        Assert.Equal(xt, intoEps);
        var intoX0 = (float[])x0.Clone();
        schedule.AddNoise(intoX0, eps, t, perImage, intoX0);
        Assert.Equal(xt, intoX0);
    }

    [Fact]
    public void AddNoise_rejects_bad_timesteps_and_lengths()
    {
        var schedule = NoiseSchedule.Linear(10);
        var x = DiffusionFixture.Gaussian(8, 1);
        var output = new float[8];
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.AddNoise(x, x, [3, 10], 4, output));
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.AddNoise(x, x, [-1, 0], 4, output));
        Assert.Throws<ArgumentException>(() => schedule.AddNoise(x, x, [1, 2, 3], 4, output));
    }
}
