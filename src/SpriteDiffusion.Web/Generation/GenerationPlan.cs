using System.Globalization;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Generation;
using SpriteDiffusion.Web.Models;

namespace SpriteDiffusion.Web.Generation;

/// <summary>A generation request after every check: what will run, with nothing left to fail on the user's side.</summary>
internal sealed record GenerationPlan(ModelEntry Model, int? ClassIndex, double Guidance, string Method, int Steps, ulong Seed, int Count)
{
    /// <summary>The largest seed accepted: seeds stay exact in JavaScript's numbers and in `sprites sample --seed`.</summary>
    public const long MaxSeed = uint.MaxValue;

    public const int DefaultCount = 16;

    /// <summary>The class's name as the checkpoint calls it, or null for unconditional sprites.</summary>
    public string? ClassName => ClassIndex is int k ? NameOf(Model.Info, k) : null;

    /// <summary>
    /// Sprite i starts from the noise `sprites sample --n 1 --seed (Seed + i)` draws, so the seed the
    /// page shows for a sprite gives the same sprite again, alone or in another batch.
    /// </summary>
    public ulong SeedOf(int index) => Seed + (ulong)index;

    /// <summary>Checks a form against a model and the limits; throws <see cref="BadRequest"/> in the user's terms.</summary>
    public static GenerationPlan From(GenerateForm form, ModelCatalog catalog, PlaygroundLimits limits)
    {
        var models = catalog.List();
        if (models.Count == 0)
            throw new BadRequest("there is no model to sample: the bundled model was not found and no run under the runs folder has a best.safetensors yet.", "model");
        var model = form.Model is null ? models[0]
            : models.FirstOrDefault(m => m.Id == form.Model)
              ?? throw new BadRequest($"unknown model '{form.Model}': choose one of {string.Join(", ", models.Select(m => m.Id))}.", "model");

        // What the request means first (sampler, class, seed), then whether it fits the limits.
        string method = form.Method ?? "ddim";
        if (!Samplers.Names.Contains(method))
            throw new BadRequest($"unknown sampler '{method}': use one of {string.Join(", ", Samplers.Names)}.", "method");
        int? classIndex = string.IsNullOrWhiteSpace(form.Class) ? null : ResolveClass(form.Class, model.Info);
        double guidance = CheckGuidance(form.Guidance, classIndex, model.Info);
        long seed = form.Seed ?? 0;
        if (seed < 0 || seed > MaxSeed)
            throw new BadRequest($"seed must be a whole number from 0 to {MaxSeed} (got {seed}).", "seed");

        int steps = CheckSteps(form.Steps, method, model.Info, limits);
        int count = form.Count ?? DefaultCount;
        if (count < 1 || count > limits.MaxCount)
            throw new BadRequest($"count must be between 1 and {limits.MaxCount} sprites (got {count}).", "count");
        if ((long)count * steps > limits.MaxImageSteps)
            throw new BadRequest($"{count} sprites x {steps} steps is {(long)count * steps} sprite-steps; one request may run at most {limits.MaxImageSteps}: ask for fewer sprites or fewer steps.", "count");
        return new GenerationPlan(model, classIndex, guidance, method, steps, (ulong)seed, count);
    }

    private static int CheckSteps(int? asked, string method, CheckpointInfo info, PlaygroundLimits limits)
    {
        int? steps = asked ?? (Samplers.DefaultSteps(method, 50) is int d ? Math.Min(d, info.Timesteps) : null);
        if (steps is int s && (s < 1 || s > limits.MaxSteps))
            throw new BadRequest($"steps must be between 1 and {Math.Min(limits.MaxSteps, info.Timesteps)} (got {s}).", "steps");
        try
        {
            // The sampler checks its own step count (DDPM takes exactly T) in its own words.
            int taken = Samplers.Create(method, SpriteGenerator.CreateSchedule(info), steps).Timesteps.Count;
            if (taken > limits.MaxSteps)
                throw new BadRequest($"{method} takes {taken} steps with this model; this server allows at most {limits.MaxSteps}: choose ddim or dpm++2m.", "steps");
            return taken;
        }
        catch (ArgumentException e)
        {
            throw new BadRequest(Plain(e), "steps");
        }
    }

    private static int ResolveClass(string asked, CheckpointInfo info)
    {
        if (!info.Conditional)
            throw new BadRequest("this model was trained without classes, so it cannot draw a chosen class; leave the class empty.", "class");
        int k = info.Model.NCFeat;
        int found = Array.FindIndex(info.ClassNames, n => string.Equals(n, asked.Trim(), StringComparison.OrdinalIgnoreCase));
        if (found >= 0 && found < k) return found;
        if (int.TryParse(asked, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < k) return index;
        string choices = string.Join(", ", Enumerable.Range(0, k).Select(i => $"'{NameOf(info, i)}'"));
        throw new BadRequest($"unknown class '{asked}': this model knows {choices}.", "class");
    }

    private static double CheckGuidance(double? asked, int? classIndex, CheckpointInfo info)
    {
        if (classIndex is null)
        {
            if (asked is not null)
                throw new BadRequest("guidance steers towards a class: choose a class, or leave guidance out.", "guidance");
            return 1.0;
        }
        double w = asked ?? SpriteGenerator.DefaultGuidance;
        try { SpriteGenerator.CheckGuidance(w); }
        catch (ArgumentException e) { throw new BadRequest(Plain(e), "guidance"); }
        if (w != 1.0 && info.ContextDropout == 0)
            throw new BadRequest("this model never trained without its class (context dropout 0), so guidance has nothing to steer against; use guidance 1.", "guidance");
        return w;
    }

    private static string NameOf(CheckpointInfo info, int k) => k < info.ClassNames.Length ? info.ClassNames[k] : $"class {k}";

    /// <summary>The library's message without the parameter name it appends: the page names its own fields.</summary>
    internal static string Plain(ArgumentException e) =>
        e.ParamName is { } p && e.Message.EndsWith($" (Parameter '{p}')", StringComparison.Ordinal)
            ? e.Message[..^$" (Parameter '{p}')".Length] : e.Message;
}
