using System.CommandLine;
using System.Security.Cryptography;
using Spectre.Console;
using SpriteDiffusion.Data;
using SpriteDiffusion.IO;
using SpriteDiffusion.Imaging;

namespace SpriteDiffusion.Cli.Commands;

internal static class DataCommand
{
    public static Command Create()
    {
        var command = new Command("data", "Get, import and look at sprite data sets.");
        command.Subcommands.Add(CreateImport());
        command.Subcommands.Add(CreateDownload());
        command.Subcommands.Add(CreateShow());
        command.Subcommands.Add(CreateTwemoji());
        return command;
    }

    private static Command CreateImport()
    {
        var input = new Argument<string>("input") { Description = "A folder of PNGs (one sub-folder per class, or a flat folder for one class), or one sprite-sheet PNG." };
        var output = new Option<string>("--out", "-o") { Description = "Folder to write images.npy, labels.npy, classes.txt and sources.tsv into.", Required = true };
        var size = new Option<int>("--size") { Description = "Side of the square sprites written (a multiple of 4); larger images are shrunk with an area filter.", DefaultValueFactory = _ => 16 };
        var background = new Option<string>("--background") { Description = "Colour transparency is composited onto: white, black or #rrggbb.", DefaultValueFactory = _ => "white" };
        var alpha = AlphaOption();
        var palette = new Option<string?>("--palette") { Description = $"Snap every imported sprite to a palette ({string.Join(", ", Palette.BuiltInNames)}, or a .hex, .gpl or .png file), so the model trains on palette-clean pixels." };
        var dither = new Option<bool>("--dither") { Description = "With --palette: ordered (Bayer 4x4) dithering." };
        var className = new Option<string?>("--class") { Description = "Class name when there is a single class (default: the folder's or sheet's name)." };
        var tile = new Option<int?>("--tile") { Description = "Sprite sheet: tile size in pixels (default: --size)." };
        var padding = new Option<int>("--padding") { Description = "Sprite sheet: pixels of border around each tile, on every side.", DefaultValueFactory = _ => 0 };
        var index = new Option<string?>("--index") { Description = "Sprite sheet: index file of tiles to take, one \"column, row, class[, note]\" a line (default: every non-empty tile, one class)." };
        var onError = new Option<string>("--on-error") { Description = "What a corrupt, non-PNG or unusable file does: fail the run, or skip it (it is reported either way).", DefaultValueFactory = _ => "fail" };
        onError.AcceptOnlyFromAmong("fail", "skip");
        var force = new Option<bool>("--force") { Description = "Replace a data set already in the output folder." };
        var command = new Command("import", "Turn your own pixel art (PNG files or a sprite sheet) into a data set in the seed's format.");
        command.Arguments.Add(input);
        foreach (var o in new Option[] { output, size, background, alpha, palette, dither, className, tile, padding, index, onError, force })
            command.Options.Add(o);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(input)!;
            OutputGuard.Folder(parse.GetValue(output), "--out", FolderKind.DataSet, parse.GetValue(force), "--force replaces it",
                new(path, "INPUT"), new(parse.GetValue(index), "--index"), new(parse.GetValue(palette), "--palette"));
            var options = new ImportOptions
            {
                ImageSize = parse.GetValue(size),
                Background = RgbColor.Parse(parse.GetValue(background)!),
                KeepAlpha = parse.GetValue(alpha) == "keep",
                Palette = parse.GetValue(palette) is string p ? Palette.FromNameOrFile(p) : null,
                Dither = parse.GetValue(dither),
                SkipBadFiles = parse.GetValue(onError) == "skip",
                ClassName = parse.GetValue(className),
            };
            void Skipped(string message) => AnsiConsole.MarkupLineInterpolated($"[yellow]skipped[/] {message}");
            ImportedSprites sprites;
            if (Directory.Exists(path))
            {
                sprites = SpriteImporter.FromFolder(path, options, Skipped);
            }
            else if (File.Exists(path))
            {
                var layout = new SheetLayout(parse.GetValue(tile) ?? options.ImageSize, parse.GetValue(padding));
                string? indexFile = parse.GetValue(index);
                var entries = indexFile is null ? null : SheetIndex.Read(indexFile);
                sprites = SpriteImporter.FromSheet(path, layout, options, entries, Skipped);
            }
            else
            {
                throw new UserError($"{path}: no such file or folder. Give a folder of PNGs or a sprite-sheet PNG.");
            }
            if (parse.GetValue(alpha) == "keep" && parse.GetResult(background) is { Implicit: false })
                throw new UserError("--background composites transparency away and --alpha keep keeps it; give one of them.");
            if (parse.GetValue(dither) && parse.GetValue(palette) is null)
                throw new UserError("--dither dithers between palette colours: give --palette with it.");
            string outDir = parse.GetValue(output)!;
            sprites.WriteTo(outDir, parse.GetValue(force));
            PrintSummary(sprites, outDir);
        });
        return command;
    }

    private static Option<string> AlphaOption()
    {
        var alpha = new Option<string>("--alpha")
        {
            Description = "composite: transparency onto --background, (N, S, S, 3) RGB as the seed's data; keep: (N, S, S, 4) straight-alpha RGBA, fully transparent pixels stored white, for a model that draws transparent sprites.",
            DefaultValueFactory = _ => "composite",
        };
        alpha.AcceptOnlyFromAmong("composite", "keep");
        return alpha;
    }

    private static Command CreateTwemoji()
    {
        var package = new Option<string>("--package") { Description = $"The installed npm package {Twemoji.PackageName}@{Twemoji.PackageVersion}.", DefaultValueFactory = _ => Path.Combine("tools", "twemoji", "node_modules", Twemoji.PackageName) };
        var output = new Option<string>("--out", "-o") { Description = "Where the data set goes.", DefaultValueFactory = _ => BundledData.RelativePath };
        var indexOut = new Option<string?>("--index-out") { Description = "Also write the sheet index derived from emoji.json here (the input 'sprites data import --index' would take)." };
        var alpha = AlphaOption();
        var command = new Command("twemoji", $"Rebuild the bundled data set (data/twemoji16) from {Twemoji.PackageName} {Twemoji.PackageVersion}; see data/twemoji16/README.md.");
        command.Options.Add(package);
        command.Options.Add(output);
        command.Options.Add(indexOut);
        command.Options.Add(alpha);
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(package)!;
            OutputGuard.Folder(parse.GetValue(output), "--out", FolderKind.DataSet, replaceOwn: true, null, new OutputGuard.Input(dir, "--package"));
            OutputGuard.File(parse.GetValue(indexOut), "--index-out", OutputKind.Text, new(dir, "--package"), new(Twemoji.EmojiJsonPath(dir), "--package"));
            string? version = Twemoji.ReadPackageVersion(dir);
            if (version != Twemoji.PackageVersion)
                AnsiConsole.MarkupLineInterpolated($"[yellow]warning[/] {dir} is version {version ?? "unknown"}, not {Twemoji.PackageVersion}; the result will differ from the committed data set.");
            var entries = Twemoji.ReadEntries(Twemoji.EmojiJsonPath(dir));
            if (parse.GetValue(indexOut) is { } indexPath)
                AtomicFile.WriteAllText(indexPath, SheetIndex.Format(entries,
                    $"Tiles of {Twemoji.PackageName} {Twemoji.PackageVersion} img/twitter/sheets/16.png (tile 16, padding 1), from emoji.json."));
            var sprites = Twemoji.Build(dir, entries, keepAlpha: parse.GetValue(alpha) == "keep");
            string outDir = parse.GetValue(output)!;
            sprites.WriteTo(outDir, overwrite: true, new Dictionary<string, string> { [Twemoji.AttributionFileName] = Twemoji.Attribution });
            PrintSummary(sprites, outDir);
            foreach (string name in new[] { SpriteDataset.ImagesFileName, SpriteDataset.LabelsFileName })
            {
                using var stream = File.OpenRead(Path.Combine(outDir, name));
                Console.WriteLine($"sha256 {Convert.ToHexStringLower(SHA256.HashData(stream))}  {name}");
            }
        });
        return command;
    }

    private static Command CreateDownload()
    {
        var output = new Option<string>("--out", "-o") { Description = "Folder for the two .npy files.", DefaultValueFactory = _ => Path.Combine("data", "sprites1788") };
        var baseUrl = new Option<string>("--base-url") { Description = "Where the files are (the file name is appended).", DefaultValueFactory = _ => DownloadOptions.DefaultBaseUrl };
        var command = new Command("download", "Fetch the original 89,400-sprite data set (sprites_1788_16x16.npy and its labels) from the seed's public mirror.");
        command.Options.Add(output);
        command.Options.Add(baseUrl);
        command.SetAction(async (parse, cancellation) =>
        {
            string outDir = parse.GetValue(output)!;
            OutputGuard.Folder(outDir, "--out", FolderKind.DataSet, replaceOwn: true, null);
            var options = new DownloadOptions { BaseUrl = parse.GetValue(baseUrl)! };
            var messages = new List<string>();
            try
            {
                await AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                    .StartAsync(async context =>
                    {
                        var downloader = new DatasetDownloader(options, new ProgressBars(context), messages.Add);
                        await downloader.DownloadAsync(outDir, cancellation);
                    });
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("cancelled; run the command again to resume.");
                return 130;
            }
            finally
            {
                foreach (string m in messages) AnsiConsole.WriteLine(m);
            }
            var data = SpriteDataset.LoadDirectory(outDir);
            AnsiConsole.MarkupLineInterpolated($"[green]ok[/] {data.Count:N0} sprites of {data.ImageSize}x{data.ImageSize} in {data.NumClasses} classes, in {outDir}");
            return 0;
        });
        return command;
    }

    private static Command CreateShow()
    {
        var dataDir = new Argument<string?>("data") { Description = "A data folder (default: the bundled data/twemoji16).", Arity = ArgumentArity.ZeroOrOne };
        var images = new Option<string?>("--images") { Description = "An images .npy (N, S, S, 3) uint8, instead of a folder." };
        var labels = new Option<string?>("--labels") { Description = "Its one-hot labels .npy (N, K)." };
        var classes = new Option<string?>("--classes") { Description = "Its classes.txt (optional)." };
        var output = new Option<string?>("--out", "-o") { Description = "Preview PNG to write (default: out/<data set>-preview.png)." };
        var perClass = new Option<int>("--per-class") { Description = "Images per row (one row per class).", DefaultValueFactory = _ => 16 };
        var scale = new Option<int>("--scale") { Description = "Nearest-neighbour upscale factor.", DefaultValueFactory = _ => 4 };
        var command = new Command("show", "Print counts per class and write a preview grid PNG, one row per class.");
        command.Arguments.Add(dataDir);
        foreach (var o in new Option[] { images, labels, classes, output, perClass, scale })
            command.Options.Add(o);
        command.SetAction(parse =>
        {
            SpriteDataset data;
            string name;
            if (parse.GetValue(images) is { } imagesPath)
            {
                string labelsPath = parse.GetValue(labels) ?? throw new UserError("--images needs --labels too.");
                data = SpriteDataset.Load(imagesPath, labelsPath, parse.GetValue(classes));
                name = Path.GetFileNameWithoutExtension(imagesPath);
            }
            else
            {
                string dir = parse.GetValue(dataDir) ?? BundledData.DefaultDirectory;
                data = SpriteDataset.LoadDirectory(dir);
                name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir)));
            }
            if (parse.GetValue(perClass) < 1 || parse.GetValue(scale) < 1)
                throw new UserError("--per-class and --scale must be at least 1.");
            PrintCounts(data.ClassNames, data.CountPerClass(), $"{data.Count:N0} sprites, {data.ImageSize}x{data.ImageSize}");
            string outPath = parse.GetValue(output) ?? Path.Combine("out", $"{name}-preview.png");
            string? shownDir = parse.GetValue(images) is null ? parse.GetValue(dataDir) ?? BundledData.DefaultDirectory : null;
            OutputGuard.File(outPath, "--out", OutputKind.Png,
                new(parse.GetValue(images), "--images"), new(parse.GetValue(labels), "--labels"), new(parse.GetValue(classes), "--classes"),
                new(shownDir is null ? null : Path.Combine(shownDir, SpriteDataset.ImagesFileName), "DATA"),
                new(shownDir is null ? null : Path.Combine(shownDir, SpriteDataset.LabelsFileName), "DATA"),
                new(shownDir is null ? null : Path.Combine(shownDir, ClassNamesFile.FileName), "DATA"));
            Png.Write(outPath, DataPreview.Grid(data, parse.GetValue(perClass), parse.GetValue(scale)));
            AnsiConsole.MarkupLineInterpolated($"preview (one row per class, in the order above): {outPath}");
        });
        return command;
    }

    private static void PrintSummary(ImportedSprites sprites, string outDir)
    {
        PrintCounts(sprites.ClassNames, sprites.CountPerClass(), $"{sprites.Count:N0} sprites, {sprites.ImageSize}x{sprites.ImageSize}, written to {outDir}");
        foreach (string w in sprites.Warnings)
            AnsiConsole.MarkupLineInterpolated($"[yellow]note[/] {w}");
        if (sprites.Skipped.Count > 0)
            AnsiConsole.MarkupLineInterpolated($"[yellow]{sprites.Skipped.Count} file(s) skipped[/] (listed above)");
    }

    private static void PrintCounts(string[] names, int[] counts, string title)
    {
        AnsiConsole.WriteLine(title);
        var table = new Table().AddColumn("#").AddColumn("class").AddColumn(new TableColumn("images").RightAligned());
        for (int i = 0; i < names.Length; i++)
            table.AddRow(i.ToString(), Markup.Escape(names[i]), counts[i].ToString("N0"));
        AnsiConsole.Write(table);
    }

    /// <summary>One bar per file, created when the file's first bytes arrive.</summary>
    private sealed class ProgressBars(ProgressContext context) : IProgress<DownloadProgress>
    {
        private readonly Dictionary<string, ProgressTask> _tasks = [];

        public void Report(DownloadProgress value)
        {
            if (!_tasks.TryGetValue(value.FileName, out var task))
            {
                task = context.AddTask(Markup.Escape(value.FileName), autoStart: true, maxValue: Math.Max(1, value.TotalBytes ?? 1));
                _tasks[value.FileName] = task;
            }
            if (value.TotalBytes is long total && total > 0) task.MaxValue = total;
            task.Value = value.BytesDone;
        }
    }
}
