namespace SpriteDiffusion.Training;

/// <summary>The shape of the learning rate after its warm-up.</summary>
public enum LearningRateDecay
{
    /// <summary>The peak rate to the end, as the seed trains.</summary>
    Constant,

    /// <summary>Half a cosine from the peak down to the floor (Loshchilov and Hutter's SGDR without restarts).</summary>
    Cosine,

    /// <summary>A straight line from the peak down to the floor.</summary>
    Linear,
}

/// <summary>
/// The learning rate of every optimiser step of a run: a linear warm-up over the first
/// <see cref="WarmupSteps"/> steps (step n, counted from 0, at peak (n + 1) / warm-up, so the first
/// step already moves), then <see cref="Decay"/> from the peak to <see cref="Floor"/> over the rest of the
/// planned <see cref="TotalSteps"/>, reaching the floor where the plan ends.
/// <para>
/// The decay is driven by a progress p from 0 to 1: rate = floor + (peak - floor)(1 + cos(pi p)) / 2
/// (cosine) or peak - (peak - floor) p (linear). p is DecayStartProgress at DecayStartStep and grows
/// linearly to 1 at TotalSteps. A new run starts its decay at the end of the warm-up with p = 0; when
/// a run's length changes part way (a resume with more epochs, a time budget planned after the first
/// epoch), <see cref="Replan"/> re-anchors it at the current step and progress, so the rate stays
/// continuous and the rest of the decay stretches over the new remainder. Those three numbers are
/// what a checkpoint records, so a resumed run computes bit for bit the rates it would have.
/// </para>
/// </summary>
public sealed record LearningRateSchedule
{
    /// <summary>The name of <see cref="LearningRateDecay.Constant"/> in options and checkpoints.</summary>
    public const string ConstantName = "constant";
    /// <summary>The name of <see cref="LearningRateDecay.Cosine"/>.</summary>
    public const string CosineName = "cosine";
    /// <summary>The name of <see cref="LearningRateDecay.Linear"/>.</summary>
    public const string LinearName = "linear";

    /// <summary>Every decay's name, for help text and validation.</summary>
    public static IReadOnlyList<string> Names { get; } = [ConstantName, CosineName, LinearName];

    /// <summary>A run's schedule before any re-planning; <paramref name="totalSteps"/> 0 means its length is not known yet.</summary>
    public LearningRateSchedule(LearningRateDecay decay, double peak, int warmupSteps, double floor, long totalSteps)
    {
        if (!(peak > 0 && double.IsFinite(peak))) throw new ArgumentOutOfRangeException(nameof(peak), peak, "the peak learning rate must be positive.");
        if (warmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "the warm-up must be at least 0 steps.");
        if (!(floor >= 0 && floor <= peak)) throw new ArgumentOutOfRangeException(nameof(floor), floor, $"the learning-rate floor must be between 0 and the peak rate {peak}.");
        if (totalSteps < 0) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "the planned step count must be at least 0.");
        Decay = decay;
        Peak = peak;
        WarmupSteps = warmupSteps;
        Floor = floor;
        TotalSteps = totalSteps;
        DecayStartStep = warmupSteps;
        DecayStartProgress = 0;
    }

    /// <summary>The decay's shape.</summary>
    public LearningRateDecay Decay { get; init; }
    /// <summary>The rate at the end of the warm-up (the run's learning rate).</summary>
    public double Peak { get; init; }
    /// <summary>Steps of linear warm-up; 0 starts at the peak.</summary>
    public int WarmupSteps { get; init; }
    /// <summary>The rate the decay ends at.</summary>
    public double Floor { get; init; }
    /// <summary>The run's planned length in optimiser steps; 0 while it is not known (the rate then holds at the peak after the warm-up).</summary>
    public long TotalSteps { get; init; }
    /// <summary>The step from which the progress runs linearly from <see cref="DecayStartProgress"/> to 1 at <see cref="TotalSteps"/>.</summary>
    public long DecayStartStep { get; init; }
    /// <summary>The decay's progress at <see cref="DecayStartStep"/>: 0 for a run planned once.</summary>
    public double DecayStartProgress { get; init; }

    /// <summary>The decay called <paramref name="name"/>.</summary>
    public static LearningRateDecay Parse(string name) => name switch
    {
        ConstantName => LearningRateDecay.Constant,
        CosineName => LearningRateDecay.Cosine,
        LinearName => LearningRateDecay.Linear,
        _ => throw new ArgumentException($"unknown learning-rate schedule '{name}': use one of {string.Join(", ", Names)}.", nameof(name)),
    };

    /// <summary>The name a checkpoint records for <paramref name="decay"/>.</summary>
    public static string Name(LearningRateDecay decay) => decay switch
    {
        LearningRateDecay.Constant => ConstantName,
        LearningRateDecay.Cosine => CosineName,
        LearningRateDecay.Linear => LinearName,
        _ => throw new ArgumentOutOfRangeException(nameof(decay), decay, null),
    };

    /// <summary>The rate of step <paramref name="step"/> (0 is the first update).</summary>
    public double At(long step)
    {
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        if (Decay == LearningRateDecay.Constant || TotalSteps == 0) return Peak;
        double p = Progress(step);
        return Decay == LearningRateDecay.Cosine
            ? Floor + (Peak - Floor) * 0.5 * (1 + Math.Cos(Math.PI * p))
            : Peak - (Peak - Floor) * p;
    }

    /// <summary>The decay's progress at <paramref name="step"/>, in [0, 1].</summary>
    public double Progress(long step)
    {
        if (TotalSteps == 0 || step <= DecayStartStep) return DecayStartProgress;
        long span = TotalSteps - DecayStartStep;
        if (span <= 0) return 1;
        return Math.Min(1, DecayStartProgress + (1 - DecayStartProgress) * (step - DecayStartStep) / span);
    }

    /// <summary>
    /// The same schedule planned to end at <paramref name="totalSteps"/> instead, as seen from
    /// <paramref name="step"/> (the next update): the rate up to that step is unchanged, and the
    /// decay still to come is spread over the new remainder. Before the decay has started only the
    /// end moves.
    /// </summary>
    public LearningRateSchedule Replan(long step, long totalSteps)
    {
        if (totalSteps < 1) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "the planned step count must be at least 1.");
        if (step <= DecayStartStep) return this with { TotalSteps = totalSteps };
        return this with { TotalSteps = totalSteps, DecayStartStep = step, DecayStartProgress = Progress(step) };
    }
}
