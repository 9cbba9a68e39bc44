using Microsoft.AspNetCore.Http;
using SpriteDiffusion.Web.Generation;
using SpriteDiffusion.Web.Hosting;
using SpriteDiffusion.Web.Models;

namespace SpriteDiffusion.Web.Runs;

/// <summary>
/// The training tab's data: the runs under the runs folder, one run's losses, log, estimate and
/// pictures, and those pictures themselves. Read-only; the page polls these while a run is live.
/// </summary>
internal static class RunEndpoints
{
    public static IResult List(Playground p)
    {
        var runs = RunFolders.List(p.Options.RunsDirectory).Where(RunReport.IsRun).Select(f => Summary(RunReport.Read(f))).ToList();
        return Api.Ok(new { folder = p.Options.RunsDirectory, runs });
    }

    public static IResult Detail(Playground p, string name)
    {
        var report = RunReport.Read(Find(p, name));
        string root = $"/api/runs/{Uri.EscapeDataString(report.Name)}/images/";
        return Api.Ok(new
        {
            run = Summary(report),
            config = report.Config,
            losses = report.Losses,
            log = report.LogTail,
            images = report.Images().Select(f => new
            {
                name = f.Name,
                url = root + Uri.EscapeDataString(f.Name) + "?v=" + f.LastWriteTimeUtc.Ticks,
                modified = f.LastWriteTimeUtc,
            }),
        });
    }

    public static IResult Image(Playground p, string name, string file)
    {
        var report = RunReport.Read(Find(p, name));
        var image = report.Images().FirstOrDefault(f => string.Equals(f.Name, file, StringComparison.Ordinal))
            ?? throw new NotFound($"run '{report.Name}' has no picture '{file}'.");
        // Served from the listing's own FileInfo: the name from the URL only chose among them.
        return Results.File(image.FullName, "image/png");
    }

    private static DirectoryInfo Find(Playground p, string name)
    {
        var folder = RunFolders.Find(p.Options.RunsDirectory, name);
        return folder is not null && RunReport.IsRun(folder) ? folder
            : throw new NotFound($"no run '{name}' under {p.Options.RunsDirectory}; the training tab lists the runs there.");
    }

    private static object Summary(RunReport r) => new
    {
        name = r.Name, status = r.Status, epochsDone = r.EpochsDone, epochsTotal = r.EpochsTotal,
        etaSeconds = r.EtaSeconds is double e ? Math.Round(e) : (double?)null, progress = Math.Round(r.Progress, 4),
        updated = r.Updated, bestValidation = r.Losses.Count == 0 ? (double?)null : r.Losses.Min(l => l.ValidationEma ?? l.Validation),
        model = r.HasBest ? ModelCatalog.RunPrefix + r.Name : null,
    };
}
