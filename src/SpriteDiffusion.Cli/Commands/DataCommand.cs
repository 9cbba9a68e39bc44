using System.CommandLine;

namespace SpriteDiffusion.Cli.Commands;

internal static class DataCommand
{
    public static Command Create()
    {
        var command = new Command("data", "Not built yet.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("'data' is not built yet.");
            return 2;
        });
        return command;
    }
}
