using System.Diagnostics;

namespace SpriteDiffusion.Engine;

/// <summary>
/// How long a cache line takes to go from one core to another and back, the yardstick for what
/// splitting one image over two threads costs: each layer hands half its output to the other core.
/// Cores sharing a cache answer in about 100-250 ns, cores on different chiplets (or on a VM whose
/// cores the host moves) in 500 ns or more, and there a batch of one gains much less from a second thread.
/// </summary>
public static class CoreDistance
{
    private static long _line;

    /// <summary>
    /// The median, over <paramref name="samples"/> runs of <paramref name="trips"/> round trips, of the
    /// nanoseconds a round trip takes between two threads the scheduler places where it will (as the
    /// engine's workers are).
    /// </summary>
    public static double MeasureRoundTripNanoseconds(int trips = 20_000, int samples = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trips, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        var results = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            Volatile.Write(ref _line, 0);
            var echo = new Thread(() =>
            {
                // Answers each odd value with the next even one.
                for (long i = 0; i < trips; i++)
                {
                    while (Volatile.Read(ref _line) != 2 * i + 1) Thread.SpinWait(1);
                    Volatile.Write(ref _line, 2 * i + 2);
                }
            }) { IsBackground = true };
            echo.Start();
            var clock = Stopwatch.StartNew();
            for (long i = 0; i < trips; i++)
            {
                Volatile.Write(ref _line, 2 * i + 1);
                while (Volatile.Read(ref _line) != 2 * i + 2) Thread.SpinWait(1);
            }
            results[s] = clock.Elapsed.TotalNanoseconds / trips;
            echo.Join();
        }
        Array.Sort(results);
        return results[samples / 2];
    }
}
