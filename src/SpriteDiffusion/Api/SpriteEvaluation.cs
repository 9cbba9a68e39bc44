using SpriteDiffusion.Evaluation;

namespace SpriteDiffusion;

/// <summary>Compares two sets of sprites from code: FID and KID over ResNet-18 features, as <c>sprites evaluate</c> does.</summary>
public static class SpriteEvaluation
{
    /// <summary>
    /// FID and KID between two folders of PNG sprites (thousands in each for numbers worth
    /// comparing), over the bundled ImageNet ResNet-18's pooled features. Named as such: this is
    /// not Inception FID.
    /// </summary>
    /// <param name="realDirectory">A folder of real sprites (.png).</param>
    /// <param name="generatedDirectory">A folder of generated sprites (.png) of the same size.</param>
    /// <param name="progress">Told how many images have been through the feature network.</param>
    /// <exception cref="DirectoryNotFoundException">A folder does not exist.</exception>
    /// <exception cref="InvalidDataException">A folder holds no PNGs, images of mixed sizes, or fewer than two images.</exception>
    public static EvaluationResult CompareFolders(string realDirectory, string generatedDirectory, IProgress<int>? progress = null)
    {
        var real = ImageFolder.Load(realDirectory);
        var generated = ImageFolder.Load(generatedDirectory);
        using var features = FeatureNetworks.Open(FeatureNetworks.ResNet18);
        return new Evaluator(features).Compare(real, generated, progress, progress);
    }
}
