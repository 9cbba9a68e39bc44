using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace SpriteDiffusion.Engine;

/// <summary>One unit of a parallel loop. Implemented by structs so that a loop allocates nothing.</summary>
public interface IParallelBody
{
    /// <summary>
    /// Does the work of <paramref name="index"/>. Runs concurrently with other indices on other threads,
    /// so it writes only the outputs that belong to its index.
    /// </summary>
    void Run(int index);
}

/// <summary>
/// A fixed pool of worker threads for the engine's parallel loops. Indices are handed out
/// dynamically, so results are deterministic only when each index writes its own outputs; kernels
/// that reduce across indices do so in index order afterwards.
/// </summary>
public static unsafe class Workers
{
    private static readonly object Gate = new();
    private static Pool? _pool;
    private static int _threads = DefaultThreads();

    [ThreadStatic] private static bool _inside;

    /// <summary>
    /// How many threads the parallel loops use, the calling thread included: 1 to 256, by default the
    /// processor count. A new value retires the pool; set it between loops, never while one runs.
    /// </summary>
    public static int Threads
    {
        get => _threads;
        set
        {
            if (value < 1 || value > 256)
                throw new ArgumentOutOfRangeException(nameof(value), $"the thread count must be between 1 and 256 (got {value}).");
            lock (Gate)
            {
                if (value == _threads) return;
                _pool?.Dispose();
                _pool = null;
                _threads = value;
            }
        }
    }

    private static int DefaultThreads() => Math.Max(1, Environment.ProcessorCount);

    /// <summary>Runs body.Run(i) for i in [0, count), blocking until all are done.</summary>
    public static void For<T>(int count, ref T body) where T : struct, IParallelBody
    {
        if (count <= 0) return;
        if (count == 1 || _threads == 1 || _inside)
        {
            for (int i = 0; i < count; i++) body.Run(i);
            return;
        }
        Pool pool;
        lock (Gate) pool = _pool ??= new Pool(_threads - 1);
        pool.Run(count, &Dispatch<T>, Unsafe.AsPointer(ref body));
    }

    private static void Dispatch<T>(void* body, int index) where T : struct, IParallelBody =>
        Unsafe.AsRef<T>(body).Run(index);

    private sealed class Pool : IDisposable
    {
        private readonly Thread[] _threads;
        private readonly SemaphoreSlim[] _wake;
        // 1 while worker w blocks (or is about to) on _wake[w]; a loop releases only those workers.
        private readonly int[] _sleeping;
        // How long a worker that ran out of items watches for the next loop before it blocks. A
        // sampling step is some thirty loops a few microseconds apart; waking a blocked thread
        // costs tens of microseconds (more than a small convolution takes), so at batch 1 the
        // second core helped only if it stayed awake between them. Spinning is bounded, so an
        // idle engine sleeps within this time.
        private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 us
        private readonly object _runGate = new();
        private delegate*<void*, int, void> _fn;
        private void* _body;
        // The loop's item count (high half) and the next item to take (low half) in one word, so that
        // taking an item also reads the count of the loop it belongs to: a worker that wakes late,
        // even while the next loop is being set up, takes an item only of a loop that is published
        // and unfinished (which cannot end, or change its body, before that item is done).
        private long _state;
        private int _done;
        private volatile bool _stop;
        private Exception? _error;

        public Pool(int workers)
        {
            _threads = new Thread[workers];
            _wake = new SemaphoreSlim[workers];
            _sleeping = new int[workers];
            for (int w = 0; w < workers; w++)
            {
                _wake[w] = new SemaphoreSlim(0);
                int id = w;
                _threads[w] = new Thread(() => Loop(id)) { IsBackground = true, Name = $"engine-worker-{w}" };
                _threads[w].Start();
            }
        }

        public void Run(int count, delegate*<void*, int, void> fn, void* body)
        {
            lock (_runGate)
            {
                _fn = fn;
                _body = body;
                _error = null;
                Volatile.Write(ref _done, 0);
                Volatile.Write(ref _state, (long)count << 32);
                // The exchange is a full fence, as is the worker's when it goes to sleep: either it
                // sees the items published above, or we see it asleep and wake it.
                for (int w = 0; w < _wake.Length; w++)
                    if (Interlocked.Exchange(ref _sleeping[w], 0) == 1) _wake[w].Release();
                _inside = true;
                try { Work(); }
                finally { _inside = false; }
                // Wait for the items, not for the workers: on a busy machine a worker may not be
                // scheduled for milliseconds, and the caller has then done its share of the loop
                // itself. A worker that wakes after the loop finds nothing left to take.
                var spin = new SpinWait();
                while (Volatile.Read(ref _done) < count) spin.SpinOnce(sleep1Threshold: -1);
                if (_error is { } e) throw new AggregateException("a parallel engine loop failed", e);
            }
        }

        private void Work()
        {
            long taken;
            while ((int)(taken = Interlocked.Increment(ref _state)) - 1 < (int)(taken >> 32))
            {
                int i = (int)taken - 1;
                // After a failure the remaining items are counted without running, so the loop ends.
                try { if (Volatile.Read(ref _error) is null) _fn(_body, i); }
                catch (Exception e) { Interlocked.CompareExchange(ref _error, e, null); }
                Interlocked.Increment(ref _done);
            }
        }

        private bool HasItems()
        {
            long state = Volatile.Read(ref _state);
            return (int)state < (int)(state >> 32);
        }

        private void Loop(int id)
        {
            _inside = true;
            while (!_stop)
            {
                long deadline = Stopwatch.GetTimestamp() + SpinTicks;
                while (!HasItems() && !_stop && Stopwatch.GetTimestamp() < deadline) Thread.SpinWait(8);
                if (!HasItems() && !_stop)
                {
                    Interlocked.Exchange(ref _sleeping[id], 1);
                    // Items published before we said we sleep: take back the flag, unless a loop
                    // already took it and released the semaphore, which we must then consume.
                    if (!(HasItems() || _stop) || Interlocked.Exchange(ref _sleeping[id], 0) == 0) _wake[id].Wait();
                }
                if (_stop) return;
                Work();
            }
        }

        public void Dispose()
        {
            _stop = true;
            for (int w = 0; w < _wake.Length; w++)
                if (Interlocked.Exchange(ref _sleeping[w], 0) == 1) _wake[w].Release();
        }
    }
}
