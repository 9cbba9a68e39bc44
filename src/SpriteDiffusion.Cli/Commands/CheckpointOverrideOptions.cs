using System.CommandLine;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Diffusion;

namespace SpriteDiffusion.Cli.Commands;

/// <summary>
/// --time-input, --timesteps and --schedule: for a checkpoint that does not record them (a state
/// dict from PyTorch, taken as the seed's: raw t, linear, T = 1000) or records them wrongly.
/// Shared by every command that loads a checkpoint.
/// </summary>
internal sealed class CheckpointOverrideOptions
{
    public Option<string?> TimeInput { get; } = new("--time-input")
    {
        Description = $"How the network sees t: '{Diffusion.TimeInput.NormalizedName}' or '{Diffusion.TimeInput.RawName}' (default: what the checkpoint records; a bare state dict, e.g. the seed's .pth, is '{Diffusion.TimeInput.RawName}').",
    };

    public Option<int?> Timesteps { get; } = new("--timesteps") { Description = "The T the model was trained with (default: the checkpoint's, or 1000)." };

    public Option<string?> Schedule { get; } = new("--schedule") { Description = "The noise schedule it was trained with: linear or cosine (default: the checkpoint's, or linear)." };

    public CheckpointOverrideOptions()
    {
        TimeInput.AcceptOnlyFromAmong(Diffusion.TimeInput.NormalizedName, Diffusion.TimeInput.RawName);
        Schedule.AcceptOnlyFromAmong([.. NoiseSchedule.Names]);
    }

    public void AddTo(Command command)
    {
        command.Options.Add(TimeInput);
        command.Options.Add(Timesteps);
        command.Options.Add(Schedule);
    }

    public CheckpointOverrides Read(ParseResult r) => new(r.GetValue(TimeInput), r.GetValue(Timesteps), r.GetValue(Schedule));
}
