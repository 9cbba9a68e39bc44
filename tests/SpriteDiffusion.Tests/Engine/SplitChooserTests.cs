using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Tests.Engine;

public class SplitChooserTests
{
    // Runs `calls` calls through the chooser with each way taking the time `cost` gives it; returns
    // the ways taken.
    private static List<int> Run(SplitChooser chooser, int calls, Func<int, int, long> cost)
    {
        var ways = new List<int>();
        for (int i = 0; i < calls; i++)
        {
            int way = chooser.Next();
            ways.Add(way);
            chooser.Record(way, cost(i, way));
        }
        return ways;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void SettlesOnTheFasterWayAndStillTriesTheOther(int faster)
    {
        var chooser = new SplitChooser();
        // The first calls of each way are slow (warming up) and must not count: the faster way
        // warms up slower still, yet is the choice once each way has run once after its warm-up.
        var early = Run(chooser, 6, (i, way) => i < 4 ? (way == faster ? 2000 : 1000) : way == faster ? 90 : 100);
        Assert.Equal(faster, chooser.Best);
        var ways = early.Concat(Run(chooser, 194, (i, way) => way == faster ? 90 : 100)).ToList();
        Assert.Equal(faster, chooser.Best);
        Assert.Contains(0, ways.Take(6));
        Assert.Contains(1, ways.Take(6));
        var settled = ways.Skip(100).ToList();
        int other = settled.Count(w => w != faster);
        Assert.InRange(other, 100 / SplitChooser.ExploreEvery - 1, 100 / SplitChooser.ExploreEvery + 1);
    }

    [Fact]
    public void FollowsAChangeOfWhichWayIsFaster()
    {
        var chooser = new SplitChooser();
        Run(chooser, 300, (i, way) => way == 0 ? 90 : 100);
        Assert.Equal(0, chooser.Best);
        // Way 0 becomes 1.3x slower than way 1: within some explorations the choice moves.
        var ways = Run(chooser, 40 * SplitChooser.ExploreEvery, (i, way) => way == 0 ? 130 : 100);
        Assert.Equal(1, chooser.Best);
        Assert.True(ways.Skip(20 * SplitChooser.ExploreEvery).Count(w => w == 0) <= 21, "should mostly take way 1 once it is faster");
    }

    [Fact]
    public void OneStallDoesNotTurnTheChoice()
    {
        var chooser = new SplitChooser();
        Run(chooser, 300, (i, way) => way == 0 ? 90 : 100);
        // One call of the favoured way stalls (a thread descheduled); the next calls stay with it.
        var ways = Run(chooser, 10, (i, way) => i == 0 ? 50_000 : way == 0 ? 90 : 100);
        Assert.Equal(0, chooser.Best);
        Assert.True(ways.Skip(1).Count(w => w == 0) >= 8);
    }

    // Runs of 4 with typical times (the model's choice between one thread and two): way 0 is the
    // faster as a rule (100 against 130) but pays 400 on the first call after a switch; way 1's
    // times swing between 50 and 210 (fastest far below way 0's, typical 130).
    [Fact]
    public void InRunsTheSwitchIsNotTimedAndTypicalTimesDecide()
    {
        var chooser = new SplitChooser(exploreEvery: 64, run: 4, typicalTimes: true);
        int last = -1;
        var ways = Run(chooser, 1000, (i, way) =>
        {
            long t = way == 0 ? (way != last ? 400 : 100) : (i % 2 == 0 ? 50 : 210);
            last = way;
            return t;
        });
        Assert.Equal(0, chooser.Best);
        // The warm-up and trials alternate in runs of 4, then way 1 runs 4 calls in a row at each
        // exploration, and, being more than a tenth slower, only every 256 calls.
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1], ways.Take(16));
        var settled = ways.Skip(256).ToList();
        Assert.InRange(settled.Count(w => w == 1), 8, 12);
        for (int i = 1; i < settled.Count; i++)
            if (settled[i] == 1 && settled[i - 1] == 0) Assert.Equal([1, 1, 1, 1], settled.Skip(i).Take(4));
    }

    // The same times with the default estimate, which believes the fastest times: it takes way 1.
    [Fact]
    public void TheFastestTimesWouldPickTheWayThatSwings()
    {
        var chooser = new SplitChooser(exploreEvery: 64, run: 4);
        int last = -1;
        Run(chooser, 1000, (i, way) =>
        {
            long t = way == 0 ? (way != last ? 400 : 100) : (i % 2 == 0 ? 50 : 210);
            last = way;
            return t;
        });
        Assert.Equal(1, chooser.Best);
    }

    // Typical times start from the trials' medians: one stall on the faster way's first timed call
    // (1000 against its usual 100, the other way 110) does not hand the choice to the other way.
    [Fact]
    public void AStallInTheTrialsDoesNotHoldTheChoice()
    {
        var chooser = new SplitChooser(exploreEvery: 64, run: 4, typicalTimes: true);
        bool stalled = false;
        var ways = Run(chooser, 600, (i, way) =>
        {
            // Calls 16-19 are way 0's first trial run, whose first call (the switch) is not timed.
            if (i == 17) { stalled = true; return 1000; }
            return way == 0 ? 100 : 110;
        });
        Assert.True(stalled);
        Assert.Equal(0, chooser.Best);
        Assert.True(ways.Skip(32).Count(w => w == 1) <= 600 / 64 * 4 + 4, "should take way 0 from the end of the trials");
    }

    // Way 1 is the faster until call 300 (by a hair), then way 0 by far: the choice turns on the
    // first timed call of an exploration, and every run of a way still lasts the whole run (a
    // switch back within it would be two more untimed switches).
    [Fact]
    public void ARunKeepsItsWayWhenTheFavourTurns()
    {
        var chooser = new SplitChooser(exploreEvery: 16, run: 4, typicalTimes: true);
        var ways = Run(chooser, 2000, (i, way) => i < 300 ? (way == 0 ? 101 : 100) : way == 0 ? 50 : 100);
        Assert.Equal(0, chooser.Best);
        var segments = new List<int>();
        int length = 1;
        for (int i = 1; i < ways.Count; i++)
        {
            if (ways[i] == ways[i - 1]) length++;
            else { segments.Add(length); length = 1; }
        }
        Assert.All(segments, l => Assert.True(l >= 4, $"a run of {l} calls"));
    }
}
