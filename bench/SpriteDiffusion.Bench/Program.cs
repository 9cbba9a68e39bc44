using System.Diagnostics;
using System.Runtime.InteropServices;
using SpriteDiffusion.Engine;

// GFLOP/s of Sgemm on the convolution shapes, one thread and two threads each running its own
// products. The machine is shared, so each figure is the best of several timed rounds.
// Usage: dotnet run -c Release --project bench/SpriteDiffusion.Bench [-- rounds]
int rounds = args.Length > 0 ? int.Parse(args[0]) : 30;

var shapes = new (string Case, int M, int N, int K)[]
{
    ("NN", 64, 256, 27), ("NN", 64, 256, 576), ("NN", 64, 64, 576), ("NN", 128, 64, 576),
    ("NN", 128, 16, 1152), ("NN", 128, 256, 1152),
    ("TN", 576, 256, 64), ("TN", 1152, 16, 128), ("TN", 1152, 64, 128),
    ("NT", 64, 576, 256), ("NT", 128, 1152, 16), ("NT", 128, 1152, 64),
};

Console.WriteLine($"peak FMA: 1 thread {PeakFlops.Measure(1, TimeSpan.FromMilliseconds(300)):F1} GFLOP/s, " +
                  $"2 threads {PeakFlops.Measure(2, TimeSpan.FromMilliseconds(300)):F1} GFLOP/s");
Console.WriteLine("GFLOP/s, best round; 'cpu' divides by the threads' own CPU time, which other load on the machine does not inflate");
Console.WriteLine($"{"case",-4} {"m",5} {"n",5} {"k",5} {"1T wall",9} {"1T cpu",9} {"2T wall",9} {"2T cpu",9}");
foreach (var s in shapes)
{
    var (oneWall, oneCpu) = Best(s, 1);
    var (twoWall, twoCpu) = Best(s, 2);
    Console.WriteLine($"{s.Case,-4} {s.M,5} {s.N,5} {s.K,5} {oneWall,9:F1} {oneCpu,9:F1} {twoWall,9:F1} {twoCpu,9:F1}");
}

(double Wall, double Cpu) Best((string Case, int M, int N, int K) s, int threads)
{
    var problems = Enumerable.Range(0, threads).Select(_ => new Problem(s.Case, s.M, s.N, s.K)).ToArray();
    double flopsPerCall = 2.0 * s.M * s.N * s.K;
    int calls = (int)Math.Clamp(4e6 / flopsPerCall, 1, 100000);
    double bestWall = 0, bestCpu = 0;
    for (int r = 0; r < rounds + 1; r++)
    {
        using var barrier = new Barrier(threads);
        var clock = new Stopwatch();
        var cpuSeconds = new double[threads];
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            barrier.SignalAndWait();
            if (t == 0) clock.Start();
            double cpu0 = ThreadCpu.Seconds();
            for (int i = 0; i < calls; i++) problems[t].Run();
            cpuSeconds[t] = ThreadCpu.Seconds() - cpu0;
        })).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        clock.Stop();
        if (r == 0) continue;
        bestWall = Math.Max(bestWall, threads * calls * flopsPerCall / clock.Elapsed.TotalSeconds / 1e9);
        bestCpu = Math.Max(bestCpu, cpuSeconds.Sum(t => calls * flopsPerCall / t) / 1e9);
    }
    foreach (var p in problems) p.Dispose();
    return (bestWall, bestCpu);
}

static unsafe class ThreadCpu
{
    [DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, long* timespec);

    const int ClockThreadCpuTime = 3;

    public static double Seconds()
    {
        long* ts = stackalloc long[2];
        ClockGetTime(ClockThreadCpuTime, ts);
        return ts[0] + ts[1] * 1e-9;
    }
}

sealed unsafe class Problem : IDisposable
{
    readonly bool transA, transB, accumulate;
    readonly int m, n, k, lda, ldb;
    readonly float* a, b, c;

    public Problem(string kind, int m, int n, int k)
    {
        (this.m, this.n, this.k) = (m, n, k);
        transA = kind == "TN";
        transB = kind == "NT";
        accumulate = transB;
        lda = transA ? m : k;
        ldb = transB ? k : n;
        a = Fill(m * k);
        b = Fill(k * n);
        c = Fill(m * n);
    }

    public void Run() => Sgemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, c, n, accumulate);

    static float* Fill(int count)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)count * sizeof(float), 64);
        var rng = new Random(count);
        for (int i = 0; i < count; i++) p[i] = (float)(rng.NextDouble() - 0.5);
        return p;
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(a);
        NativeMemory.AlignedFree(b);
        NativeMemory.AlignedFree(c);
    }
}
