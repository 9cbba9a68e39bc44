using System.Globalization;
using System.Text;
using System.Text.Json;
using SpriteDiffusion.IO;
using SpriteDiffusion.Runs;

namespace SpriteDiffusion.Web.Runs;

/// <summary>One row of losses.csv as the page plots it.</summary>
internal sealed record LossRow(int Epoch, double Train, double Validation, double Seconds, double? ValidationEma);

/// <summary>
/// What a run folder says about its run, read only from the files the trainer writes
/// (config.json, losses.csv, train.log, the PNGs): nothing here talks to a training process.
/// </summary>
internal sealed class RunReport
{
    private RunReport(DirectoryInfo folder, DateTime now)
    {
        Folder = folder;
        Name = folder.Name;
        var config = ReadConfig(File(Trainer.ConfigFile));
        Config = config;
        EpochsTotal = config.TryGetValue("epochs", out var e) && e is JsonElement { ValueKind: JsonValueKind.Number } n && n.TryGetInt32(out int epochs) ? epochs : null;
        Losses = ReadLosses(File(Trainer.LossesFile));
        LogTail = ReadTail(File(Trainer.LogFile), 12);
        HasBest = File(Trainer.BestFile).Exists;
        Updated = new[] { Trainer.LogFile, Trainer.LossesFile, Trainer.ResumeFile, Trainer.LastFile }
            .Select(f => File(f)).Where(f => f.Exists).Select(f => f.LastWriteTimeUtc).DefaultIfEmpty(folder.LastWriteTimeUtc).Max();
        (Status, EtaSeconds, Progress) = Estimate(now);
    }

    public DirectoryInfo Folder { get; }
    public string Name { get; }
    public IReadOnlyDictionary<string, object?> Config { get; }
    public int? EpochsTotal { get; }
    public int EpochsDone => Losses.Count == 0 ? 0 : Losses[^1].Epoch;
    public IReadOnlyList<LossRow> Losses { get; }
    public IReadOnlyList<string> LogTail { get; }
    public bool HasBest { get; }
    public DateTime Updated { get; }

    /// <summary>running, finished, interrupted, stopped (quiet too long to be running) or empty (nothing trained yet).</summary>
    public string Status { get; }

    /// <summary>Seconds until the last epoch ends, estimated from recent epochs; null when not running or not yet known.</summary>
    public double? EtaSeconds { get; }

    /// <summary>The share of the epochs done, 0 to 1, counting the current epoch by its time so far.</summary>
    public double Progress { get; }

    public static RunReport Read(DirectoryInfo folder, DateTime? now = null) => new(folder, now ?? DateTime.UtcNow);

    /// <summary>Whether the folder looks like a run at all (the trainer wrote its config or log).</summary>
    public static bool IsRun(DirectoryInfo folder) =>
        System.IO.File.Exists(Path.Combine(folder.FullName, Trainer.ConfigFile)) || System.IO.File.Exists(Path.Combine(folder.FullName, Trainer.LogFile));

    /// <summary>The PNGs the run folder holds (samples, loss plot), newest first; the only files the page may fetch from it.</summary>
    public IReadOnlyList<FileInfo> Images()
    {
        try
        {
            return Folder.EnumerateFiles("*.png").Where(IsReadable).OrderBy(f => f.Name == Trainer.PlotFile).ThenByDescending(f => f.LastWriteTimeUtc).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private FileInfo File(string name) => new(Path.Combine(Folder.FullName, name));

    private (string, double?, double) Estimate(DateTime now)
    {
        int done = EpochsDone;
        int? total = EpochsTotal;
        if (total is int t && done >= t) return ("finished", null, 1);
        if (LogTail.Count > 0 && LogTail[^1].Contains(" interrupted ", StringComparison.Ordinal))
            return ("interrupted", null, Fraction(done, total, 0));
        double? epochSeconds = Losses.Count == 0 ? null : Losses.TakeLast(5).Average(r => r.Seconds);
        double quiet = (now - Updated).TotalSeconds;
        // An epoch writes losses.csv when it ends; a run silent for much longer than an epoch has stopped.
        double patience = epochSeconds is double s ? Math.Max(120, 3 * s) : 1800;
        if (quiet > patience) return (done == 0 && Losses.Count == 0 && LogTail.Count == 0 ? "empty" : "stopped", null, Fraction(done, total, 0));
        if (epochSeconds is not double perEpoch || total is not int all) return ("running", null, Fraction(done, total, 0));
        double sinceEpoch = (now - LastEpochEnd()).TotalSeconds;
        double eta = Math.Max(0, (all - done) * perEpoch - sinceEpoch);
        return ("running", eta, Fraction(done, total, Math.Min(0.99, sinceEpoch / perEpoch)));
    }

    private DateTime LastEpochEnd()
    {
        var losses = File(Trainer.LossesFile);
        return losses.Exists ? losses.LastWriteTimeUtc : Updated;
    }

    private static double Fraction(int done, int? total, double partial) =>
        total is int t && t > 0 ? Math.Clamp((done + partial) / t, 0, 1) : 0;

    // A run folder is anyone's folder: a FIFO or device named like a run file would block the
    // reader forever, and a huge file would fill the memory, so only regular files of a run
    // file's size are read.
    private static bool IsReadable(FileInfo file) =>
        FileSystemPaths.KindOf(file.FullName) == PathKind.File && file.Length <= InputFile.TextLimit;

    private static IReadOnlyDictionary<string, object?> ReadConfig(FileInfo file)
    {
        if (!IsReadable(file)) return new Dictionary<string, object?>();
        try
        {
            using var stream = file.OpenRead();
            return JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(stream)?
                .Where(kv => kv.Value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))
                .ToDictionary(kv => kv.Key, kv => (object?)kv.Value) ?? new Dictionary<string, object?>();
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return new Dictionary<string, object?>();
        }
    }

    /// <summary>The rows that parse; a line being written or damaged is skipped, not fatal.</summary>
    private static IReadOnlyList<LossRow> ReadLosses(FileInfo file)
    {
        var rows = new List<LossRow>();
        if (!IsReadable(file)) return rows;
        try
        {
            foreach (string line in System.IO.File.ReadLines(file.FullName).Skip(1))
            {
                var f = line.Split(',');
                if (f.Length < 4) continue;
                if (!int.TryParse(f[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int epoch)
                    || !TryNumber(f[1], out double train) || !TryNumber(f[2], out double validation) || !TryNumber(f[3], out double seconds))
                    continue;
                double? ema = f.Length > 4 && TryNumber(f[4], out double a) ? a : null;
                rows.Add(new LossRow(epoch, train, validation, seconds, ema));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Replaced while being read: the next look shows the new file.
        }
        return rows;
    }

    private static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    /// <summary>The last lines of the log, reading only its end: a long run's log can be large.</summary>
    private static IReadOnlyList<string> ReadTail(FileInfo file, int lines)
    {
        // Only the end is read, so a long log of any size is fine; a special file is not.
        if (!file.Exists || FileSystemPaths.KindOf(file.FullName) != PathKind.File) return [];
        try
        {
            using var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            long start = Math.Max(0, stream.Length - 16 * 1024);
            stream.Seek(start, SeekOrigin.Begin);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var all = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
            if (start > 0 && all.Count > 0) all.RemoveAt(0);
            return all.TakeLast(lines).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
