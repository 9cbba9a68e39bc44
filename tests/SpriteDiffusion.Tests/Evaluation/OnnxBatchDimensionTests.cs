using Microsoft.ML.OnnxRuntime;
using SpriteDiffusion.Evaluation;

namespace SpriteDiffusion.Tests.Evaluation;

public class OnnxBatchDimensionTests
{
    private static string PreprocessPath => Path.Combine(ResNet18Features.DefaultModelDirectory, ResNet18Features.PreprocessFile);

    [Fact]
    public void RewrittenModelTakesAnyBatchAndComputesTheSame()
    {
        byte[] original = File.ReadAllBytes(PreprocessPath);
        byte[] rewritten = OnnxBatchDimension.MakeBatchDynamic(original, new HashSet<string> { "OriginalInput" }, new HashSet<string> { "PreprocessedInput" });
        using var fixedSession = new InferenceSession(original);
        using var batchSession = new InferenceSession(rewritten);
        Assert.Equal(1, fixedSession.InputMetadata["OriginalInput"].Dimensions[0]);
        Assert.Equal(-1, batchSession.InputMetadata["OriginalInput"].Dimensions[0]);
        Assert.Equal(-1, batchSession.OutputMetadata["PreprocessedInput"].Dimensions[0]);
        Assert.Equal([3, 224, 224], batchSession.InputMetadata["OriginalInput"].Dimensions[1..]);

        int plane = 3 * 224 * 224;
        var batch = new float[3 * plane];
        var rng = new Random(6);
        for (int i = 0; i < batch.Length; i++) batch[i] = rng.Next(256);
        using var input = OrtValue.CreateTensorValueFromMemory(batch, [3, 3, 224, 224]);
        using var results = batchSession.Run(new RunOptions(), ["OriginalInput"], [input], ["PreprocessedInput"]);
        var all = results[0].GetTensorDataAsSpan<float>().ToArray();
        for (int n = 0; n < 3; n++)
        {
            using var one = OrtValue.CreateTensorValueFromMemory(batch[(n * plane)..((n + 1) * plane)], [1, 3, 224, 224]);
            using var single = fixedSession.Run(new RunOptions(), ["OriginalInput"], [one], ["PreprocessedInput"]);
            Assert.True(single[0].GetTensorDataAsSpan<float>().SequenceEqual(all.AsSpan(n * plane, plane)), $"image {n}");
        }
    }

    [Fact]
    public void GarbageIsNotAModel()
    {
        Assert.Throws<InvalidDataException>(() =>
            OnnxBatchDimension.MakeBatchDynamic([0x0A, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2], new HashSet<string> { "a" }, new HashSet<string> { "b" }));
    }
}
