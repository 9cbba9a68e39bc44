namespace SpriteDiffusion.Diffusion;

/// <summary>Samplers by name, so the command line and checkpoints can name one.</summary>
public static class Samplers
{
    /// <summary>Every name <see cref="Create"/> accepts, for help text and error messages.</summary>
    public static IReadOnlyList<string> Names { get; } = [DdpmSampler.SamplerName, DdimSampler.SamplerName, DpmSolverSampler.SamplerName];

    /// <summary>
    /// The steps a sampler takes when none are asked for: DDIM <paramref name="ddimSteps"/> (50 for
    /// sample grids, 100 for FID, as the seed), DPM-Solver++ <see cref="DpmSolverSampler.DefaultSteps"/>,
    /// DDPM all T (null).
    /// </summary>
    public static int? DefaultSteps(string name, int ddimSteps) => name.Trim().ToLowerInvariant() switch
    {
        DdimSampler.SamplerName => ddimSteps,
        DpmSolverSampler.SamplerName => DpmSolverSampler.DefaultSteps,
        _ => null,
    };

    /// <summary>
    /// The sampler called <paramref name="name"/> with its timesteps set. DDPM takes all T steps,
    /// so <paramref name="steps"/> = null means T for it; DDIM and DPM-Solver++ need an explicit
    /// count. Only DDIM has an eta.
    /// </summary>
    public static ISampler Create(string name, NoiseSchedule schedule, int? steps = null, double eta = 0.0)
    {
        switch (name.Trim().ToLowerInvariant())
        {
            case DdpmSampler.SamplerName:
                if (eta != 0.0)
                    throw new ArgumentOutOfRangeException(nameof(eta), $"eta applies to DDIM only; DDPM's noise is fixed by its schedule (got eta {eta}).");
                var ddpm = new DdpmSampler(schedule);
                if (steps is int n) ddpm.SetTimesteps(n);
                return ddpm;
            case DdimSampler.SamplerName:
                if (steps is null)
                    throw new ArgumentNullException(nameof(steps), $"DDIM needs a step count between 1 and {schedule.T}.");
                return new DdimSampler(schedule, steps.Value, eta);
            case DpmSolverSampler.SamplerName:
                if (eta != 0.0)
                    throw new ArgumentOutOfRangeException(nameof(eta), $"eta applies to DDIM only; DPM-Solver++ solves the deterministic ODE and takes no noise (got eta {eta}).");
                if (steps is null)
                    throw new ArgumentNullException(nameof(steps), $"DPM-Solver++ needs a step count between 1 and {schedule.T} ({DpmSolverSampler.DefaultSteps} is a good start).");
                return new DpmSolverSampler(schedule, steps.Value);
            default:
                throw new ArgumentException($"unknown sampler '{name}': use one of {string.Join(", ", Names)}.", nameof(name));
        }
    }

    /// <summary>
    /// <paramref name="timestep"/> followed by the entries of <paramref name="planned"/> below it: the
    /// sequence of <see cref="ISampler.StartAt"/>. Throws unless 0 &lt;= timestep &lt; T.
    /// </summary>
    internal static int[] StartingAt(int[] planned, int timestep, int T)
    {
        if ((uint)timestep >= (uint)T)
            throw new ArgumentOutOfRangeException(nameof(timestep), timestep, $"the starting timestep must be in 0..{T - 1}.");
        if (planned.Length == 0) throw new InvalidOperationException("call SetTimesteps before StartAt.");
        return [timestep, .. planned.Where(t => t < timestep)];
    }
}
