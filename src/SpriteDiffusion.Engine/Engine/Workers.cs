using System.Diagnostics;
using System.Numerics;
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
/// A fixed pool of worker threads for the engine's parallel loops. Each thread starts on its own
/// share of the indices and then takes what others have not begun, so which thread runs an index
/// varies: results are deterministic only when each index writes its own outputs; kernels that
/// reduce across indices do so in index order afterwards.
/// </summary>
public static unsafe class Workers
{
    private static readonly object Gate = new();
    private static Pool? _pool;
    private static int _threads = DefaultThreads();

    [ThreadStatic] private static bool _inside;
    [ThreadStatic] private static bool _serial;

    /// <summary>
    /// How many threads the parallel loops use, the calling thread included: 1 to 256, by default the
    /// processor count (1 on a thread inside a <see cref="Serial"/> scope). A new value retires the
    /// pool; set it between loops, never while one runs.
    /// </summary>
    public static int Threads
    {
        get => _serial ? 1 : _threads;
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

    /// <summary>
    /// Until the scope is disposed, the calling thread's loops run on it alone and <see cref="Threads"/>
    /// reads 1 there, so that work is also cut as for one thread; the pool stays, for the next loops
    /// outside the scope and for other threads. Dispose on the thread that took it.
    /// </summary>
    internal static SerialScope Serial()
    {
        bool was = _serial;
        _serial = true;
        return new SerialScope(was, active: true);
    }

    /// <summary>Restores the calling thread's loops to the pool when disposed (a default value does nothing).</summary>
    internal readonly struct SerialScope(bool was, bool active) : IDisposable
    {
        public void Dispose()
        {
            if (active) _serial = was;
        }
    }

    /// <summary>Runs body.Run(i) for i in [0, count), blocking until all are done.</summary>
    public static void For<T>(int count, ref T body) where T : struct, IParallelBody
    {
        if (count <= 0) return;
        if (count == 1 || _threads == 1 || _inside || _serial)
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
        // The loop's item count (high half) and one claimed bit per block of items (low half) in one
        // word, so that claiming a block also reads the count of the loop it belongs to: a worker
        // that wakes late, even while the next loop is being set up, takes a block only of a loop
        // that is published and unfinished (which cannot end, or change its body, before that block
        // is done), and a finished loop has every bit set. Up to MaxBlocks blocks, each a contiguous
        // run of items; thread k (the caller is 0) first takes the k-th share of them, in order, so
        // that consecutive loops cut the same way (images, chunks of images, tile rows) run each part
        // on the core whose caches hold it from the last loop, instead of bouncing it between cores
        // (two threads on 16 images of a 1x1 layer took 55 us, one 17, by shares 10); what a slow
        // thread has not claimed, the others take, from the far end of its share.
        private long _claimed;
        private const int MaxBlocks = 32;
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
                Volatile.Write(ref _claimed, (long)count << 32);
                // The exchange is a full fence, as is the worker's when it goes to sleep: either it
                // sees the items published above, or we see it asleep and wake it.
                for (int w = 0; w < _wake.Length; w++)
                    if (Interlocked.Exchange(ref _sleeping[w], 0) == 1) _wake[w].Release();
                _inside = true;
                try { Work(0); }
                finally { _inside = false; }
                // Wait for the items, not for the workers: on a busy machine a worker may not be
                // scheduled for milliseconds, and the caller has then done its share of the loop
                // itself. A worker that wakes after the loop finds nothing left to take.
                var spin = new SpinWait();
                while (Volatile.Read(ref _done) < count) spin.SpinOnce(sleep1Threshold: -1);
                if (_error is { } e) throw new AggregateException("a parallel engine loop failed", e);
            }
        }

        // Thread `thread` (0 the caller, w + 1 worker w) takes and runs blocks until none is left.
        private void Work(int thread)
        {
            int threads = _threads.Length + 1;
            while (true)
            {
                long word = Volatile.Read(ref _claimed);
                int count = (int)(word >> 32), blocks = Math.Min(count, MaxBlocks);
                long free = Unclaimed(word);
                if (free == 0) return;
                long own = free & Bits(blocks * thread / threads, blocks * (thread + 1) / threads);
                int b = own != 0 ? BitOperations.TrailingZeroCount(own) : 63 - BitOperations.LeadingZeroCount((ulong)free);
                // The block is ours if its bit was clear in the word we set it in: a block of that loop.
                long before = Interlocked.Or(ref _claimed, 1L << b);
                if ((Unclaimed(before) & (1L << b)) == 0) continue;
                count = (int)(before >> 32);
                blocks = Math.Min(count, MaxBlocks);
                for (int i = (int)((long)b * count / blocks), end = (int)((long)(b + 1) * count / blocks); i < end; i++) RunItem(i);
            }
        }

        // Bits [first, end).
        private static long Bits(int first, int end) => ((1L << end) - 1) & ~((1L << first) - 1);

        private static long Unclaimed(long word) => ~word & ((1L << Math.Min((int)(word >> 32), MaxBlocks)) - 1);

        private void RunItem(int i)
        {
            // After a failure the remaining items are counted without running, so the loop ends.
            try { if (Volatile.Read(ref _error) is null) _fn(_body, i); }
            catch (Exception e) { Interlocked.CompareExchange(ref _error, e, null); }
            Interlocked.Increment(ref _done);
        }

        private bool HasItems() => Unclaimed(Volatile.Read(ref _claimed)) != 0;

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
                Work(id + 1);
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
