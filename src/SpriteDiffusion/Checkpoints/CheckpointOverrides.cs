using SpriteDiffusion.Layers;

namespace SpriteDiffusion.Checkpoints;

/// <summary>
/// Diffusion settings given by the user instead of the ones a checkpoint records (or, for a bare
/// state dict, the seed's that it is assumed to have): how the network sees t, T, the schedule.
/// Null keeps the checkpoint's value.
/// </summary>
/// <param name="TimeInput">"t/T" or "raw".</param>
/// <param name="Timesteps">The number of diffusion steps T the model was trained with.</param>
/// <param name="Schedule">"linear" or "cosine".</param>
public sealed record CheckpointOverrides(string? TimeInput = null, int? Timesteps = null, string? Schedule = null)
{
    /// <summary>No overrides: everything as the checkpoint says.</summary>
    public static CheckpointOverrides None { get; } = new();

    /// <summary>
    /// How the convolutions pad instead of how the model was trained: circular makes what it draws
    /// tile seamlessly (best on a model trained that way); null keeps the checkpoint's.
    /// </summary>
    public PaddingMode? Padding { get; init; }
}
