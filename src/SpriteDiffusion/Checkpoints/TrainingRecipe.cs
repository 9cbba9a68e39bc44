using SpriteDiffusion.Training;

namespace SpriteDiffusion.Checkpoints;

/// <summary>
/// How a checkpoint's weights were trained, beyond the model and the diffusion process: the loss,
/// the learning-rate plan, the weight average's half-life and the flips. Sampling needs none of
/// it; it says how a model was made, and a resumed run continues the same learning-rate plan from it.
/// </summary>
public sealed record TrainingRecipe
{
    /// <summary>"mse" or "min-snr" (<see cref="LossWeights.Names"/>).</summary>
    public string Loss { get; init; } = LossWeights.MseName;
    /// <summary>The min-SNR gamma; null for the plain mean squared error.</summary>
    public double? MinSnrGamma { get; init; }
    /// <summary>The learning rate of every step, with where the run's plan stands (its end and its decay's anchor).</summary>
    public required LearningRateSchedule LearningRate { get; init; }
    /// <summary>The epochs the run is planned for; 0 while a time-budget run is still measuring its first epoch.</summary>
    public int PlannedEpochs { get; init; }
    /// <summary>The time budget the epochs were planned from, in minutes; null for a run given its epochs.</summary>
    public double? TimeBudgetMinutes { get; init; }
    /// <summary>The weight average's half-life in images, when it was given that way (its decay per step is <see cref="CheckpointInfo.EmaDecay"/>).</summary>
    public double? EmaHalflife { get; init; }
    /// <summary>Whether training images were mirrored at random.</summary>
    public bool Flip { get; init; }
    /// <summary>The classes never mirrored, by name.</summary>
    public string[] NoFlipClasses { get; init; } = [];
}
