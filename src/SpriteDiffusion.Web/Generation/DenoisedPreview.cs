using SpriteDiffusion.Diffusion;

namespace SpriteDiffusion.Web.Generation;

/// <summary>
/// What the page shows while a batch denoises: the clean image each step implies rather than x_t,
/// which is mostly noise until the last few steps. DDIM at eta 0 and DPM-Solver++ move x along
/// x = sqrt(abar) x0 + sqrt(1 - abar) eps with one x0 and eps per step, so x before and after a step
/// give both exactly: x0 = (d x_t - b x_s) / (a d - c b) with a, b = sqrt(abar_t), sqrt(1 - abar_t)
/// and c, d the same at s. DDPM adds fresh noise each step, which that solve would amplify, so it
/// shows x_t as `sprites sample --animate` does.
/// </summary>
internal sealed class DenoisedPreview(ISampler sampler, float[] start)
{
    private readonly float[] _previous = (float[])start.Clone();
    private readonly float[] _image = new float[start.Length];

    /// <summary>The picture for x after step <paramref name="index"/>; valid until the next call.</summary>
    public ReadOnlySpan<float> Observe(int index, ReadOnlySpan<float> x)
    {
        var timesteps = sampler.Timesteps;
        if (sampler.Name == DdpmSampler.SamplerName) return x;
        double abarT = sampler.Schedule.AlphaBarAt(timesteps[index]);
        double abarS = sampler.Schedule.AlphaBarAt(index + 1 < timesteps.Count ? timesteps[index + 1] : -1);
        double a = Math.Sqrt(abarT), b = Math.Sqrt(1 - abarT), c = Math.Sqrt(abarS), d = Math.Sqrt(1 - abarS);
        double det = a * d - c * b;
        for (int i = 0; i < x.Length; i++) _image[i] = (float)((d * _previous[i] - b * x[i]) / det);
        x.CopyTo(_previous);
        return _image;
    }
}
