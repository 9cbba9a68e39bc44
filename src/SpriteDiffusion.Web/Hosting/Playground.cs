using SpriteDiffusion.Web.Generation;
using SpriteDiffusion.Web.Models;

namespace SpriteDiffusion.Web.Hosting;

/// <summary>The playground's state, one per server: its settings, models, queue and finished batches.</summary>
internal sealed class Playground
{
    private readonly IdleMemory _idleMemory;

    public Playground(PlaygroundOptions options)
    {
        Options = options;
        Catalog = new ModelCatalog(options);
        Results = new ResultStore(options.Limits.KeptResults);
        Queue = new GenerationQueue(options.Limits.Slots, options.Limits.MaxWaiting, () => _idleMemory!.QueueEmptied());
        _idleMemory = new IdleMemory(() => Queue.IsIdle, TimeSpan.FromSeconds(2));
    }

    public PlaygroundOptions Options { get; }
    public PlaygroundLimits Limits => Options.Limits;
    public ModelCatalog Catalog { get; }
    public GenerationQueue Queue { get; }
    public ResultStore Results { get; }

    /// <summary>Called on the generation thread after every step; tests hold a generation at a step with it.</summary>
    public Action<int, CancellationToken>? StepHook { get; set; }
}
