using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Tests.Engine;

public unsafe class WorkersTests
{
    private struct CountBody : IParallelBody
    {
        public int* Hits;
        public int Fail;

        public void Run(int index)
        {
            if (index == Fail) throw new InvalidOperationException("item " + index);
            Interlocked.Increment(ref Hits[index]);
        }
    }

    // Loops follow each other closely, so workers that wake late meet the next loop being set up:
    // every index of every loop must still run exactly once, and a failure must end only its loop.
    [Fact]
    public void EveryIndexRunsOnceAcrossManyLoopsAndAFailureEndsOnlyItsLoop()
    {
        // The thread count is global and other tests run alongside, so this one takes it as it is.
        if (Workers.Threads < 2) return; // one thread: the pool is not used
        {
            var hits = new int[64];
            fixed (int* h = hits)
            {
                for (int loop = 0; loop < 5000; loop++)
                {
                    int count = 1 + loop % 7 * 9 % 64;
                    var body = new CountBody { Hits = h, Fail = -1 };
                    Workers.For(count, ref body);
                    for (int i = 0; i < 64; i++)
                    {
                        Assert.Equal(i < count ? 1 : 0, hits[i]);
                        hits[i] = 0;
                    }
                }
                var failing = new CountBody { Hits = h, Fail = 3 };
                var e = Assert.Throws<AggregateException>(() => Workers.For(40, ref failing));
                Assert.Contains("item 3", e.InnerException!.Message);
                Array.Clear(hits);
                var again = new CountBody { Hits = h, Fail = -1 };
                Workers.For(40, ref again);
                Assert.All(hits[..40], x => Assert.Equal(1, x));
            }
        }
    }

    // Workers watch for the next loop for a while, then block: loops that come after they have
    // gone to sleep, and loops that come just as they do, must wake them or run without them.
    [Fact]
    public void LoopsRunWhetherTheWorkersAreWatchingOrAsleep()
    {
        if (Workers.Threads < 2) return;
        var hits = new int[16];
        fixed (int* h = hits)
        {
            for (int loop = 0; loop < 300; loop++)
            {
                // 0 to 400 us apart: before, around and after the workers' watching time.
                var wait = System.Diagnostics.Stopwatch.StartNew();
                while (wait.Elapsed.TotalMicroseconds < loop * 37 % 400) Thread.SpinWait(10);
                if (loop % 50 == 0) Thread.Sleep(5);
                var body = new CountBody { Hits = h, Fail = -1 };
                Workers.For(16, ref body);
                Assert.All(hits, x => Assert.Equal(1, x));
                Array.Clear(hits);
            }
        }
    }

    private struct WaitingBody : IParallelBody
    {
        public int* Hits;
        public int Waiter, Count;

        public void Run(int index)
        {
            // The waiter holds its thread until every index after it (in the same thread's share)
            // has run: only threads that take others' unbegun work can finish the loop.
            if (index == Waiter)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                for (int i = index + 1; i < Count; i++)
                    while (Volatile.Read(ref Hits[i]) == 0)
                    {
                        if (clock.Elapsed.TotalSeconds > 60) throw new TimeoutException($"index {i} never ran while {index} waited");
                        Thread.SpinWait(20);
                    }
            }
            Interlocked.Increment(ref Hits[index]);
        }
    }

    [Fact]
    public void WorkAThreadHasNotBegunIsTakenByTheOthers()
    {
        if (Workers.Threads < 2) return;
        // Up to 32 items each is a block of its own (larger loops share blocks, and a waiter would wait on its own block).
        foreach (int count in new[] { 8, 30 })
        {
            var hits = new int[count];
            fixed (int* h = hits)
            {
                // The first index of the last thread's share.
                var body = new WaitingBody { Hits = h, Count = count, Waiter = count - count / Workers.Threads };
                Workers.For(count, ref body);
            }
            Assert.All(hits, x => Assert.Equal(1, x));
        }
    }

    [Theory]
    [InlineData(33)]
    [InlineData(257)]
    [InlineData(4099)]
    public void LoopsOfMoreItemsThanBlocksRunEveryIndexOnce(int count)
    {
        if (Workers.Threads < 2) return;
        var hits = new int[count];
        fixed (int* h = hits)
        {
            var body = new CountBody { Hits = h, Fail = -1 };
            Workers.For(count, ref body);
        }
        Assert.All(hits, x => Assert.Equal(1, x));
    }

    private struct ThreadBody : IParallelBody
    {
        public int* Ids;

        public void Run(int index) => Ids[index] = Environment.CurrentManagedThreadId;
    }

    [Fact]
    public void ASerialScopeRunsItsThreadsLoopsOnItAloneAndThenGivesThemBack()
    {
        int threads = Workers.Threads;
        var ids = new int[16];
        using (Workers.Serial())
        {
            Assert.Equal(1, Workers.Threads);
            using (Workers.Serial()) Assert.Equal(1, Workers.Threads);
            Assert.Equal(1, Workers.Threads);
            fixed (int* p = ids)
            {
                var body = new ThreadBody { Ids = p };
                Workers.For(ids.Length, ref body);
            }
            Assert.All(ids, id => Assert.Equal(Environment.CurrentManagedThreadId, id));
            // The scope is the calling thread's alone.
            int elsewhere = 0;
            var other = new Thread(() => elsewhere = Workers.Threads);
            other.Start();
            other.Join();
            Assert.Equal(threads, elsewhere);
        }
        Assert.Equal(threads, Workers.Threads);
        default(Workers.SerialScope).Dispose();
        Assert.Equal(threads, Workers.Threads);
    }
}
