using System.CommandLine;
using System.Diagnostics;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Model;
using SpriteDiffusion.Training;

namespace SpriteDiffusion.Cli.Commands;

/// <summary>
/// Speed of the engine on the seed U-Net, printed in the same form as
/// tools/reference/torch_bench.py so the two can be run side by side.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Measure the engine: training steps, sampling steps, the machine's FMA peak, the distance between its cores.");
        command.Subcommands.Add(Workload("train-step", "Adam steps of the seed U-Net on the noise objective (train mode).", training: true));
        command.Subcommands.Add(Workload("sample-step", "Eval-mode forward passes of the seed U-Net (what sampling does each step).", training: false));
        var peak = new Command("peak", "The machine's float32 fused multiply-add peak in GFLOP/s.");
        var peakThreads = ThreadsOption();
        peak.Options.Add(peakThreads);
        peak.SetAction(r =>
        {
            int threads = r.GetValue(peakThreads) ?? Environment.ProcessorCount;
            double gflops = PeakFlops.Measure(threads, TimeSpan.FromSeconds(2));
            Console.WriteLine($"threads={threads}");
            Console.WriteLine($"gflops={gflops:F1}");
            return 0;
        });
        command.Subcommands.Add(peak);
        var cores = new Command("cores", "Round trip of a cache line between two threads placed by the OS (varies from run to run on a VM): "
            + "what a batch of one split over two threads pays at every layer.");
        cores.SetAction(_ =>
        {
            if (Environment.ProcessorCount < 2)
            {
                Console.Error.WriteLine("error: bench cores needs two cores, and this process may use only one.");
                return 1;
            }
            Console.WriteLine($"round_trip_ns={CoreDistance.MeasureRoundTripNanoseconds():F0}");
            return 0;
        });
        command.Subcommands.Add(cores);
        return command;
    }

    private static Option<int?> ThreadsOption() => new("--threads") { Description = "Worker threads (default: all cores)." };

    private static Command Workload(string name, string description, bool training)
    {
        var nFeat = new Option<int>("--n-feat") { Description = "U-Net width (64 or 128 in the seed).", DefaultValueFactory = _ => 64 };
        var batch = new Option<int>("--batch") { Description = "Images per step.", DefaultValueFactory = _ => training ? 128 : 16 };
        var steps = new Option<int>("--steps") { Description = "Timed steps after one warm-up step.", DefaultValueFactory = _ => 5 };
        var threads = ThreadsOption();
        var profile = new Option<bool>("--profile") { Description = "Also print the time spent in each kind of operation." };
        var command = new Command(name, description) { nFeat, batch, steps, threads, profile };
        command.SetAction(r =>
        {
            int nf = r.GetValue(nFeat), b = r.GetValue(batch), s = r.GetValue(steps);
            if (b < 1 || b > 4096) throw new UserError($"--batch must be between 1 and 4096 (got {b}).");
            if (s < 1) throw new UserError($"--steps must be at least 1 (got {s}).");
            if (r.GetValue(threads) is int t) Workers.Threads = t;
            Run(new UNetConfig(NFeat: nf), b, s, training, r.GetValue(profile));
            return 0;
        });
        return command;
    }

    private static void Run(UNetConfig config, int batch, int steps, bool training, bool profile)
    {
        config.Validate();
        var model = new UNet(config, seed: 1);
        var rng = new Rng(2);
        var x0 = Tensor.Zeros(batch, config.InChannels, config.Height, config.Height);
        rng.FillUniform(x0.Span, -1, 1);
        var context = Tensor.Zeros(batch, config.NCFeat);
        var t = Tensor.Zeros(batch, 1);
        rng.FillUniform(t.Span, 0, 1);
        var objective = new NoiseObjective(model, new Adam(model.Store), NoiseSchedule.Linear());

        void Step()
        {
            if (training) objective.Step(x0, context, rng);
            else model.Forward(x0, t, context, training: false);
        }

        // Sampling runs the model frozen for inference (UNet.Freeze), as the sampling loop does.
        using var frozen = training ? null : model.Freeze();
        Step(); // warm-up: grows every buffer to its final size and lets the JIT settle
        Step();
        // Allocated before the count starts, so that allocated_bytes is the steps' own.
        var times = new double[steps];
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        Profiler.Enabled = profile;
        Profiler.Reset();
        long started = Stopwatch.GetTimestamp();
        int onOneThread = 0;
        for (int i = 0; i < steps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Step();
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (model.LastPassThreads == 1) onOneThread++;
        }
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        long allocatedAfter = GC.GetTotalAllocatedBytes(precise: true);
        double perSecond = batch * steps / seconds;
        double flopsPerImage = 2 * UNetCost.ForwardMultiplyAdds(config) * (training ? 3 : 1);
        Array.Sort(times);
        Profiler.Enabled = false;
        foreach (var (op, opSeconds, calls) in Profiler.Report())
            Console.WriteLine($"profile {op,-22} {opSeconds / steps * 1000,9:F3} ms/step {100 * opSeconds / seconds,5:F1}%  ({calls / steps} calls/step)");
        Console.WriteLine($"workload={(training ? "train-step" : "sample-step")} n_feat={config.NFeat} batch={batch} steps={steps} threads={Workers.Threads}");
        if (Workers.Threads > 1 && onOneThread > 0)
            Console.WriteLine($"steps_on_one_thread={onOneThread} (a batch of one without AVX-512 times its passes on one thread against {Workers.Threads} and takes the faster; both give the same bits)");
        Console.WriteLine($"seconds={seconds:F3} step_ms_median={times[times.Length / 2]:F2} step_ms_min={times[0]:F2}");
        double executedMacs = training ? UNetCost.ExecutedMultiplyAdds(config) : UNetCost.SampledMultiplyAdds(config, batch);
        double executedPerImage = 2 * executedMacs * (training ? 3 : 1);
        Console.WriteLine($"gflops={perSecond * flopsPerImage / 1e9:F1} (effective: counting {(training ? "3x " : "")}{UNetCost.ForwardMultiplyAdds(config) / 1e6:F1} M multiply-adds per image, as direct convolutions)");
        string algorithm = training ? "3x3 layers through Winograd F(2x2,3x3)" : UNetCost.SampledAlgorithm(config, batch);
        Console.WriteLine($"executed_gflops={perSecond * executedPerImage / 1e9:F1} (the {(training ? "3x " : "")}{executedMacs / 1e6:F1} M multiply-adds per image the engine performs, {algorithm})");
        Console.WriteLine($"gc_collections gen0={GC.CollectionCount(0) - gen0} gen1={GC.CollectionCount(1) - gen1} gen2={GC.CollectionCount(2) - gen2} allocated_bytes={allocatedAfter - allocated} over {steps} steps");
        Console.WriteLine($"peak_rss_mb={Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024):F0}");
        Console.WriteLine($"img/s={perSecond:F2}");
    }
}
