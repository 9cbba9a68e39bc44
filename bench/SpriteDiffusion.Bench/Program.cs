using System.Diagnostics;
using System.Runtime.InteropServices;
using SpriteDiffusion.Engine;

// GFLOP/s of Sgemm on the convolution shapes, one thread and two threads each running its own
// products. The machine is shared, so each figure is the best of several timed rounds.
// Usage: dotnet run -c Release --project bench/SpriteDiffusion.Bench [-- rounds]
int rounds = args.Length > 0 ? int.Parse(args[0]) : 300;

var shapes = new (string Case, int M, int N, int K)[]
{
    ("NN", 64, 256, 27), ("NN", 64, 256, 576), ("NN", 64, 64, 576), ("NN", 128, 64, 576),
    ("NN", 128, 16, 1152), ("NN", 128, 256, 1152),
    ("TN", 576, 256, 64), ("TN", 1152, 16, 128), ("TN", 1152, 64, 128),
    ("NT", 64, 576, 256), ("NT", 128, 1152, 16), ("NT", 128, 1152, 64),
    // Further shapes of the seed U-Net: its last convolution (3 outputs), the first layer's weight
    // gradient, the output block's 2nf -> nf convolution, and 8x8 at n_feat = 128.
    ("NN", 3, 256, 576), ("NT", 64, 27, 256), ("NN", 64, 256, 1152), ("NN", 256, 64, 1152),
};

// Peak: best of several short runs, since other work on the machine only ever lowers it.
double peak1 = Enumerable.Range(0, 40).Max(_ => PeakFlops.Measure(1, TimeSpan.FromMilliseconds(10)));
double peak2 = Enumerable.Range(0, 40).Max(_ => PeakFlops.Measure(2, TimeSpan.FromMilliseconds(10)));
Console.WriteLine($"Sgemm kernels: {Sgemm.KernelDescription}");
Console.WriteLine($"peak FMA: 1 thread {peak1:F1} GFLOP/s, 2 threads {peak2:F1} GFLOP/s");
Console.WriteLine("GFLOP/s, best round; 'cpu' divides by the threads' own CPU time, which other load on the machine does not inflate;");
Console.WriteLine("2T = two threads each running its own products, total rate; % = wall rate over the measured peak");
Console.WriteLine($"{"case",-4} {"m",5} {"n",5} {"k",5} {"1T wall",8} {"1T cpu",8} {"%",4} {"2T wall",8} {"2T cpu",8} {"%",4}");
foreach (var s in shapes)
{
    var (oneWall, oneCpu) = Best(s, 1);
    var (twoWall, twoCpu) = Best(s, 2);
    Console.WriteLine($"{s.Case,-4} {s.M,5} {s.N,5} {s.K,5} {oneWall,8:F1} {oneCpu,8:F1} {100 * oneWall / peak1,3:F0}% " +
                      $"{twoWall,8:F1} {twoCpu,8:F1} {100 * twoWall / peak2,3:F0}%");
}

(double Wall, double Cpu) Best((string Case, int M, int N, int K) s, int threads)
{
    double flopsPerCall = 2.0 * s.M * s.N * s.K;
    int calls = (int)Math.Clamp(4e6 / flopsPerCall, 1, 100000);
    var wall = new double[threads, rounds];
    var cpu = new double[threads, rounds];
    using var barrier = new Barrier(threads);
    // Long-lived workers: their packing buffers are allocated once, in the untimed warm-up.
    var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
    {
        ThreadCpu.PinToCore(t);
        using var problem = new Problem(s.Case, s.M, s.N, s.K);
        for (int i = 0; i < calls; i++) problem.Run();
        for (int r = 0; r < rounds; r++)
        {
            barrier.SignalAndWait();
            long start = Stopwatch.GetTimestamp();
            double cpu0 = ThreadCpu.Seconds();
            for (int i = 0; i < calls; i++) problem.Run();
            cpu[t, r] = ThreadCpu.Seconds() - cpu0;
            wall[t, r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
    })).ToArray();
    foreach (var w in workers) w.Start();
    foreach (var w in workers) w.Join();

    double bestWall = 0, bestCpu = 0;
    for (int r = 0; r < rounds; r++)
    {
        double w = 0, c = 0;
        for (int t = 0; t < threads; t++)
        {
            w += calls * flopsPerCall / wall[t, r];
            c += calls * flopsPerCall / cpu[t, r];
        }
        bestWall = Math.Max(bestWall, w / 1e9);
        bestCpu = Math.Max(bestCpu, c / 1e9);
    }
    return (bestWall, bestCpu);
}

static unsafe class ThreadCpu
{
    [DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, long* timespec);

    const int ClockThreadCpuTime = 3;

    [DllImport("libc", EntryPoint = "sched_setaffinity")]
    static extern int SchedSetAffinity(int pid, nint size, ulong* mask);

    /// <summary>Keeps a worker on one core, so a migration does not start it on cold caches.</summary>
    public static void PinToCore(int core)
    {
        if (!OperatingSystem.IsLinux() || core >= Environment.ProcessorCount) return;
        ulong mask = 1UL << core;
        SchedSetAffinity(0, sizeof(ulong), &mask);
    }

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
