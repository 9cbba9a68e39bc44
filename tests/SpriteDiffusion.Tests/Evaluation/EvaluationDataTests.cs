using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Cli;
using SpriteDiffusion.Data;
using SpriteDiffusion.Evaluation;
using SpriteDiffusion.Model;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>The run's split read back from a checkpoint, the data divided by it, the real-set names and the class check.</summary>
public class EvaluationDataTests
{
    [Fact]
    public void SplitMetadataRoundTripsWithAndWithoutALimit()
    {
        foreach (var split in new[] { new TrainingSplit(0.1, 42, null), new TrainingSplit(0.23, -7, 120), new TrainingSplit(1.0 / 3, 0, 2) })
        {
            var metadata = new Dictionary<string, string>(split.ToMetadata());
            Assert.Equal(split.Limit is null ? 2 : 3, metadata.Count);
            Assert.Equal(split, TrainingSplit.FromMetadata(metadata, "x.safetensors"));
        }
        Assert.Null(TrainingSplit.FromMetadata(new Dictionary<string, string> { ["data"] = "data/twemoji16", ["seed"] = "0" }, "x"));
    }

    [Fact]
    public void PartOfASplitOrABadValueIsRefusedByName()
    {
        var partial = Assert.Throws<InvalidDataException>(() => TrainingSplit.FromMetadata(new Dictionary<string, string> { [TrainingSplit.SeedKey] = "3" }, "run/best.safetensors"));
        Assert.Contains("run/best.safetensors", partial.Message);
        Assert.Contains(TrainingSplit.ValidationFractionKey, partial.Message);
        var fraction = Assert.Throws<InvalidDataException>(() => TrainingSplit.FromMetadata(
            new Dictionary<string, string> { [TrainingSplit.SeedKey] = "3", [TrainingSplit.ValidationFractionKey] = "1.5" }, "m"));
        Assert.Contains("'1.5'", fraction.Message);
        var limit = Assert.Throws<InvalidDataException>(() => TrainingSplit.FromMetadata(
            new Dictionary<string, string> { [TrainingSplit.SeedKey] = "3", [TrainingSplit.ValidationFractionKey] = "0.1", [TrainingSplit.LimitKey] = "ten" }, "m"));
        Assert.Contains("'ten'", limit.Message);
    }

    [Fact]
    public void DividingMatchesTheTrainersDrawsAndKeepsDataSetRows()
    {
        var data = Labelled(97, seed: 4);
        var split = new TrainingSplit(0.25, 9, 61);
        var divided = EvaluationData.Divide(data, "mem", split);
        // What the trainer does (Trainer.Run): subset by the limit, then split, both with the split seed.
        var all = data.Subset(61, 9);
        var (train, validation) = all.Split(0.25, 9);
        Assert.Equal(97, divided.DataSetCount);
        Assert.Equal(all.Images, divided.All.Images);
        Assert.Equal(train.Images, divided.Train.Images);
        Assert.Equal(validation.Images, divided.Validation.Images);
        Assert.Equal((61, 46, 15), (divided.All.Count, divided.Train.Count, divided.Validation.Count));
        foreach (var (part, rows) in new[] { (divided.All, divided.AllRows), (divided.Train, divided.TrainRows), (divided.Validation, divided.ValidationRows) })
        {
            Assert.Equal(part.Count, rows.Length);
            for (int i = 0; i < part.Count; i++)
            {
                Assert.Equal(data.Image(rows[i]).ToArray(), part.Image(i).ToArray());
                Assert.Equal(data.Labels[rows[i]], part.Labels[i]);
            }
        }
        Assert.Same(divided.Validation, divided.Real(RealSet.Validation));
        Assert.Same(divided.TrainRows, divided.RealRows(RealSet.Train));

        // Another seed draws other images, so a regression to fixed defaults would show.
        var other = EvaluationData.Divide(data, "mem", split with { Seed = 10 });
        Assert.NotEqual(divided.ValidationRows, other.ValidationRows);
        var unlimited = EvaluationData.Divide(data, "mem", split with { Limit = null });
        Assert.Equal(97, unlimited.All.Count);
        Assert.Equal(97, EvaluationData.Divide(data, "mem", split with { Limit = 200 }).All.Count);
    }

    [Fact]
    public void RealSetNamesParseAndABadOneNamesTheFlag()
    {
        Assert.Equal(RealSet.All, RealSets.Parse("all"));
        Assert.Equal(RealSet.Train, RealSets.Parse(" Train"));
        Assert.Equal(RealSet.Validation, RealSets.Parse("val"));
        Assert.Equal(RealSet.Validation, RealSets.Parse("validation"));
        foreach (var set in Enum.GetValues<RealSet>()) Assert.Equal(set, RealSets.Parse(set.Name()));
        var e = Assert.Throws<ArgumentException>(() => RealSets.Parse("test"));
        Assert.DoesNotContain("--", e.Message);
        string? line = ErrorMessages.ForUser(e, "evaluate");
        Assert.NotNull(line);
        Assert.StartsWith("--real: unknown real set 'test'", line);
    }

    [Fact]
    public void ADataSetWithOtherClassesIsRefusedAsTheDataFlag()
    {
        var data = EvaluationData.Divide(Labelled(20, seed: 1), "data/mine", TrainingSplit.Default);
        var config = new UNetConfig(NFeat: 8, NCFeat: 3);
        data.RequireClassesOf(new CheckpointInfo { Model = config, ClassNames = ["x", "y", "z"] }, "m.safetensors", guided: true);

        var renamed = new CheckpointInfo { Model = config, ClassNames = ["x", "y", "w"], Extra = new() { ["data"] = "data/other" } };
        var e = Assert.Throws<ArgumentException>(() => data.RequireClassesOf(renamed, "m.safetensors", guided: false));
        Assert.Equal("dataDirectory", e.ParamName);
        Assert.Contains("m.safetensors", e.Message);
        Assert.Contains("data/mine", e.Message);
        Assert.Contains("'data/other'", e.Message);
        Assert.StartsWith("--data: ", ErrorMessages.ForUser(e, "evaluate"));

        // A state dict names no classes: only its class inputs count, and only when classes are used.
        var bare = new CheckpointInfo { Model = config with { NCFeat = 5 } };
        data.RequireClassesOf(bare, "seed.pth", guided: false);
        Assert.Throws<ArgumentException>(() => data.RequireClassesOf(bare, "seed.pth", guided: true));
        Assert.Throws<ArgumentException>(() => data.RequireClassesOf(bare with { Conditional = true }, "seed.pth", guided: false));
    }

    [Fact]
    public void GuidedClassesFollowTheRealProportionsEvenWhenLabelsAreSorted()
    {
        int[] labels = [.. Enumerable.Repeat(0, 30), .. Enumerable.Repeat(1, 20), .. Enumerable.Repeat(2, 6), .. Enumerable.Repeat(3, 2), .. Enumerable.Repeat(4, 2)];
        var drawn = ClassDraw.Proportional(labels, 5, 40);
        Assert.Equal(40, drawn.Length);
        // 40 x (30, 20, 6, 2, 2) / 60 = 20, 13.33, 4, 1.33, 1.33: the one left over goes to the lowest of the tied remainders.
        Assert.Equal([20, 14, 4, 1, 1], Enumerable.Range(0, 5).Select(c => drawn.Count(x => x == c)).ToArray());
        Assert.Equal(drawn.Order().ToArray(), drawn);
        Assert.Equal(labels.Length, ClassDraw.Proportional(labels, 5, labels.Length).Length);
        Assert.Equal(labels, ClassDraw.Proportional(labels, 5, labels.Length));
        // 3 x (30, 20, 6, 2, 2, 0) / 60 = 1.5, 1, 0.3, 0.1, 0.1, 0: a class without real images draws none.
        Assert.Equal([0, 0, 1], ClassDraw.Proportional(labels, 6, 3));
        Assert.Throws<ArgumentException>(() => ClassDraw.Proportional([0, 7], 5, 3));
    }

    /// <summary>A data set whose images are all different (their first value is the row), with labels over three classes.</summary>
    private static SpriteDataset Labelled(int count, int seed)
    {
        var rng = new Random(seed);
        int length = 3 * 16 * 16;
        var images = new float[count * length];
        for (int i = 0; i < images.Length; i++) images[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < count; i++) images[i * length] = i / (float)count;
        var labels = Enumerable.Range(0, count).Select(i => rng.Next(3)).ToArray();
        return new SpriteDataset(images, labels, ["x", "y", "z"], 16);
    }
}
