using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Tests.Engine;

public class CoreDistanceTests
{
    [Fact]
    public void ReportsATimeWithinTheCallsOwn()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double ns = CoreDistance.MeasureRoundTripNanoseconds(trips: 500, samples: 1);
        double wall = clock.Elapsed.TotalNanoseconds;
        // One run of 500 round trips, timed inside the call: positive, and no longer than the call.
        Assert.True(ns > 0 && 500 * ns <= wall, $"{ns} ns a round trip, the call took {wall:F0} ns");
    }

    [Fact]
    public async Task OverlappingCallsBothFinish()
    {
        // Each call has its own line: two at once must not wait on each other's values.
        var both = Task.WhenAll(
            Task.Run(() => CoreDistance.MeasureRoundTripNanoseconds(trips: 2000, samples: 2)),
            Task.Run(() => CoreDistance.MeasureRoundTripNanoseconds(trips: 2000, samples: 2)));
        var results = await both.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(results, ns => Assert.True(ns > 0));
    }

    [Fact]
    public void RejectsNoTrips()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CoreDistance.MeasureRoundTripNanoseconds(trips: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => CoreDistance.MeasureRoundTripNanoseconds(samples: 0));
    }
}
