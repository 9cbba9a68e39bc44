using Spectre.Console;

namespace SpriteDiffusion.Cli;

/// <summary>A progress bar with elapsed time and ETA on a terminal; plain start and end lines otherwise.</summary>
internal static class CliProgress
{
    public static void Run(string label, int total, Action<Action<int>> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            Console.WriteLine($"{label}: {total} steps...");
            work(_ => { });
            return;
        }
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(label), maxValue: total);
                work(done => task.Value = done);
            });
    }
}
