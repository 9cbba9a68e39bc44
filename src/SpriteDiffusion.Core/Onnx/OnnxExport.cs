using System.Globalization;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using Google.Protobuf;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using SpriteDiffusion.Onnx.Proto;

namespace SpriteDiffusion.Onnx;

/// <summary>
/// Writes the seed U-Net, in evaluation mode (BatchNorm on its running statistics), as an ONNX
/// model: inputs <see cref="ImageInputName"/> (N, C, H, W), <see cref="TimeInputName"/> (N, 1) and
/// <see cref="ContextInputName"/> (N, n_cfeat), output <see cref="NoiseOutputName"/> (N, C, H, W),
/// all float32 with a symbolic batch dimension "N". The network is all the file holds: the
/// sampling loop around it is the user's, built from the metadata_props (<see cref="OnnxMetadataKeys"/>).
/// </summary>
public static class OnnxExport
{
    /// <summary>The oldest opset written: 13 has every operator used with today's signatures.</summary>
    public const int MinOpset = 13;
    /// <summary>The newest opset written. Later ones add nothing the U-Net needs.</summary>
    public const int MaxOpset = 17;
    /// <summary>The default opset: 15 is what Unity Sentis and older runtimes read.</summary>
    public const int DefaultOpset = 15;

    /// <summary>The noisy images x_t, (N, C, H, W).</summary>
    public const string ImageInputName = "x";
    /// <summary>The time input, (N, 1): t / T or the raw t, as the metadata's time_input says.</summary>
    public const string TimeInputName = "t";
    /// <summary>The context vector, (N, n_cfeat): one-hot for a class, all zeros for none.</summary>
    public const string ContextInputName = "context";
    /// <summary>The predicted noise eps, (N, C, H, W).</summary>
    public const string NoiseOutputName = "eps";

    /// <summary>
    /// Writes <paramref name="model"/> as an ONNX file at <paramref name="path"/>, atomically (a
    /// reader sees the old file or the whole new one). Throws ArgumentOutOfRangeException for an
    /// opset outside <see cref="MinOpset"/>..<see cref="MaxOpset"/>, ArgumentException for metadata
    /// that describes no schedule or time input, and IOException when the file cannot be written.
    /// </summary>
    public static void Write(UNet model, OnnxMetadata metadata, string path, int opset = DefaultOpset)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("no output file was given for the ONNX model.", nameof(path));
        var proto = Build(model, metadata, opset);
        if (Directory.Exists(path))
            throw new IOException($"{path}: is a folder; give the ONNX file's own name, such as {Path.Combine(path, "model.onnx")}.");
        try
        {
            AtomicFile.Write(path, stream => proto.WriteTo(stream));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: could not write the ONNX model ({e.Message.TrimEnd('.', ' ')}). Choose a file in a folder you can write to.", e);
        }
    }

    /// <summary>The bytes <see cref="Write"/> would write, for a caller that keeps the model in memory.</summary>
    public static byte[] ToBytes(UNet model, OnnxMetadata metadata, int opset = DefaultOpset) => Build(model, metadata, opset).ToByteArray();

    /// <summary>Throws ArgumentOutOfRangeException (parameter "opset") unless <paramref name="opset"/> can be written.</summary>
    public static void CheckOpset(int opset)
    {
        if (opset is < MinOpset or > MaxOpset)
            throw new ArgumentOutOfRangeException(nameof(opset),
                $"ONNX opset {opset} is not supported; choose {MinOpset} to {MaxOpset} ({DefaultOpset}, the default, suits Unity Sentis and older runtimes).");
    }

    /// <summary>
    /// The IR version that shipped with <paramref name="opset"/> (ONNX 1.8 and 1.9: 7; 1.10 to
    /// 1.12: 8): the oldest a runtime must read, so older runtimes are not turned away.
    /// </summary>
    internal static long IrVersion(int opset) => opset <= 14 ? 7 : 8;

    internal static ModelProto Build(UNet model, OnnxMetadata metadata, int opset)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(metadata);
        CheckOpset(opset);
        var props = MetadataProps(model.Config, metadata);
        var graph = new OnnxGraphBuilder();
        OnnxUNetGraph.Build(graph, model);
        graph.Graph.Name = "spritediffusion_unet";
        var proto = new ModelProto
        {
            IrVersion = IrVersion(opset),
            ProducerName = "SpriteDiffusion",
            ProducerVersion = typeof(OnnxExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            DocString = DocString(model.Config, metadata),
            Graph = graph.Graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        foreach (var (key, value) in props) proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return proto;
    }

    /// <summary>The metadata_props of an exported model, in the order they are written.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> MetadataProps(UNetConfig config, OnnxMetadata metadata)
    {
        if (metadata.TimeInput is not (Diffusion.TimeInput.NormalizedName or Diffusion.TimeInput.RawName))
            throw new ArgumentException($"unknown time input convention '{metadata.TimeInput}'; expected '{Diffusion.TimeInput.NormalizedName}' or '{Diffusion.TimeInput.RawName}'.", nameof(metadata));
        if (!Prediction.Names.Contains(metadata.Prediction))
            throw new ArgumentException($"unknown prediction target '{metadata.Prediction}'; expected one of {string.Join(", ", Prediction.Names)}.", nameof(metadata));
        NoiseSchedule schedule;
        try { schedule = metadata.CreateSchedule(); }
        catch (ArgumentException e) { throw new ArgumentException($"the noise schedule cannot be built: {e.Message}", nameof(metadata), e); }

        static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        static string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var json = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        var props = new List<KeyValuePair<string, string>>
        {
            new(OnnxMetadataKeys.Format, OnnxMetadataKeys.FormatValue),
            new(OnnxMetadataKeys.InChannels, I(config.InChannels)),
            new(OnnxMetadataKeys.NFeat, I(config.NFeat)),
            new(OnnxMetadataKeys.NCFeat, I(config.NCFeat)),
            new(OnnxMetadataKeys.Height, I(config.Height)),
            new(OnnxMetadataKeys.Padding, config.Padding == Layers.PaddingMode.Circular ? "circular" : "zeros"),
            new(OnnxMetadataKeys.Schedule, schedule.Name),
            new(OnnxMetadataKeys.Timesteps, I(schedule.T)),
        };
        if (schedule.Name == NoiseSchedule.LinearName)
        {
            props.Add(new(OnnxMetadataKeys.BetaStart, D(metadata.BetaStart)));
            props.Add(new(OnnxMetadataKeys.BetaEnd, D(metadata.BetaEnd)));
        }
        props.Add(new(OnnxMetadataKeys.AlphasCumprod, JsonSerializer.Serialize(schedule.AlphaBar, json)));
        props.Add(new(OnnxMetadataKeys.TimeInput, metadata.TimeInput));
        props.Add(new(OnnxMetadataKeys.Prediction, metadata.Prediction));
        props.Add(new(OnnxMetadataKeys.ClassNames, JsonSerializer.Serialize(metadata.ClassNames, json)));
        props.Add(new(OnnxMetadataKeys.Conditional, metadata.Conditional ? "true" : "false"));
        if (metadata.Weights is { } weights) props.Add(new(OnnxMetadataKeys.Weights, weights));
        foreach (var (key, value) in metadata.Extra.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            props.Add(new(OnnxMetadataKeys.ExtraPrefix + key, value));
        return props;
    }

    private static string DocString(UNetConfig c, OnnxMetadata m)
    {
        string time = m.TimeInput == Diffusion.TimeInput.NormalizedName
            ? $"t / T for the integer timestep t (T = {m.Timesteps})"
            : $"the integer timestep t itself, as a float (0..{m.Timesteps - 1})";
        return $"SpriteDiffusion seed U-Net noise predictor, evaluation mode. Inputs: {ImageInputName} (N, {c.InChannels}, {c.Height}, {c.Height}) "
            + $"float32, the noisy images x_t; {TimeInputName} (N, 1) float32, {time}; {ContextInputName} (N, {c.NCFeat}) float32, a one-hot "
            + $"class vector or all zeros for none. Output: {NoiseOutputName} (N, {c.InChannels}, {c.Height}, {c.Height}), "
            + (m.Prediction == Prediction.VelocityName
                ? "the predicted velocity v (a v-prediction model): the noise is sqrt(alpha_bar) v + sqrt(1 - alpha_bar) x_t. "
                : "the predicted noise. ")
            + "metadata_props hold the schedule (alphas_cumprod), the time input convention, the prediction target and the class names.";
    }
}
