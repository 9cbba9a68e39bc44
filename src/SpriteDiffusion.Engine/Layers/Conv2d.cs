using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Layers;

/// <summary>
/// Conv2d with a square odd kernel, stride 1, "same" padding (k / 2), with bias: the 3x3 and 1x1
/// convolutions of the seed U-Net. Lowered per image to one product through im2col columns, or,
/// for 3x3 kernels between enough channels, computed with Winograd's F(2x2, 3x3) (Conv2d.Winograd.cs).
/// </summary>
public sealed unsafe partial class Conv2d
{
    private static readonly int PForward = Profiler.Register("conv.forward");
    private static readonly int PBackward = Profiler.Register("conv.backward");

    /// <summary>
    /// Registers <c>name.weight</c> (out x in x k x k) and <c>name.bias</c> (out), both drawn from
    /// U(-1/sqrt(in k k), 1/sqrt(in k k)) as PyTorch does. Throws <see cref="ArgumentException"/> for an even kernel.
    /// </summary>
    public Conv2d(ParameterStore store, string name, int inChannels, int outChannels, int kernel)
    {
        if (kernel % 2 == 0) throw new ArgumentException("kernel must be odd");
        In = inChannels; Out = outChannels; Kernel = kernel;
        float bound = 1f / MathF.Sqrt(inChannels * kernel * kernel);
        Weight = store.AddUniform(name + ".weight", [outChannels, inChannels, kernel, kernel], bound);
        Bias = store.AddUniform(name + ".bias", [outChannels], bound);
    }

    /// <summary>Input channels.</summary>
    public int In { get; }
    /// <summary>Output channels.</summary>
    public int Out { get; }
    /// <summary>The side of the square kernel: 3 or 1 in the seed U-Net.</summary>
    public int Kernel { get; }
    /// <summary>The kernels, out x in x k x k (PyTorch's layout).</summary>
    public StateEntry Weight { get; }
    /// <summary>One bias per output channel.</summary>
    public StateEntry Bias { get; }

    /// <summary>
    /// What the kernel sees beyond the edges: zeros (PyTorch's default), or the opposite edge
    /// (padding_mode='circular'), which makes the image a torus so that what is drawn tiles seamlessly.
    /// Both algorithms honour it, forward and backward.
    /// </summary>
    public PaddingMode Padding { get; set; } = PaddingMode.Zeros;

    /// <summary>How this layer computes; Auto picks per layer (tests force each path).</summary>
    public ConvAlgorithm Algorithm { get; set; } = ConvAlgorithm.Auto;

    private int ColRows => In * Kernel * Kernel;

    private bool UsesWinograd => Kernel == 3 && Algorithm switch
    {
        ConvAlgorithm.Winograd => true,
        ConvAlgorithm.Im2Col => false,
        _ => AutoPicksWinograd(In, Out, Kernel),
    };

    // Below 16 channels on either side the 16 transformed products are too thin to pay for the transforms.
    private static bool AutoPicksWinograd(int inChannels, int outChannels, int kernel) =>
        kernel == 3 && inChannels >= 16 && outChannels >= 16;

    /// <summary>Multiply-adds one image costs with the Auto algorithm (Winograd: 16 per 2x2 tile and channel pair instead of 36).</summary>
    public static double MultiplyAdds(int inChannels, int outChannels, int kernel, int h, int w) =>
        AutoPicksWinograd(inChannels, outChannels, kernel)
            ? 16.0 * inChannels * outChannels * Winograd.TilesAlong(h) * Winograd.TilesAlong(w)
            : (double)inChannels * outChannels * kernel * kernel * h * w;

    /// <summary>
    /// y (N x Out x H x W) = the convolution of x (N x In x H x W) plus the bias, overwriting y; images
    /// run in parallel, by <see cref="Algorithm"/>.
    /// </summary>
    public void Forward(Tensor x, Tensor y)
    {
        using var profile = Profiler.Measure(PForward);
        if (UsesWinograd) { WinogradForward(x, y); return; }
        var body = new ForwardBody
        {
            X = x.Data, Y = y.Data, W = Weight.Value.Data, B = Bias.Value.Data, Circular = Padding == PaddingMode.Circular,
            In = In, Out = Out, K = Kernel, H = x.Dim(2), Wd = x.Dim(3),
        };
        Workers.For(x.Dim(0), ref body);
    }

    /// <summary>Adds the weight and bias gradients; writes (or adds, if accumulate) the input gradient when gx is given.</summary>
    public void Backward(Tensor x, Tensor gy, Tensor? gx, bool accumulate = false)
    {
        using var profile = Profiler.Measure(PBackward);
        if (UsesWinograd) { WinogradBackward(x, gy, gx, accumulate); return; }
        int parts = Math.Min(Workers.Threads, x.Dim(0));
        int wLen = Out * ColRows;
        float* partial = Scratch.Get(ScratchSlot.PartialSums, (long)parts * (wLen + Out) + wLen); // owned by this (calling) thread
        float* flipped = partial + (long)parts * (wLen + Out);
        if (gx is not null && Kernel != 1) FlipTranspose(Weight.Value.Data, flipped, In, Out, Kernel);
        var body = new BackwardBody
        {
            Flipped = flipped,
            X = x.Data, GY = gy.Data, GX = gx is null ? null : gx.Data, Accumulate = accumulate,
            W = Weight.Value.Data, Partial = partial, Parts = parts, Batch = x.Dim(0), Circular = Padding == PaddingMode.Circular,
            In = In, Out = Out, K = Kernel, H = x.Dim(2), Wd = x.Dim(3),
        };
        Workers.For(parts, ref body);
        Partition.AddParts(partial, parts, Weight.Grad!.Data, wLen, Bias.Grad!.Data, Out);
    }

    /// <summary>
    /// W'[ci, co*k*k + (k-1-ki)*k + (k-1-kj)] = W[co, ci, ki, kj]: the weights of the "full"
    /// convolution that maps the output gradient back to the input gradient.
    /// </summary>
    private static void FlipTranspose(float* w, float* flipped, int inChannels, int outChannels, int k)
    {
        int kk = k * k;
        for (int co = 0; co < outChannels; co++)
        for (int ci = 0; ci < inChannels; ci++)
        for (int i = 0; i < kk; i++)
            flipped[(long)ci * outChannels * kk + co * kk + (kk - 1 - i)] = w[((long)co * inChannels + ci) * kk + i];
    }

    /// <summary>
    /// The k x k neighbourhoods of every pixel as rows of col, zeros outside the image or, when
    /// <paramref name="circular"/>, the pixels of the opposite edge. Circular padding is its own
    /// adjoint with the kernel flipped, so the backward pass runs this on the output gradient too.
    /// </summary>
    internal static void Im2Col(float* x, float* col, int channels, int h, int w, int k, bool circular = false)
    {
        int pad = k / 2, hw = h * w;
        if (k == 1) { Buffer.MemoryCopy(x, col, (long)channels * hw * 4, (long)channels * hw * 4); return; }
        for (int c = 0; c < channels; c++)
        {
            float* src = x + (long)c * hw;
            for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++)
            {
                float* dst = col + ((long)(c * k + ki) * k + kj) * hw;
                int dj = kj - pad;
                int wStart = Math.Max(0, -dj), wEnd = Math.Min(w, w - dj);
                for (int oh = 0; oh < h; oh++)
                {
                    int ih = oh + ki - pad;
                    float* row = dst + oh * w;
                    if (circular) ih = (ih % h + h) % h;
                    else if ((uint)ih >= (uint)h) { new Span<float>(row, w).Clear(); continue; }
                    float* line = src + ih * w;
                    // The columns beyond the edges: zeros, or the same row's other end.
                    for (int ow = 0; ow < wStart; ow++) row[ow] = circular ? line[((ow + dj) % w + w) % w] : 0;
                    new ReadOnlySpan<float>(line + dj + wStart, wEnd - wStart).CopyTo(new Span<float>(row + wStart, wEnd - wStart));
                    for (int ow = wEnd; ow < w; ow++) row[ow] = circular ? line[(ow + dj) % w] : 0;
                }
            }
        }
    }

    private struct ForwardBody : IParallelBody
    {
        public float* X, Y, W, B;
        public bool Circular;
        public int In, Out, K, H, Wd;

        public void Run(int b)
        {
            int hw = H * Wd;
            DirectColumns(X + (long)b * In * hw, Y + (long)b * Out * hw, hw, 0, hw, W, B, In, Out, K, H, Wd, Circular);
        }
    }

    /// <summary>
    /// Columns [c0, c1) (pixels) of one image's direct convolution through im2col: y[o * yStride +
    /// j - c0] = B[o] + W[o] . col[j], for the image x (In x h x w) and every output channel o. The
    /// calling thread lays out the image's columns in its own scratch.
    /// </summary>
    internal static void DirectColumns(float* x, float* y, long yStride, int c0, int c1, float* w, float* b,
        int inChannels, int outChannels, int k, int h, int wd, bool circular)
    {
        int hw = h * wd, rows = inChannels * k * k;
        for (int o = 0; o < outChannels; o++) new Span<float>(y + o * yStride, c1 - c0).Fill(b[o]);
        float* col = x;
        if (k != 1)
        {
            col = Scratch.Get(ScratchSlot.Columns, (long)rows * hw);
            Im2Col(x, col, inChannels, h, wd, k, circular);
        }
        Sgemm.Multiply(false, false, outChannels, c1 - c0, rows, w, rows, col + c0, hw, y, (int)yStride, accumulate: true);
    }

    private struct BackwardBody : IParallelBody
    {
        public float* X, GY, GX, W, Partial, Flipped;
        public bool Accumulate, Circular;
        public int Parts, Batch, In, Out, K, H, Wd;

        public void Run(int part)
        {
            int hw = H * Wd, rows = In * K * K;
            float* gw = Partial + (long)part * (Out * rows + Out);
            float* gb = gw + Out * rows;
            new Span<float>(gw, Out * rows + Out).Clear();
            var (start, end) = Partition.Range(Batch, Parts, part);
            float* col = K == 1 ? null : Scratch.Get(ScratchSlot.Columns, (long)rows * hw);
            float* gcol = K == 1 || GX == null ? null : Scratch.Get(ScratchSlot.Products, (long)Out * K * K * hw);
            for (int b = start; b < end; b++)
            {
                float* x = X + (long)b * In * hw;
                float* gy = GY + (long)b * Out * hw;
                float* c = x;
                if (K != 1) { Im2Col(x, col, In, H, Wd, K, Circular); c = col; }
                Sgemm.Multiply(false, true, Out, rows, hw, gy, hw, c, hw, gw, rows, accumulate: true);
                for (int o = 0; o < Out; o++)
                {
                    gb[o] += TensorPrimitives.Sum(new ReadOnlySpan<float>(gy + (long)o * hw, hw));
                }
                if (GX == null) continue;
                float* gx = GX + (long)b * In * hw;
                if (K == 1)
                    Sgemm.Multiply(true, false, In, hw, Out, W, In, gy, hw, gx, hw, Accumulate);
                else
                {
                    // The input gradient is the "full" convolution of gy with the flipped kernel: one
                    // product with k = Out*k*k instead of a k = Out product plus a col2im scatter.
                    Im2Col(gy, gcol, Out, H, Wd, K, Circular);
                    Sgemm.Multiply(false, false, In, hw, Out * K * K, Flipped, Out * K * K, gcol, hw, gx, hw, Accumulate);
                }
            }
        }
    }
}

/// <summary>What a <see cref="Conv2d"/> reads beyond the image's edges.</summary>
public enum PaddingMode
{
    /// <summary>Zeros, PyTorch's padding_mode='zeros'.</summary>
    Zeros,
    /// <summary>The opposite edge, PyTorch's padding_mode='circular': the image is a torus.</summary>
    Circular,
}

/// <summary>How a <see cref="Conv2d"/> computes its products.</summary>
public enum ConvAlgorithm
{
    /// <summary>Winograd for 3x3 kernels with at least 16 channels on both sides, else im2col.</summary>
    Auto,
    /// <summary>im2col columns and one SGEMM per image, for any kernel.</summary>
    Im2Col,
    /// <summary>Winograd F(2x2, 3x3) for a 3x3 kernel whatever the channel counts; other kernels still use im2col.</summary>
    Winograd,
}
