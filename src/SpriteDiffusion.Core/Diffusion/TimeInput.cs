namespace SpriteDiffusion.Diffusion;

/// <summary>How the integer timestep is fed to the network's time embedding.</summary>
public enum TimeConvention
{
    /// <summary>t / T, in [0, 1): what the course passes, and what trains far better.</summary>
    Normalized,

    /// <summary>t itself as a float (0..T-1): what the seed project passes.</summary>
    Raw,
}

/// <summary>
/// The network's time input. The convention is part of a trained model, so checkpoints record its
/// <see cref="Name"/> and sampling reads it back with <see cref="Parse"/>.
/// </summary>
public static class TimeInput
{
    /// <summary>What new runs train with: t / T, which trains far better than the seed's raw t.</summary>
    public const TimeConvention Default = TimeConvention.Normalized;
    /// <summary>How a checkpoint names <see cref="TimeConvention.Normalized"/>.</summary>
    public const string NormalizedName = "t/T";
    /// <summary>How a checkpoint names <see cref="TimeConvention.Raw"/>; a state dict saved from PyTorch records none and is read as raw.</summary>
    public const string RawName = "raw";

    /// <summary>What the network is fed for timestep <paramref name="t"/> of <paramref name="T"/> under <paramref name="convention"/>.</summary>
    public static float Value(int t, int T, TimeConvention convention) => convention switch
    {
        TimeConvention.Normalized => (float)((double)t / T),
        TimeConvention.Raw => t,
        _ => throw new ArgumentOutOfRangeException(nameof(convention), convention, null),
    };

    /// <summary>The time input of every image of a batch, each with its own t (training).</summary>
    public static void Fill(ReadOnlySpan<int> t, int T, TimeConvention convention, Span<float> dest)
    {
        if (t.Length != dest.Length) throw new ArgumentException($"{t.Length} timesteps for {dest.Length} time inputs.", nameof(dest));
        for (int i = 0; i < t.Length; i++) dest[i] = Value(t[i], T, convention);
    }

    /// <summary>The same t for a whole batch (sampling).</summary>
    public static void Fill(int t, int T, TimeConvention convention, Span<float> dest) => dest.Fill(Value(t, T, convention));

    /// <summary>The name a checkpoint records for <paramref name="convention"/>, which <see cref="Parse"/> reads back.</summary>
    public static string Name(TimeConvention convention) => convention switch
    {
        TimeConvention.Normalized => NormalizedName,
        TimeConvention.Raw => RawName,
        _ => throw new ArgumentOutOfRangeException(nameof(convention), convention, null),
    };

    /// <summary>The convention a checkpoint names; <paramref name="source"/> is the file, for the message.</summary>
    public static TimeConvention Parse(string name, string source = "the checkpoint") => name switch
    {
        NormalizedName => TimeConvention.Normalized,
        RawName => TimeConvention.Raw,
        _ => throw new InvalidDataException($"{source}: unknown time input convention '{name}'; expected '{NormalizedName}' or '{RawName}'. The file was written by a different program or version."),
    };
}
