using System.CommandLine;
using SpriteDiffusion.Cli;
using SpriteDiffusion.Cli.Commands;

// Logs piped to a file should not be wrapped at Spectre's default 80 columns.
if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 240;

var root = new RootCommand("sprites: denoising diffusion for 16x16 pixel-art sprites, on a managed CPU engine.");
root.Subcommands.Add(DataCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(SampleCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(ServeCommand.Create());

var parsed = root.Parse(args);
try
{
    return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (ErrorMessages.ForUser(e, parsed.CommandResult.Command.Name) is { } message)
{
    Console.Error.WriteLine($"error: {message}");
    return 1;
}
