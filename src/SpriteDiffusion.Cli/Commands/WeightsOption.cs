using System.CommandLine;
using SpriteDiffusion.Checkpoints;

namespace SpriteDiffusion.Cli.Commands;

/// <summary>--weights ema|raw, the same on every command that loads a checkpoint's weights.</summary>
internal static class WeightsOption
{
    public const string Ema = "ema", Raw = "raw";

    public static Option<string> Create()
    {
        var option = new Option<string>("--weights")
        {
            Description = $"{Ema} (the weight average, when the checkpoint holds one) or {Raw} (the trained weights).",
            DefaultValueFactory = _ => Ema,
        };
        option.AcceptOnlyFromAmong(Ema, Raw);
        return option;
    }

    /// <summary>The choice a parsed value names.</summary>
    public static WeightChoice Choice(string value) => value == Raw ? WeightChoice.Raw : WeightChoice.Ema;
}
