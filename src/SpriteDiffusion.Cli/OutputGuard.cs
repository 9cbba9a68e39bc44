using SpriteDiffusion.Data;
using SpriteDiffusion.IO;
using SpriteDiffusion.Runs;

namespace SpriteDiffusion.Cli;

/// <summary>What a command writes into a file, by its first bytes, so that an existing file of another kind is never replaced.</summary>
internal enum OutputKind { Png, Npy, Json, Safetensors, Onnx, Text }

/// <summary>What a folder holds, by the files in it; a command may write into a folder of its own kind only.</summary>
internal enum FolderKind { Plain, DataSet, Run, Model, Evaluation }

/// <summary>
/// The one place every command's output paths go through, before any work: an output must not be
/// one of the command's inputs (also through a symbolic link or ".."), nor a special file (a device,
/// a FIFO, anything under /dev, /proc or /sys), nor an existing file of another kind, nor a folder
/// holding a model, a data set or a run that the command does not own. The folder must be one that
/// can be written, so a mistake costs nothing but the message. A PNG over a checkpoint was exit 0
/// and a lost model.
/// </summary>
internal static class OutputGuard
{
    /// <summary>An input of the command, with the flag (or argument) that named it.</summary>
    internal readonly record struct Input(string? Path, string Flag);

    /// <summary>
    /// Checks a file output. Throws <see cref="UserError"/> naming <paramref name="flag"/> and the reason;
    /// prints a note when the path is a symbolic link (its target is what gets written).
    /// </summary>
    /// <param name="output">The output path; null when the flag was not given.</param>
    public static void File(string? output, string flag, OutputKind kind, params Input[] inputs)
    {
        if (output is null) return;
        string target = Common(output, flag, inputs);
        switch (FileSystemPaths.KindOf(target))
        {
            case PathKind.Directory:
                throw new UserError($"{flag} {output} is a folder; give the name of the {Name(kind)} file to write.");
            case PathKind.File when !IsKind(target, kind):
                throw new UserError($"{flag} {output} already exists and is not a {Name(kind)} file this command would write; choose another path or remove it yourself.");
        }
        RequireWritable(Path.GetDirectoryName(target)!, output, flag);
        NoteLink(output, target, flag);
    }

    /// <summary>
    /// Checks a folder output. <paramref name="own"/> is the kind of folder the command writes
    /// (<see cref="FolderKind.Plain"/> for loose images); a folder holding anything else of value is
    /// refused, and one of its own kind only when <paramref name="replaceOwn"/> is false.
    /// </summary>
    public static void Folder(string? output, string flag, FolderKind own, bool replaceOwn, string? replaceHint, params Input[] inputs)
    {
        if (output is null) return;
        string target = Common(output, flag, inputs);
        var kind = FileSystemPaths.KindOf(target);
        if (kind == PathKind.File)
            throw new UserError($"{flag} {output} is a file; give a folder.");
        if (kind == PathKind.Directory)
        {
            foreach (var held in Holds(target))
            {
                if (held == own && replaceOwn) continue;
                if (held == own)
                    throw new UserError($"{flag} {output} already holds {Describe(held)}{(replaceHint is null ? "" : $"; {replaceHint}")}, or choose another folder.");
                throw new UserError($"{flag} {output} holds {Describe(held)}, which this command would mix its files into; choose another folder.");
            }
        }
        RequireWritable(target, output, flag);
        NoteLink(output, target, flag);
    }

    /// <summary>What a folder holds, by the files any of our commands writes there; empty for a folder of anything else.</summary>
    public static IReadOnlyList<FolderKind> Holds(string folder)
    {
        var kinds = new SortedSet<FolderKind>();
        IEnumerable<string> names;
        try { names = Directory.EnumerateFileSystemEntries(folder).Select(p => Path.GetFileName(p)).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
        foreach (string name in names)
        {
            if (RunFiles.Contains(name) || name.StartsWith("samples_", StringComparison.Ordinal) && name.EndsWith(".png", StringComparison.Ordinal))
                kinds.Add(FolderKind.Run);
            else if (name is SpriteDataset.ImagesFileName or SpriteDataset.LabelsFileName)
                kinds.Add(FolderKind.DataSet);
            else if (ModelExtensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
                kinds.Add(FolderKind.Model);
            else if (name == EvaluationReportFile)
                kinds.Add(FolderKind.Evaluation);
        }
        return [.. kinds];
    }

    /// <summary>The report evaluate writes into its folder.</summary>
    public const string EvaluationReportFile = "report.json";

    private static readonly HashSet<string> RunFiles = new(StringComparer.Ordinal)
    {
        Trainer.BestFile, Trainer.LastFile, Trainer.ResumeFile, Trainer.ConfigFile, Trainer.LossesFile, Trainer.PlotFile, Trainer.LogFile,
    };

    private static readonly string[] ModelExtensions = [".safetensors", ".pth", ".pt", ".onnx"];

    private static string Describe(FolderKind kind) => kind switch
    {
        FolderKind.DataSet => "a data set (images.npy, labels.npy)",
        FolderKind.Run => "a training run (config.json, losses.csv, checkpoints or samples)",
        FolderKind.Model => "a model (a .safetensors, .pth or .onnx file)",
        FolderKind.Evaluation => "an evaluation report (report.json)",
        _ => "files",
    };

    /// <summary>The checks files and folders share; returns the resolved output path.</summary>
    private static string Common(string output, string flag, Input[] inputs)
    {
        if (string.IsNullOrWhiteSpace(output))
            throw new UserError($"{flag}: the path is empty; give a file or folder name.");
        if (output.IndexOfAny(['\0', '\n', '\r']) >= 0)
            throw new UserError($"{flag}: the path holds a line break or a NUL character; give a plain name.");
        string target = FileSystemPaths.Resolve(output);
        if (FileSystemPaths.IsSystemPath(target) || FileSystemPaths.KindOf(target) == PathKind.Special)
            throw new UserError($"{flag} {output} is {(FileSystemPaths.KindOf(target) == PathKind.Special ? FileSystemPaths.DescribeSpecial(target) : "a system path")} ({target}), not a place for our files; give a regular file or folder.");
        foreach (var (path, inputFlag) in inputs)
            if (!string.IsNullOrWhiteSpace(path) && FileSystemPaths.Resolve(path) == target)
                throw new UserError($"{flag} {output} is the {(FileSystemPaths.KindOf(path) == PathKind.Directory ? "folder" : "file")} {inputFlag} reads; writing there would destroy it. Choose another output path.");
        return target;
    }

    /// <summary>
    /// The folder (or, where it does not exist yet, its nearest existing parent) must be a folder in
    /// which a file can be created: tried with a temporary file that is removed at once.
    /// </summary>
    private static void RequireWritable(string folder, string output, string flag)
    {
        string? existing = folder;
        while (existing is not null && FileSystemPaths.KindOf(existing) == PathKind.Missing) existing = Path.GetDirectoryName(existing);
        if (existing is null) return;
        if (FileSystemPaths.KindOf(existing) != PathKind.Directory)
            throw new UserError($"{flag} {output}: {existing} is a file, not a folder, so nothing can be created inside it.");
        string probe = Path.Combine(existing, $"{AtomicFile.TempPrefix(output)}{Environment.ProcessId}.probe{AtomicFile.TempSuffix}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string reason = e is UnauthorizedAccessException ? "permission denied, or a read-only file system"
                : (e.HResult & 0xFFFF) == 30 ? "read-only file system" : (e.HResult & 0xFFFF) == 28 ? "no space left on the device" : e.Message;
            throw new UserError($"{flag} {output}: cannot write in {existing} ({reason}).");
        }
    }

    /// <summary>Says so when the path leads through a link ("." and ".." are already gone from both forms).</summary>
    private static void NoteLink(string output, string target, string flag)
    {
        if (Path.TrimEndingDirectorySeparator(Path.GetFullPath(output)) != target)
            Console.WriteLine($"note: {flag} {output} leads through a symbolic link; writing {target}");
    }

    private static string Name(OutputKind kind) => kind switch
    {
        OutputKind.Png => "PNG", OutputKind.Npy => ".npy", OutputKind.Json => "JSON", OutputKind.Safetensors => "safetensors",
        OutputKind.Onnx => "ONNX", _ => "text",
    };

    private static bool IsKind(string path, OutputKind kind)
    {
        Span<byte> head = stackalloc byte[16];
        int n;
        try
        {
            using var stream = InputFile.OpenRead(path);
            n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        if (n == 0) return true; // an empty file holds nothing to lose
        head = head[..n];
        return kind switch
        {
            OutputKind.Png => head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']),
            OutputKind.Npy => head.StartsWith((ReadOnlySpan<byte>)[0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y']),
            OutputKind.Json => head[0] is (byte)'{' or (byte)'[',
            // An 8-byte little-endian header length, then the JSON header itself.
            OutputKind.Safetensors => n > 8 && head[8] == (byte)'{',
            // A protobuf ModelProto starts with field 1 (ir_version, a small varint), then another field's tag.
            OutputKind.Onnx => n >= 3 && head[0] == 0x08 && head[1] is >= 1 and <= 30 && head[2] is 0x12 or 0x1A or 0x22 or 0x2A or 0x3A or 0x42,
            // Text: no NUL byte and no file signature of ours in the first bytes.
            OutputKind.Text => !head.Contains((byte)0) && head[0] is not (0x89 or 0x93),
            _ => false,
        };
    }
}
