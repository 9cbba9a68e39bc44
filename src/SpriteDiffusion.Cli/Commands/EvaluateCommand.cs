using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Evaluation;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Generation;

namespace SpriteDiffusion.Cli.Commands;

internal static class EvaluateCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Checkpoint to sample from; its sprites are compared with the data set it was trained on, divided as its run divided it (default: the bundled pretrained model)." };
        var data = new Option<string?>("--data") { Description = "The data set the checkpoint was trained on, for --checkpoint mode (default: the folder the checkpoint records it was trained on, where that is here; else the bundled data set)." };
        var real = new Option<string>("--real") { Description = "Real images of --checkpoint mode: all (every image the run drew from), train or val (its training or validation split).", HelpName = string.Join('|', RealSets.Names), DefaultValueFactory = _ => "all" };
        var realDir = new Option<string?>("--real-dir") { Description = "Folder of real PNG images (with --fake-dir: compare two folders, like pytorch-fid)." };
        var fakeDir = new Option<string?>("--fake-dir") { Description = "Folder of generated PNG images." };
        var n = new Option<int>("--n") { Description = "Sprites to generate (--checkpoint; the real set is always whole). Folders: the first N PNGs of each by name (default there: all).", DefaultValueFactory = _ => 3000 };
        var method = new Option<string>("--method") { Description = "Sampler: ddim, dpm++2m or ddpm.", DefaultValueFactory = _ => "ddim" };
        method.AcceptOnlyFromAmong([.. Samplers.Names]);
        var steps = new Option<int?>("--steps") { Description = $"Sampling steps (default: {GeneratedImages.DefaultDdimSteps} for DDIM, as the seed's FID; {DpmSolverSampler.DefaultSteps} for dpm++2m; T for DDPM)." };
        var eta = new Option<double>("--eta") { Description = "DDIM stochasticity, 0 (deterministic) to 1.", DefaultValueFactory = _ => 0.0 };
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed: the same seed gives the same images.", DefaultValueFactory = _ => 0UL };
        var threads = new Option<int?>("--threads") { Description = "Sampler worker threads (default: all cores)." };
        var guidance = new Option<double?>("--guidance") { Description = "Conditional checkpoints: classifier-free guidance scale, each sprite drawn for the class of a real image (default: unconditional)." };
        var weights = WeightsOption.Create();
        var clip = new Option<bool>("--clip-denoised") { Description = "Clamp each step's predicted clean image to [-1, 1], as `sprites sample` does by default.", DefaultValueFactory = _ => true };
        var features = new Option<string>("--features") { Description = "Feature network: resnet18 (bundled, ImageNet); inception (pytorch-fid's FID Inception, weights from the torch hub cache) or inception:PATH (its pt_inception-2015-12-05-6726825d.pth): the seed's FID; or onnx:PATH.", DefaultValueFactory = _ => FeatureNetworks.ResNet18 };
        var featureInput = new Option<string?>("--feature-input") { Description = "onnx:PATH only: input name (default: the model's only input)." };
        var featureOutput = new Option<string?>("--feature-output") { Description = "onnx:PATH only: feature output name (default: the model's only output)." };
        var featureSize = new Option<int?>("--feature-size") { Description = "onnx:PATH only: input height and width (default: the model's fixed size; 299 for Inception)." };
        var featureRange = new Option<string>("--feature-range") { Description = "onnx:PATH only: input pixel range byte, unit, signed or imagenet.", DefaultValueFactory = _ => "unit" };
        var featureBatch = new Option<int>("--feature-batch") { Description = "Images per ONNX Runtime call (1 runs the model exactly as exported).", DefaultValueFactory = _ => 16 };
        var kidSubsets = new Option<int>("--kid-subsets") { Description = "KID: number of random subsets.", DefaultValueFactory = _ => KernelInceptionDistance.DefaultSubsets };
        var kidSubsetSize = new Option<int>("--kid-subset-size") { Description = "KID: images per subset (capped at the set sizes).", DefaultValueFactory = _ => KernelInceptionDistance.DefaultSubsetSize };
        var output = new Option<string>("--out") { Description = "Folder for report.json (and the PNGs with --keep-images).", DefaultValueFactory = _ => Path.Combine("runs", "evaluate") };
        var featureCache = new Option<string>("--feature-cache") { Description = "Folder that keeps the real images' features between runs (keyed by the images and the network), or 'none'.", DefaultValueFactory = _ => FeatureCache.DefaultDirectory };
        var keepImages = new Option<bool>("--keep-images") { Description = "Keep the compared images as PNGs in OUT/real and OUT/generated, and (--checkpoint) the closest generated/training pairs in OUT/closest_pairs.png." };

        var command = new Command("evaluate", "FID, KID, precision and recall over pretrained image features (ResNet-18 by default) between real and generated sprites; near-copies of training sprites.");
        foreach (var option in new Option[] { checkpoint, data, real, realDir, fakeDir, n, method, steps, eta, seed, threads, guidance, weights, clip, features, featureInput, featureOutput,
                     featureSize, featureRange, featureBatch, featureCache, kidSubsets, kidSubsetSize, output, keepImages })
            command.Options.Add(option);
        var overrides = new CheckpointOverrideOptions();
        overrides.AddTo(command);

        command.SetAction(parse =>
        {
            var settings = new EvaluateSettings(
                parse.GetValue(checkpoint) ?? (parse.GetValue(realDir) is null && parse.GetValue(fakeDir) is null ? SpriteDiffusion.Checkpoints.PretrainedModel.TryFind() : null),
                parse.GetValue(data), parse.GetValue(real)!, parse.GetResult(real) is { Implicit: false }, parse.GetValue(realDir), parse.GetValue(fakeDir),
                parse.GetValue(n), parse.GetResult(n) is { Implicit: false },
                ResolveSampler(parse.GetValue(method)!, parse.GetValue(steps), parse.GetValue(eta), parse.GetValue(seed)) with
                    { Guidance = parse.GetValue(guidance), Weights = parse.GetValue(weights)!, ClipDenoised = parse.GetValue(clip) },
                parse.GetValue(threads),
                parse.GetValue(features)!, parse.GetValue(featureInput), parse.GetValue(featureOutput), parse.GetValue(featureSize),
                parse.GetValue(featureRange)!, parse.GetValue(featureBatch), parse.GetValue(kidSubsets), parse.GetValue(kidSubsetSize),
                parse.GetValue(output)!, parse.GetValue(keepImages))
                { Overrides = overrides.Read(parse), FeatureCache = parse.GetValue(featureCache) is "none" or "" ? null : parse.GetValue(featureCache) };
            Run(settings);
            return 0;
        });
        return command;
    }

    private sealed record EvaluateSettings(
        string? Checkpoint, string? DataDirectory, string Real, bool RealGiven, string? RealDir, string? FakeDir, int N, bool NGiven, SamplerSettings Sampler, int? Threads,
        string Features, string? FeatureInput, string? FeatureOutput, int? FeatureSize, string FeatureRange, int FeatureBatch,
        int KidSubsets, int KidSubsetSize, string OutputDirectory, bool KeepImages)
    {
        public CheckpointOverrides Overrides { get; init; } = CheckpointOverrides.None;
        public string? FeatureCache { get; init; }
    }

    private static void Run(EvaluateSettings s)
    {
        bool folders = s.RealDir is not null || s.FakeDir is not null;
        if (folders && s.Checkpoint is not null)
            throw new UserError("give either --checkpoint (generate and compare with the data set it was trained on) or --real-dir with --fake-dir (compare two folders), not both.");
        if (folders && (s.RealDir is null || s.FakeDir is null))
            throw new UserError("folder mode needs both --real-dir and --fake-dir.");
        if (!folders && s.Checkpoint is null)
            throw new UserError("nothing to evaluate: give --checkpoint PATH, or --real-dir DIR and --fake-dir DIR.");
        if (folders && (s.RealGiven || s.DataDirectory is not null))
            throw new UserError("--real and --data choose the real images of --checkpoint mode; with --real-dir/--fake-dir the real images are the folder's.");
        var realSet = RealSets.Parse(s.Real);
        if (s.N < 2) throw new UserError($"--n must be at least 2 (got {s.N}); FID needs a covariance, and numbers worth comparing need thousands.");
        if (s.Sampler.Steps is < 1) throw new UserError($"--steps must be at least 1 (got {s.Sampler.Steps}).");
        if (s.Sampler.Eta is < 0 or > 1) throw new UserError($"--eta must be between 0 and 1 (got {s.Sampler.Eta}).");
        if (s.Sampler.Method != "ddim" && s.Sampler.Eta != 0) throw new UserError("--eta applies to DDIM only; DDPM's noise is fixed by its schedule and DPM-Solver++ adds none.");
        if (s.Sampler.Guidance is double w) SpriteGenerator.CheckGuidance(w);
        if (folders && (s.Sampler.Guidance is not null || s.Sampler.Weights != WeightsOption.Ema || !s.Sampler.ClipDenoised))
            throw new UserError("--guidance, --weights and --clip-denoised choose how a checkpoint samples; they do not apply to --real-dir/--fake-dir.");
        if (s.Threads is < 1) throw new UserError($"--threads must be at least 1 (got {s.Threads}).");
        if (s.KidSubsetSize < 2) throw new UserError($"--kid-subset-size must be at least 2 (got {s.KidSubsetSize}).");
        if (s.KidSubsets is < 1 or > 100_000) throw new UserError($"--kid-subsets must be between 1 and 100000 (got {s.KidSubsets}).");
        if (s.FeatureBatch is < 1 or > 1024) throw new UserError($"--feature-batch must be between 1 and 1024 (got {s.FeatureBatch}).");
        if (s.N > 1_000_000) throw new UserError($"--n must be at most 1000000 (got {s.N}).");
        // The generated images as floats and their features, at the bundled network's 512 dimensions.
        SpriteDiffusion.IO.MemoryBudget.Require(SpriteDiffusion.IO.MemoryBudget.Product(s.N, 16 * 16 * 4 * 4 + 512 * 8 * 2), $"{s.N} generated images and their features", "x");
        // Before the expensive work: a report that cannot be written should not cost an evaluation.
        OutputGuard.Folder(s.OutputDirectory, "--out", FolderKind.Evaluation, replaceOwn: true, null,
            new(s.Checkpoint, "--checkpoint"), new(s.DataDirectory, "--data"), new(s.RealDir, "--real-dir"), new(s.FakeDir, "--fake-dir"),
            new(s.Features.StartsWith("onnx:", StringComparison.Ordinal) ? s.Features[5..] : null, "--features"));

        var total = Stopwatch.StartNew();
        using var extractor = OpenFeatures(s);
        var evaluator = new Evaluator(extractor) { KidSubsets = s.KidSubsets, KidSubsetSize = s.KidSubsetSize };
        AnsiConsole.MarkupLine($"Measuring [bold]{Markup.Escape(MetricNames.Fid(extractor))}[/], {Markup.Escape(MetricNames.Kid(extractor))} and "
            + $"{Markup.Escape(MetricNames.PrecisionRecall(extractor))} with {Markup.Escape(extractor.Name)}.");

        var notes = new List<string>();
        ImageSet real = null!, generated = null!;
        int[]? realLabels = null, generatedClasses = null;
        EvaluationData? data = null;
        bool splitRecorded = false;
        double? loadSeconds = null, generationSeconds = null;
        string realSource, generatedSource;
        if (folders)
        {
            realSource = Path.GetFullPath(s.RealDir!);
            generatedSource = Path.GetFullPath(s.FakeDir!);
            var clock = Stopwatch.StartNew();
            int? limit = s.NGiven ? s.N : null;
            WithProgress(ctx =>
            {
                real = LoadFolder(ctx, "Reading real PNGs", s.RealDir!, limit);
                generated = LoadFolder(ctx, "Reading generated PNGs", s.FakeDir!, limit);
            });
            loadSeconds = clock.Elapsed.TotalSeconds;
        }
        else
        {
            if (!File.Exists(s.Checkpoint))
                throw new UserError($"{s.Checkpoint}: checkpoint not found. Train one with 'sprites train' or give the path of an existing checkpoint.");
            var clock = Stopwatch.StartNew();
            if (s.Threads is int threads) SpriteDiffusion.Engine.Workers.Threads = threads;
            var weights = WeightsOption.Choice(s.Sampler.Weights);
            var (model, info) = Checkpoint.Load(s.Checkpoint!, weights, s.Overrides);
            // Before the data set's classes are compared: an unconditional model has no classes to compare.
            if (s.Sampler.Guidance is not null) new SpriteGenerator(model, info).RequireClasses();
            var recorded = TrainingSplit.FromMetadata(info.Extra, s.Checkpoint!);
            splitRecorded = recorded is not null;
            var split = recorded ?? TrainingSplit.Default;
            if (recorded is null)
                notes.Add($"the checkpoint records no training split (it predates split recording, is a resume checkpoint, or was not written by 'sprites train'); assumed the trainer's defaults: {split.Describe()}.");
            string? recordedData = s.DataDirectory is null ? RecordedDataDirectory(info) : null;
            string dataDirectory = s.DataDirectory ?? recordedData ?? SpriteDiffusion.Data.BundledData.DefaultDirectory;
            data = EvaluationData.Load(dataDirectory, split);
            data.RequireClassesOf(info, s.Checkpoint!, guided: s.Sampler.Guidance is not null);
            var realData = data.Real(realSet);
            if (realData.Count < 2)
                throw new UserError($"--real {realSet.Name()}: {Describe(realSet)} holds {realData.Count} image(s) of {dataDirectory}; FID and KID need at least 2 (thousands for numbers worth comparing).");
            real = ImageSet.From(realData);
            realLabels = realData.Labels;
            string dataName = s.DataDirectory is null && recordedData is null ? "the bundled data set" : Path.GetFullPath(dataDirectory);
            realSource = realSet == RealSet.All && data.All.Count < data.DataSetCount
                ? $"the run's {data.All.Count}-image subset of {dataName}"
                : $"{Describe(realSet)} of {dataName}";
            generatedSource = $"{s.Sampler.Method.ToUpperInvariant()} samples of {Path.GetFullPath(s.Checkpoint!)}";
            loadSeconds = clock.Elapsed.TotalSeconds;

            clock.Restart();
            if (s.Sampler.Guidance is not null) generatedClasses = ClassDraw.Proportional(realLabels, data.ClassNames.Length, s.N);
            var request = new GenerationRequest(s.Checkpoint!, s.Sampler.Method, s.Sampler.Steps, s.Sampler.Eta, s.Sampler.Seed, s.N)
            {
                Threads = s.Threads, Guidance = s.Sampler.Guidance, Classes = generatedClasses, ClipDenoised = s.Sampler.ClipDenoised,
                Weights = weights, Overrides = s.Overrides,
            };
            WithProgress(ctx =>
            {
                string stepsText = s.Sampler.Steps is int k ? $"{k} steps" : "all T steps";
                var task = ctx.AddTask($"Generating ({s.Sampler.Method.ToUpperInvariant()}, {stepsText})", maxValue: s.N);
                generated = GeneratedImages.FromModel(model, info, request, new Progress(task));
                task.Value = task.MaxValue;
            });
            generationSeconds = clock.Elapsed.TotalSeconds;
        }

        EvaluationResult result = null!;
        PerClassReport? perClass = null;
        double? perClassSeconds = null;
        bool realFeaturesCached = false;
        WithProgress(ctx =>
        {
            var realTask = ctx.AddTask($"{extractor.ShortName} features, real", autoStart: false, maxValue: real.Count);
            var generatedTask = ctx.AddTask($"{extractor.ShortName} features, generated", autoStart: false, maxValue: generated.Count);
            var metricTask = ctx.AddTask(generatedClasses is null ? "FID, KID, precision, recall" : "FID, KID, precision, recall; FID per class", autoStart: false, maxValue: 1);
            var clock = Stopwatch.StartNew();
            realTask.StartTask();
            var realFeatures = s.FeatureCache is null
                ? evaluator.Extract(real, new Progress(realTask))
                : new FeatureCache(s.FeatureCache).GetOrExtract(evaluator, real, FeatureIdentity(s), new Progress(realTask), out realFeaturesCached);
            double realSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            generatedTask.StartTask();
            var generatedFeatures = evaluator.Extract(generated, new Progress(generatedTask));
            double generatedSeconds = clock.Elapsed.TotalSeconds;
            metricTask.StartTask();
            metricTask.IsIndeterminate = true;
            result = evaluator.CompareFeatures(realFeatures, generatedFeatures, realSeconds, generatedSeconds);
            if (generatedClasses is not null)
            {
                clock.Restart();
                perClass = PerClassFid.Compute(MetricNames.FidPerClass(extractor.ShortName), realFeatures, realLabels!, generatedFeatures, generatedClasses, data!.ClassNames);
                perClassSeconds = clock.Elapsed.TotalSeconds;
            }
            metricTask.IsIndeterminate = false;
            metricTask.Value = 1;
        });
        if (realFeaturesCached) notes.Add($"the real images' features came from the feature cache ({s.FeatureCache}): the same images through the same network.");
        if (result.PrecisionRecall is null)
            notes.Add($"precision and recall need more than {ImprovedPrecisionRecall.DefaultK} images in each set (each ball's radius is the distance to the {ImprovedPrecisionRecall.DefaultK}rd nearest other image); left out.");

        AlphaMaskReport? alphaMasks = null;
        if (real.Channels == 4 || generated.Channels == 4)
        {
            notes.Add($"transparent (RGBA) sprites were composited onto {ImageSet.CompositeBackground} (white, the background the RGB data set was made on) before the feature network"
                + (real.Channels != generated.Channels ? " and the near-copy search" : "") + "; pytorch-fid would drop alpha instead.");
            if (real.Channels == 4 && generated.Channels == 4)
                alphaMasks = AlphaMasks.Measure(generated, real, data is null ? null : ImageSet.From(data.Validation), data is null ? null : ImageSet.From(data.Train));
        }

        MemorisationReport? memorisation = null;
        double? nearCopySeconds = null;
        if (data is not null)
        {
            if (data.Train.Count < Memorisation.MinimumTrainingImages)
                notes.Add($"near-copies left out: the rule {Memorisation.Rule()} needs at least {Memorisation.MinimumTrainingImages} training sprites; the run's training split holds {data.Train.Count}.");
            else
            {
                var clock = Stopwatch.StartNew();
                WithProgress(ctx =>
                {
                    var task = ctx.AddTask("Near-copies of training sprites (pixels)", maxValue: 1);
                    task.IsIndeterminate = true;
                    memorisation = Memorisation.Measure(generated, ImageSet.From(data.Train), data.TrainRows, ImageSet.From(data.Validation));
                    task.IsIndeterminate = false;
                    task.Value = 1;
                });
                nearCopySeconds = clock.Elapsed.TotalSeconds;
            }
        }

        SpriteDiffusion.IO.AtomicFile.CreateFolder(s.OutputDirectory);
        if (s.KeepImages)
        {
            ImageFolder.Save(real, Path.Combine(s.OutputDirectory, "real"));
            ImageFolder.Save(generated, Path.Combine(s.OutputDirectory, "generated"));
            if (memorisation is not null && data is not null)
            {
                string pairs = Path.Combine(s.OutputDirectory, "closest_pairs.png");
                Memorisation.WritePairs(pairs, generated, ImageSet.From(data.Train), memorisation.ClosestPairs);
                memorisation = memorisation with { PairsImage = pairs };
            }
        }
        var report = EvaluationReport.From(result, folders ? "folders" : "checkpoint", realSource, generatedSource,
            folders ? null : Path.GetFullPath(s.Checkpoint!), folders ? null : s.Sampler, loadSeconds, generationSeconds, total.Elapsed.TotalSeconds);
        report = report with
        {
            Seconds = report.Seconds with { PerClass = perClassSeconds, NearCopies = nearCopySeconds },
            Real = data is null ? null : new RealSetReport(realSet.Name(), data.Split.ValidationFraction, data.Split.Seed, data.Split.Limit, splitRecorded,
                data.DataSetCount, data.All.Count, data.Train.Count, data.Validation.Count),
            Memorisation = memorisation,
            AlphaMasks = alphaMasks,
            PerClass = perClass,
            Notes = notes,
        };
        string reportPath = Path.Combine(s.OutputDirectory, OutputGuard.EvaluationReportFile);
        report.Write(reportPath);
        PrintTables(report, reportPath, s.KeepImages ? s.OutputDirectory : null);
    }

    /// <summary>
    /// The data folder the trainer recorded in the checkpoint ("data", as it was given, usually relative
    /// to the repository root), looked for as the bundled files are; null when it records none or that
    /// folder is not here. The bundled set is not always the one: the bundled model is RGBA, trained on
    /// data/twemoji16-rgba, and the RGB set has no alpha to judge its silhouettes or near-copies by.
    /// </summary>
    private static string? RecordedDataDirectory(CheckpointInfo info) =>
        info.Extra.TryGetValue("data", out var recorded) && recorded.Length > 0
            && RepositoryFiles.FindUpward(Path.Combine(recorded, SpriteDiffusion.Data.SpriteDataset.ImagesFileName)) is { } images
            ? Path.GetDirectoryName(images)
            : null;

    private static string Describe(RealSet set) => set switch
    {
        RealSet.All => "every image",
        RealSet.Train => "the run's training split",
        _ => "the run's validation split",
    };

    /// <summary>The seed measures FID on DDIM samples of 100 steps (SPEC section 6).</summary>

    private static SamplerSettings ResolveSampler(string method, int? steps, double eta, ulong seed) =>
        new(method, steps ?? Samplers.DefaultSteps(method, GeneratedImages.DefaultDdimSteps), eta, seed);

    // Everything that shapes a feature vector: the network (a file by its contents) and how images enter it.
    private static string FeatureIdentity(EvaluateSettings s)
    {
        string settings = FormattableString.Invariant($"input {s.FeatureInput}|output {s.FeatureOutput}|size {s.FeatureSize}|range {s.FeatureRange}|batch {s.FeatureBatch}");
        int colon = s.Features.IndexOf(':');
        return colon < 0 ? s.Features + "|" + settings : FeatureCache.FileIdentity(s.Features[..colon] + "|" + settings, s.Features[(colon + 1)..]);
    }

    private static IFeatureExtractor OpenFeatures(EvaluateSettings s)
    {
        if (s.FeatureBatch < 1) throw new UserError($"--feature-batch must be at least 1 (got {s.FeatureBatch}).");
        var onnx = new OnnxFeatureOptions("")
        {
            InputName = s.FeatureInput,
            OutputName = s.FeatureOutput,
            InputSize = s.FeatureSize,
            InputRange = FeatureNetworks.ParseRange(s.FeatureRange),
        };
        return FeatureNetworks.Open(s.Features, onnx, s.FeatureBatch);
    }

    private static ImageSet LoadFolder(ProgressContext ctx, string label, string directory, int? limit)
    {
        int count = ImageFolder.PngFiles(directory).Count;
        var task = ctx.AddTask(label, maxValue: limit is int l ? Math.Min(l, count) : count);
        var images = ImageFolder.Load(directory, limit, new Progress(task));
        if (images.Count < 2)
            throw new UserError($"{directory}: holds {images.Count} PNG image; FID and KID need at least 2.");
        return images;
    }

    private static void WithProgress(Action<ProgressContext> work) =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(work);

    private static void PrintTables(EvaluationReport report, string reportPath, string? imagesDirectory)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("Measure").AddColumn("Value");
        void Row(string name, string value) => table.AddRow(new Text(name), new Text(value));
        Row(report.Fid.Name, F(report.Fid.Value, "F3"));
        Row(report.Kid.Name, $"{F(report.Kid.Value, "F5")} ± {F(report.Kid.StandardDeviation ?? 0, "F5")} ({report.KidSubsets} subsets of {report.KidSubsetSize})");
        if (report.PrecisionRecall is { } pr)
        {
            Row(Capitalised(pr.Name), $"{F(pr.Precision, "F3")} / {F(pr.Recall, "F3")}");
        }
        if (report.Memorisation is { } m)
        {
            Row($"Near-copies of training sprites ({m.Rule}, pixels)", Rate(m.Generated, "generated"));
            Row("  same rule, validation sprites (baseline)", Rate(m.ValidationBaseline, "validation"));
            if (m.ClosestPairs.Count > 0)
            {
                var p = m.ClosestPairs[0];
                Row("  closest pair", $"generated {p.Generated} and data-set row {p.DataSetRow}: d1 {F(p.Distance, "F3")} (d{m.Generated.Rank} {F(p.DistanceAtRank, "F3")})");
            }
        }
        if (report.AlphaMasks is { } masks)
        {
            Row("Silhouettes: alpha-mask IoU with the nearest real mask", $"mean {F(masks.MeanBestIou, "F3")}, median {F(masks.MedianBestIou, "F3")}; opaque share {F(masks.MeanCoverage, "F3")} (real {F(masks.RealMeanCoverage, "F3")})");
            if (masks.BaselineMeanBestIou is double baseline) Row("  same measure, validation sprites (baseline)", $"mean {F(baseline, "F3")}");
        }
        Row("Feature network", report.FeatureNetwork);
        Row("Real images", $"{report.RealCount}: {report.RealSource}");
        if (report.Real is { } r)
            Row("Run's split", $"{r.AllCount} of {r.DataSetCount} images{(r.Limit is int l ? $" (limit {l})" : "")}: {r.TrainCount} train, {r.ValidationCount} val; "
                + $"{F(r.ValidationFraction * 100, "0.##")} % validation, seed {r.Seed}, {(r.RecordedInCheckpoint ? "from the checkpoint" : "assumed (not in the checkpoint)")}");
        Row("Generated images", $"{report.GeneratedCount}: {report.GeneratedSource}");
        if (report.Sampler is { } sampler)
            Row("Sampler", $"{sampler.Method.ToUpperInvariant()}, {(sampler.Steps is int k ? $"{k}" : "all T")} steps, eta {F(sampler.Eta, "G")}, seed {sampler.Seed}, "
                + $"{(sampler.Guidance is double w ? $"guidance {F(w, "G")}, classes in the real set's proportions" : "unconditional")}, {sampler.Weights} weights{(sampler.ClipDenoised ? ", x0 clipped" : "")}");
        var t = report.Seconds;
        if (t.ReadImages is double load) Row("Reading images", $"{F(load, "F1")} s");
        if (t.Generation is double generation) Row("Generation", $"{F(generation, "F1")} s");
        Row("Feature extraction", $"{F(t.RealFeatures + t.GeneratedFeatures, "F1")} s ({F(report.FeaturesPerSecond, "F1")} images/s)");
        Row("FID, KID, precision, recall", $"{F(t.Metrics, "F1")} s{(t.PerClass is double pc ? $"; per class {F(pc, "F1")} s" : "")}");
        if (t.NearCopies is double nc) Row("Near-copy search", $"{F(nc, "F1")} s");
        Row("Total", $"{F(t.Total, "F1")} s");
        Row("Report", reportPath);
        if (imagesDirectory is not null)
            Row("Images", $"{Path.Combine(imagesDirectory, "real")}, {Path.Combine(imagesDirectory, "generated")}"
                + (report.Memorisation?.PairsImage is { } pairs ? $", {pairs}" : ""));
        AnsiConsole.Write(table);

        if (report.PerClass is { } perClass)
        {
            var classes = new Table().Border(TableBorder.Rounded).AddColumn("Class").AddColumn("Real", c => c.RightAligned())
                .AddColumn("Generated", c => c.RightAligned()).AddColumn(perClass.Name, c => c.RightAligned());
            foreach (var c in perClass.Classes)
                classes.AddRow(new Text(c.Name), new Text($"{c.RealCount}"), new Text($"{c.GeneratedCount}"), new Text(c.Fid is double fid ? F(fid, "F3") : "too few"));
            AnsiConsole.Write(classes);
            var few = perClass.Classes.Where(c => c.Fid is null).ToList();
            if (few.Count > 0)
                AnsiConsole.MarkupLine($"[yellow]note:[/] no per-class FID for {Markup.Escape(string.Join(", ", few.Select(c => $"{c.Name} ({c.RealCount} real, {c.GeneratedCount} generated)")))}: "
                    + $"each class needs at least {perClass.MinimumImages} real and {perClass.MinimumImages} generated images (report.json has the reason per class).");
        }
        foreach (string note in report.Notes ?? [])
            AnsiConsole.MarkupLine($"[yellow]note:[/] {Markup.Escape(note)}");
    }

    private static string Rate(NearCopyReport r, string what) =>
        $"{r.NearCopyCount} of {r.QueryCount} {what} ({F(r.Rate * 100, "F1")} %); median d1 {F(r.MedianNearest, "F3")}";

    private static string Capitalised(string name) => name.Length == 0 ? name : char.ToUpperInvariant(name[0]) + name[1..];

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Moves a progress bar from library callbacks that report images done so far.</summary>
    private sealed class Progress(ProgressTask task) : IProgress<int>
    {
        public void Report(int done) => task.Value = Math.Min(done, task.MaxValue);
    }
}
