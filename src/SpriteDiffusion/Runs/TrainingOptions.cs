using SpriteDiffusion.IO;
using System.Text.Json;
using System.Text.Json.Serialization;
using SpriteDiffusion.Data;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Training;

namespace SpriteDiffusion.Runs;

/// <summary>Everything a training run depends on; written next to its outputs as config.json.</summary>
public sealed record TrainingOptions
{
    /// <summary>A data-set folder (images.npy, labels.npy, classes.txt); null means the bundled twemoji16.</summary>
    public string? Data { get; init; }
    /// <summary>n_feat, the U-Net's width (a multiple of 8): 32 trains on two cores, the seed uses 128.</summary>
    public int NFeat { get; init; } = 32;
    /// <summary>Full passes over the training split.</summary>
    public int Epochs { get; init; } = 12;
    /// <summary>Images per optimiser step, 1 to 4096; lowered to the training split's size when that is smaller.</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>Adam's step size, constant for the whole run.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>The share of the images held out for the validation loss.</summary>
    public double ValidationFraction { get; init; } = SpriteDataset.DefaultValidationFraction;
    /// <summary>Seeds the train/validation split (and the limit's subset), apart from <see cref="Seed"/>, so runs with other seeds validate on the same images.</summary>
    public int SplitSeed { get; init; } = SpriteDataset.DefaultSplitSeed;
    /// <summary>Seeds the initial weights, the batch order, the flips, and the timesteps and noise drawn per step.</summary>
    public ulong Seed { get; init; }
    /// <summary>Mirror each training image left to right with probability 1/2, a free augmentation for most sprites.</summary>
    public bool Flip { get; init; } = true;
    /// <summary>
    /// Pad every convolution circularly, so the network learns sprites as tiles whose opposite edges
    /// meet; the checkpoint records it and sampling, export and the playground follow it.
    /// </summary>
    public bool Tileable { get; init; }
    /// <summary>The noise schedule's name, "linear" or "cosine".</summary>
    public string Schedule { get; init; } = NoiseSchedule.LinearName;
    /// <summary>T, the number of diffusion timesteps, 2 to 100000.</summary>
    public int Timesteps { get; init; } = NoiseSchedule.DefaultTimesteps;
    /// <summary>How t is fed to the network: "t/T" (the default, trains far better) or "raw" (the seed's).</summary>
    public string TimeInput { get; init; } = Diffusion.TimeInput.NormalizedName;
    /// <summary>Feed each image's one-hot class to the context input (classifier-free guidance needs it).</summary>
    public bool Conditional { get; init; } = true;
    /// <summary>Chance that a conditional image trains with the null (all-zeros) context instead, so one model also samples unconditionally.</summary>
    public double ContextDropout { get; init; } = 0.1;
    /// <summary>Decay of the exponential moving average of the weights (0: none); sampling uses the average.</summary>
    public double EmaDecay { get; init; } = 0.995;
    /// <summary>Train on only this many images (quick experiments); null uses all.</summary>
    public int? Limit { get; init; }
    /// <summary>The run's folder; null means a new runs/YYYYMMDD-HHMMSS, so no run ever overwrites another.</summary>
    public string? Output { get; init; }
    /// <summary>Sprites drawn with each sampler when training ends (0: none).</summary>
    public int Samples { get; init; } = 16;
    /// <summary>
    /// Also draw a sample grid (samples_epochNNNN.png, <see cref="Samples"/> sprites or 16, DDIM,
    /// the weights sampling uses) after every this many epochs, so a run can be watched as it
    /// trains; null draws only at the end.
    /// </summary>
    public int? SampleEvery { get; init; }
    /// <summary>DDIM steps for the sample grids drawn when training ends.</summary>
    public int DdimSteps { get; init; } = 50;
    /// <summary>Engine threads; null keeps <see cref="Engine.Workers.Threads"/> as it is (by default the processor count).</summary>
    public int? Threads { get; init; }
    /// <summary>The preset these options started from, "cpu", "quick" or "seed", recorded in config.json.</summary>
    public string Preset { get; init; } = "cpu";

    // The recipe options below default to what runs did before they existed, so that an older
    // config.json (which lacks their keys) resumes as it ran.

    /// <summary>What the network learns to output: "eps" (the noise, as the seed) or "v" (the velocity of Salimans and Ho).</summary>
    public string Prediction { get; init; } = Diffusion.Prediction.NoiseName;
    /// <summary>"mse" (every image alike) or "min-snr" (each timestep weighted by min-SNR-gamma).</summary>
    public string Loss { get; init; } = LossWeights.MseName;
    /// <summary>The gamma of the min-SNR weighting (used only by that loss).</summary>
    public double MinSnrGamma { get; init; } = LossWeights.DefaultGamma;
    /// <summary>The learning rate after the warm-up: "constant", or a "cosine" or "linear" decay to <see cref="LrFloor"/> over the run's planned length.</summary>
    public string LrSchedule { get; init; } = LearningRateSchedule.ConstantName;
    /// <summary>Optimiser steps over which the learning rate rises linearly to its peak (0: none).</summary>
    public int WarmupSteps { get; init; }
    /// <summary>The learning rate a decaying schedule ends at.</summary>
    public double LrFloor { get; init; }
    /// <summary>
    /// Minutes of training to plan the run for: the run measures its first epoch and trains as many
    /// epochs as fit, which then replace <see cref="Epochs"/>; null trains <see cref="Epochs"/>.
    /// </summary>
    public double? TimeBudgetMinutes { get; init; }
    /// <summary>
    /// The weight average's half-life in training images (EDM's convention): decay per step
    /// 0.5^(batch / half-life), so the average spans the same images at any batch size. Instead
    /// of <see cref="EmaDecay"/>, which must then be 0.
    /// </summary>
    public double? EmaHalflife { get; init; }
    /// <summary>Classes (by name or index) never mirrored by <see cref="Flip"/>: a mirrored flag, digit or letter is a sprite that does not exist.</summary>
    public string[] NoFlipClasses { get; init; } = [];

    /// <summary>
    /// The default: the recipe that learned most in 20 minutes on two CPU cores (README, "The recipe
    /// study"; two seeds each): n_feat 48, batch 64, 108 epochs (about 20 minutes), v target with
    /// min-SNR-5 weighting, the linear noise schedule and a constant learning rate, class-conditional
    /// with 10 % null context and an EMA of the weights (the bundled model is this recipe trained for
    /// three hours on the transparent data set). The property defaults above stay the older recipe, so a config.json without the newer
    /// keys still means what it meant when it was written.
    /// </summary>
    public static TrainingOptions Cpu { get; } = new()
    {
        NFeat = 48, BatchSize = 64, Epochs = 108, Schedule = NoiseSchedule.LinearName,
        Prediction = Diffusion.Prediction.VelocityName, Loss = LossWeights.MinSnrName,
        LrSchedule = LearningRateSchedule.ConstantName, WarmupSteps = 0, LrFloor = 0,
    };

    /// <summary>
    /// The README's main job: what learned most in three minutes (README, "Two commands"), where the
    /// default's wider network sees too few images (FID 245 against 211): n_feat 32, batch 32, 27
    /// epochs, v target, min-SNR-5, cosine noise schedule, warm-up then cosine decay of the learning
    /// rate to 1e-5.
    /// </summary>
    public static TrainingOptions Quick { get; } = new()
    {
        Preset = "quick", BatchSize = 32, Epochs = 27, Schedule = NoiseSchedule.CosineName,
        Prediction = Diffusion.Prediction.VelocityName, Loss = LossWeights.MinSnrName,
        LrSchedule = LearningRateSchedule.CosineName, WarmupSteps = 100, LrFloor = 1e-5,
    };

    /// <summary>SPEC section 6: the seed project's hyper-parameters, for a GPU-class budget.</summary>
    public static TrainingOptions SeedPreset { get; } = new()
    {
        Preset = "seed", NFeat = 128, BatchSize = 128, Epochs = 100, LearningRate = 1e-3, Flip = false,
        ValidationFraction = 0.1, SplitSeed = 42, DdimSteps = 50, Conditional = false, EmaDecay = 0,
    };

    /// <summary>
    /// What a resumed run's config.json is laid over: a config written before conditional training
    /// and the weight average existed lacks their keys, and its run had neither.
    /// </summary>
    public static TrainingOptions ResumeBase { get; } = new() { Conditional = false, EmaDecay = 0 };

    /// <summary>The options of the preset called <paramref name="name"/>, "cpu", "quick" or "seed"; throws <see cref="ArgumentException"/> for any other.</summary>
    public static TrainingOptions FromPreset(string name) => name switch
    {
        "cpu" => Cpu,
        "quick" => Quick,
        "seed" => SeedPreset,
        _ => throw new ArgumentException($"unknown preset '{name}'; choose 'cpu' (the default, about 20 minutes on two cores), 'quick' (about 3) or 'seed' (SPEC section 6).", nameof(name)),
    };

    /// <summary>How config.json is written and read: snake_case keys, indented, and an unknown key is an error rather than ignored.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The options as config.json holds them.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Overlays a JSON config file's keys (snake_case, as config.json writes them) on these options.</summary>
    public TrainingOptions Overlay(string jsonPath)
    {
        if (!File.Exists(jsonPath)) throw new FileNotFoundException($"{jsonPath}: no such config file.");
        try
        {
            var baseNode = System.Text.Json.Nodes.JsonNode.Parse(ToJson())!.AsObject();
            var overlay = System.Text.Json.Nodes.JsonNode.Parse(InputFile.ReadAllText(jsonPath), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) as System.Text.Json.Nodes.JsonObject
                ?? throw new InvalidDataException($"{jsonPath}: the config must be a JSON object of option names to values.");
            foreach (var (key, value) in overlay.ToList())
            {
                if (!baseNode.ContainsKey(key))
                    throw new InvalidDataException($"{jsonPath}: unknown option '{key}'. Known: {string.Join(", ", baseNode.Select(kv => kv.Key))}.");
                baseNode[key] = value?.DeepClone();
            }
            // A file that names one way of averaging means that one, whichever the options under it had.
            if (overlay["ema_halflife"] is not null && !overlay.ContainsKey("ema_decay")) baseNode["ema_decay"] = 0;
            if (overlay.ContainsKey("ema_decay") && !overlay.ContainsKey("ema_halflife")) baseNode["ema_halflife"] = null;
            return baseNode.Deserialize<TrainingOptions>(Json)!;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{jsonPath}: not a valid config ({e.Message}). Each option may appear once.");
        }
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/>, naming the option, for a value no run can use.</summary>
    public void Validate()
    {
        if (NFeat < 8 || NFeat % 8 != 0 || NFeat > Model.UNetConfig.MaxNFeat) throw new ArgumentOutOfRangeException(nameof(NFeat), $"n_feat must be a positive multiple of 8, at most {Model.UNetConfig.MaxNFeat} (got {NFeat}).");
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), $"the epoch count must be at least 1 (got {Epochs}).");
        if (BatchSize < 1 || BatchSize > 4096) throw new ArgumentOutOfRangeException(nameof(BatchSize), $"the batch size must be between 1 and 4096 (got {BatchSize}).");
        if (!(LearningRate > 0 && LearningRate < 1)) throw new ArgumentOutOfRangeException(nameof(LearningRate), $"the learning rate must be between 0 and 1 (got {LearningRate}).");
        if (!(ValidationFraction > 0 && ValidationFraction < 1)) throw new ArgumentOutOfRangeException(nameof(ValidationFraction), $"the validation fraction must be between 0 and 1 (got {ValidationFraction}).");
        if (Timesteps < 2 || Timesteps > 100_000) throw new ArgumentOutOfRangeException(nameof(Timesteps), $"the number of timesteps must be between 2 and 100000 (got {Timesteps}).");
        if (!NoiseSchedule.Names.Contains(Schedule)) throw new ArgumentOutOfRangeException(nameof(Schedule), $"the noise schedule must be one of {string.Join(", ", NoiseSchedule.Names)} (got '{Schedule}').");
        if (TimeInput is not (Diffusion.TimeInput.NormalizedName or Diffusion.TimeInput.RawName)) throw new ArgumentOutOfRangeException(nameof(TimeInput), $"the time input must be '{Diffusion.TimeInput.NormalizedName}' or '{Diffusion.TimeInput.RawName}' (got '{TimeInput}').");
        if (Limit is < 2) throw new ArgumentOutOfRangeException(nameof(Limit), $"the image limit must be at least 2 images (got {Limit}).");
        if (Samples < 0 || Samples > 1024) throw new ArgumentOutOfRangeException(nameof(Samples), $"the sample count must be between 0 and 1024 (got {Samples}).");
        if (SampleEvery is < 1) throw new ArgumentOutOfRangeException(nameof(SampleEvery), $"samples can be drawn every 1 or more epochs (got {SampleEvery}).");
        if (DdimSteps < 1 || DdimSteps > Timesteps) throw new ArgumentOutOfRangeException(nameof(DdimSteps), $"the DDIM step count must be between 1 and {Timesteps} (got {DdimSteps}).");
        if (!(ContextDropout >= 0 && ContextDropout <= 1)) throw new ArgumentOutOfRangeException(nameof(ContextDropout), $"the context dropout must be between 0 and 1 (got {ContextDropout}).");
        if (!(EmaDecay >= 0 && EmaDecay < 1)) throw new ArgumentOutOfRangeException(nameof(EmaDecay), $"the EMA decay must be at least 0 and below 1 (got {EmaDecay}); 0 turns the average off.");
        if (!Diffusion.Prediction.Names.Contains(Prediction)) throw new ArgumentOutOfRangeException(nameof(Prediction), $"the prediction target must be one of {string.Join(", ", Diffusion.Prediction.Names)} (got '{Prediction}').");
        if (!LossWeights.Names.Contains(Loss)) throw new ArgumentOutOfRangeException(nameof(Loss), $"the loss must be one of {string.Join(", ", LossWeights.Names)} (got '{Loss}').");
        if (!(MinSnrGamma > 0 && MinSnrGamma <= 1e6)) throw new ArgumentOutOfRangeException(nameof(MinSnrGamma), $"the min-SNR gamma must be above 0 and at most 1e6 (got {MinSnrGamma}); the paper's default is {LossWeights.DefaultGamma}.");
        if (!LearningRateSchedule.Names.Contains(LrSchedule)) throw new ArgumentOutOfRangeException(nameof(LrSchedule), $"the learning-rate schedule must be one of {string.Join(", ", LearningRateSchedule.Names)} (got '{LrSchedule}').");
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), $"the warm-up must be at least 0 steps (got {WarmupSteps}).");
        if (!(LrFloor >= 0 && LrFloor <= LearningRate)) throw new ArgumentOutOfRangeException(nameof(LrFloor), $"the learning-rate floor must be between 0 and the learning rate {LearningRate} (got {LrFloor}).");
        if (TimeBudgetMinutes is double budget && !(budget > 0 && budget <= 1e6)) throw new ArgumentOutOfRangeException(nameof(TimeBudgetMinutes), $"the time budget must be above 0 and at most 1e6 minutes (got {budget}).");
        if (EmaHalflife is double halflife)
        {
            if (!(halflife >= 1 && halflife <= 1e12)) throw new ArgumentOutOfRangeException(nameof(EmaHalflife), $"the EMA half-life must be between 1 and 1e12 images (got {halflife}).");
            if (EmaDecay != 0) throw new ArgumentOutOfRangeException(nameof(EmaHalflife), $"the weight average takes either a decay per step or a half-life in images, not both (got decay {EmaDecay} and half-life {halflife}).");
        }
        if (NoFlipClasses.Any(string.IsNullOrWhiteSpace)) throw new ArgumentOutOfRangeException(nameof(NoFlipClasses), "the classes exempt from flips must each be a class name or index; one is empty.");
        if (Threads is < 1 or > 256) throw new ArgumentOutOfRangeException(nameof(Threads), $"the thread count must be between 1 and 256 (got {Threads}).");
    }
}
