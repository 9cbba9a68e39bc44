namespace SpriteDiffusion.Web.Hosting;

/// <summary>
/// Hands memory back to the system once the generations stop. Each generation loads its model and
/// allocates activations for its batch; between bursts that garbage would otherwise keep the
/// process as large as its busiest moment. Runs a few seconds after the queue empties, once per
/// quiet spell, so a busy server never pays for it.
/// </summary>
internal sealed class IdleMemory(Func<bool> isIdle, TimeSpan delay)
{
    private int _version;

    /// <summary>Called when the queue has just emptied.</summary>
    public void QueueEmptied()
    {
        int version = Interlocked.Increment(ref _version);
        _ = Task.Delay(delay).ContinueWith(_ =>
        {
            // A later emptying supersedes this one; work in between means the spell was not quiet.
            if (Volatile.Read(ref _version) != version || !isIdle()) return;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }, TaskScheduler.Default);
    }
}
