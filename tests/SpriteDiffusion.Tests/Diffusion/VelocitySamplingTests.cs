using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Generation;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using SpriteDiffusion.Tests.Data;
using SpriteDiffusion.Training;

namespace SpriteDiffusion.Tests.Diffusion;

/// <summary>A v model samples through the eps samplers: the generator converts its output once, after guidance, before clipping.</summary>
public class VelocitySamplingTests
{
    private static UNet Model()
    {
        var model = new UNet(new UNetConfig(NFeat: 8, NCFeat: 4), seed: 41);
        foreach (var e in model.Store.Entries.Where(e => e.Kind == StateKind.Buffer))
            new Rng(42).FillUniform(e.Value.Span, 0.5f, 1.5f);
        return model;
    }

    /// <summary>The network's raw output for x at timestep t (eval mode, null context).</summary>
    private static float[] Output(UNet model, float[] x, int count, int t, NoiseSchedule schedule)
    {
        var input = Tensor.Zeros(count, 3, 16, 16);
        x.CopyTo(input.Span);
        var time = Tensor.Zeros(count, 1);
        TimeInput.Fill(t, schedule.T, TimeInput.Default, time.Span);
        return model.Forward(input, time, Tensor.Zeros(count, 4), training: false).Span.ToArray();
    }

    [Theory]
    [InlineData("ddim", false)]
    [InlineData("ddim", true)]
    [InlineData("dpm++2m", false)]
    [InlineData("dpm++2m", true)]
    public void OneStepFromNoiseLandsOnTheCleanImageTheVelocityImplies(string method, bool clip)
    {
        var model = Model();
        var g = new SpriteGenerator(model, new CheckpointInfo { Model = model.Config, Prediction = "v" }) { ClipDenoised = clip };
        var noise = new float[3 * g.ImageLength];
        new Rng(7).FillGaussian(noise);
        // One step from t = T - 1 returns x0_hat, for DDIM and DPM-Solver++ alike.
        var x0 = g.Generate(g.CreateSampler(method, 1, 0), 3, new Rng(0), noise);

        var v = Output(model, noise, 3, 999, g.Schedule);
        double a = Math.Sqrt(g.Schedule.AlphaBar[999]), s = Math.Sqrt(1 - g.Schedule.AlphaBar[999]);
        double worst = 0;
        for (int i = 0; i < x0.Length; i++)
        {
            double expected = a * noise[i] - s * v[i];
            if (clip) expected = Math.Clamp(expected, -1, 1);
            worst = Math.Max(worst, Math.Abs(expected - x0[i]));
        }
        // Through eps and back at a = 0.0064, the sampler's float32 X x_t + Eps eps_hat cancels terms
        // 156 times its inputs (measured 8.9e-5): the samplers' precision out of t = 999, not the conversion's.
        Assert.True(worst < 3e-4, $"x0 is off by {worst}");
        if (clip) Assert.All(x0, value => Assert.InRange(value, -1.0001f, 1.0001f));
        else Assert.True(x0.Max(Math.Abs) > 1, "an untrained network's v should imply pixels outside [-1, 1]");
    }

    [Fact]
    public void GuidanceAppliesToTheVelocityAsItDoesToTheNoise()
    {
        var model = Model();
        var g = new SpriteGenerator(model, new CheckpointInfo { Model = model.Config, Prediction = "v", Conditional = true, ContextDropout = 0.1, ClassNames = ["a", "b", "c", "d"] });
        float[] Run(double w)
        {
            g.Guidance = w;
            var noise = new float[2 * g.ImageLength];
            new Rng(5).FillGaussian(noise);
            return g.Generate(g.CreateSampler("ddim", 1, 0), 2, new Rng(0), noise, g.OneHot([1, 3]));
        }
        var w0 = Run(0);
        var w1 = Run(1);
        var w3 = Run(3);
        Assert.NotEqual(w0, w1);
        // One step returns x0_hat = a x - s v, affine in v, and the guided v is affine in w.
        double worst = 0;
        for (int i = 0; i < w0.Length; i++) worst = Math.Max(worst, Math.Abs(w3[i] - (w0[i] + 3 * (w1[i] - w0[i]))));
        Assert.True(worst < 1e-3, $"guided sample is off the line by {worst}");
    }

    [Fact]
    public void CheckpointsRecordThePredictionAndOlderOnesReadAsEps()
    {
        using var dir = new TempDir();
        var model = Model();
        string v = dir.File("v.safetensors"), old = dir.File("old.safetensors");
        var recipe = new TrainingRecipe
        {
            Loss = "min-snr", MinSnrGamma = 5, PlannedEpochs = 3, TimeBudgetMinutes = 1.5, EmaHalflife = 2000, Flip = true, NoFlipClasses = ["Flags"],
            LearningRate = new LearningRateSchedule(LearningRateDecay.Cosine, 1e-3, 10, 1e-5, 300).Replan(120, 400),
        };
        Checkpoint.Save(v, model, new CheckpointInfo { Model = model.Config, Prediction = "v", Recipe = recipe });
        var (_, info) = Checkpoint.Load(v);
        Assert.Equal("v", info.Prediction);
        Assert.Equal(recipe.LearningRate, info.Recipe!.LearningRate);
        Assert.Equal(recipe with { NoFlipClasses = info.Recipe.NoFlipClasses }, info.Recipe);
        Assert.Equal(["Flags"], info.Recipe.NoFlipClasses);

        // A checkpoint written before the option existed has no 'prediction' key (nor a recipe).
        Checkpoint.Save(old, model, new CheckpointInfo { Model = model.Config });
        var file = SafetensorsFile.Read(old);
        var writer = new SafetensorsWriter();
        foreach (var (key, value) in file.Metadata.Where(kv => kv.Key != "prediction")) writer.Metadata[key] = value;
        foreach (string n in file.Names)
        {
            var t = file[n];
            if (t.DType == "I64") writer.AddInt64(n, t.ToInt64(), t.Shape);
            else writer.Add(n, t.ToFloat32(), t.Shape);
        }
        writer.Save(old);
        var (_, oldInfo) = Checkpoint.Load(old);
        Assert.Equal("eps", oldInfo.Prediction);
        Assert.Null(oldInfo.Recipe);
    }
}
