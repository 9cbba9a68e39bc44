using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Spectre.Console;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Web;

namespace SpriteDiffusion.Cli.Commands;

/// <summary>`sprites serve`: the local web playground (src/SpriteDiffusion.Web), on this machine only unless told otherwise.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var defaults = new PlaygroundLimits();
        var port = new Option<int>("--port") { Description = "TCP port (0: any free port; the URL printed says which).", DefaultValueFactory = _ => PlaygroundOptions.DefaultPort };
        var host = new Option<string>("--host") { Description = "Address to listen on. Anything but a loopback address needs --allow-remote.", DefaultValueFactory = _ => "127.0.0.1" };
        var allowRemote = new Option<bool>("--allow-remote") { Description = "Let --host be an address other machines reach. The playground has no login: anyone who reaches it can use this machine's CPU." };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "One more checkpoint to offer beside the bundled model and the runs." };
        var runs = new Option<string>("--runs") { Description = "The folder of training runs to offer and watch (each run with a best.safetensors is a model).", DefaultValueFactory = _ => "runs" };
        var threads = new Option<int?>("--threads") { Description = "Worker threads per generation (default: all cores); fewer threads let more generations run at once." };
        var maxCount = new Option<int>("--max-count") { Description = "The most sprites one request may ask for.", DefaultValueFactory = _ => defaults.MaxCount };
        var maxSteps = new Option<int>("--max-steps") { Description = "The most sampling steps one request may ask for.", DefaultValueFactory = _ => defaults.MaxSteps };
        var queue = new Option<int>("--queue") { Description = "Generations that may wait for their turn; beyond them a request is answered 'busy' (HTTP 429).", DefaultValueFactory = _ => defaults.MaxWaiting };
        var command = new Command("serve", "A local web playground: choose a model, watch sprites denoise live, download them, and follow training runs.")
        {
            port, host, allowRemote, checkpoint, runs, threads, maxCount, maxSteps, queue,
        };
        command.SetAction(async (r, cancel) =>
        {
            if (r.GetValue(threads) is int t) Workers.Threads = t;
            var options = Read(r.GetValue(host)!, r.GetValue(port), r.GetValue(allowRemote), r.GetValue(checkpoint), r.GetValue(runs)!,
                new PlaygroundLimits { MaxCount = r.GetValue(maxCount), MaxSteps = r.GetValue(maxSteps), MaxWaiting = r.GetValue(queue) });
            await Run(options, cancel);
            return 0;
        });
        return command;
    }

    /// <summary>The options for the flags, refused in the flags' terms before anything listens.</summary>
    internal static PlaygroundOptions Read(string host, int port, bool allowRemote, string? checkpoint, string runs, PlaygroundLimits limits)
    {
        if (port is < 0 or > 65535) throw new UserError($"--port must be between 1 and 65535, or 0 for any free port (got {port}).");
        if (!allowRemote && !PlaygroundOptions.IsLoopback(host))
            throw new UserError($"--host {host} would let other machines use the playground, which has no login. Add --allow-remote to mean it, or leave --host at 127.0.0.1.");
        if (limits.MaxCount is < 1 or > 4096) throw new UserError($"--max-count must be between 1 and 4096 (got {limits.MaxCount}).");
        if (limits.MaxSteps is < 1 or > 100_000) throw new UserError($"--max-steps must be between 1 and 100000 (got {limits.MaxSteps}).");
        if (limits.MaxWaiting is < 0 or > 1000) throw new UserError($"--queue must be between 0 and 1000 (got {limits.MaxWaiting}).");
        if (checkpoint is not null && !File.Exists(checkpoint)) throw new UserError($"--checkpoint {checkpoint}: no such file.");
        return new PlaygroundOptions
        {
            Host = host, Port = port, AllowRemote = allowRemote, Checkpoint = checkpoint, RunsDirectory = runs,
            BundledModel = PretrainedModel.TryFind(), Limits = limits with { Slots = Math.Max(1, Environment.ProcessorCount / Workers.Threads) },
        };
    }

    private static async Task Run(PlaygroundOptions options, CancellationToken cancel)
    {
        var app = PlaygroundApp.Create(options);
        await app.StartAsync(cancel);
        var limits = options.Limits;
        foreach (string url in PlaygroundApp.Addresses(app)) AnsiConsole.MarkupLineInterpolated($"playground at [green link]{url}[/]");
        if (!PlaygroundOptions.IsLoopback(options.Host))
            AnsiConsole.MarkupLineInterpolated($"[yellow]warning[/]: listening on {options.Host}: anyone who can reach this machine can use the playground (it has no login) and its CPU.");
        var models = PlaygroundApp.ModelNames(options);
        AnsiConsole.MarkupLineInterpolated($"models: {(models.Count == 0 ? $"none yet (no bundled model found, no run with a best.safetensors under {options.RunsDirectory})" : string.Join("; ", models))}");
        AnsiConsole.MarkupLineInterpolated($"limits: {limits.MaxCount} sprites, {limits.MaxSteps} steps, {limits.MaxImageSteps} sprite-steps a request; {limits.Slots} generation{(limits.Slots == 1 ? "" : "s")} at a time, {limits.MaxWaiting} waiting");
        Console.WriteLine("Ctrl-C stops the server.");
        await app.WaitForShutdownAsync(cancel);
    }
}
