using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SpriteDiffusion.IO;
using SpriteDiffusion.Web.Hosting;

namespace SpriteDiffusion.Web.Generation;

/// <summary>
/// POST /api/generate: checks the form, takes a place in the queue or answers 429, then streams
/// the generation as Server-Sent Events: queued (position), started, step (with a preview frame),
/// done (the batch's id and download addresses) or error. A client that leaves cancels the work.
/// </summary>
internal static class GenerateEndpoint
{
    public static async Task Handle(HttpContext http, Playground playground, IHostApplicationLifetime lifetime, ILoggerFactory logs)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        var cancel = linked.Token;
        GenerationPlan plan;
        try
        {
            var form = await GenerateForm.ReadAsync(http.Request, cancel);
            plan = GenerationPlan.From(form, playground.Catalog, playground.Limits);
        }
        catch (BadRequest e)
        {
            await Api.Error(e.Status, e.Message, e.Field).ExecuteAsync(http);
            return;
        }

        using var ticket = playground.Queue.TryEnter();
        if (ticket is null)
        {
            var state = playground.Queue.Snapshot();
            http.Response.Headers.RetryAfter = "5";
            await Api.Error(StatusCodes.Status429TooManyRequests,
                $"busy: {state.Running} generation{(state.Running == 1 ? " is" : "s are")} running and {state.Waiting} waiting, as many as this server takes; try again in a few seconds.")
                .ExecuteAsync(http);
            return;
        }

        Task<RgbaImage[]>? run = null;
        try
        {
            var events = await EventStream.StartAsync(http, cancel);
            await WaitForTurn(playground.Queue, ticket, events, cancel);
            var job = new GenerationJob(plan, cancel, playground.StepHook);
            await events.SendAsync("started", Started(plan));
            run = job.Start();
            await Stream(job, run, events, playground.Limits.PreviewInterval, cancel);
            var sprites = await run;
            ticket.Result = GenerationQueue.Outcome.Completed;
            var last = job.Latest;
            var result = playground.Results.Add(plan, sprites, last.Elapsed.TotalSeconds);
            await events.SendAsync("step", Step(last with { Done = last.Total }, includeFrame: false));
            await events.SendAsync("done", Done(result));
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // The page went away (or the server is stopping): nobody is left to tell.
        }
        catch (Exception e)
        {
            ticket.Result = GenerationQueue.Outcome.Failed;
            logs.CreateLogger("SpriteDiffusion.Web").LogError(e, "generation failed");
            await TrySendError(http, e);
        }
        finally
        {
            // The slot is free only once the engine has stopped, whatever happened to the request.
            if (run is not null) await run.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private static async Task WaitForTurn(GenerationQueue queue, GenerationQueue.Ticket ticket, EventStream events, CancellationToken cancel)
    {
        int told = -1;
        while (!ticket.Turn.Task.IsCompleted)
        {
            int position = queue.PositionOf(ticket);
            if (position != told && position > 0)
            {
                var s = queue.Snapshot();
                await events.SendAsync("queued", new { position, running = s.Running, waiting = s.Waiting });
                told = position;
            }
            await Task.WhenAny(ticket.Turn.Task, Task.Delay(TimeSpan.FromMilliseconds(250), cancel));
            cancel.ThrowIfCancellationRequested();
        }
    }

    private static async Task Stream(GenerationJob job, Task run, EventStream events, TimeSpan interval, CancellationToken cancel)
    {
        while (true)
        {
            var step = job.WaitForStepAsync(cancel).AsTask();
            if (await Task.WhenAny(run, step) == run) return;
            job.Seen();
            await events.SendAsync("step", Step(job.Latest, includeFrame: true));
            if (interval > TimeSpan.Zero) await Task.WhenAny(run, Task.Delay(interval, cancel));
            cancel.ThrowIfCancellationRequested();
        }
    }

    private static object Started(GenerationPlan p) => new
    {
        model = p.Model.Id, count = p.Count, steps = p.Steps, method = p.Method, seed = p.Seed,
        @class = p.ClassName, guidance = p.ClassIndex is null ? (double?)null : p.Guidance,
        size = p.Model.Info.Model.Height, channels = p.Model.Info.Model.InChannels,
    };

    private static object Step(GenerationJob.Progress p, bool includeFrame)
    {
        double elapsed = p.Elapsed.TotalMilliseconds;
        double? remaining = p.Done > 0 ? elapsed / p.Done * (p.Total - p.Done) : null;
        return new
        {
            done = p.Done, total = p.Total, elapsedMs = Math.Round(elapsed), remainingMs = remaining is double r ? Math.Round(r) : (double?)null,
            frame = includeFrame && p.Frame is { } f ? Convert.ToBase64String(f) : null,
        };
    }

    private static object Done(GenerationResult r)
    {
        string root = $"/api/results/{r.Id}";
        return new
        {
            id = r.Id, method = r.Plan.Method, count = r.Sprites.Length, size = r.Sprites[0].Width, seconds = Math.Round(r.Seconds, 2),
            sprites = r.Sprites.Select((_, i) => new { index = i, seed = r.Plan.SeedOf(i), name = r.NameOf(i), url = $"{root}/sprites/{i}.png" }),
            grid = $"{root}/grid.png", sheet = $"{root}/sheet.png", atlas = $"{root}/sheet.json", zip = $"{root}/batch.zip",
        };
    }

    private static async Task TrySendError(HttpContext http, Exception e)
    {
        string message = e is InvalidDataException or IOException
            ? e.Message
            : $"the generation failed ({e.GetType().Name}: {e.Message}); the server's console has the details.";
        try
        {
            if (http.Response.HasStarted)
                await http.Response.WriteAsync($"event: error\ndata: {System.Text.Json.JsonSerializer.Serialize(new { error = message }, Api.Json)}\n\n", http.RequestAborted);
            else
                await Api.Error(StatusCodes.Status500InternalServerError, message).ExecuteAsync(http);
        }
        catch (Exception write) when (write is OperationCanceledException or IOException)
        {
            // The client is gone as well.
        }
    }
}
