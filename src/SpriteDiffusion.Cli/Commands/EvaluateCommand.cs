using System.CommandLine;

namespace SpriteDiffusion.Cli.Commands;

internal static class EvaluateCommand
{
    public static Command Create()
    {
        var command = new Command("evaluate", "Not built yet.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("'evaluate' is not built yet.");
            return 2;
        });
        return command;
    }
}
