using System.Diagnostics;
using SpriteDiffusion.Runs;

namespace SpriteDiffusion;

/// <summary>Where a training run stands, reported after every step.</summary>
/// <param name="Epoch">The epoch being trained, from 1.</param>
/// <param name="Epochs">Epochs the run trains in all.</param>
/// <param name="Batch">Batches of this epoch done.</param>
/// <param name="BatchesPerEpoch">Batches in an epoch.</param>
/// <param name="Loss">The last batch's training loss.</param>
/// <param name="ImagesPerSecond">Training speed so far.</param>
/// <param name="Remaining">Time left at that speed; null until a step has been timed.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, int Batch, int BatchesPerEpoch, double Loss, double ImagesPerSecond, TimeSpan? Remaining);

/// <summary>Trains a sprite model from code: what <c>sprites train</c> does, with progress and cancellation.</summary>
public static class SpriteTraining
{
    /// <summary>
    /// Trains (or resumes) the run that <paramref name="options"/> describe and writes its folder:
    /// checkpoints (best, last, resumable), losses, a loss plot, a log and the config.
    /// </summary>
    /// <param name="options">The recipe; <see cref="TrainingOptions.Cpu"/> with changes is the usual start.</param>
    /// <param name="progress">Told after every training step.</param>
    /// <param name="cancellationToken">Stops after the current step, saving a resumable checkpoint; the result then says Interrupted.</param>
    /// <param name="resume">Continue the run already in the output folder from its resume checkpoint.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option no run can use (named by <see cref="ArgumentException.ParamName"/>).</exception>
    /// <exception cref="TrainingDivergedException">The loss stopped being finite; the last good checkpoint is kept.</exception>
    public static TrainingResult Train(TrainingOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default, bool resume = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new Trainer(options, new Reporter(progress)).Run(cancellationToken, resume);
    }

    private sealed class Reporter(IProgress<TrainingProgress>? progress) : ITrainingObserver
    {
        private TrainingPlan? _plan;
        private readonly Stopwatch _clock = new();
        private long _stepsAtStart;

        public void OnStart(TrainingPlan plan)
        {
            _plan = plan;
            _stepsAtStart = (long)plan.StartEpoch * plan.BatchesPerEpoch + plan.StartBatch;
            _clock.Restart();
        }

        public void OnStep(StepReport report)
        {
            if (progress is null || _plan is not { } plan) return;
            long total = (long)plan.Epochs * plan.BatchesPerEpoch, done = report.GlobalStep - _stepsAtStart;
            TimeSpan? remaining = done > 0 ? _clock.Elapsed * ((double)(total - report.GlobalStep) / done) : null;
            progress.Report(new TrainingProgress(report.Epoch + 1, plan.Epochs, report.Batch + 1, report.BatchesPerEpoch, report.Loss, report.ImagesPerSecond, remaining));
        }
    }
}
