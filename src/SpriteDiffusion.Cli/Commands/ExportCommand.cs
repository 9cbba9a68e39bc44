using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Onnx;

namespace SpriteDiffusion.Cli.Commands;

internal static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<string>("CHECKPOINT") { Description = "The .safetensors checkpoint to export (for example models/twemoji16/model.safetensors)." };
        var onnx = new Option<string>("--onnx") { Description = "ONNX file to write: the U-Net in evaluation mode, inputs x, t and context, output eps.", Required = true };
        var weights = WeightsOption.Create();
        var opset = new Option<int>("--opset")
        {
            Description = $"ONNX opset, {OnnxExport.MinOpset} to {OnnxExport.MaxOpset} (the default {OnnxExport.DefaultOpset} suits Unity Sentis and older runtimes).",
            DefaultValueFactory = _ => OnnxExport.DefaultOpset,
        };
        var command = new Command("export", "Write a checkpoint's U-Net as an ONNX model, with the schedule, time input convention and class names as metadata, to sample it with any ONNX runtime.")
        {
            checkpoint, onnx, weights, opset,
        };
        var overrides = new CheckpointOverrideOptions();
        overrides.AddTo(command);
        command.SetAction(r =>
        {
            Run(r.GetValue(checkpoint)!, r.GetValue(onnx)!, WeightsOption.Choice(r.GetValue(weights)!), r.GetValue(opset), overrides.Read(r));
            return 0;
        });
        return command;
    }

    internal static void Run(string checkpoint, string output, WeightChoice weights, int opset, CheckpointOverrides? overrides = null)
    {
        // Before the checkpoint is read: a typo in --opset should not cost a load.
        OnnxExport.CheckOpset(opset);
        OutputGuard.File(output, "--onnx", OutputKind.Onnx, new OutputGuard.Input(checkpoint, "CHECKPOINT"));
        var (model, info) = Checkpoint.Load(checkpoint, weights, overrides);
        bool average = weights == WeightChoice.Ema && info.EmaDecay is not null;
        var metadata = Metadata(info, average, checkpoint);
        try
        {
            OnnxExport.Write(model, metadata, output, opset);
        }
        catch (ArgumentException e) when (e.ParamName == "metadata")
        {
            throw new InvalidDataException($"{checkpoint}: {e.Message} The checkpoint's metadata is damaged or was written by another program.", e);
        }

        var c = model.Config;
        long bytes = new FileInfo(output).Length;
        string which = average ? "EMA weights" : weights == WeightChoice.Ema ? "raw weights (the checkpoint holds no average)" : "raw weights";
        AnsiConsole.MarkupLineInterpolated(
            $"wrote [green]{output}[/] (opset {opset}, {which}, {model.Store.ParameterCount:N0} parameters, {bytes / 1e6:F1} MB)");
        AnsiConsole.MarkupLineInterpolated(
            $"inputs x (N, {c.InChannels}, {c.Height}, {c.Height}), t (N, 1) = {TimeText(info)}, context (N, {c.NCFeat}); output eps (N, {c.InChannels}, {c.Height}, {c.Height})");
        if (info.Prediction == Diffusion.Prediction.VelocityName)
            AnsiConsole.MarkupLine("this model predicts v: its output 'eps' holds v, and the noise is sqrt(alpha_bar) v + sqrt(1 - alpha_bar) x (metadata 'prediction' = v)");
    }

    /// <summary>The checkpoint's sampling facts, for the file's metadata_props.</summary>
    internal static OnnxMetadata Metadata(CheckpointInfo info, bool average, string checkpoint)
    {
        var extra = new Dictionary<string, string>
        {
            // The file name only: a full path would carry the exporting machine's folders into a file meant to be shared.
            ["checkpoint"] = Path.GetFileName(checkpoint),
            ["epoch"] = info.Epoch.ToString(CultureInfo.InvariantCulture),
            ["step"] = info.Step.ToString(CultureInfo.InvariantCulture),
        };
        if (average) extra["ema_decay"] = info.EmaDecay!.Value.ToString("R", CultureInfo.InvariantCulture);
        return new OnnxMetadata
        {
            Schedule = info.Schedule,
            Timesteps = info.Timesteps,
            BetaStart = info.BetaStart,
            BetaEnd = info.BetaEnd,
            TimeInput = info.TimeInput,
            Prediction = info.Prediction,
            ClassNames = info.ClassNames,
            Conditional = info.Conditional,
            Weights = average ? WeightsOption.Ema : WeightsOption.Raw,
            Extra = extra,
        };
    }

    private static string TimeText(CheckpointInfo info) => info.TimeInput == Diffusion.TimeInput.NormalizedName
        ? $"t / {info.Timesteps}"
        : $"raw t (0..{info.Timesteps - 1})";
}
