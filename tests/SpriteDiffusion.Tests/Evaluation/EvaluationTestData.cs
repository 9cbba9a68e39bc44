using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Data;
using SpriteDiffusion.Evaluation;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>Small data sets and checkpoints that agree on their classes, so checkpoint-mode evaluation runs in seconds.</summary>
internal static class EvaluationTestData
{
    public static readonly string[] FiveClasses = ["a", "b", "c", "d", "e"];

    /// <summary>
    /// A data-set folder of procedural sprites, counts[c] of class c, stored sorted by class as the
    /// bundled set is; returns its path.
    /// </summary>
    public static string WriteDataSet(TempDir temp, string name, int[] counts, string[] classNames, int seed)
    {
        int n = counts.Sum(), size = 16, length = size * size * 3;
        var images = ProceduralSprites.Make(n, seed);
        var pixels = new byte[n * length];
        for (int i = 0; i < n; i++) SpritePixels.ChwToHwc(images.Image(i), pixels.AsSpan(i * length, length), size);
        var oneHot = new double[n * classNames.Length];
        int row = 0;
        for (int c = 0; c < counts.Length; c++)
            for (int i = 0; i < counts[c]; i++) oneHot[row++ * classNames.Length + c] = 1;
        string dir = Directory.CreateDirectory(temp.File(name)).FullName;
        Npy.Write<byte>(Path.Combine(dir, SpriteDataset.ImagesFileName), pixels, [n, size, size, 3]);
        Npy.Write<double>(Path.Combine(dir, SpriteDataset.LabelsFileName), oneHot, [n, classNames.Length]);
        ClassNamesFile.Write(Path.Combine(dir, ClassNamesFile.FileName), classNames);
        return dir;
    }

    /// <summary>An untrained n_feat 8 checkpoint naming <paramref name="classNames"/>, recording <paramref name="split"/> and the <paramref name="data"/> folder as the trainer does.</summary>
    public static string Checkpoint(TempDir temp, string file, string[] classNames, bool conditional = false, TrainingSplit? split = null, string? data = null)
    {
        string path = temp.File(file);
        var model = new UNet(new UNetConfig(NFeat: 8, NCFeat: classNames.Length), seed: 5);
        var extra = split is null ? new Dictionary<string, string>() : new Dictionary<string, string>(split.ToMetadata());
        if (data is not null) extra["data"] = data;
        SpriteDiffusion.Checkpoints.Checkpoint.Save(path, model, new CheckpointInfo
        {
            Model = model.Config, ClassNames = classNames, Conditional = conditional, ContextDropout = conditional ? 0.1 : 0, Extra = extra,
        });
        return path;
    }
}
