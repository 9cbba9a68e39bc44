namespace SpriteDiffusion.IO;

/// <summary>
/// Sizes that come from files and flags are checked against the memory this process may use before
/// anything that large is allocated, so that a typo (--n 4096 --scale 64) or a damaged file is a
/// message naming what it asked for, not an out-of-memory crash minutes in.
/// </summary>
public static class MemoryBudget
{
    /// <summary>The memory the process may use: the machine's (or its container's) limit as the runtime sees it.</summary>
    public static long Available => Math.Max(1L << 30, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);

    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/> naming <paramref name="paramName"/> when
    /// <paramref name="bytes"/> (computed in 64 bits; negative means it overflowed) is more than
    /// three quarters of <see cref="Available"/>.
    /// </summary>
    /// <param name="bytes">What the allocation needs.</param>
    /// <param name="what">What would be allocated, for the message ("the grid of 4096 sprites at scale 64").</param>
    /// <param name="paramName">The parameter whose value decided the size.</param>
    public static void Require(long bytes, string what, string paramName)
    {
        long limit = Available / 4 * 3;
        if (bytes < 0 || bytes > limit)
            throw new ArgumentOutOfRangeException(paramName,
                $"{what} would need {(bytes < 0 ? "more than 8 EB" : $"{bytes / (1024.0 * 1024 * 1024):F1} GiB")} of memory, more than the {limit / (1024.0 * 1024 * 1024):F1} GiB this process may use; ask for less.");
    }

    /// <summary>The product of the sizes in 64 bits, or -1 when it overflows.</summary>
    public static long Product(params long[] sizes)
    {
        long result = 1;
        foreach (long s in sizes)
        {
            if (s < 0) return -1;
            try { result = checked(result * s); }
            catch (OverflowException) { return -1; }
        }
        return result;
    }
}
