using System.CommandLine;

namespace SpriteDiffusion.Cli.Commands;

internal static class TrainCommand
{
    public static Command Create()
    {
        var command = new Command("train", "Not built yet.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("'train' is not built yet.");
            return 2;
        });
        return command;
    }
}
