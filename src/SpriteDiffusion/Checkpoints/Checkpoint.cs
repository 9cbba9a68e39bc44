using System.Globalization;
using System.Text.Json;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Model;
using SpriteDiffusion.Training;
using SpriteDiffusion.IO;
using SpriteDiffusion.Layers;

namespace SpriteDiffusion.Checkpoints;

/// <summary>What a checkpoint records beside the weights, so that it samples correctly on its own.</summary>
public sealed record CheckpointInfo
{
    /// <summary>The network's shape, which loading rebuilds it from.</summary>
    public required UNetConfig Model { get; init; }
    /// <summary>The noise schedule's name ("linear" or "cosine"); sampling must use the one trained with.</summary>
    public string Schedule { get; init; } = NoiseSchedule.LinearName;
    /// <summary>T, the number of diffusion timesteps trained with.</summary>
    public int Timesteps { get; init; } = NoiseSchedule.DefaultTimesteps;
    /// <summary>The linear schedule's first beta.</summary>
    public double BetaStart { get; init; } = NoiseSchedule.DefaultBetaStart;
    /// <summary>The linear schedule's last beta.</summary>
    public double BetaEnd { get; init; } = NoiseSchedule.DefaultBetaEnd;
    /// <summary>"t/T" (the default: t divided by T) or "raw" (the integer t as a float, as the seed did).</summary>
    public string TimeInput { get; init; } = Diffusion.TimeInput.NormalizedName;
    /// <summary>The class names in label order, for per-class sampling; empty when the file records none.</summary>
    public string[] ClassNames { get; init; } = [];
    /// <summary>
    /// How a 4-channel model's fourth channel was trained (<see cref="StraightAlpha"/>); null for
    /// RGB models.
    /// </summary>
    public string? Alpha { get; init; }

    /// <summary>The only alpha convention so far: straight (not premultiplied) alpha, fully transparent pixels white.</summary>
    public const string StraightAlpha = "straight; fully transparent pixels stored as #ffffff";
    /// <summary>Trained with one-hot class contexts (and null-context dropout), so it can be sampled per class with guidance.</summary>
    public bool Conditional { get; init; }
    /// <summary>The chance that a training image was given the null context instead of its class; 0 for unconditional models.</summary>
    public double ContextDropout { get; init; }
    /// <summary>The decay of the weight average stored beside the raw weights; null when the file holds none.</summary>
    public double? EmaDecay { get; init; }
    /// <summary>Epochs finished when the file was saved (0 when unknown).</summary>
    public int Epoch { get; init; }
    /// <summary>Optimiser steps taken when the file was saved (0 when unknown).</summary>
    public long Step { get; init; }
    /// <summary>The validation loss of the weights sampling uses (the average's where there is one); null when unknown.</summary>
    public double? ValidationLoss { get; init; }
    /// <summary>The epoch's mean training loss; null when unknown.</summary>
    public double? TrainLoss { get; init; }
    /// <summary>Anything else worth keeping (the training command, data set, commit).</summary>
    public Dictionary<string, string> Extra { get; init; } = [];
    /// <summary>
    /// What the network outputs: "eps" (the noise) or "v" (the velocity). Sampling converts v to eps,
    /// so it must know; a file that does not say predicts eps, as every model did before v existed.
    /// </summary>
    public string Prediction { get; init; } = Diffusion.Prediction.NoiseName;
    /// <summary>How the weights were trained; null when the file does not say (older checkpoints, PyTorch state dicts).</summary>
    public TrainingRecipe? Recipe { get; init; }
}

/// <summary>Which of a checkpoint's two sets of weights to load.</summary>
public enum WeightChoice
{
    /// <summary>The moving average when the file holds one, else the raw weights.</summary>
    Ema,
    /// <summary>The raw trained weights, even when the file holds an average.</summary>
    Raw,
}

/// <summary>
/// Checkpoints as safetensors files whose tensors are the seed's PyTorch state-dict (158 entries,
/// num_batches_tracked as int64) under their own names, with the model's configuration in the
/// header's __metadata__. A weight average, when trained with one, sits beside them under "ema."
/// names, so PyTorch loads either set by filtering on that prefix (tools/reference/load_checkpoint.py).
/// A resumable checkpoint adds the optimiser's moments and the random generator's state.
/// A file without our metadata (a state dict saved from PyTorch, as safetensors or by torch.save
/// as .pth) is taken as the seed's: raw integer t, linear schedule, T = 1000, unconditional.
/// </summary>
public static class Checkpoint
{
    /// <summary>The "format" metadata value that marks our checkpoints; a file without it is read as the seed's state dict.</summary>
    public const string FormatName = "spritediffusion-checkpoint";
    /// <summary>The prefix of the weight average's tensors; PyTorch loads that set by filtering on it.</summary>
    public const string EmaPrefix = "ema.";
    private const string OptimizerPrefix = "optimizer.";

    /// <summary>
    /// Writes the model's state dict, the weight average when given, and <paramref name="info"/> as
    /// metadata, atomically. Overwrites <paramref name="path"/>.
    /// </summary>
    public static void Save(string path, UNet model, CheckpointInfo info, WeightAverage? ema = null)
    {
        var writer = new SafetensorsWriter();
        AddState(writer, model.Store);
        AddAverage(writer, ema);
        WriteMetadata(writer.Metadata, info with { EmaDecay = ema?.Decay });
        writer.Save(path);
    }

    /// <summary>Model, weight average, Adam moments and generator state, for --resume.</summary>
    public static void SaveResumable(string path, UNet model, Adam optimizer, CheckpointInfo info, ulong[] rngState, WeightAverage? ema = null)
    {
        var writer = new SafetensorsWriter();
        AddState(writer, model.Store);
        AddAverage(writer, ema);
        info = info with { EmaDecay = ema?.Decay };
        foreach (var e in model.Store.Entries.Where(e => e.Kind == StateKind.Parameter))
        {
            int offset = model.Store.OffsetOf(e);
            writer.Add(OptimizerPrefix + "exp_avg." + e.Name, optimizer.M.Span.Slice(offset, e.Length), e.Shape);
            writer.Add(OptimizerPrefix + "exp_avg_sq." + e.Name, optimizer.V.Span.Slice(offset, e.Length), e.Shape);
        }
        writer.AddInt64(OptimizerPrefix + "step", [optimizer.Step], 1);
        writer.AddInt64("rng.state", rngState.Select(v => unchecked((long)v)).ToArray(), rngState.Length);
        WriteMetadata(writer.Metadata, info);
        writer.Metadata["resumable"] = "true";
        writer.Metadata["learning_rate"] = optimizer.LearningRate.ToString("R", CultureInfo.InvariantCulture);
        writer.Save(path);
    }

    /// <summary>
    /// The model in the file with the chosen weights: by default the moving average where the
    /// file holds one (what sampling and evaluation want), else the raw weights.
    /// </summary>
    /// <param name="path">A safetensors checkpoint, or a .pth state dict saved by PyTorch.</param>
    /// <param name="weights">The raw weights or the moving average.</param>
    /// <param name="overrides">Diffusion settings to use instead of the file's (null: the file's).</param>
    public static (UNet Model, CheckpointInfo Info) Load(string path, WeightChoice weights = WeightChoice.Ema, CheckpointOverrides? overrides = null)
    {
        var file = CheckpointTensors.Open(path);
        var info = Apply(ReadInfo(file), overrides, file.Path);
        var model = new UNet(info.Model);
        LoadState(file, model.Store, weights == WeightChoice.Ema && HasAverage(file) ? EmaPrefix : "");
        return (model, info);
    }

    /// <summary>
    /// Writes any checkpoint this program reads (a .pth or bare state dict included) as our
    /// safetensors with full metadata, the weight average too where there is one, so that it loads
    /// without overrides from then on.
    /// </summary>
    public static CheckpointInfo Convert(string source, string destination, CheckpointOverrides? overrides = null)
    {
        if (Path.GetFullPath(source) == Path.GetFullPath(destination))
            throw new ArgumentException($"{destination}: the converted checkpoint would replace its source; choose another output path.", nameof(destination));
        var file = CheckpointTensors.Open(source);
        var info = Apply(ReadInfo(file), overrides, file.Path);
        var model = new UNet(info.Model);
        LoadState(file, model.Store);
        var writer = new SafetensorsWriter();
        AddState(writer, model.Store);
        if (HasAverage(file))
        {
            var average = new UNet(info.Model);
            LoadState(file, average.Store, EmaPrefix);
            foreach (var e in average.Store.Entries.Where(e => e.Kind != StateKind.Counter)) writer.Add(EmaPrefix + e.Name, e.Value.Span, e.Shape);
        }
        WriteMetadata(writer.Metadata, info);
        writer.Save(destination);
        return info;
    }

    /// <summary>Whether the file holds a weight average beside the raw weights.</summary>
    private static bool HasAverage(CheckpointTensors file) => file.Names.Any(n => n.StartsWith(EmaPrefix, StringComparison.Ordinal));

    private static CheckpointInfo Apply(CheckpointInfo info, CheckpointOverrides? overrides, string path)
    {
        if (overrides is null || overrides == CheckpointOverrides.None) return info;
        info = info with
        {
            TimeInput = overrides.TimeInput ?? info.TimeInput,
            Timesteps = overrides.Timesteps ?? info.Timesteps,
            Schedule = overrides.Schedule ?? info.Schedule,
            Model = overrides.Padding is PaddingMode padding ? info.Model with { Padding = padding } : info.Model,
        };
        if (overrides.TimeInput is { } t && t is not (TimeInput.NormalizedName or TimeInput.RawName))
            throw new ArgumentOutOfRangeException(nameof(CheckpointOverrides.TimeInput), $"the time input must be '{TimeInput.NormalizedName}' or '{TimeInput.RawName}' (got '{t}').");
        if (overrides.Timesteps is < 2 or > 100_000)
            throw new ArgumentOutOfRangeException(nameof(CheckpointOverrides.Timesteps), $"the number of timesteps must be between 2 and 100000 (got {overrides.Timesteps}).");
        if (overrides.Schedule is { } s && !NoiseSchedule.Names.Contains(s))
            throw new ArgumentOutOfRangeException(nameof(CheckpointOverrides.Schedule), $"{path}: the noise schedule must be one of {string.Join(", ", NoiseSchedule.Names)} (got '{s}').");
        return info;
    }

    private static void AddAverage(SafetensorsWriter writer, WeightAverage? ema)
    {
        if (ema is null) return;
        foreach (var (e, average) in ema.Averages) writer.Add(EmaPrefix + e.Name, average.Span, e.Shape);
    }

    /// <summary>
    /// Restores everything SaveResumable wrote into a model of the same configuration and its
    /// optimiser; returns the checkpoint's information and the saved generator state.
    /// </summary>
    public static (CheckpointInfo Info, ulong[] RngState) LoadResumable(string path, UNet model, Adam optimizer, WeightAverage? ema = null)
    {
        var file = CheckpointTensors.Open(path);
        var info = ReadInfo(file);
        if (info.Model != model.Config)
            throw new InvalidDataException($"{path}: the saved model is {info.Model}, this run's is {model.Config}; resume with the run's own config.json.");
        if (!file.Contains(OptimizerPrefix + "step"))
            throw new InvalidDataException($"{path}: this checkpoint holds no optimiser state, so training cannot resume from it; resume from the run's resume.safetensors.");
        LoadState(file, model.Store);
        foreach (var e in model.Store.Entries.Where(e => e.Kind == StateKind.Parameter))
        {
            int offset = model.Store.OffsetOf(e);
            Copy(file, OptimizerPrefix + "exp_avg." + e.Name, e.Shape, optimizer.M.Span.Slice(offset, e.Length));
            Copy(file, OptimizerPrefix + "exp_avg_sq." + e.Name, e.Shape, optimizer.V.Span.Slice(offset, e.Length));
        }
        optimizer.Step = file.ToInt64(OptimizerPrefix + "step")[0];
        if (HasAverage(file) != (ema is not null))
            throw new InvalidDataException($"{path}: the run was trained {(HasAverage(file) ? "with" : "without")} a weight average; resume it with the same EMA decay (the run's config.json has it).");
        if (ema is not null)
            foreach (var (e, average) in ema.Averages) Copy(file, EmaPrefix + e.Name, e.Shape, average.Span);
        return (info, file.ToInt64("rng.state").Select(v => unchecked((ulong)v)).ToArray());
    }

    /// <summary>What the file records beside its weights; for a file without our metadata, the seed's conventions.</summary>
    private static CheckpointInfo ReadInfo(CheckpointTensors file)
    {
        var m = file.Metadata;
        // Our files say what they are; anything else is a state dict as the seed's training writes it.
        bool ours = m.ContainsKey("format");
        string Get(string key, string fallback) => m.TryGetValue(key, out var v) ? v : fallback;
        bool GetBool(string key, bool fallback) => ParseBool(file.Path, m, key, fallback);
        long GetLong(string key, long fallback)
        {
            if (!m.TryGetValue(key, out var v)) return fallback;
            return long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out long r) ? r
                : throw new InvalidDataException($"{file.Path}: metadata '{key}' is '{v}', not an integer.");
        }
        int GetInt(string key, int fallback)
        {
            long v = GetLong(key, fallback);
            return v is >= int.MinValue and <= int.MaxValue ? (int)v
                : throw new InvalidDataException($"{file.Path}: metadata '{key}' is {v}, beyond any value it can take; the file is damaged.");
        }
        double? GetDouble(string key)
        {
            if (!m.TryGetValue(key, out var v)) return null;
            return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) && double.IsFinite(r) ? r
                : throw new InvalidDataException($"{file.Path}: metadata '{key}' is '{v}', not a number.");
        }

        // A state-dict saved from PyTorch carries no metadata: read the configuration off the shapes.
        var config = new UNetConfig(
            GetInt("in_channels", Dim(file, "init_conv.conv1.0.weight", 1)),
            GetInt("n_feat", Dim(file, "init_conv.conv1.0.weight", 0)),
            GetInt("n_cfeat", Dim(file, "contextembed1.model.0.weight", 1)),
            GetInt("height", 4 * Dim(file, "up0.0.weight", 2)));
        config = config with { Padding = ReadPadding(file.Path, Get("padding", "zeros")) };
        try { config.Validate(); }
        catch (ArgumentOutOfRangeException e) { throw new InvalidDataException($"{file.Path}: {e.Message}", e); }
        // The metadata must agree with the tensors, whose bytes are in the file: the network is
        // allocated from the metadata, so a damaged value must not make it larger than the file.
        foreach (var (key, claimed, actual) in new[]
        {
            ("in_channels", config.InChannels, Dim(file, "init_conv.conv1.0.weight", 1)), ("n_feat", config.NFeat, Dim(file, "init_conv.conv1.0.weight", 0)),
            ("n_cfeat", config.NCFeat, Dim(file, "contextembed1.model.0.weight", 1)), ("height", config.Height, 4 * Dim(file, "up0.0.weight", 2)),
        })
            if (claimed != actual)
                throw new InvalidDataException($"{file.Path}: metadata '{key}' is {claimed} but the weights' shapes are for {actual}; the file is damaged.");
        int timesteps = GetInt("timesteps", NoiseSchedule.DefaultTimesteps);
        if (timesteps is < 2 or > 100_000)
            throw new InvalidDataException($"{file.Path}: metadata 'timesteps' is {timesteps}; a model has between 2 and 100000. The file is damaged.");
        string timeInput = Get("time_input", ours ? TimeInput.NormalizedName : TimeInput.RawName);
        TimeInput.Parse(timeInput, file.Path);
        string[] classes = [];
        if (m.TryGetValue("class_names", out var cn))
        {
            try { classes = JsonSerializer.Deserialize<string[]>(cn) ?? []; }
            catch (JsonException) { throw new InvalidDataException($"{file.Path}: metadata 'class_names' is not a JSON list of strings."); }
            if (classes.Length > config.NCFeat)
                throw new InvalidDataException($"{file.Path}: metadata 'class_names' lists {classes.Length} names for {config.NCFeat} classes; the file is damaged.");
            if (classes.FirstOrDefault(n => Data.ClassNamesFile.Problem(n) is not null) is { } bad)
                throw new InvalidDataException($"{file.Path}: metadata 'class_names' holds a name that {Data.ClassNamesFile.Problem(bad)}; the file is damaged.");
        }
        string prediction = Get("prediction", Prediction.NoiseName);
        Prediction.Parse(prediction, file.Path);
        var extra = m.Where(kv => kv.Key.StartsWith("extra.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["extra.".Length..], kv => kv.Value);
        return new CheckpointInfo
        {
            Model = config,
            Schedule = Get("schedule", NoiseSchedule.LinearName),
            Timesteps = timesteps,
            BetaStart = GetDouble("beta_start") ?? NoiseSchedule.DefaultBetaStart,
            BetaEnd = GetDouble("beta_end") ?? NoiseSchedule.DefaultBetaEnd,
            TimeInput = timeInput,
            ClassNames = classes,
            Alpha = m.TryGetValue("alpha", out var alpha) ? alpha : config.InChannels == 4 ? CheckpointInfo.StraightAlpha : null,
            Conditional = GetBool("conditional", false),
            ContextDropout = GetDouble("context_dropout") ?? 0,
            EmaDecay = HasAverage(file) ? GetDouble("ema_decay") : null,
            Epoch = GetInt("epoch", 0),
            Step = GetLong("step", 0),
            ValidationLoss = GetDouble("validation_loss"),
            TrainLoss = GetDouble("train_loss"),
            Extra = extra,
            Prediction = prediction,
            Recipe = m.ContainsKey("lr_schedule") ? ReadRecipe(file.Path, m, GetDouble, GetLong) : null,
        };
    }

    // What the writer writes is "true" or "false"; anything else is damage, not a silent false.
    private static bool ParseBool(string path, IReadOnlyDictionary<string, string> m, string key, bool fallback) =>
        !m.TryGetValue(key, out var v) ? fallback : v switch
        {
            "true" => true,
            "false" => false,
            _ => throw new InvalidDataException($"{path}: metadata '{key}' is '{v}', not true or false; the file is damaged or was written by another program."),
        };

    private static TrainingRecipe ReadRecipe(string path, IReadOnlyDictionary<string, string> m, Func<string, double?> getDouble, Func<string, long, long> getLong)
    {
        double Required(string key) => getDouble(key) ?? throw new InvalidDataException($"{path}: metadata '{key}' is missing beside 'lr_schedule'; the file is damaged.");
        string loss = m.TryGetValue("loss", out var l) ? l : LossWeights.MseName;
        string[] noFlip = [];
        if (m.TryGetValue("no_flip_classes", out var nf))
        {
            try { noFlip = JsonSerializer.Deserialize<string[]>(nf) ?? []; }
            catch (JsonException) { throw new InvalidDataException($"{path}: metadata 'no_flip_classes' is not a JSON list of strings."); }
        }
        try
        {
            LossWeights.Parse(loss);
            var schedule = new LearningRateSchedule(LearningRateSchedule.Parse(m["lr_schedule"]), Required("lr_peak"),
                checked((int)getLong("lr_warmup_steps", 0)), getDouble("lr_floor") ?? 0, getLong("lr_total_steps", 0))
            {
                DecayStartStep = getLong("lr_decay_start_step", 0),
                DecayStartProgress = getDouble("lr_decay_start_progress") ?? 0,
            };
            return new TrainingRecipe
            {
                Loss = loss,
                MinSnrGamma = getDouble("min_snr_gamma"),
                LearningRate = schedule,
                PlannedEpochs = checked((int)getLong("planned_epochs", 0)),
                TimeBudgetMinutes = getDouble("time_budget_minutes"),
                EmaHalflife = getDouble("ema_halflife"),
                Flip = ParseBool(path, m, "flip", false),
                NoFlipClasses = noFlip,
            };
        }
        catch (Exception e) when (e is ArgumentException or OverflowException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{path}: the training recipe in the metadata is not valid ({e.Message}); the file was written by a different program or version.", e);
        }
    }

    /// <summary>PyTorch's padding_mode names: "zeros" (the seed's, and every file that does not say) or "circular".</summary>
    private static PaddingMode ReadPadding(string path, string name) => name switch
    {
        "zeros" => PaddingMode.Zeros,
        "circular" => PaddingMode.Circular,
        _ => throw new InvalidDataException($"{path}: metadata 'padding' is '{name}'; expected 'zeros' or 'circular'."),
    };

    private static int Dim(CheckpointTensors file, string name, int axis)
    {
        if (!file.Contains(name))
            throw new InvalidDataException($"{file.Path}: not a SpriteDiffusion U-Net checkpoint (no tensor '{name}').");
        var shape = file.Shape(name);
        if (axis >= shape.Length)
            throw new InvalidDataException($"{file.Path}: tensor '{name}' has shape [{string.Join(", ", shape)}], which no seed U-Net has.");
        return shape[axis];
    }

    private static void WriteMetadata(Dictionary<string, string> m, CheckpointInfo info)
    {
        string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        m["format"] = FormatName;
        m["format_version"] = "1";
        m["in_channels"] = info.Model.InChannels.ToString(CultureInfo.InvariantCulture);
        m["n_feat"] = info.Model.NFeat.ToString(CultureInfo.InvariantCulture);
        m["n_cfeat"] = info.Model.NCFeat.ToString(CultureInfo.InvariantCulture);
        m["height"] = info.Model.Height.ToString(CultureInfo.InvariantCulture);
        m["padding"] = info.Model.Padding == PaddingMode.Circular ? "circular" : "zeros";
        m["schedule"] = info.Schedule;
        m["timesteps"] = info.Timesteps.ToString(CultureInfo.InvariantCulture);
        m["beta_start"] = F(info.BetaStart);
        m["beta_end"] = F(info.BetaEnd);
        m["time_input"] = info.TimeInput;
        m["class_names"] = JsonSerializer.Serialize(info.ClassNames);
        if (info.Alpha is { } alpha) m["alpha"] = alpha;
        m["conditional"] = info.Conditional ? "true" : "false";
        m["context_dropout"] = F(info.ContextDropout);
        if (info.EmaDecay is double decay) m["ema_decay"] = F(decay);
        m["epoch"] = info.Epoch.ToString(CultureInfo.InvariantCulture);
        m["step"] = info.Step.ToString(CultureInfo.InvariantCulture);
        if (info.ValidationLoss is double v) m["validation_loss"] = F(v);
        if (info.TrainLoss is double t) m["train_loss"] = F(t);
        foreach (var (k, val) in info.Extra) m["extra." + k] = val;
        m["prediction"] = info.Prediction;
        if (info.Recipe is { } recipe) WriteRecipe(m, recipe);
    }

    private static void WriteRecipe(Dictionary<string, string> m, TrainingRecipe r)
    {
        string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        m["loss"] = r.Loss;
        if (r.MinSnrGamma is double gamma) m["min_snr_gamma"] = F(gamma);
        var lr = r.LearningRate;
        m["lr_schedule"] = LearningRateSchedule.Name(lr.Decay);
        m["lr_peak"] = F(lr.Peak);
        m["lr_warmup_steps"] = I(lr.WarmupSteps);
        m["lr_floor"] = F(lr.Floor);
        m["lr_total_steps"] = I(lr.TotalSteps);
        m["lr_decay_start_step"] = I(lr.DecayStartStep);
        m["lr_decay_start_progress"] = F(lr.DecayStartProgress);
        m["planned_epochs"] = I(r.PlannedEpochs);
        if (r.TimeBudgetMinutes is double budget) m["time_budget_minutes"] = F(budget);
        if (r.EmaHalflife is double halflife) m["ema_halflife"] = F(halflife);
        m["flip"] = r.Flip ? "true" : "false";
        m["no_flip_classes"] = JsonSerializer.Serialize(r.NoFlipClasses);
    }

    private static void AddState(SafetensorsWriter writer, ParameterStore store)
    {
        foreach (var e in store.Entries)
        {
            if (e.Kind == StateKind.Counter) writer.AddInt64(e.Name, [e.Count]);
            else writer.Add(e.Name, e.Value.Span, e.Shape);
        }
    }

    /// <summary>
    /// Checks the file's names against the store and copies every parameter and buffer from the
    /// tensor of its name with <paramref name="prefix"/> (the weight average's with "ema."); batch
    /// counters always from their own names.
    /// </summary>
    private static void LoadState(CheckpointTensors file, ParameterStore store, string prefix = "")
    {
        var expected = store.Entries.Select(e => e.Name).ToHashSet();
        var unexpected = file.Names.Where(n => !expected.Contains(n) && !n.StartsWith(OptimizerPrefix, StringComparison.Ordinal)
            && !(n.StartsWith(EmaPrefix, StringComparison.Ordinal) && expected.Contains(n[EmaPrefix.Length..])) && n != "rng.state").ToList();
        if (unexpected.Count > 0)
            throw new InvalidDataException($"{file.Path}: unexpected tensors for this U-Net ({string.Join(", ", unexpected.Take(5))}{(unexpected.Count > 5 ? ", ..." : "")}); is it a checkpoint of another model?");
        foreach (var e in store.Entries)
        {
            if (e.Kind == StateKind.Counter)
            {
                // PyTorch writes num_batches_tracked; an exporter that drops it loses nothing that sampling needs.
                e.Count = file.Contains(e.Name) ? file.ToInt64(e.Name).FirstOrDefault() : 0;
                continue;
            }
            Copy(file, prefix + e.Name, e.Shape, e.Value.Span);
        }
    }

    private static void Copy(CheckpointTensors file, string name, int[] shape, Span<float> destination)
    {
        if (!file.Contains(name))
            throw new InvalidDataException($"{file.Path}: tensor '{name}' is missing; the checkpoint does not match a seed U-Net of this configuration.");
        var actual = file.Shape(name);
        if (!actual.SequenceEqual(shape))
            throw new InvalidDataException($"{file.Path}: tensor '{name}' has shape [{string.Join(", ", actual)}] but the model needs [{string.Join(", ", shape)}].");
        file.CopyFloat32To(name, destination);
        foreach (float v in destination)
            if (!float.IsFinite(v)) throw new InvalidDataException($"{file.Path}: tensor '{name}' holds NaN or infinite values; the checkpoint is damaged.");
    }

}
