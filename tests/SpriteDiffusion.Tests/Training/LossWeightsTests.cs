using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Tests.Diffusion;
using SpriteDiffusion.Training;
using Xunit.Abstractions;

namespace SpriteDiffusion.Tests.Training;

/// <summary>Min-SNR-gamma weights and the weighted loss against min_snr.safetensors (float64 torch autograd).</summary>
public class LossWeightsTests(ITestOutputHelper output)
{
    public static TheoryData<string, double, string> Cases()
    {
        var data = new TheoryData<string, double, string>();
        foreach (var schedule in new[] { "linear", "cosine" })
            foreach (double gamma in new[] { 5.0, 1.0 })
                foreach (var target in new[] { "eps", "v" })
                    data.Add(schedule, gamma, target);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void WeightsLossAndGradientMatchTorch(string schedule, double gamma, string target)
    {
        var file = DiffusionFixture.Load("min_snr");
        var alphaBar = NoiseSchedule.Create(schedule).AlphaBar;
        var t = file.Ints("t");
        string key = $"{schedule}/gamma{gamma:0.0}/{target}";
        var prediction = Prediction.Parse(target);

        var weights = t.Select(step => LossWeights.MinSnr(prediction, alphaBar[step], gamma)).ToArray();
        // float64 on both sides: only the schedule's own rounding (DiffusionFixture.DoubleTolerance) separates them.
        DiffusionFixture.AssertEachClose(file.Doubles(key + "/weight"), weights, key + "/weight");

        var pred = file.Floats("pred");
        var goal = file.Floats("target");
        var grad = new float[pred.Length];
        double loss = LossWeights.WeightedMse(pred, goal, weights, grad);
        double lossError = Math.Abs(loss - file.Scalar(key + "/loss")) / file.Scalar(key + "/loss");
        var expected = file.Doubles(key + "/grad");
        double maxRef = expected.Max(Math.Abs), maxDiff = expected.Select((e, i) => Math.Abs(e - grad[i])).Max();
        output.WriteLine($"{key}: loss {lossError:E2}, gradient {maxDiff / maxRef:E2}");
        // Like TensorOps.MseLoss, the differences are float32 (about 1e-8 of the loss) and the sums float64.
        Assert.True(lossError <= 1e-7, $"loss off by {lossError:E2}");
        Assert.True(maxDiff / maxRef <= 1e-6, $"gradient off by {maxDiff / maxRef:E2}");
    }

    [Fact]
    public void TheWeightsFollowThePaperAtBothEnds()
    {
        // SNR below gamma (high noise): the eps weight is 1 and the v weight SNR / (SNR + 1).
        double noisy = 0.1, snr = noisy / 0.9;
        Assert.Equal(1.0, LossWeights.MinSnr(PredictionTarget.Noise, noisy, 5), 15);
        Assert.Equal(snr / (snr + 1), LossWeights.MinSnr(PredictionTarget.Velocity, noisy, 5), 15);
        // SNR above gamma (little noise): gamma / SNR and gamma / (SNR + 1).
        double clean = 0.99;
        snr = clean / (1 - clean);
        Assert.Equal(5 / snr, LossWeights.MinSnr(PredictionTarget.Noise, clean, 5), 15);
        Assert.Equal(5 / (snr + 1), LossWeights.MinSnr(PredictionTarget.Velocity, clean, 5), 15);
        Assert.Throws<ArgumentOutOfRangeException>(() => LossWeights.MinSnr(PredictionTarget.Noise, 0.5, 0));
        Assert.Equal(LossWeighting.MinSnr, LossWeights.Parse("min-snr"));
        Assert.Throws<ArgumentException>(() => LossWeights.Parse("l1"));
    }

    [Fact]
    public void UnitWeightsAreThePlainMeanSquaredError()
    {
        var pred = DiffusionFixture.Gaussian(4 * 48, 1);
        var target = DiffusionFixture.Gaussian(4 * 48, 2);
        var plain = new float[pred.Length];
        var weighted = new float[pred.Length];
        double a = SpriteDiffusion.Layers.TensorOps.MseLoss(pred, target, plain);
        double b = LossWeights.WeightedMse(pred, target, [1.0, 1.0, 1.0, 1.0], weighted);
        Assert.Equal(a, b, 14);
        Assert.Equal(plain, weighted);
    }
}
