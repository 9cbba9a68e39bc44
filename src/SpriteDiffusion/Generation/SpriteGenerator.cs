using SpriteDiffusion.Engine;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Checkpoints;

namespace SpriteDiffusion.Generation;

/// <summary>
/// Runs a sampler with a trained U-Net as its noise predictor: the glue between the model and
/// the samplers, which know nothing of each other. Whatever the network was trained to output
/// (eps or v), the samplers receive eps: guidance combines the network's outputs, then the result
/// is converted to eps (clipping the implied clean image on the way when asked) in this one place.
/// </summary>
public sealed class SpriteGenerator
{
    private const int MaxForwardBatch = 128;
    private readonly UNet _model;
    private readonly TimeConvention _time;
    private readonly PredictionTarget _prediction;
    // Storage grows to the largest chunk and is reused, so sampling does not reallocate per step.
    private readonly Activation _x = new(), _t = new(), _c = new();

    /// <summary>A generator for <paramref name="model"/>, with the schedule and time input <paramref name="info"/> records; throws <see cref="InvalidDataException"/> for an unknown time input.</summary>
    public SpriteGenerator(UNet model, CheckpointInfo info)
    {
        _model = model;
        Info = info;
        Schedule = CreateSchedule(info);
        _time = TimeInput.Parse(info.TimeInput);
        _prediction = Prediction.Parse(info.Prediction);
    }

    /// <summary>What the checkpoint records: schedule, time input, classes.</summary>
    public CheckpointInfo Info { get; }
    /// <summary>The noise schedule the model was trained with, which its samplers must use.</summary>
    public NoiseSchedule Schedule { get; }
    /// <summary>Floats per generated image: channels x height x height.</summary>
    public int ImageLength => _model.Config.InChannels * _model.Config.Height * _model.Config.Height;

    /// <summary>
    /// The classifier-free guidance scale w for class-conditional sampling:
    /// eps = eps(x, null) + w (eps(x, class) - eps(x, null)); 1 is the plain conditional model, 0 the
    /// unconditional one, above 1 pushes harder towards the class. Applies only when a context is given.
    /// </summary>
    public double Guidance { get; set; } = 1.0;

    /// <summary>
    /// Clamp each step's implied clean image x0_hat = (x_t - sqrt(1 - alpha_bar) eps_hat) / sqrt(alpha_bar)
    /// (sqrt(alpha_bar) x_t - sqrt(1 - alpha_bar) v_hat for a v model) to [-1, 1] and hand the sampler the noise consistent with it (diffusers' clip_sample). Off, the
    /// samplers are SPEC section 3 exactly; on, an imperfect model's noise estimate at large t can no
    /// longer blow x0_hat up by 1 / sqrt(alpha_bar) (150x at t = 999), which a deterministic DDIM run
    /// otherwise carries into the final sprites as saturated speckle.
    /// </summary>
    public bool ClipDenoised { get; set; }

    /// <summary>The guidance scale `sprites sample` and `evaluate` use when a class is asked for and no scale is given.</summary>
    public const double DefaultGuidance = 3.0;

    /// <summary>Throws for a guidance scale outside [0, 50], before any work is done.</summary>
    public static void CheckGuidance(double w)
    {
        if (!(w >= 0 && w <= 50)) throw new ArgumentOutOfRangeException(nameof(Guidance), $"the guidance scale must be between 0 and 50 (got {w}); 1 is the plain conditional model.");
    }

    /// <summary>
    /// The class index a user names: a class name of the checkpoint (case-insensitive) or an
    /// index; throws an <see cref="ArgumentException"/> naming the choices otherwise.
    /// </summary>
    public int ResolveClass(string nameOrIndex)
    {
        RequireClasses();
        int k = _model.Config.NCFeat;
        string[] names = Info.ClassNames;
        int found = Array.FindIndex(names, n => string.Equals(n, nameOrIndex.Trim(), StringComparison.OrdinalIgnoreCase));
        if (found >= 0 && found < k) return found;
        if (int.TryParse(nameOrIndex, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int index) && index >= 0 && index < k)
            return index;
        string choices = names.Length > 0 ? string.Join(", ", names.Select((n, i) => $"{i} '{n}'")) : $"0..{k - 1}";
        throw new ArgumentException($"unknown class '{nameOrIndex}': this checkpoint knows {choices}.", nameof(nameOrIndex));
    }

    /// <summary>Throws an <see cref="ArgumentException"/> unless the checkpoint was trained on classes.</summary>
    public void RequireClasses()
    {
        if (!Info.Conditional)
            throw new ArgumentException("this checkpoint was trained without classes (unconditional), so it cannot sample by class; sample it without a class, or train a conditional model (the default).", "Class");
    }

    /// <summary>One-hot contexts (count x n_cfeat) for the given class of each sprite.</summary>
    public float[] OneHot(ReadOnlySpan<int> classes)
    {
        int k = _model.Config.NCFeat;
        var contexts = new float[classes.Length * k];
        for (int i = 0; i < classes.Length; i++)
        {
            if ((uint)classes[i] >= (uint)k) throw new ArgumentOutOfRangeException(nameof(classes), classes[i], $"class must be in 0..{k - 1}.");
            contexts[i * k + classes[i]] = 1f;
        }
        return contexts;
    }

    /// <summary>
    /// The named sampler over this model's schedule; without a step count, its
    /// <see cref="Samplers.DefaultSteps"/> (at most T).
    /// </summary>
    public ISampler CreateSampler(string method, int? steps, double eta, int defaultDdimSteps = 50) =>
        Samplers.Create(method, Schedule, steps ?? (Samplers.DefaultSteps(method, defaultDdimSteps) is int d ? Math.Min(d, Schedule.T) : null), eta);

    /// <summary>The schedule <paramref name="info"/> records, the linear one with its recorded betas; throws <see cref="ArgumentException"/> for an unknown name.</summary>
    public static NoiseSchedule CreateSchedule(CheckpointInfo info) =>
        info.Schedule == NoiseSchedule.LinearName
            ? NoiseSchedule.Linear(info.Timesteps, info.BetaStart, info.BetaEnd)
            : NoiseSchedule.Create(info.Schedule, info.Timesteps);

    /// <summary>
    /// Generates count sprites (count x C x H x W, about [-1, 1]). x_T comes from noise when given,
    /// else from rng, which then also drives the sampler's own noise. With an <paramref name="edit"/>,
    /// the sprites start from its images or keep part of them (<see cref="Sampling.Run"/>), and the
    /// sampler starts where the edit's strength says.
    /// </summary>
    public float[] Generate(ISampler sampler, int count, Rng rng, ReadOnlySpan<float> noise = default,
        ReadOnlySpan<float> context = default, Action<int, int>? progress = null, StepObserver? onStep = null,
        SamplingEdit? edit = null)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), $"the number of sprites must be at least 1 (got {count}).");
        int per = ImageLength, ncf = _model.Config.NCFeat;
        float[] x;
        if (noise.IsEmpty) x = DrawNoise(count, rng);
        else
        {
            if (noise.Length != count * per)
                throw new ArgumentException($"the noise holds {noise.Length} values; {count} sprites of {_model.Config.InChannels}x{_model.Config.Height}x{_model.Config.Height} need {count * per}.", nameof(noise));
            x = noise.ToArray();
        }
        var contexts = new float[count * ncf];
        if (!context.IsEmpty)
        {
            if (context.Length != contexts.Length) throw new ArgumentException("context must be count x n_cfeat", nameof(context));
            context.CopyTo(contexts);
        }
        bool guided = !context.IsEmpty && Guidance != 1.0;
        if (guided && Info.Conditional && Info.ContextDropout == 0)
            throw new ArgumentException("this checkpoint never trained on the null context (context dropout 0), so guidance has nothing to steer against; sample at guidance 1, or train with context dropout (0.1 is the default).", nameof(Guidance));
        // w = 0 is the null context alone: one pass instead of two with the class half weighted 0.
        if (guided && Guidance == 0)
        {
            Array.Clear(contexts);
            guided = false;
        }
        if (edit is not null && edit.Images.Length != x.Length)
            throw new ArgumentException($"the edit holds {edit.Images.Length / per} starting sprites but {count} are drawn; give one per sprite.", nameof(edit));
        // The weights cannot change during the run, so it samples from a frozen snapshot (folded
        // BatchNorm, transformed weights computed once) and lets it go when it returns.
        using (_model.Freeze())
            Sampling.Run(sampler, (xt, t, eps) => Predict(xt, t, eps, contexts, guided), x, rng, progress, onStep, edit);
        return x;
    }

    /// <summary>
    /// The x_T that <see cref="Generate"/> draws for count sprites from rng, so that noise built
    /// from it (e.g. interpolated between two seeds) starts exactly where those seeds' samples do.
    /// </summary>
    public float[] DrawNoise(int count, Rng rng)
    {
        var x = new float[checked(count * ImageLength)];
        rng.FillGaussian(x);
        return x;
    }

    /// <summary>
    /// The noise prediction for a batch, whatever the network outputs. Guided, each chunk runs once as [x with its class; x with
    /// the null context] in one forward pass (eval-mode BatchNorm keeps the halves independent).
    /// </summary>
    private void Predict(ReadOnlySpan<float> xt, int step, Span<float> eps, float[] contexts, bool guided)
    {
        int per = ImageLength, ncf = _model.Config.NCFeat, total = xt.Length / per, h = _model.Config.Height;
        int channels = _model.Config.InChannels;
        float tValue = TimeInput.Value(step, Schedule.T, _time);
        int chunk = guided ? MaxForwardBatch / 2 : MaxForwardBatch;
        for (int start = 0; start < total; start += chunk)
        {
            int b = Math.Min(chunk, total - start), rows = guided ? 2 * b : b;
            Tensor x = _x.Get(rows, channels, h, h), t = _t.Get(rows, 1), c = _c.Get(rows, ncf);
            var images = xt.Slice(start * per, b * per);
            images.CopyTo(x.Span);
            t.Span.Fill(tValue);
            contexts.AsSpan(start * ncf, b * ncf).CopyTo(c.Span);
            if (guided)
            {
                images.CopyTo(x.Span[(b * per)..]);
                c.Span[(b * ncf)..].Clear();
            }
            var y = _model.Forward(x, t, c, training: false).Span;
            var target = eps.Slice(start * per, b * per);
            if (!guided) y[..(b * per)].CopyTo(target);
            else
            {
                var conditional = y[..(b * per)];
                var unconditional = y.Slice(b * per, b * per);
                TensorPrimitives.Subtract(conditional, unconditional, target);
                TensorPrimitives.MultiplyAdd(target, (float)Guidance, unconditional, target);
            }
            // Guidance is affine in the output and so is the conversion, so guiding v and then
            // converting is the same as converting each half and guiding eps.
            Prediction.ToNoise(_prediction, images, target, Schedule.AlphaBar[step], ClipDenoised);
        }
    }
}
