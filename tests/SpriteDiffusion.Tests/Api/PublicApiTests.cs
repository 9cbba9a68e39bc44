using SpriteDiffusion.Data;
using SpriteDiffusion.Imaging;
using SpriteDiffusion.IO;
using SpriteDiffusion.Runs;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Api;

/// <summary>The library as a .NET program uses it: load, generate, train, evaluate, with progress and cancellation.</summary>
public class PublicApiTests
{
    private sealed class Recorder<T> : IProgress<T>
    {
        public List<T> Reports { get; } = [];
        public void Report(T value) => Reports.Add(value);
    }

    [Fact]
    public void TheBundledModelDrawsTheSameClassSpritesForTheSameSeed()
    {
        var model = SpriteModel.LoadBundled();
        Assert.True(model.IsConditional);
        Assert.Contains("Flags", model.ClassNames);
        var options = new GenerationOptions { Count = 3, Steps = 4, Class = "Flags", Seed = 9 };
        var progress = new Recorder<GenerationProgress>();
        var first = model.Generate(options, progress);
        var again = model.Generate(options);
        var other = model.Generate(options with { Seed = 10 });

        Assert.Equal(3, first.Count);
        Assert.All(first, s => Assert.Equal((16, 16, "Flags"), (s.Image.Width, s.Image.Height, s.ClassName)));
        Assert.Equal(["Flags_000", "Flags_001", "Flags_002"], first.Select(s => s.Name));
        Assert.Equal(first.Select(s => s.Image.Pixels), again.Select(s => s.Image.Pixels));
        Assert.NotEqual(first[0].Image.Pixels, other[0].Image.Pixels);
        Assert.Equal(Enumerable.Range(1, 4).Select(i => new GenerationProgress(i, 4)), progress.Reports);
    }

    [Fact]
    public void GenerationStopsWhenCancelledAndRefusesWhatTheModelCannotDo()
    {
        var model = SpriteModel.LoadBundled();
        using var cancel = new CancellationTokenSource();
        var progress = new Recorder<GenerationProgress>();
        var stopAfterTwo = new Progress2(cancel, progress);
        Assert.ThrowsAny<OperationCanceledException>(() => model.Generate(new GenerationOptions { Count = 2, Steps = 10 }, stopAfterTwo, cancel.Token));
        Assert.Equal(2, progress.Reports.Count);
        Assert.Equal("nameOrIndex", Assert.Throws<ArgumentException>(() => model.Generate(new GenerationOptions { Class = "zebras" })).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Generate(new GenerationOptions { Count = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Generate(new GenerationOptions { Sampler = SamplerKind.Ddpm, Steps = 10 }));
    }

    private sealed class Progress2(CancellationTokenSource cancel, Recorder<GenerationProgress> inner) : IProgress<GenerationProgress>
    {
        public void Report(GenerationProgress value)
        {
            inner.Report(value);
            if (value.Step == 2) cancel.Cancel();
        }
    }

    [Fact]
    public void SpritesSaveAndPackIntoASheetInPaletteColours()
    {
        using var dir = new TempDir();
        var sprites = SpriteModel.LoadBundled().Generate(new GenerationOptions
        {
            Count = 5, Steps = 3, Finish = new SpriteFinish { Palette = Palette.BuiltIn("gameboy") },
        });
        sprites[4].SavePng(dir.File("one.png"), scale: 3);
        var png = Png.Read(dir.File("one.png"));
        Assert.Equal((48, 48), (png.Width, png.Height));
        string atlas = Sprite.ToSheet(sprites).Write(dir.File("sheet.png"), AtlasFormat.TexturePackerHash);
        Assert.Contains("sprite_004", File.ReadAllText(atlas));
        var gameboy = Palette.BuiltIn("gameboy").Colors.ToHashSet();
        var pixels = sprites[0].Image.Pixels;
        for (int p = 0; p < 16 * 16; p++)
        {
            var colour = new RgbColor(pixels[4 * p], pixels[4 * p + 1], pixels[4 * p + 2]);
            // A palette maps visible pixels only; an RGBA model's transparent ones keep the data set's colour.
            if (pixels[4 * p + 3] == 0) Assert.Equal(SpritePixels.TransparentColor, colour);
            else Assert.Contains(colour, gameboy);
        }
    }

    [Fact]
    public void TrainingReportsProgressAndACancelledRunResumes()
    {
        using var dir = new TempDir();
        var options = new TrainingOptions { Data = BundledData.DefaultDirectory, NFeat = 8, Epochs = 2, BatchSize = 16, Limit = 80, Output = dir.File("run"), Samples = 0 };
        using var cancel = new CancellationTokenSource();
        var progress = new CancelAt(cancel, 3);
        var stopped = SpriteTraining.Train(options, progress, cancel.Token);
        Assert.True(stopped.Interrupted);
        Assert.Equal(3, progress.Reports.Count);
        Assert.Equal((1, 2, 1), (progress.Reports[0].Epoch, progress.Reports[0].Epochs, progress.Reports[0].Batch));
        Assert.All(progress.Reports, r => Assert.True(double.IsFinite(r.Loss) && r.Loss > 0));
        Assert.NotNull(progress.Reports[^1].Remaining);

        var finished = SpriteTraining.Train(options, resume: true);
        Assert.False(finished.Interrupted);
        Assert.Equal(2, finished.EpochsCompleted);
        Assert.Equal(8, SpriteModel.Load(finished.BestCheckpoint).Info.Model.NFeat);
        Assert.Equal(nameof(TrainingOptions.Epochs), Assert.Throws<ArgumentOutOfRangeException>(() => SpriteTraining.Train(options with { Epochs = 0 })).ParamName);
    }

    private sealed class CancelAt(CancellationTokenSource cancel, int steps) : IProgress<TrainingProgress>
    {
        public List<TrainingProgress> Reports { get; } = [];
        public void Report(TrainingProgress value)
        {
            Reports.Add(value);
            if (Reports.Count == steps) cancel.Cancel();
        }
    }

    [Fact]
    public void TwoFoldersCompareOverResNetFeatures()
    {
        using var dir = new TempDir();
        var model = SpriteModel.LoadBundled();
        var a = model.Generate(new GenerationOptions { Count = 6, Steps = 3, Seed = 1 });
        var b = model.Generate(new GenerationOptions { Count = 6, Steps = 3, Seed = 2 });
        Directory.CreateDirectory(dir.File("a"));
        Directory.CreateDirectory(dir.File("b"));
        foreach (var s in a) s.SavePng(dir.File("a", $"{s.Index}.png"));
        foreach (var s in b) s.SavePng(dir.File("b", $"{s.Index}.png"));
        var result = SpriteEvaluation.CompareFolders(dir.File("a"), dir.File("b"));
        Assert.Equal((6, 6), (result.RealCount, result.GeneratedCount));
        Assert.True(double.IsFinite(result.Fid) && result.Fid > 0, $"FID {result.Fid}");
    }
}
