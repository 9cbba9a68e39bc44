using System.Text.Json;
using Google.Protobuf;
using Xunit.Abstractions;
using SpriteDiffusion.Evaluation;
using SpriteDiffusion.IO.Pth;
using SpriteDiffusion.Onnx;
using SpriteDiffusion.Onnx.Proto;
using SpriteDiffusion.Tests.Cli;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>
/// pytorch-fid's FID Inception against tools/reference/fid_inception_fixtures.py: features to 1e-4
/// relative, FID to 1e-3 relative of scipy's sqrtm route, and two wrong patches that must fail.
/// </summary>
[Collection(FidInceptionCollection.Name)]
public class FidInceptionTests(FidInceptionFixture fixture, ITestOutputHelper output)
{
    private const double FeatureTolerance = 1e-4;
    private const double FidTolerance = 1e-3;

    /// <summary>max |ours - reference| / max |reference|, the fixtures' measure.</summary>
    private static double RelativeError(ReadOnlySpan<double> ours, ReadOnlySpan<double> reference)
    {
        Assert.Equal(reference.Length, ours.Length);
        double worst = 0, scale = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(ours[i] - reference[i]));
            scale = Math.Max(scale, Math.Abs(reference[i]));
        }
        return worst / scale;
    }

    [Fact]
    public void TheRebuiltWeightsAreTheBytesTorchSaveWroteInTheLegacyFormat()
    {
        Assert.Equal(fixture.Sha256, FidInceptionFixture.Sha256Of(fixture.WeightsPath));
        Assert.Equal(fixture.Sha256[..8], FidInceptionFeatures.HashPrefixOf(fixture.WeightsPath));
        Assert.Equal(fixture.Sha256, FidInceptionFeatures.VerifyHash(fixture.WeightsPath));
        var pth = PthFile.Read(fixture.WeightsPath);
        Assert.Equal(PthFormat.Legacy, pth.Format);
        Assert.Equal([1008, 2048], pth["fc.weight"].Shape);
    }

    [Fact]
    public void FeaturesAndFidMatchPyTorch()
    {
        var evaluator = new Evaluator(fixture.Extractor);
        var real = evaluator.Extract(fixture.Real);
        var fake = evaluator.Extract(fixture.Fake);
        Assert.Equal(FidInceptionOnnx.FeatureDimension, real.Dimension);
        double realError = RelativeError(real.Values, fixture.RealFeatures);
        double fakeError = RelativeError(fake.Values, fixture.FakeFeatures);
        Assert.True(realError < FeatureTolerance, $"real features differ by {realError:E2} relative");
        Assert.True(fakeError < FeatureTolerance, $"fake features differ by {fakeError:E2} relative");

        var result = evaluator.CompareFeatures(real, fake);
        Assert.Equal("FID (pytorch-fid Inception)", result.FidName);
        double fidError = Math.Abs(result.Fid - fixture.FidScipy) / fixture.FidScipy;
        output.WriteLine($"features: real {realError:E2}, fake {fakeError:E2} relative (PyTorch float32: {fixture.Float32FeatureError:E2}); "
            + $"FID {result.Fid:R} against scipy's {fixture.FidScipy:R}: {fidError:E2} relative");
        Assert.True(fidError < FidTolerance, $"FID {result.Fid} against pytorch-fid's {fixture.FidScipy}: {fidError:E2} relative");
        Assert.Contains("not pytorch-fid's published", fixture.Extractor.Name);
    }

    [Theory]
    [InlineData("count_include_pad")]
    [InlineData("mixed_7c_average_pool")]
    public void AWrongPatchFailsTheComparison(string mistake)
    {
        var model = ModelProto.Parser.ParseFrom(fixture.ModelBytes);
        int changed = 0;
        foreach (var node in model.Graph.Node)
        {
            if (mistake == "count_include_pad" && node.OpType == "AveragePool")
            {
                node.Attribute.Single(a => a.Name == "count_include_pad").I = 1;
                changed++;
            }
            else if (mistake == "mixed_7c_average_pool" && node.Name == "Mixed_7c.pool")
            {
                Assert.Equal("MaxPool", node.OpType);
                node.OpType = "AveragePool";
                node.Attribute.Add(new AttributeProto { Name = "count_include_pad", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
                changed++;
            }
        }
        Assert.Equal(mistake == "count_include_pad" ? 8 : 1, changed);

        const int count = 6;
        using var wrong = new OnnxFeatureExtractor(new OnnxFeatureOptions(fixture.WeightsPath)
        {
            ModelBytes = model.ToByteArray(),
            InputName = FidInceptionOnnx.InputName,
            OutputName = FidInceptionOnnx.OutputName,
            InputSize = FidInceptionOnnx.InputSize,
            InputRange = FeatureInputRange.Unit,
            BatchSize = count,
        });
        var features = new Evaluator(wrong).Extract(fixture.Real.Take(count));
        double error = RelativeError(features.Values, fixture.RealFeatures.AsSpan(0, count * FidInceptionOnnx.FeatureDimension));
        output.WriteLine($"{mistake}: {error:E2} relative");
        Assert.True(error > 10 * FeatureTolerance, $"the wrong patch ({mistake}) lands only {error:E2} from pytorch-fid's features");
    }

    [Fact]
    public void TheGraphHasPytorchFidsPools()
    {
        var model = ModelProto.Parser.ParseFrom(fixture.ModelBytes);
        var averages = model.Graph.Node.Where(n => n.OpType == "AveragePool").ToList();
        Assert.Equal(["Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7b"],
            averages.Select(n => n.Name.Split('.')[0]));
        Assert.All(averages, n => Assert.Equal(0, n.Attribute.Single(a => a.Name == "count_include_pad").I));
        Assert.Equal(["maxpool1", "maxpool2", "Mixed_6a.pool", "Mixed_7a.pool", "Mixed_7c.pool"],
            model.Graph.Node.Where(n => n.OpType == "MaxPool").Select(n => n.Name));
        Assert.All(model.Graph.Node.Where(n => n.OpType == "BatchNormalization"), n => Assert.Equal(0.001f, n.Attribute.Single().F));
        Assert.Equal(94, model.Graph.Node.Count(n => n.OpType == "Conv"));
    }

    [Fact]
    public void TheCommandReportsFidUnderPytorchFidsName()
    {
        using var temp = new TempDir();
        const int n = 12;
        string output = temp.File("out");
        var (code, stdout, stderr) = SpritesProcess.Run(temp.Path, "evaluate", "--real-dir", FidInceptionFixture.PathOf("real"),
            "--fake-dir", FidInceptionFixture.PathOf("fake"), "--n", $"{n}", "--features", $"inception:{fixture.WeightsPath}", "--out", output, "--kid-subsets", "5");
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("FID (pytorch-fid Inception)", stdout);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json")));
        var fid = doc.RootElement.GetProperty("fid");
        Assert.Equal("FID (pytorch-fid Inception)", fid.GetProperty("name").GetString());
        int d = FidInceptionOnnx.FeatureDimension;
        double expected = FrechetDistance.Compute(new FeatureMatrix(fixture.RealFeatures[..(n * d)], n, d), new FeatureMatrix(fixture.FakeFeatures[..(n * d)], n, d));
        Assert.True(Math.Abs(fid.GetProperty("value").GetDouble() - expected) < FidTolerance * expected, $"{fid.GetProperty("value").GetDouble()} against {expected}");
    }

    [Fact]
    public void PlainInceptionSearchesTheTorchHubCacheAndChecksTheHash()
    {
        using var temp = new TempDir();
        string checkpoints = Directory.CreateDirectory(temp.File("torch", "hub", "checkpoints")).FullName;
        // The fixture's weights under pytorch-fid's name: found, then refused, since their hash is not 6726825d.
        File.CreateSymbolicLink(Path.Combine(checkpoints, FidInceptionFeatures.FileName), fixture.WeightsPath);
        var result = SpritesProcess.RunWithEnvironment(temp.Path, new Dictionary<string, string> { ["TORCH_HOME"] = temp.File("torch") },
            "evaluate", "--real-dir", FidInceptionFixture.PathOf("real"), "--fake-dir", FidInceptionFixture.PathOf("fake"), "--features", "inception");
        SpritesProcess.AssertCleanFailure(result, $"its name says {FidInceptionFeatures.PublishedHashPrefix}");
        Assert.Contains(fixture.Sha256[..8], result.Out + result.Err);
    }
}

/// <summary>The weights file's checks that need no network.</summary>
public class FidInceptionFileTests
{
    [Fact]
    public void TheHashPrefixFollowsTorchHubsNaming()
    {
        Assert.Equal("6726825d", FidInceptionFeatures.HashPrefixOf("/x/pt_inception-2015-12-05-6726825d.pth"));
        Assert.Equal("0123abcdef", FidInceptionFeatures.HashPrefixOf("model-0123abcdef.pth"));
        Assert.Null(FidInceptionFeatures.HashPrefixOf("pt_inception.pth"));
        Assert.Null(FidInceptionFeatures.HashPrefixOf("model-1234.pth"));
        Assert.Null(FidInceptionFeatures.HashPrefixOf("model-6726825D.pth"));
    }

    [Fact]
    public void AFileWhoseHashDoesNotMatchItsNameIsRefused()
    {
        using var temp = new TempDir();
        byte[] bytes = [1, 2, 3, 4];
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        string good = temp.File($"w-{sha[..8]}.pth");
        File.WriteAllBytes(good, bytes);
        Assert.Equal(sha, FidInceptionFeatures.VerifyHash(good));

        string damaged = temp.File($"w-{(sha[0] == '0' ? '1' : '0')}{sha[1..8]}.pth");
        File.WriteAllBytes(damaged, bytes);
        var e = Assert.Throws<InvalidDataException>(() => FidInceptionFeatures.VerifyHash(damaged));
        Assert.Contains(damaged, e.Message);
        Assert.Contains("damaged or incomplete", e.Message);

        string unnamed = temp.File("weights.pth");
        File.WriteAllBytes(unnamed, bytes);
        Assert.Contains("carries no SHA-256 prefix", Assert.Throws<InvalidDataException>(() => FidInceptionFeatures.VerifyHash(unnamed)).Message);
        Assert.Throws<FileNotFoundException>(() => FidInceptionFeatures.VerifyHash(temp.File("missing-6726825d.pth")));
    }

    [Fact]
    public void AnotherNetworksStateDictIsNotTakenForTheInception()
    {
        var pth = PthFile.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "pth", "seed_nf8.legacy.pth"));
        var e = Assert.Throws<InvalidDataException>(() => FidInceptionOnnx.Build(pth));
        Assert.Contains("seed_nf8.legacy.pth", e.Message);
        Assert.Contains("Conv2d_1a_3x3.conv.weight", e.Message);
    }

    [Fact]
    public void TheSearchFoldersAreTorchHubs()
    {
        var folders = FidInceptionFeatures.SearchFolders();
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.Equal(Path.Combine(home, ".cache", "torch", "hub", "checkpoints"), folders[^1]);
        if (Environment.GetEnvironmentVariable("TORCH_HOME") is { Length: > 0 } torchHome)
            Assert.Equal(Path.GetFullPath(Path.Combine(torchHome, "hub", "checkpoints")), folders[0]);
        if (FidInceptionFeatures.Find() is null)
        {
            var e = Assert.Throws<FileNotFoundException>(() => FeatureNetworks.Open(FeatureNetworks.Inception));
            Assert.Contains(folders[^1], e.Message);
            Assert.Contains(FidInceptionFeatures.DownloadUrl, e.Message);
        }
    }

    [Fact]
    public void OnnxOnlySettingsAreRefusedForTheInception()
    {
        var e = Assert.Throws<ArgumentException>(() => FeatureNetworks.Open("inception:/nowhere-6726825d.pth", new OnnxFeatureOptions("") { InputSize = 224 }));
        Assert.Equal(nameof(OnnxFeatureOptions.InputSize), e.ParamName);
        Assert.Throws<ArgumentException>(() => FeatureNetworks.Open("inception:/nowhere-6726825d.pth", new OnnxFeatureOptions("") { OutputName = "x" }));
        Assert.Throws<FileNotFoundException>(() => FeatureNetworks.Open("inception:/nowhere-6726825d.pth"));
    }

    [Fact]
    public void OnlyThePytorchFidInceptionGetsItsFidName()
    {
        Assert.Equal("FID (pytorch-fid Inception)", MetricNames.Fid(FidInceptionFeatures.ShortName));
        Assert.Equal("FID (ResNet-18 features)", MetricNames.Fid(ResNet18Features.ShortName));
        Assert.Equal("KID (pytorch-fid Inception features)", MetricNames.Kid(FidInceptionFeatures.ShortName));
    }
}
