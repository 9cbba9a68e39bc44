using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Evaluation;
using SpriteDiffusion.IO;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>Every problem a user can cause ends in an argument or data exception that names the file and what to do.</summary>
public class EvaluationErrorTests
{
    [Fact]
    public void MissingResNetModelNamesTheFileAndThePackage()
    {
        using var temp = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => ResNet18Features.Create(temp.Path));
        Assert.Contains("ResNet18.onnx", e.Message);
        Assert.Contains(ResNet18Features.PackageName, e.Message);
    }

    [Fact]
    public void MissingOnnxFileNamesIt()
    {
        var e = Assert.Throws<FileNotFoundException>(() => FeatureNetworks.Open("onnx:/no/such/inception.onnx"));
        Assert.Contains("/no/such/inception.onnx", e.Message);
    }

    [Fact]
    public void FileThatIsNotAModelIsAnInvalidDataError()
    {
        using var temp = new TempDir();
        string path = Path.Combine(temp.Path, "broken.onnx");
        var junk = new byte[300];
        new Random(4).NextBytes(junk);
        File.WriteAllBytes(path, junk);
        var e = Assert.Throws<InvalidDataException>(() => FeatureNetworks.Open("onnx:" + path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void UnknownNetworkAndRangeAreArgumentErrors()
    {
        string message = Assert.Throws<ArgumentException>(() => FeatureNetworks.Open("vgg16")).Message;
        Assert.Contains("onnx:PATH", message);
        Assert.Contains("inception:PATH", message);
        Assert.Contains("imagenet", Assert.Throws<ArgumentException>(() => FeatureNetworks.ParseRange("0-2")).Message);
        Assert.Equal(FeatureInputRange.Unit, FeatureNetworks.ParseRange("unit"));
    }

    [Fact]
    public void EmptyFolderSaysSo()
    {
        using var temp = new TempDir();
        File.WriteAllText(Path.Combine(temp.Path, "notes.txt"), "not an image");
        var e = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(temp.Path));
        Assert.Contains(temp.Path, e.Message);
        Assert.Contains("no .png", e.Message);
    }

    [Fact]
    public void MissingFolderSaysSo()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.Load("/no/such/folder"));
        Assert.Contains("/no/such/folder", e.Message);
    }

    [Fact]
    public void UnreadablePngNamesTheFile()
    {
        using var temp = new TempDir();
        ImageFolder.Save(ProceduralSprites.Make(3, seed: 1), temp.Path);
        string bad = Path.Combine(temp.Path, "00001.png");
        File.WriteAllBytes(bad, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        var e = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(temp.Path));
        Assert.Contains("00001.png", e.Message);
    }

    [Fact]
    public void ImagesOfDifferentSizesAreRefused()
    {
        using var temp = new TempDir();
        ImageFolder.Save(ProceduralSprites.Make(2, seed: 1), temp.Path);
        Png.Write(Path.Combine(temp.Path, "zz.png"), Png.FromRgb(8, 8, new byte[8 * 8 * 3]));
        var e = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(temp.Path));
        Assert.Contains("zz.png", e.Message);
        Assert.Contains("one size", e.Message);
    }

    [Fact]
    public void OneImageIsTooFewForACovariance()
    {
        var one = new FeatureMatrix([1.0, 2.0, 3.0], 1, 3);
        Assert.Throws<ArgumentException>(() => FrechetDistance.Statistics(one));
        Assert.Throws<ArgumentException>(() => KernelInceptionDistance.Compute(one, one));
    }

    [Fact]
    public void GenerationFromAMissingCheckpointNamesIt()
    {
        var e = Assert.Throws<FileNotFoundException>(() => GeneratedImages.FromCheckpoint(new GenerationRequest("model.safetensors", "ddim", 100, 0, 0, 10)));
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void GeneratedImagesAreReproducibleAndShaped()
    {
        using var temp = new TempDir();
        string path = TestCheckpoints.Tiny(temp);
        var request = new GenerationRequest(path, "ddim", 3, 0, 7, 5);
        var a = GeneratedImages.FromCheckpoint(request);
        var b = GeneratedImages.FromCheckpoint(request);
        Assert.Equal(5, a.Count);
        Assert.Equal(16, a.Size);
        Assert.Equal(a.Chw, b.Chw);
        Assert.NotEqual(a.Chw, GeneratedImages.FromCheckpoint(request with { Seed = 8 }).Chw);
        var (model, info) = Checkpoint.Load(path);
        Assert.Equal(a.Chw, GeneratedImages.FromModel(model, info, request).Chw);
    }
}
