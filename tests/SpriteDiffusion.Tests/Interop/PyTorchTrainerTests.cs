using System.Buffers.Binary;
using System.Globalization;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Data;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Evaluation;
using SpriteDiffusion.Generation;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using SpriteDiffusion.Runs;
using SpriteDiffusion.Training;
using Xunit.Abstractions;

namespace SpriteDiffusion.Tests.Interop;

/// <summary>
/// The PyTorch trainer (tools/pytorch) and ours are the same training: one step from the same
/// state on the same batch, noise, t and null-context mask gives the same loss, gradients, Adam
/// update, running statistics and weight average; a checkpoint it writes loads here with its
/// recorded configuration and samples as PyTorch samples it; its split is ours. Fixtures from
/// tools/reference/trainer_fixtures.py.
/// </summary>
public class PyTorchTrainerTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    private static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch", name + ".safetensors");

    private static double Scalar(SafetensorsFile file, string name) => BinaryPrimitives.ReadDoubleLittleEndian(file[name].Bytes);

    private static double Number(IReadOnlyDictionary<string, string> m, string key) => double.Parse(m[key], CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("eps_mse_linear")]
    [InlineData("v_minsnr_cosine")]
    public void OneTrainingStepMatchesThePyTorchTrainer(string name)
    {
        var f = SafetensorsFile.Read(FixturePath("step_" + name));
        var m = f.Metadata;
        int batch = int.Parse(m["batch"], CultureInfo.InvariantCulture), timesteps = int.Parse(m["timesteps"], CultureInfo.InvariantCulture);
        var model = new UNet(new UNetConfig(3, int.Parse(m["n_feat"], CultureInfo.InvariantCulture), int.Parse(m["n_cfeat"], CultureInfo.InvariantCulture), 16));
        var store = model.Store;
        foreach (var e in store.Entries)
        {
            if (e.Kind == StateKind.Counter) e.Count = f["before." + e.Name].ToInt64()[0];
            else f["before." + e.Name].CopyFloat32To(e.Value.Span);
        }
        var before = store.Entries.Where(e => e.Kind != StateKind.Counter).ToDictionary(e => e.Name, e => e.Value.Span.ToArray());

        // Adam part way through a run, the learning rate of that step of the plan.
        var adam = new Adam(store);
        foreach (var e in store.Entries.Where(e => e.Kind == StateKind.Parameter))
        {
            f["adam.exp_avg." + e.Name].CopyFloat32To(adam.M.Span.Slice(store.OffsetOf(e), e.Length));
            f["adam.exp_avg_sq." + e.Name].CopyFloat32To(adam.V.Span.Slice(store.OffsetOf(e), e.Length));
        }
        adam.Step = long.Parse(m["adam_step_before"], CultureInfo.InvariantCulture);
        var plan = new LearningRateSchedule(LearningRateSchedule.Parse(m["lr_schedule"]), Number(m, "lr_peak"), int.Parse(m["lr_warmup_steps"], CultureInfo.InvariantCulture),
            Number(m, "lr_floor"), long.Parse(m["lr_total_steps"], CultureInfo.InvariantCulture));
        double rate = plan.At(adam.Step);
        Assert.Equal(Scalar(f, "lr"), rate, 12);
        adam.LearningRate = (float)rate;

        // The weight average: a decay per step, or one from a half-life in images at this batch.
        double? halflife = m["ema_halflife"].Length > 0 ? Number(m, "ema_halflife") : null;
        var ema = new WeightAverage(store, Trainer.AverageDecay(Number(m, "ema_decay"), halflife, batch));
        Assert.Equal(Scalar(f, "ema_decay_used"), ema.DecayAt(adam.Step), 12);
        foreach (var (e, average) in ema.Averages) f["ema_before." + e.Name].CopyFloat32To(average.Span);
        var emaBefore = ema.Averages.ToDictionary(a => a.Entry.Name, a => a.Average.Span.ToArray());

        // The batch as the PyTorch step saw it: the rows the mask names already hold the null context.
        var context = Input(f, "context");
        var mask = f["drop_mask"].ToInt64();
        int ncf = model.Config.NCFeat;
        for (int i = 0; i < batch; i++)
            Assert.Equal(mask[i] == 1, context.Span.Slice(i * ncf, ncf).ToArray().All(v => v == 0));
        var schedule = NoiseSchedule.Create(m["schedule"], timesteps);
        var objective = new NoiseObjective(model, adam, schedule, TimeInput.Parse(m["time_input"]), Prediction.Parse(m["prediction"]),
            m["loss"] == LossWeights.MinSnrName ? Number(m, "min_snr_gamma") : null);
        int[] steps = f["t"].ToInt64().Select(t => (int)t).ToArray();
        double loss = objective.Step(Input(f, "x0"), context, steps, f["eps"].ToFloat32());
        ema.Update(adam.Step - 1);

        double expectedLoss = Scalar(f, "loss");
        output.WriteLine($"{name}: loss {loss:R} vs {expectedLoss:R}, relative {Math.Abs(loss - expectedLoss) / expectedLoss:E2}; lr {rate:G6}, EMA decay {ema.DecayAt(adam.Step - 1):G6}");
        Assert.True(Math.Abs(loss - expectedLoss) <= Tolerance * expectedLoss, $"loss {loss} vs {expectedLoss}");

        var worst = new Dictionary<string, (double Error, string Name)>();
        void Track(string what, string entry, double error)
        {
            if (!worst.TryGetValue(what, out var w) || error > w.Error) worst[what] = (error, entry);
        }
        double largestGradient = store.Entries.Where(e => e.Kind == StateKind.Parameter).Max(e => f["grad." + e.Name].ToFloat32().Max(Math.Abs));
        foreach (var e in store.Entries)
        {
            if (e.Kind == StateKind.Counter)
            {
                Assert.Equal(f["after." + e.Name].ToInt64()[0], e.Count);
                continue;
            }
            var value = e.Value.Span.ToArray();
            var update = value.Select((v, i) => (double)v - before[e.Name][i]).ToArray();
            if (e.Kind == StateKind.Parameter)
            {
                var grad = store.Grads.Span.Slice(store.OffsetOf(e), e.Length).ToArray();
                if (CancelledByNormalisation(e.Name, model.Config.NFeat))
                {
                    // The normalisation's mean cancels these biases: their true gradient is 0 and both
                    // sides hold rounding noise, to be judged against the gradients that are not 0.
                    double noise = grad.Max(v => Math.Abs((double)v)) / largestGradient;
                    Track("gradient (biases a norm cancels, vs the largest)", e.Name, noise);
                    Assert.True(noise <= Tolerance, $"{e.Name}: gradient {noise:E2} of the largest, where it should be 0");
                }
                else Track("gradient", e.Name, Check(f["grad." + e.Name].ToFloat32(), grad, $"grad {e.Name}"));
                Track("Adam update", e.Name, Check(f["update." + e.Name].ToFloat32(), update, $"update {e.Name}", value));
            }
            else Track("running statistics change", e.Name, Check(f["update." + e.Name].ToFloat32(), update, $"running statistics {e.Name}", value));
        }
        foreach (var (e, average) in ema.Averages)
        {
            var after = average.Span.ToArray();
            var change = after.Select((v, i) => (double)v - emaBefore[e.Name][i]).ToArray();
            Track("EMA change", e.Name, Check(f["ema_update." + e.Name].ToFloat32(), change, $"EMA {e.Name}", after));
        }
        output.WriteLine("  (changes to stored values: beyond one float32 ulp of the value)");
        foreach (var (what, (error, entry)) in worst.OrderBy(w => w.Key))
            output.WriteLine($"  {what}: worst max|ours - torch| / max|torch| {error:E2} ({entry})");
    }

    /// <summary>
    /// Biases of a convolution whose output a normalisation centres per channel: every BatchNorm's
    /// convolution, and out.0 when its GroupNorm(8, n_feat) has one channel per group (n_feat 8).
    /// </summary>
    [Fact]
    public void ACheckpointThePyTorchTrainerWroteLoadsWithItsRecordedConfiguration()
    {
        var (model, info) = Checkpoint.Load(FixturePath("torch_trained_nf8"));
        Assert.Equal(new UNetConfig(3, 8, 9, 16), info.Model);
        Assert.Equal(("cosine", 1000, "t/T", "v"), (info.Schedule, info.Timesteps, info.TimeInput, info.Prediction));
        Assert.True(info.Conditional);
        Assert.Equal(0.1, info.ContextDropout);
        Assert.Equal(0.995, info.EmaDecay);
        Assert.Equal(BundledClassNames(), info.ClassNames);
        Assert.Equal((2, 6L), (info.Epoch, info.Step));
        Assert.All(model.Store.Entries.Where(e => e.Kind == StateKind.Counter), e => Assert.Equal(6, e.Count));
        var recipe = Assert.IsType<TrainingRecipe>(info.Recipe);
        Assert.Equal((LossWeights.MinSnrName, 5.0, 2, true), (recipe.Loss, recipe.MinSnrGamma, recipe.PlannedEpochs, recipe.Flip));
        Assert.Equal(new LearningRateSchedule(LearningRateDecay.Cosine, 1e-3, 2, 1e-5, 6), recipe.LearningRate);
        Assert.Equal(new TrainingSplit(0.1, 42, 64), TrainingSplit.FromMetadata(info.Extra, "fixture"));
        Assert.Equal("tools/pytorch/train.py", info.Extra["trainer"]);

        // The raw weights are there too, and differ from the average.
        var (raw, _) = Checkpoint.Load(FixturePath("torch_trained_nf8"), WeightChoice.Raw);
        Assert.NotEqual(raw.Store.Values.ToArray(), model.Store.Values.ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ItSamplesAsPyTorchSamplesItFromTheSameNoise(bool guided)
    {
        var (model, info) = Checkpoint.Load(FixturePath("torch_trained_nf8"));
        var io = SafetensorsFile.Read(FixturePath("torch_trained_nf8_io"));
        var generator = new SpriteGenerator(model, info);
        var sampler = Samplers.Create("ddim", generator.Schedule, 10, eta: 0);
        Assert.Equal(io["ddim10_timesteps"].ToInt64().Select(t => (int)t), sampler.Timesteps);
        var noise = io["noise"];
        int count = noise.Shape[0];
        float[] context = [];
        if (guided)
        {
            generator.Guidance = double.Parse(io.Metadata["guidance"], CultureInfo.InvariantCulture);
            generator.ClipDenoised = io.Metadata["clip_guided"] == "true";
            context = generator.OneHot(io["classes"].ToInt64().Select(c => (int)c).ToArray());
        }
        var x0 = generator.Generate(sampler, count, new Rng(0), noise.ToFloat32(), context);
        // The cosine schedule's first DDIM step divides by sqrt(alpha_bar[999]) = 4.9e-5, so float32
        // rounding in the network grows: PyTorch's own float32 lands 9e-5 (unguided) and 3e-4 (guided)
        // from float64 here. The tolerance is the other DDIM interop tests' (CheckpointInteropTests).
        string key = guided ? "ddim10_guided_x0" : "ddim10_x0";
        double error = Check(io[key].ToFloat32(), x0, guided ? "guided DDIM-10" : "DDIM-10", tolerance: 1e-3);
        output.WriteLine($"{(guided ? "guided (w 3, classes, x0 clipped)" : "unguided")} DDIM-10 x_0 from the PyTorch-trained checkpoint: "
            + $"max|ours - torch float64| / max|torch| {error:E2}; PyTorch's float32 {double.Parse(io.Metadata["torch_float32_error_" + key], CultureInfo.InvariantCulture):E2}");
    }

    [Fact]
    public void ItsEvalOutputMatchesPyTorch()
    {
        var (model, _) = Checkpoint.Load(FixturePath("torch_trained_nf8"));
        var io = SafetensorsFile.Read(FixturePath("torch_trained_nf8_io"));
        var y = model.Forward(Input(io, "x"), Input(io, "t"), Input(io, "c"), training: false);
        output.WriteLine($"eval output of the PyTorch-trained checkpoint (weight average): max|ours - torch| / max|torch| {Check(io["y"].ToFloat32(), y.Span.ToArray(), "eval output"):E2}");
    }

    [Fact]
    public void ThePyTorchTrainerSplitsTheDataSetAsWeDo()
    {
        var io = SafetensorsFile.Read(FixturePath("torch_trained_nf8_io"));
        // Images that carry their own index, so each side of a split says which images it holds.
        const int count = 3781;
        var data = new SpriteDataset(Enumerable.Range(0, count).SelectMany(i => Enumerable.Repeat((float)i, 48)).ToArray(), new int[count], ["only"], 4);
        static long[] Indices(SpriteDataset d) => Enumerable.Range(0, d.Count).Select(i => (long)d.Image(i)[0]).ToArray();

        var (_, validation) = data.Split(0.1, 42);
        Assert.Equal(io["split_validation"].ToInt64(), Indices(validation));
        var (train, limitedValidation) = data.Subset(64, 42).Split(0.1, 42);
        Assert.Equal(io["split_limit64_train"].ToInt64(), Indices(train));
        Assert.Equal(io["split_limit64_validation"].ToInt64(), Indices(limitedValidation));
    }

    private static string[] BundledClassNames() => ClassNamesFile.Read(Path.Combine(BundledData.DefaultDirectory, ClassNamesFile.FileName));

    private static bool CancelledByNormalisation(string name, int nFeat) =>
        name.EndsWith(".conv1.0.bias", StringComparison.Ordinal) || name.EndsWith(".conv2.0.bias", StringComparison.Ordinal)
        || (name == "out.0.bias" && nFeat == 8);

    /// <summary>
    /// max |ours - ref| / max |ref| for one tensor, asserted within the tolerance and returned. For a
    /// change to a stored float32 value (<paramref name="values"/> given), each element may also be
    /// off by one unit in the last place of the value it changed: an Adam step of 1e-6 on a weight
    /// near 1 cannot be held closer than that (6e-8 to 1.2e-7) by any float32 engine.
    /// </summary>
    private static double Check(float[] expected, IReadOnlyList<double> actual, string what, float[]? values = null, double tolerance = Tolerance)
    {
        Assert.Equal(expected.Length, actual.Count);
        double maxRef = 0, maxDiff = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            maxRef = Math.Max(maxRef, Math.Abs(expected[i]));
            double diff = Math.Abs(expected[i] - actual[i]);
            if (values is not null) diff = Math.Max(0, diff - (MathF.BitIncrement(Math.Abs(values[i])) - Math.Abs(values[i])));
            maxDiff = Math.Max(maxDiff, diff);
        }
        Assert.True(maxRef > 0, $"{what}: the reference is all zeros");
        double relative = maxDiff / maxRef;
        Assert.True(relative <= tolerance, $"{what}: relative error {relative:E3} exceeds {tolerance:E0}");
        return relative;
    }

    private static double Check(float[] expected, float[] actual, string what, double tolerance = Tolerance) =>
        Check(expected, actual.Select(v => (double)v).ToArray(), what, tolerance: tolerance);

    private static Tensor Input(SafetensorsFile file, string name) => Tensor.FromArray(file[name].ToFloat32(), file[name].Shape);
}
