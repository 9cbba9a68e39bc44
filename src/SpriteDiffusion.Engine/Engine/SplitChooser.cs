namespace SpriteDiffusion.Engine;

/// <summary>
/// Picks, for one layer that runs call after call, the faster of two ways of splitting its work over
/// the threads, by timing both where they run. Only for ways that compute the same bits: the choice
/// changes the speed, never the result.
/// <para>
/// No rule fixed in advance picks right everywhere. A batch of one split by tile rows has the threads
/// write the two halves of every channel plane, neighbouring cache lines that the cores' prefetchers
/// then pull back and forth; between cores that share a cache that costs little and the split saves
/// work, between chiplets (or on a VM whose cores are moved about) it costs several times more.
/// Measured on one shared Zen 5 VM an hour apart: n_feat 64 by rows 1.05x faster, then 0.92x.
/// </para>
/// <para>
/// Each layer times only itself, though part of a split's cost falls on the next layer (the cores
/// hold rows or whole planes of its input), so the layers settle on the fastest split given their
/// neighbours', not necessarily the fastest mix end to end; against the rows split everywhere it
/// measured 1.06x-1.08x with the cores far apart. Not thread-safe: a layer used from two threads at
/// once may choose worse, never compute differently.
/// </para>
/// </summary>
internal sealed class SplitChooser(int exploreEvery = SplitChooser.ExploreEvery, int run = 1, bool typicalTimes = false)
{
    /// <summary>By default, every this many calls the way out of favour runs once, so that a change shows.</summary>
    internal const int ExploreEvery = 16;

    // Calls of each way before its timings count: the first pay for warming buffers and code.
    private const int WarmUp = 2;

    private readonly double[] _ticks = [double.NaN, double.NaN];
    private long _calls;
    private int _best, _last = -1, _runWay, _runLeft;
    private bool _switched;
    // Runs that alternate the ways after the warm-up: one of each, or with typical times two, so
    // that the averages start from more than one time each.
    private readonly int _trialRuns = typicalTimes ? 4 : 2;
    // With typical times, the trials' times of each way, whose medians start the averages: one
    // slow first time (a stall) would otherwise hold the choice for hundreds of calls.
    private readonly List<double>[]? _trialTimes = typicalTimes ? [new(3 * run), new(3 * run)] : null;

    private long TrialEnd => (2L * WarmUp + _trialRuns) * run;

    /// <summary>
    /// The way (0 or 1) the next call should take. The ways are tried in runs of
    /// <c>run</c> calls (the warm-up, the trials, each exploration every <c>exploreEvery</c> calls);
    /// with runs longer than one, a call that follows the other way's is not timed: it pays for the
    /// switch (the other core's caches, a worker woken), which the way's later calls do not.
    /// </summary>
    public int Next()
    {
        long call = _calls++;
        if (_trialTimes is not null && call == TrialEnd) StartFromTrials();
        int way;
        if (_runLeft > 0)
        {
            // A run keeps its way, even where the favour turns during it.
            _runLeft--;
            way = _runWay;
        }
        else
        {
            way = call < TrialEnd ? (int)(call / run % 2) : call % ExplorePeriod < run ? 1 - _best : _best;
            (_runWay, _runLeft) = (way, way != _best || call < TrialEnd ? run - 1 : 0);
        }
        _switched = way != _last;
        _last = way;
        return way;
    }

    private void StartFromTrials()
    {
        for (int way = 0; way < 2; way++)
        {
            var times = _trialTimes![way];
            if (times.Count == 0) continue;
            times.Sort();
            _ticks[way] = times[times.Count / 2];
        }
        if (!double.IsNaN(_ticks[0]) && !double.IsNaN(_ticks[1])) _best = _ticks[0] <= _ticks[1] ? 0 : 1;
    }

    // With typical times, a way a tenth slower or more is tried a quarter as often: a run of it and
    // the switches there and back cost the most (n_feat 32 on two threads against one, cores far:
    // about 0.8 ms, 3% of the step at every 64th call; n_feat 64 on one thread against two: 3%),
    // and a change of that size takes a while to come.
    private long ExplorePeriod =>
        typicalTimes && _ticks[1 - _best] > 1.1 * _ticks[_best] ? 4L * exploreEvery : exploreEvery;

    /// <summary>
    /// How long (in any unit, the same for both) a call that took <paramref name="way"/> ran; called
    /// after each <see cref="Next"/>, before the next one (the warm-up is counted in calls).
    /// </summary>
    public void Record(int way, long ticks)
    {
        if (_calls <= 2 * WarmUp * run || run > 1 && _switched) return;
        if (_trialTimes is not null && _calls <= TrialEnd)
        {
            _trialTimes[way].Add(ticks);
            return;
        }
        double t = ticks, average = _ticks[way];
        if (double.IsNaN(average)) _ticks[way] = t;
        // With typicalTimes, an average that moves an eighth of the way to each time, counted as
        // half to twice it at most (so that a stall moves it an eighth): for ways whose own times
        // vary widely (two threads whose cores drift apart and back), where the fastest call says
        // little of the usual one.
        else if (typicalTimes) _ticks[way] = average + (Math.Clamp(t, 0.5 * average, 2 * average) - average) / 8;
        // Else one that follows a faster time at once and a slower one slowly, counting it as at
        // most a quarter slower: noise (another process, an interrupt) only ever adds time, so the
        // low times are the ones to believe, and one stall (+3 % at most) must not turn the choice.
        else _ticks[way] = t < average ? t : average + (Math.Min(t, 1.25 * average) - average) / 8;
        if (!double.IsNaN(_ticks[1 - way])) _best = _ticks[0] <= _ticks[1] ? 0 : 1;
    }

    /// <summary>The way in favour now.</summary>
    public int Best => _best;
}
