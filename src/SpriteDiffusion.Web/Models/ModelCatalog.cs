using System.Collections.Concurrent;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Runs;

namespace SpriteDiffusion.Web.Models;

/// <summary>A checkpoint the page may choose, by an id the server made; the path never leaves the server.</summary>
internal sealed record ModelEntry(string Id, string Name, string Kind, string Path, CheckpointInfo Info);

/// <summary>
/// The models on offer: the bundled one, a checkpoint named on the command line, and every run
/// under the runs folder that holds a best checkpoint. Built afresh on each look-up, so a run that
/// finishes while the server is up appears without a restart; a browser's id is only ever matched
/// against this list.
/// </summary>
internal sealed class ModelCatalog(PlaygroundOptions options)
{
    public const string BundledId = "bundled", CheckpointId = "checkpoint", RunPrefix = "run/";

    // Reading a header means loading the weights too; keyed by file state so a retrained run reloads.
    private readonly ConcurrentDictionary<(string Path, long Length, DateTime Modified), CheckpointInfo> _infos = new();

    /// <summary>Every model that loads, in the order the page lists them; unreadable runs are left out.</summary>
    public IReadOnlyList<ModelEntry> List()
    {
        var models = new List<ModelEntry>();
        if (options.BundledModel is { } bundled && TryEntry(BundledId, "bundled: twemoji16 (pretrained)", "bundled", bundled) is { } b) models.Add(b);
        if (options.Checkpoint is { } extra && TryEntry(CheckpointId, $"checkpoint: {System.IO.Path.GetFileName(extra)}", "checkpoint", extra) is { } c) models.Add(c);
        foreach (var run in RunFolders.List(options.RunsDirectory))
        {
            string best = System.IO.Path.Combine(run.FullName, Trainer.BestFile);
            if (File.Exists(best) && TryEntry(RunPrefix + run.Name, $"run: {run.Name}", "run", best) is { } r) models.Add(r);
        }
        return models;
    }

    /// <summary>The entry with this id, or null; the id is compared, never turned into a path.</summary>
    public ModelEntry? Find(string id) => List().FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.Ordinal));

    private ModelEntry? TryEntry(string id, string name, string kind, string path)
    {
        try
        {
            var file = new FileInfo(path);
            if (!file.Exists) return null;
            var info = _infos.GetOrAdd((file.FullName, file.Length, file.LastWriteTimeUtc), key => Checkpoint.Load(key.Path).Info);
            return new ModelEntry(id, name, kind, file.FullName, info);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
        {
            // A run still being written or a damaged file: leave it off the list rather than fail the page.
            return null;
        }
    }
}
