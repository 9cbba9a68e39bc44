using SpriteDiffusion.Web.Generation;
using SpriteDiffusion.Web.Models;

namespace SpriteDiffusion.Web.Hosting;

/// <summary>The playground's state, one per server: its settings, models, queue and finished batches.</summary>
internal sealed class Playground(PlaygroundOptions options)
{
    public PlaygroundOptions Options { get; } = options;
    public PlaygroundLimits Limits => Options.Limits;
    public ModelCatalog Catalog { get; } = new(options);
    public GenerationQueue Queue { get; } = new(options.Limits.Slots, options.Limits.MaxWaiting);
    public ResultStore Results { get; } = new(options.Limits.KeptResults);

    /// <summary>Called on the generation thread after every step; tests hold a generation at a step with it.</summary>
    public Action<int, CancellationToken>? StepHook { get; set; }
}
