using SpriteDiffusion.Tests.Diffusion;
using SpriteDiffusion.Training;

namespace SpriteDiffusion.Tests.Training;

/// <summary>
/// Learning rates per step against lr_schedule.safetensors: torch.optim.lr_scheduler's LinearLR,
/// CosineAnnealingLR, ConstantLR and SequentialLR (checked there against the closed form), and the
/// closed form for the re-planned runs, which torch has no scheduler for.
/// </summary>
public class LearningRateScheduleTests
{
    private const double Peak = 1e-3, Floor = 1e-5;

    /// <summary>Both sides compute in float64 from the same formulas; torch's recursive forms add a few ulps.</summary>
    private const double Tolerance = 1e-12;

    private static void AssertRates(string name, LearningRateSchedule schedule, Func<long, LearningRateSchedule>? at = null)
    {
        var expected = DiffusionFixture.Load("lr_schedule").Doubles(name);
        var actual = new double[expected.Length];
        for (int n = 0; n < actual.Length; n++) actual[n] = (at?.Invoke(n) ?? schedule).At(n);
        DiffusionFixture.AssertEachClose(expected, actual, name, Tolerance);
    }

    [Fact]
    public void WarmUpThenDecayMatchesTorch()
    {
        AssertRates("cosine_w10_s100", new(LearningRateDecay.Cosine, Peak, 10, Floor, 100));
        AssertRates("linear_w10_s100", new(LearningRateDecay.Linear, Peak, 10, Floor, 100));
        AssertRates("cosine_w0_s100_floor0", new(LearningRateDecay.Cosine, Peak, 0, 0, 100));
        AssertRates("constant_w10", new(LearningRateDecay.Constant, Peak, 10, Floor, 100));
    }

    [Theory]
    [InlineData("cosine", LearningRateDecay.Cosine)]
    [InlineData("linear", LearningRateDecay.Linear)]
    public void ARunGivenMoreStepsStretchesTheRestOfItsDecay(string name, LearningRateDecay decay)
    {
        var planned = new LearningRateSchedule(decay, Peak, 10, Floor, 100);
        var stretched = planned.Replan(60, 160);
        AssertRates($"{name}_w10_s100_replanned_at60_s160", planned, n => n < 60 ? planned : stretched);
        // Continuous where it was re-planned: step 60 trains at the rate it would have.
        Assert.Equal(planned.At(60), stretched.At(60));
        Assert.Equal(planned.Progress(60), stretched.DecayStartProgress);
        Assert.Equal(Floor, stretched.At(160), 15);
    }

    [Fact]
    public void ATimeBudgetRunHoldsThePeakUntilItIsPlanned()
    {
        var unplanned = new LearningRateSchedule(LearningRateDecay.Cosine, Peak, 5, Floor, 0);
        Assert.Equal(Peak, unplanned.At(29));
        Assert.Equal(Peak / 5, unplanned.At(0));
        var planned = unplanned.Replan(30, 120);
        AssertRates("cosine_w5_planned_at30_s120", planned, n => n < 30 ? unplanned : planned);
        // Planned within the warm-up, only the end moves.
        Assert.Equal(5, unplanned.Replan(3, 50).DecayStartStep);
    }

    [Fact]
    public void NamesRoundTripAndImpossibleSchedulesAreRefused()
    {
        foreach (string name in LearningRateSchedule.Names)
            Assert.Equal(name, LearningRateSchedule.Name(LearningRateSchedule.Parse(name)));
        Assert.Throws<ArgumentException>(() => LearningRateSchedule.Parse("step"));
        Assert.Equal("floor", Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateSchedule(LearningRateDecay.Cosine, Peak, 0, 2 * Peak, 10)).ParamName);
        Assert.Equal("warmupSteps", Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateSchedule(LearningRateDecay.Cosine, Peak, -1, 0, 10)).ParamName);
        // Past its plan a run stays at the floor.
        Assert.Equal(Floor, new LearningRateSchedule(LearningRateDecay.Linear, Peak, 0, Floor, 10).At(25), 15);
    }
}
