using Spectre.Console;
using SpriteDiffusion.Training;
using SpriteDiffusion.Runs;

namespace SpriteDiffusion.Cli;

/// <summary>Runs a trainer under a live display: epoch, step, loss, img/s and ETA.</summary>
internal static class TrainingProgress
{
    public static (Trainer Trainer, TrainingResult Result) Run(TrainingOptions options, CancellationToken cancel, bool resume, bool force)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            var plain = new Trainer(options, new LineObserver());
            return (plain, plain.Run(cancel, resume, force));
        }
        Trainer? trainer = null;
        TrainingResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("starting", autoStart: true);
                trainer = new Trainer(options, new Observer(task));
                result = trainer.Run(cancel, resume, force);
            });
        return (trainer!, result!);
    }

    /// <summary>Without a terminal (a log file, CI): one line per epoch and message.</summary>
    private sealed class LineObserver : ITrainingObserver
    {
        public void OnMessage(string line) => AnsiConsole.MarkupLineInterpolated($"{line}");
    }

    private sealed class Observer(ProgressTask task) : ITrainingObserver
    {
        private int _batchesPerEpoch, _epochs;

        public void OnStart(TrainingPlan plan)
        {
            _batchesPerEpoch = plan.BatchesPerEpoch;
            _epochs = plan.Epochs;
            task.MaxValue = (double)plan.BatchesPerEpoch * plan.Epochs;
            task.Value = (double)plan.StartEpoch * plan.BatchesPerEpoch + plan.StartBatch;
        }

        public void OnPlanned(TrainingPlan plan)
        {
            _epochs = plan.Epochs;
            task.MaxValue = (double)plan.BatchesPerEpoch * plan.Epochs;
        }

        public void OnStep(StepReport r)
        {
            task.Value = (double)r.Epoch * _batchesPerEpoch + r.Batch + 1;
            task.Description = $"epoch {r.Epoch + 1}/{_epochs} step {r.Batch + 1}/{_batchesPerEpoch} loss {r.Loss:F4} {r.ImagesPerSecond:F0} img/s";
        }

        public void OnMessage(string line) => AnsiConsole.MarkupLineInterpolated($"{line}");
    }
}
