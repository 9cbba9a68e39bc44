namespace SpriteDiffusion.Runs;

/// <summary>
/// The training loss stopped being a finite number. The run is over; its last good checkpoint
/// (written at the end of the last finished epoch) is kept.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Describes where the loss diverged and which checkpoint is the last good one.</summary>
    public TrainingDivergedException(double loss, int epoch, int batch, string lastGoodCheckpoint)
        : base($"the training loss became {loss} at epoch {epoch}, batch {batch}. The last good checkpoint is {lastGoodCheckpoint}; lower the learning rate and train again.")
    {
        Loss = loss;
        Epoch = epoch;
        Batch = batch;
        LastGoodCheckpoint = lastGoodCheckpoint;
    }

    /// <summary>The loss that was not finite (NaN or infinite).</summary>
    public double Loss { get; }

    /// <summary>The epoch it happened in, counted from 1.</summary>
    public int Epoch { get; }

    /// <summary>The batch of that epoch, counted from 1.</summary>
    public int Batch { get; }

    /// <summary>The checkpoint written at the end of the last finished epoch.</summary>
    public string LastGoodCheckpoint { get; }
}
