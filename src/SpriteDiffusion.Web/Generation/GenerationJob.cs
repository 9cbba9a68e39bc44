using System.Diagnostics;
using System.Threading.Channels;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Generation;
using SpriteDiffusion.Imaging;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Web.Generation;

/// <summary>
/// One generation on a thread of its own (the engine blocks while it computes), publishing the
/// latest denoising step for the page without ever waiting for it: a slow page sees fewer frames,
/// the sampler never slows down. Cancellation is checked after every step.
/// </summary>
internal sealed class GenerationJob(GenerationPlan plan, CancellationToken cancel, Action<int, CancellationToken>? stepHook = null)
{
    private readonly object _gate = new();
    private readonly Channel<bool> _changed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Stopwatch _clock = new();
    private Progress _latest = new(0, plan.Steps, TimeSpan.Zero, null);

    /// <summary>Steps done of the total, the time so far, and the preview after the last step as RGBA bytes (sprite after sprite).</summary>
    public sealed record Progress(int Done, int Total, TimeSpan Elapsed, byte[]? Frame);

    public Progress Latest
    {
        get { lock (_gate) return _latest; }
    }

    /// <summary>Completes when a step has been published since the last wait (or at once if one was).</summary>
    public ValueTask<bool> WaitForStepAsync(CancellationToken token) => _changed.Reader.WaitToReadAsync(token);

    /// <summary>Marks the last published step as seen.</summary>
    public void Seen() => _changed.Reader.TryRead(out _);

    /// <summary>Starts the work on its own thread; the task ends with the finished sprites, or cancelled.</summary>
    public Task<RgbaImage[]> Start() =>
        Task.Factory.StartNew(Run, cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private RgbaImage[] Run()
    {
        _clock.Start();
        var (model, info) = Checkpoint.Load(plan.Model.Path);
        cancel.ThrowIfCancellationRequested();
        var generator = new SpriteGenerator(model, info) { Guidance = plan.Guidance, ClipDenoised = true };
        var sampler = generator.CreateSampler(plan.Method, plan.Steps, 0);
        // Sprite 0 and the sampler share one generator, as in `sprites sample --n 1`, so a batch of
        // one is that command's sprite exactly, DDPM's per-step noise included.
        var rng = new Rng(plan.Seed);
        var noise = new float[plan.Count * generator.ImageLength];
        for (int i = 0; i < plan.Count; i++)
            generator.DrawNoise(1, i == 0 ? rng : new Rng(plan.SeedOf(i))).CopyTo(noise, i * generator.ImageLength);
        float[]? context = plan.ClassIndex is int k ? generator.OneHot(Enumerable.Repeat(k, plan.Count).ToArray()) : null;
        int channels = info.Model.InChannels, size = info.Model.Height;
        byte[]? frame = null;
        var preview = new DenoisedPreview(sampler, noise);
        var samples = generator.Generate(sampler, plan.Count, rng, noise, context,
            progress: (done, total) =>
            {
                cancel.ThrowIfCancellationRequested();
                stepHook?.Invoke(done, cancel);
                lock (_gate) _latest = new Progress(done, total, _clock.Elapsed, frame);
                _changed.Writer.TryWrite(true);
            },
            onStep: (i, x) => frame = PreviewFrame(preview.Observe(i, x), plan.Count, channels, size));
        return SpriteFinishing.Finish(samples, plan.Count, channels, size, SpriteFinish.None);
    }

    /// <summary>A preview as the page draws it: clamped bytes, RGBA with the model's soft alpha (opaque for RGB models).</summary>
    internal static byte[] PreviewFrame(ReadOnlySpan<float> x, int count, int channels, int size)
    {
        int plane = size * size;
        var rgba = new byte[count * plane * 4];
        for (int i = 0; i < count; i++)
        {
            var image = x.Slice(i * channels * plane, channels * plane);
            int o = i * plane * 4;
            for (int p = 0; p < plane; p++, o += 4)
            {
                rgba[o] = SpritePixels.ToByte(image[p]);
                rgba[o + 1] = SpritePixels.ToByte(image[plane + p]);
                rgba[o + 2] = SpritePixels.ToByte(image[2 * plane + p]);
                rgba[o + 3] = channels == 4 ? SpritePixels.ToByte(image[3 * plane + p]) : (byte)255;
            }
        }
        return rgba;
    }
}
