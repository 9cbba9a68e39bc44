using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Web.Generation;

namespace SpriteDiffusion.Tests.Serve;

/// <summary>The live preview recovers the clean image a deterministic step implies.</summary>
public class ServePreviewTests
{
    [Theory]
    [InlineData("ddim")]
    [InlineData("dpm++2m")]
    public void TwoConsecutiveStatesGiveTheImpliedCleanImage(string method)
    {
        var schedule = NoiseSchedule.Create(NoiseSchedule.LinearName, 1000);
        var sampler = Samplers.Create(method, schedule, 10);
        var rng = new Rng(3);
        float[] clean = new float[48], noise = new float[48];
        rng.FillUniform(clean, -1, 1);
        rng.FillGaussian(noise);
        float[] At(int t)
        {
            double abar = schedule.AlphaBarAt(t);
            return clean.Zip(noise, (x, e) => (float)(Math.Sqrt(abar) * x + Math.Sqrt(1 - abar) * e)).ToArray();
        }
        var preview = new DenoisedPreview(sampler, At(sampler.Timesteps[0]));
        var image = preview.Observe(0, At(sampler.Timesteps[1])).ToArray();
        for (int i = 0; i < clean.Length; i++) Assert.Equal(clean[i], image[i], 3);
        // After the last step x is x_0 itself.
        for (int k = 1; k < 9; k++) preview.Observe(k, At(sampler.Timesteps[k + 1]));
        Assert.Equal(clean, preview.Observe(9, clean).ToArray());
    }

    [Fact]
    public void DdpmShowsXAsItIs()
    {
        var schedule = NoiseSchedule.Create(NoiseSchedule.LinearName, 1000);
        var sampler = Samplers.Create("ddpm", schedule);
        float[] x = [0.5f, -2f, 3f];
        Assert.Equal(x, new DenoisedPreview(sampler, new float[3]).Observe(0, x).ToArray());
    }
}
