using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Web.Generation;
using SpriteDiffusion.Web.Hosting;
using SpriteDiffusion.Web.Models;
using SpriteDiffusion.Web.Runs;

namespace SpriteDiffusion.Web;

/// <summary>Builds the playground: Kestrel on the chosen address, the page, and the JSON and event-stream API under /api.</summary>
public static class PlaygroundApp
{
    /// <summary>
    /// The server, configured but not started. <paramref name="configure"/> runs last, before the
    /// build (tests swap Kestrel for an in-memory server there).
    /// </summary>
    /// <exception cref="ArgumentException">An option that cannot work (see <see cref="PlaygroundOptions.Validate"/>).</exception>
    public static WebApplication Create(PlaygroundOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        // The content root is the program's folder, so an appsettings.json in the user's current folder changes nothing.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = typeof(PlaygroundApp).Assembly.GetName().Name,
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(new Playground(options));
        builder.Services.AddSingleton<StaticAssets>();
        // A generation in flight is cancelled on shutdown; nothing needs the default 30 s of grace.
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(3));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = GenerateForm.MaxBodyBytes;
            k.Limits.MaxConcurrentConnections = 256;
            if (options.Host == "localhost" && options.Port != 0) k.ListenLocalhost(options.Port);
            else k.Listen(options.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.Host.Trim('[', ']')), options.Port);
        });
        configure?.Invoke(builder);

        var app = builder.Build();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("SpriteDiffusion.Web");
        app.Use(Guards.Headers);
        app.Use(Guards.HostCheck(options));
        app.Use((http, next) => Guards.Errors(http, next, log));
        Map(app);
        return app;
    }

    /// <summary>The names of the models the page offers now, for the command line to print.</summary>
    public static IReadOnlyList<string> ModelNames(PlaygroundOptions options) =>
        new ModelCatalog(options).List().Select(m => m.Name).ToList();

    /// <summary>The addresses the started server listens on, each ending in "/".</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app) =>
        app.Urls.Select(u => u.EndsWith('/') ? u : u + "/").ToList();

    private static void Map(WebApplication app)
    {
        app.MapGet("/", (StaticAssets assets) => assets.Serve("index.html"));
        app.MapGet("/static/{file}", (StaticAssets assets, string file) => assets.Serve(file));

        app.MapGet("/api/models", (Playground p) => Api.Ok(new
        {
            models = p.Catalog.List().Select(Describe),
            samplers = Samplers.Names,
            limits = p.Limits,
            maxSeed = GenerationPlan.MaxSeed,
        }));
        app.MapGet("/api/queue", (Playground p) => Api.Ok(p.Queue.Snapshot()));
        app.MapPost("/api/generate", GenerateEndpoint.Handle);

        app.MapGet("/api/results/{id}/sprites/{index:int}.png", ResultEndpoints.Sprite);
        app.MapGet("/api/results/{id}/grid.png", ResultEndpoints.Grid);
        app.MapGet("/api/results/{id}/sheet.png", ResultEndpoints.Sheet);
        app.MapGet("/api/results/{id}/sheet.json", ResultEndpoints.Atlas);
        app.MapGet("/api/results/{id}/batch.zip", ResultEndpoints.Zip);

        app.MapGet("/api/runs", RunEndpoints.List);
        app.MapGet("/api/runs/{name}", RunEndpoints.Detail);
        app.MapGet("/api/runs/{name}/images/{file}", RunEndpoints.Image);

        app.MapFallback((HttpContext http) => Api.NotFound($"nothing at {http.Request.Path}; the playground is at /."));
    }

    private static object Describe(ModelEntry m)
    {
        var info = m.Info;
        int k = info.Model.NCFeat;
        return new
        {
            id = m.Id, name = m.Name, kind = m.Kind, size = info.Model.Height, channels = info.Model.InChannels,
            nFeat = info.Model.NFeat, timesteps = info.Timesteps, conditional = info.Conditional,
            guidance = info.Conditional && info.ContextDropout > 0,
            classes = info.Conditional ? Enumerable.Range(0, k).Select(i => i < info.ClassNames.Length ? info.ClassNames[i] : $"class {i}") : [],
            epoch = info.Epoch, validationLoss = info.ValidationLoss,
        };
    }
}
