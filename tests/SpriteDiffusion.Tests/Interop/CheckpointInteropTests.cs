using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using SpriteDiffusion.Training;
using Xunit.Abstractions;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Generation;

namespace SpriteDiffusion.Tests.Interop;

/// <summary>
/// Checkpoints both ways between PyTorch and us (fixtures from tools/reference/checkpoint_fixtures.py):
/// a state dict trained and exported by PyTorch loads here and gives PyTorch's outputs, and one
/// trained and saved here loads into PyTorch's seed U-Net strictly and gives ours.
/// </summary>
public class CheckpointInteropTests(ITestOutputHelper output)
{
    private const string TorchTrained = "torch_trained_nf16";
    private const string Ours = "ours_nf16";
    private const int TrainSteps = 3;
    private const int DdimSteps = 10;
    private static readonly UNetConfig Nf16 = new(NFeat: 16);

    private static string FixturePath(string name) =>
        Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoint", name.EndsWith(".pth", StringComparison.Ordinal) ? name : name + ".safetensors");

    /// <summary>The same state dict as torch.save wrote it: what the seed's training leaves behind.</summary>
    private const string TorchTrainedPth = TorchTrained + ".pth";

    [Fact]
    public void PyTorchStateDictLoadsWithTheConfigurationReadOffItsShapes()
    {
        var file = SafetensorsFile.Read(FixturePath(TorchTrained));
        Assert.Empty(file.Metadata);
        var (model, info) = Checkpoint.Load(FixturePath(TorchTrained));
        Assert.Equal(Nf16, info.Model);
        // No metadata: the seed's conventions, raw integer t above all (the fixture trained so).
        Assert.Equal(("linear", 1000, "raw", false), (info.Schedule, info.Timesteps, info.TimeInput, info.Conditional));

        Assert.Equal(file.Names, model.Store.Entries.Select(e => e.Name));
        foreach (var e in model.Store.Entries)
        {
            if (e.Kind == StateKind.Counter)
            {
                Assert.Equal(TrainSteps, e.Count);
                continue;
            }
            Assert.Equal(file[e.Name].ToFloat32(), e.Value.Span.ToArray());
        }
    }

    [Fact]
    public void OurCheckpointHasPyTorchsStateDictLayout()
    {
        var ours = SafetensorsFile.Read(FixturePath(Ours));
        var torch = SafetensorsFile.Read(FixturePath(TorchTrained));
        Assert.Equal(torch.Names, ours.Names);
        foreach (string name in torch.Names)
        {
            Assert.Equal(torch[name].DType, ours[name].DType);
            Assert.Equal(torch[name].Shape, ours[name].Shape);
        }
        Assert.Equal(Checkpoint.FormatName, ours.Metadata["format"]);

        var (model, info) = Checkpoint.Load(FixturePath(Ours));
        Assert.Equal(Nf16, info.Model);
        Assert.Equal(TrainSteps, info.Step);
        Assert.All(model.Store.Entries.Where(e => e.Kind == StateKind.Counter), e => Assert.Equal(TrainSteps, e.Count));
    }

    [Theory]
    [InlineData(TorchTrained)]
    [InlineData(TorchTrainedPth)]
    [InlineData(Ours)]
    public void EvalOutputMatchesPyTorch(string checkpoint)
    {
        var (model, _) = Checkpoint.Load(FixturePath(checkpoint));
        var io = SafetensorsFile.Read(FixturePath(IoOf(checkpoint)));
        var y = model.Forward(Input(io, "x"), Input(io, "t"), Input(io, "c"), training: false);
        AssertClose(io["y"].ToFloat32(), y.Span, $"{checkpoint}: eval output", 1e-4);
    }

    [Theory]
    [InlineData(TorchTrained)]
    [InlineData(TorchTrainedPth)]
    [InlineData(Ours)]
    public void DdimSampleFromStoredNoiseMatchesPyTorch(string checkpoint)
    {
        var (model, info) = Checkpoint.Load(FixturePath(checkpoint));
        var io = SafetensorsFile.Read(FixturePath(IoOf(checkpoint)));
        Assert.Equal(io.Metadata["time_input"], info.TimeInput);
        Assert.Equal(("ddim", "0", DdimSteps.ToString(), "zeros"), (io.Metadata["sampler"], io.Metadata["eta"], io.Metadata["steps"], io.Metadata["context"]));

        // The path `sprites sample --noise` takes: the checkpoint's own schedule and time input.
        var generator = new SpriteGenerator(model, info);
        var sampler = Samplers.Create("ddim", generator.Schedule, DdimSteps, eta: 0);
        Assert.Equal(io[$"ddim{DdimSteps}_timesteps"].ToInt64().Select(t => (int)t), sampler.Timesteps);
        var noise = io["noise"];
        var x0 = generator.Generate(sampler, noise.Shape[0], new Rng(0), noise.ToFloat32());
        AssertClose(io[$"ddim{DdimSteps}_x0"].ToFloat32(), x0, $"{checkpoint}: DDIM-{DdimSteps} x_0", 1e-3);
    }

    private static string IoOf(string checkpoint) => checkpoint.Replace(".pth", "", StringComparison.Ordinal) + "_io";

    [Fact]
    public void APthStateDictHoldsWhatItsSafetensorsTwinHolds()
    {
        var (fromPth, pthInfo) = Checkpoint.Load(FixturePath(TorchTrainedPth));
        var (fromSafetensors, info) = Checkpoint.Load(FixturePath(TorchTrained));
        Assert.Equal(info, pthInfo with { ClassNames = info.ClassNames, Extra = info.Extra });
        Assert.Equal(fromSafetensors.Store.Values.ToArray(), fromPth.Store.Values.ToArray());
        Assert.Equal(fromSafetensors.Store.Entries.Select(e => e.Count), fromPth.Store.Entries.Select(e => e.Count));
    }

    [Fact]
    public void ConvertWritesTheSeedsConventionsIntoTheMetadataAndOverridesWin()
    {
        using var dir = new Data.TempDir();
        string plain = dir.File("seed.safetensors"), overridden = dir.File("overridden.safetensors");
        var info = Checkpoint.Convert(FixturePath(TorchTrainedPth), plain);
        Assert.Equal("raw", info.TimeInput);
        var file = SafetensorsFile.Read(plain);
        Assert.Equal((Checkpoint.FormatName, "raw", "linear", "1000"), (file.Metadata["format"], file.Metadata["time_input"], file.Metadata["schedule"], file.Metadata["timesteps"]));
        var (converted, convertedInfo) = Checkpoint.Load(plain);
        var (original, originalInfo) = Checkpoint.Load(FixturePath(TorchTrainedPth));
        Assert.Equal(original.Store.Values.ToArray(), converted.Store.Values.ToArray());
        Assert.Equal(originalInfo.TimeInput, convertedInfo.TimeInput);

        Checkpoint.Convert(FixturePath(TorchTrainedPth), overridden, new CheckpointOverrides("t/T", 500, "cosine"));
        var (_, changed) = Checkpoint.Load(overridden);
        Assert.Equal(("t/T", 500, "cosine"), (changed.TimeInput, changed.Timesteps, changed.Schedule));
        var (_, loadedWithOverride) = Checkpoint.Load(FixturePath(TorchTrained), overrides: new CheckpointOverrides(TimeInput: "t/T"));
        Assert.Equal("t/T", loadedWithOverride.TimeInput);

        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Checkpoint.Convert(plain, plain)).ParamName);
        Assert.Equal(nameof(CheckpointOverrides.TimeInput), Assert.Throws<ArgumentOutOfRangeException>(() =>
            Checkpoint.Load(plain, overrides: new CheckpointOverrides(TimeInput: "seconds"))).ParamName);
    }

    /// <summary>
    /// Writes Fixtures/checkpoint/ours_nf16.safetensors into the source tree; then
    /// tools/reference/checkpoint_fixtures.py --part ours computes PyTorch's outputs for it.
    /// </summary>
    [RegenerationFact]
    public void WriteOurTrainedCheckpoint()
    {
        var model = new UNet(Nf16, seed: 7);
        var schedule = NoiseSchedule.Linear();
        var objective = new NoiseObjective(model, new Adam(model.Store), schedule);
        var data = new Rng(11);
        var x0 = Tensor.Zeros(8, 3, 16, 16);
        var context = Tensor.Zeros(8, 5);
        double loss = 0;
        for (int step = 0; step < TrainSteps; step++)
        {
            data.FillUniform(x0.Span, -1f, 1f);
            data.FillUniform(context.Span, 0f, 1f);
            loss = objective.Step(x0, context, data);
        }

        string path = Path.Combine(RegenerationFactAttribute.RepositoryRoot(), "tests", "SpriteDiffusion.Tests", "Fixtures", "checkpoint", Ours + ".safetensors");
        Checkpoint.Save(path, model, new CheckpointInfo
        {
            Model = model.Config,
            Step = TrainSteps,
            TrainLoss = loss,
            Extra = { ["written_by"] = $"{nameof(CheckpointInteropTests)}.{nameof(WriteOurTrainedCheckpoint)}" },
        });
        output.WriteLine($"wrote {path} (train loss {loss:F4}); now run /usr/bin/python3 tools/reference/checkpoint_fixtures.py --part ours");

        var (back, _) = Checkpoint.Load(path);
        Assert.Equal(model.Store.Values.ToArray(), back.Store.Values.ToArray());
    }

    private static Tensor Input(SafetensorsFile file, string name) => Tensor.FromArray(file[name].ToFloat32(), file[name].Shape);

    /// <summary>max |ours - ref| / max |ref| within tolerance, and reported, since the margin is worth knowing.</summary>
    private void AssertClose(float[] expected, ReadOnlySpan<float> actual, string what, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxRef = 0, maxDiff = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            maxRef = Math.Max(maxRef, Math.Abs(expected[i]));
            double d = Math.Abs((double)expected[i] - actual[i]);
            maxDiff = Math.Max(maxDiff, double.IsNaN(d) ? double.PositiveInfinity : d);
        }
        Assert.True(maxRef > 0, $"{what}: the reference is all zeros");
        double relative = maxDiff / maxRef;
        output.WriteLine($"{what}: relative error {relative:E2} (max |diff| {maxDiff:E2}, max |ref| {maxRef:E2}, tolerance {tolerance:E0})");
        Assert.True(relative <= tolerance, $"{what}: relative error {relative:E3} exceeds {tolerance:E1}");
    }
}
