using System.CommandLine;

namespace SpriteDiffusion.Cli.Commands;

internal static class SampleCommand
{
    public static Command Create()
    {
        var command = new Command("sample", "Not built yet.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("'sample' is not built yet.");
            return 2;
        });
        return command;
    }
}
