using SpriteDiffusion.Imaging;

namespace SpriteDiffusion.IO;

/// <summary>
/// The denoising trajectory of a batch of sprites as an APNG: x after chosen sampling steps, each
/// drawn as the same grid as the still PNG (<see cref="SpriteImages.Grid(ReadOnlySpan{float}, int, int, int, int?, int)"/>,
/// or, with <see cref="Finish"/>, <see cref="SpriteImages.Grid(IReadOnlyList{RgbaImage}, int, int?)"/> of the finished sprites), the last being x_0.
/// Pass <see cref="Observe"/> as the sampling loop's step observer, then <see cref="Save"/>.
/// </summary>
public sealed class DenoisingAnimation
{
    /// <summary>DDPM's 1000 steps would make a slow, multi-megabyte file; 100 frames show the same motion.</summary>
    public const int MaxDefaultFrames = 100;

    /// <summary>The whole trajectory plays in about this long: a 50-step DDIM run at 80 ms a frame.</summary>
    public const int PlaybackMs = 4000;

    /// <summary>Browsers slow down very short delays (some treat 10 ms or less as 100 ms); 40 ms is 25 frames/s.</summary>
    public const int MinDelayMs = 40;

    /// <summary>With few frames, a slower pace than this reads as a slide show rather than motion.</summary>
    public const int MaxDelayMs = 200;

    /// <summary>The result stays on screen this long before the loop starts again.</summary>
    public const int FinalHoldMs = 1500;

    private readonly int[] _frameSteps;
    private readonly int _count, _size, _scale, _columns, _channels;
    private AnimatedPngWriter? _writer;
    private int _next;

    /// <summary>An animation of the batch a sampling loop is about to denoise; nothing is drawn until <see cref="Observe"/>.</summary>
    /// <param name="steps">The sampler's number of steps.</param>
    /// <param name="frames">How many frames, evenly spaced over the steps; by default every step, at most <see cref="MaxDefaultFrames"/>.</param>
    /// <param name="count">The number of sprites in the batch.</param>
    /// <param name="size">The sprites' side in pixels (16 for the seed).</param>
    /// <param name="scale">Each sprite pixel becomes scale x scale pixels, 1 to 64.</param>
    /// <param name="columns">Sprites per row, as for <see cref="SpriteImages.Grid(ReadOnlySpan{float}, int, int, int, int?, int)"/>.</param>
    /// <param name="channels">The model's channels: 4 draws alpha over a checkerboard.</param>
    public DenoisingAnimation(int steps, int? frames, int count, int size, int scale = 4, int? columns = null, int channels = 3)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "a trajectory has at least one step.");
        int k = frames ?? Math.Min(steps, MaxDefaultFrames);
        if (k < 1 || k > steps)
            throw new ArgumentOutOfRangeException(nameof(frames), $"an animation has between 1 and {steps} frames, the number of sampling steps (got {k}); by default it has {Math.Min(steps, MaxDefaultFrames)}.");
        _frameSteps = FrameSteps(steps, k);
        FrameDelayMs = Math.Clamp((int)Math.Round((double)PlaybackMs / k), MinDelayMs, MaxDelayMs);
        _count = count;
        _size = size;
        _scale = scale;
        _columns = columns ?? SpriteImages.GridColumns(count);
        _channels = channels;
    }

    /// <summary>
    /// How each frame's sprites are finished before they are laid out; give the still grid's, so that the
    /// last frame is that grid (an RGBA model's alpha is cut at its threshold there). Null draws the model's
    /// output as it is, soft alpha included.
    /// </summary>
    public SpriteFinish? Finish { get; init; }

    /// <summary>How many frames the animation has: one per chosen step.</summary>
    public int FrameCount => _frameSteps.Length;
    /// <summary>
    /// How long each frame shows: <see cref="PlaybackMs"/> spread over the frames, within
    /// <see cref="MinDelayMs"/> to <see cref="MaxDelayMs"/>. The last frame holds at least <see cref="FinalHoldMs"/>.
    /// </summary>
    public int FrameDelayMs { get; }
    /// <summary>The animation's width in pixels; 0 until the first frame is drawn.</summary>
    public int Width => _writer?.Width ?? 0;
    /// <summary>The animation's height in pixels; 0 until the first frame is drawn.</summary>
    public int Height => _writer?.Height ?? 0;

    /// <summary>
    /// The 0-based step after which each frame is taken: ceil((k + 1) steps / frames) - 1 for frame
    /// k, so frames are as evenly spaced as whole steps allow and the last is always the final step.
    /// </summary>
    public static int[] FrameSteps(int steps, int frames)
    {
        if (frames < 1 || frames > steps) throw new ArgumentOutOfRangeException(nameof(frames), frames, $"must be 1 to {steps} frames.");
        var result = new int[frames];
        for (int k = 0; k < frames; k++)
            result[k] = (int)(((long)(k + 1) * steps + frames - 1) / frames) - 1;
        return result;
    }

    /// <summary>A <see cref="Diffusion.StepObserver"/>: x holds the whole batch after step <paramref name="index"/>.</summary>
    public void Observe(int index, ReadOnlySpan<float> x)
    {
        if (_next == _frameSteps.Length || index != _frameSteps[_next]) return;
        var frame = Finish is { } finish
            ? SpriteImages.Grid(SpriteFinishing.Finish(x, _count, _channels, _size, finish), _scale, _columns)
            : SpriteImages.Grid(x, _count, _size, _scale, _columns, _channels);
        _writer ??= new AnimatedPngWriter(frame.Width, frame.Height, _frameSteps.Length);
        bool last = _next == _frameSteps.Length - 1;
        _writer.AddFrame(frame, last ? Math.Max(FinalHoldMs, FrameDelayMs) : FrameDelayMs);
        _next++;
    }

    /// <summary>
    /// Writes the APNG atomically. Throws <see cref="InvalidOperationException"/> unless the sampling
    /// loop has run to the end, so that every frame was drawn.
    /// </summary>
    public void Save(string path)
    {
        if (_writer is null || _next != _frameSteps.Length)
            throw new InvalidOperationException($"the sampling loop showed {_next} of the {_frameSteps.Length} frames; save after it has finished.");
        _writer.Save(path);
    }
}
