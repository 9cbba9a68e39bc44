using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Generation;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using SpriteDiffusion.Tests.Interop;
using SpriteDiffusion.Tests.Reference;
using Xunit.Abstractions;

namespace SpriteDiffusion.Tests.Model;

/// <summary>
/// Sampling's results pinned to what the engine computed before its inference fast path existed
/// (Fixtures/regression/eval_outputs.safetensors, written by <see cref="RecordTodaysOutputs"/> from
/// that code): one eval-mode forward pass within 1e-5 relative, a 50-step DDIM run within 1e-4.
/// Speed work on the eval path must keep these, on top of the PyTorch fixtures' tolerances.
/// </summary>
public class EvalRegressionTests(ITestOutputHelper output)
{
    private const string FixtureName = "regression/eval_outputs";
    public const double ForwardTolerance = 1e-5;
    public const double SamplingTolerance = 1e-4;

    /// <summary>(name, fixture whose weights scheme and inputs are used, n_feat, batch): batches tile the fixture's 4 images.</summary>
    public static readonly (string Name, string Fixture, int NFeat, int Batch)[] ForwardCases =
    [
        ("unet16_eval", "unet16_eval", 16, 4),
        ("unet64_eval", "unet64_eval", 64, 4),
        ("unet16_rgba_eval", "unet16_rgba_eval", 16, 4),
        ("nf32_b1", "unet16_eval", 32, 1),
        ("nf32_b4", "unet16_eval", 32, 4),
        ("nf32_b20", "unet16_eval", 32, 20),
        ("nf64_b1", "unet64_eval", 64, 1),
        ("nf64_b20", "unet64_eval", 64, 20),
    ];

    public static TheoryData<string> ForwardNames() => new(ForwardCases.Select(c => c.Name));

    /// <summary>A model with the fixtures' deterministic parameters, and the case's inputs.</summary>
    internal static (UNet Model, Tensor X, Tensor T, Tensor C) ForwardCase(string name)
    {
        var (_, fixture, nf, batch) = ForwardCases.Single(c => c.Name == name);
        var f = Fixture.Load("unet/" + fixture);
        var meta = f.Metadata;
        var model = new UNet(new UNetConfig(int.Parse(meta["in_channels"]), nf, int.Parse(meta["n_cfeat"]), int.Parse(meta["height"])));
        FixtureParameters.Fill(model.Store);
        return (model, Tile(f.Tensor("x"), batch), Tile(f.Tensor("t"), batch), Tile(f.Tensor("c"), batch));
    }

    private static Tensor Tile(Tensor source, int batch)
    {
        var shape = (int[])source.Shape.Clone();
        int per = source.Length / shape[0];
        shape[0] = batch;
        var result = Tensor.Zeros(shape);
        for (int b = 0; b < batch; b++) source.Span.Slice(b % source.Dim(0) * per, per).CopyTo(result.Span[(b * per)..]);
        // Later copies of an image get their own time, so no two rows are the same pass.
        for (int b = source.Dim(0); b < batch && shape.Length == 2 && shape[1] == 1; b++) result.Span[b] = (b * 37 % 1000) / 1000f;
        return result;
    }

    /// <summary>(name, guidance, classes): DDIM, 50 steps, eta 0, from seeded noise, n_feat 32.</summary>
    public static readonly (string Name, double Guidance, int[]? Classes)[] SamplingCases =
    [
        ("ddim50_guided", 3.0, [0, 1, 2, 3, 4, 2]),
        ("ddim50_b1", 1.0, null),
    ];

    public static TheoryData<string> SamplingNames() => new(SamplingCases.Select(c => c.Name));

    internal static float[] Sample(string name)
    {
        var (_, guidance, classes) = SamplingCases.Single(c => c.Name == name);
        var model = new UNet(new UNetConfig(NFeat: 32, NCFeat: 5));
        FixtureParameters.Fill(model.Store);
        var generator = new SpriteGenerator(model, new CheckpointInfo { Model = model.Config, Conditional = true, ContextDropout = 0.1 })
        {
            Guidance = guidance,
        };
        int count = classes?.Length ?? 1;
        var noise = new float[count * generator.ImageLength];
        new Rng(31).FillGaussian(noise);
        var sampler = generator.CreateSampler("ddim", 50, 0);
        return generator.Generate(sampler, count, new Rng(0), noise, classes is null ? default : generator.OneHot(classes));
    }

    [Theory]
    [MemberData(nameof(ForwardNames))]
    public void EvalForwardMatchesTheRecordedOutput(string name)
    {
        var recorded = Fixture.Load(FixtureName);
        var (model, x, t, c) = ForwardCase(name);
        var y = model.Forward(x, t, c, training: false);
        Fixture.AssertClose(recorded["forward." + name].ToFloat32(), y.Span, name, ForwardTolerance);
    }

    [Theory]
    [MemberData(nameof(ForwardNames))]
    public void FrozenForwardMatchesTheRecordedAndTheUnfrozenOutput(string name)
    {
        var recorded = Fixture.Load(FixtureName);
        var (model, x, t, c) = ForwardCase(name);
        var unfrozen = model.Forward(x, t, c, training: false).ToArray();
        using (model.Freeze())
        {
            Assert.True(model.IsFrozen);
            var y = model.Forward(x, t, c, training: false);
            Fixture.AssertClose(recorded["forward." + name].ToFloat32(), y.Span, name + " (frozen)", ForwardTolerance);
            Fixture.AssertClose(unfrozen, y.Span, name + " (frozen vs unfrozen)", ForwardTolerance);
        }
        Assert.False(model.IsFrozen);
        Assert.Equal(unfrozen, model.Forward(x, t, c, training: false).ToArray());
    }

    [Fact]
    public void AFrozenScopeRefusesTrainingAndLetsGoOfItsSnapshot()
    {
        var (model, x, t, c) = ForwardCase("nf32_b4");
        var scope = model.Freeze();
        var before = model.Forward(x, t, c, training: false).ToArray();
        Assert.Throws<InvalidOperationException>(() => model.Forward(x, t, c, training: true));
        Assert.Throws<InvalidOperationException>(() => model.Backward(Tensor.Zeros(x.Shape)));
        using (model.Freeze()) { } // a nested scope leaves the outer one open
        Assert.True(model.IsFrozen);

        // Changed weights (a BatchNorm's running statistics, a convolution) are not seen inside the
        // scope, by contract, and are seen as soon as it ends: nothing stale outlives it.
        model.Store["down1.model.0.conv1.1.running_var"].Value.Span.Fill(4f);
        model.Store["up2.model.1.conv2.0.weight"].Value.Span[0] += 1f;
        Assert.Equal(before, model.Forward(x, t, c, training: false).ToArray());
        scope.Dispose();
        scope.Dispose();
        var live = model.Forward(x, t, c, training: false).ToArray();
        Assert.NotEqual(before, live);
        using (model.Freeze())
            Fixture.AssertClose(live, model.Forward(x, t, c, training: false).Span, "refrozen", ForwardTolerance);
        model.Forward(x, t, c, training: true);
        model.Backward(Tensor.Zeros(x.Shape));
    }

    [Theory]
    [MemberData(nameof(SamplingNames))]
    public void DdimRunMatchesTheRecordedOutput(string name)
    {
        var recorded = Fixture.Load(FixtureName);
        Fixture.AssertClose(recorded["sample." + name].ToFloat32(), Sample(name), name, SamplingTolerance);
    }

    /// <summary>Writes Fixtures/regression/eval_outputs.safetensors from the code as it is: only on purpose.</summary>
    [RegenerationFact]
    public void RecordTodaysOutputs()
    {
        var writer = new SafetensorsWriter();
        writer.Metadata["written_by"] = $"{nameof(EvalRegressionTests)}.{nameof(RecordTodaysOutputs)}";
        writer.Metadata["threads"] = Workers.Threads.ToString();
        foreach (var (name, _, _, _) in ForwardCases)
        {
            var (model, x, t, c) = ForwardCase(name);
            var y = model.Forward(x, t, c, training: false);
            writer.Add("forward." + name, y.Span, y.Shape);
        }
        foreach (var (name, _, _) in SamplingCases)
        {
            var x = Sample(name);
            writer.Add("sample." + name, x, x.Length);
        }
        string path = Path.Combine(RegenerationFactAttribute.RepositoryRoot(), "tests", "SpriteDiffusion.Tests", "Fixtures", FixtureName + ".safetensors");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        writer.Save(path);
        output.WriteLine($"wrote {path}");
    }
}
