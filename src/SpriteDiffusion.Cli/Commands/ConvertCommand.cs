using System.CommandLine;
using Spectre.Console;
using SpriteDiffusion.Checkpoints;

namespace SpriteDiffusion.Cli.Commands;

internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("IN") { Description = "A checkpoint: a state dict written by torch.save (.pth, zip or legacy format; read without running pickle) or a .safetensors file." };
        var output = new Argument<string>("OUT") { Description = "The .safetensors checkpoint to write, with the configuration and diffusion settings in its metadata." };
        var overrides = new CheckpointOverrideOptions();
        var command = new Command("convert", "Write a PyTorch state dict (the seed's best_model.pth, say) as a SpriteDiffusion checkpoint that samples without extra flags.")
        {
            input, output,
        };
        overrides.AddTo(command);
        command.SetAction(r =>
        {
            string source = r.GetValue(input)!, destination = r.GetValue(output)!;
            if (!destination.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                throw new UserError($"{destination}: a converted checkpoint is a .safetensors file; give OUT that extension.");
            OutputGuard.File(destination, "OUT", OutputKind.Safetensors, new OutputGuard.Input(source, "IN"));
            var info = Checkpoint.Convert(source, destination, overrides.Read(r));
            AnsiConsole.MarkupLineInterpolated(
                $"wrote [green]{destination}[/]: n_feat {info.Model.NFeat}, {info.Model.InChannels} channels, {info.Model.Height}x{info.Model.Height}, n_cfeat {info.Model.NCFeat}, time input {info.TimeInput}, {info.Schedule} schedule, T = {info.Timesteps}{(info.EmaDecay is null ? "" : ", with its weight average")}");
            return 0;
        });
        return command;
    }
}
