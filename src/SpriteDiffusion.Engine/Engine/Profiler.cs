using System.Diagnostics;

namespace SpriteDiffusion.Engine;

/// <summary>
/// Wall time per kind of operation, for `sprites bench --profile`. Off by default; when on, a
/// scope costs two timestamp reads. Scopes are opened only from the thread that drives the model.
/// </summary>
public static class Profiler
{
    private static readonly List<string> Names = [];
    private static long[] _ticks = new long[64];
    private static long[] _calls = new long[64];

    /// <summary>Whether <see cref="Measure"/> times anything. Set it before the work to profile starts, not while scopes are open.</summary>
    public static bool Enabled { get; set; }

    /// <summary>
    /// The id of the named operation for <see cref="Measure"/>, registering the name on first use.
    /// Layers call it once, into a static field; safe from any thread.
    /// </summary>
    public static int Register(string name)
    {
        lock (Names)
        {
            int i = Names.IndexOf(name);
            if (i >= 0) return i;
            Names.Add(name);
            if (Names.Count > _ticks.Length) { Array.Resize(ref _ticks, _ticks.Length * 2); Array.Resize(ref _calls, _calls.Length * 2); }
            return Names.Count - 1;
        }
    }

    /// <summary>
    /// Starts timing operation <paramref name="id"/> until the returned scope is disposed; when
    /// profiling is off the scope does nothing. Use it in a <c>using</c> declaration.
    /// </summary>
    public static Scope Measure(int id) => Enabled ? new Scope(id, Stopwatch.GetTimestamp()) : default;

    /// <summary>Zeroes every operation's time and call count, keeping the registered names.</summary>
    public static void Reset()
    {
        Array.Clear(_ticks);
        Array.Clear(_calls);
    }

    /// <summary>(name, seconds, calls), largest first.</summary>
    public static IReadOnlyList<(string Name, double Seconds, long Calls)> Report()
    {
        lock (Names)
            return Names.Select((n, i) => (n, _ticks[i] / (double)Stopwatch.Frequency, _calls[i]))
                .Where(r => r.Item3 > 0).OrderByDescending(r => r.Item2).ToList();
    }

    /// <summary>One open timing from <see cref="Measure"/>; the default value records nothing.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly int _id;
        private readonly long _start;

        internal Scope(int id, long start) { _id = id + 1; _start = start; }

        /// <summary>Adds the time since <see cref="Measure"/> to the operation's total and counts one call.</summary>
        public void Dispose()
        {
            if (_id == 0) return;
            _ticks[_id - 1] += Stopwatch.GetTimestamp() - _start;
            _calls[_id - 1]++;
        }
    }
}
