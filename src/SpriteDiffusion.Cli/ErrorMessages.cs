using SpriteDiffusion.Runs;

namespace SpriteDiffusion.Cli;

/// <summary>
/// Turns what the library throws about a user's arguments and files into one line for people.
/// The library names its parameters in its own terms; only here do they become flags, because
/// only the command line knows which flag carries which value.
/// </summary>
internal static class ErrorMessages
{
    // Parameter names the library uses, by command; a command's own entry wins over the shared one.
    private static readonly Dictionary<string, string> Shared = new(StringComparer.Ordinal)
    {
        ["steps"] = "--steps", ["eta"] = "--eta", ["Guidance"] = "--guidance", ["nameOrIndex"] = "--class",
        ["Class"] = "--class", ["count"] = "--n", ["noise"] = "--noise", ["frames"] = "--frames",
        ["scale"] = "--scale", ["text"] = "--background", ["value"] = "--threads", ["Threads"] = "--threads",
        ["timesteps"] = "--timesteps", ["BaseUrl"] = "--base-url", ["features"] = "--features", ["range"] = "--feature-range",
        ["onnx"] = "--feature-input/--feature-output", ["InputName"] = "--feature-input",
        ["OutputName"] = "--feature-output", ["InputSize"] = "--feature-size", ["subsets"] = "--kid-subsets",
        ["NFeat"] = "--n-feat", ["Epochs"] = "--epochs", ["LearningRate"] = "--lr",
        ["ValidationFraction"] = "--val-fraction", ["Timesteps"] = "--timesteps", ["Schedule"] = "--schedule",
        ["TimeInput"] = "--time-input", ["Limit"] = "--limit", ["Samples"] = "--samples", ["SampleEvery"] = "--sample-every",
        ["DdimSteps"] = "ddim_steps (in --config)", ["ContextDropout"] = "--context-dropout", ["EmaDecay"] = "--ema-decay",
        ["decay"] = "--ema-decay", ["ImageSize"] = "--size", ["layout"] = "--tile/--padding", ["order"] = "--classes",
        // The training recipe's options.
        ["Prediction"] = "--prediction", ["Loss"] = "--loss", ["MinSnrGamma"] = "--min-snr-gamma",
        ["LrSchedule"] = "--lr-schedule", ["WarmupSteps"] = "--warmup-steps", ["LrFloor"] = "--lr-floor",
        ["TimeBudgetMinutes"] = "--time-budget", ["EmaHalflife"] = "--ema-halflife", ["NoFlipClasses"] = "--no-flip-classes",
    };

    private static readonly Dictionary<string, Dictionary<string, string>> ByCommand = new(StringComparer.Ordinal)
    {
        ["train"] = new(StringComparer.Ordinal) { ["name"] = "--preset", ["BatchSize"] = "--batch", ["batchSize"] = "--batch" },
        ["sample"] = new(StringComparer.Ordinal)
        {
            ["name"] = "--method", ["Strength"] = "--strength", ["resample"] = "--resample", ["rectangle"] = "--mask-rect", ["mask"] = "--mask",
        },
        ["evaluate"] = new(StringComparer.Ordinal)
        {
            ["name"] = "--method", ["BatchSize"] = "--feature-batch", ["x"] = "--n", ["realSet"] = "--real", ["dataDirectory"] = "--data",
            ["Class"] = "--guidance",
        },
        ["export"] = new(StringComparer.Ordinal) { ["opset"] = "--opset", ["path"] = "--onnx" },
    };

    /// <summary>The line to print for a problem the user can fix, or null for a bug (which keeps its stack trace).</summary>
    public static string? ForUser(Exception e, string command) => e switch
    {
        UserError => e.Message,
        ArgumentException a => WithFlag(a, command),
        FileNotFoundException f when f.FileName == Checkpoints.PretrainedModel.RelativePath => $"{f.Message} Pass it with --checkpoint PATH.",
        TrainingDivergedException d => d.Message.Replace("lower the learning rate", "lower the learning rate (--lr)", StringComparison.Ordinal),
        InvalidDataException or IOException or UnauthorizedAccessException => e.Message,
        _ => null,
    };

    private static string WithFlag(ArgumentException e, string command)
    {
        string message = e.Message;
        if (e.ParamName is not { } param) return message;
        string suffix = $" (Parameter '{param}')";
        if (message.EndsWith(suffix, StringComparison.Ordinal)) message = message[..^suffix.Length];
        string? flag = ByCommand.TryGetValue(command, out var own) && own.TryGetValue(param, out var f) ? f
            : Shared.TryGetValue(param, out var g) ? g : null;
        return flag is null ? message : $"{flag}: {message}";
    }
}
