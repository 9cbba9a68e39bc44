using System.Diagnostics;

namespace SpriteDiffusion.Engine;

/// <summary>
/// How long a cache line takes to go from one core to another and back, the yardstick for what
/// splitting one image over two threads costs: each layer hands half its output to the other core.
/// Depends on the machine and, on a VM, on where the host puts its cores at the moment: on the 2-core
/// Zen 5 VM this engine is measured on, about 250 ns with the cores near and 400-550 ns far apart,
/// where a batch of one gains much less from a second thread.
/// </summary>
public static class CoreDistance
{
    /// <summary>
    /// The median, over <paramref name="samples"/> runs of <paramref name="trips"/> round trips, of the
    /// nanoseconds a round trip takes between two new threads placed where the scheduler puts them
    /// (as it places the engine's workers). Each call uses its own cache line, so calls may overlap.
    /// </summary>
    public static double MeasureRoundTripNanoseconds(int trips = 20_000, int samples = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trips, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        // The counter sits alone in the middle of 256 bytes, off any line another object uses.
        var padded = new long[32];
        const int At = 16;
        var results = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            Volatile.Write(ref padded[At], 0);
            var echo = new Thread(() =>
            {
                // Says it is running (-1), then answers each odd value with the next even one.
                Volatile.Write(ref padded[At], -1);
                for (long i = 0; i < trips; i++)
                {
                    while (Volatile.Read(ref padded[At]) != 2 * i + 1) Thread.SpinWait(1);
                    Volatile.Write(ref padded[At], 2 * i + 2);
                }
            }) { IsBackground = true };
            echo.Start();
            while (Volatile.Read(ref padded[At]) != -1) Thread.SpinWait(1);
            var clock = Stopwatch.StartNew();
            for (long i = 0; i < trips; i++)
            {
                Volatile.Write(ref padded[At], 2 * i + 1);
                while (Volatile.Read(ref padded[At]) != 2 * i + 2) Thread.SpinWait(1);
            }
            results[s] = clock.Elapsed.TotalNanoseconds / trips;
            echo.Join();
        }
        Array.Sort(results);
        return results[samples / 2];
    }
}
