using System.Runtime.Intrinsics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Layers;

/// <summary>
/// ConvTranspose2d with kernel = stride and no padding (the seed's 2x2 up-sampling and its 4x4
/// expansion of the 1x1 bottleneck). Output tiles do not overlap, so each image is one product
/// W^T X into a [out*k*k, HW] scratch that is scattered into place; a 1x1 input makes the whole
/// batch one product.
/// </summary>
public sealed unsafe partial class ConvTranspose2d
{
    private static readonly int PForward = Profiler.Register("convT.forward");
    private static readonly int PBackward = Profiler.Register("convT.backward");

    /// <summary>
    /// Registers <c>name.weight</c> (in x out x k x k, PyTorch's layout for transposed convolutions) and
    /// <c>name.bias</c> (out), drawn from U(-1/sqrt(out k k), 1/sqrt(out k k)) as PyTorch does.
    /// </summary>
    public ConvTranspose2d(ParameterStore store, string name, int inChannels, int outChannels, int kernel)
    {
        In = inChannels; Out = outChannels; Kernel = kernel;
        // PyTorch computes fan_in from weight dim 1 (out channels) for transposed convolutions.
        float bound = 1f / MathF.Sqrt(outChannels * kernel * kernel);
        Weight = store.AddUniform(name + ".weight", [inChannels, outChannels, kernel, kernel], bound);
        Bias = store.AddUniform(name + ".bias", [outChannels], bound);
    }

    /// <summary>Input channels.</summary>
    public int In { get; }
    /// <summary>Output channels.</summary>
    public int Out { get; }
    /// <summary>The side of the square kernel, which is also the stride: each input pixel becomes a k x k tile.</summary>
    public int Kernel { get; }
    /// <summary>The kernels, in x out x k x k.</summary>
    public StateEntry Weight { get; }
    /// <summary>One bias per output channel.</summary>
    public StateEntry Bias { get; }

    /// <summary>y (N x Out x kH x kW) = the transposed convolution of x (N x In x H x W) plus the bias, overwriting y.</summary>
    public void Forward(Tensor x, Tensor y)
    {
        using var profile = Profiler.Measure(PForward);
        Forward(x, y, Weight.Value.Data, Bias.Value.Data);
    }

    // The forward pass with these weights and biases (the live ones, or a frozen snapshot's).
    private void Forward(Tensor x, Tensor y, float* weight, float* bias)
    {
        if (x.Dim(2) * x.Dim(3) == 1) { ForwardOnePixel(x, y, weight, bias); return; }
        int batch = x.Dim(0);
        // Fewer images than threads (sampling one sprite): the threads split each image's output channels.
        int groups = batch >= Workers.Threads ? 1 : Math.Min(Out, Workers.Threads / batch);
        var body = new ForwardBody { X = x.Data, Y = y.Data, W = weight, B = bias, In = In, Out = Out, K = Kernel, H = x.Dim(2), Wd = x.Dim(3), Groups = groups };
        Workers.For(batch * groups, ref body);
    }

    /// <summary>
    /// Adds the weight and bias gradients (reduced in part order, so independent of the thread count)
    /// and, when <paramref name="gx"/> is given, overwrites it with the input gradient.
    /// </summary>
    public void Backward(Tensor x, Tensor gy, Tensor? gx)
    {
        using var profile = Profiler.Measure(PBackward);
        if (x.Dim(2) * x.Dim(3) == 1) { BackwardOnePixel(x, gy, gx); return; }
        int parts = Math.Min(Workers.Threads, x.Dim(0));
        int wLen = In * Out * Kernel * Kernel;
        float* partial = Scratch.Get(ScratchSlot.PartialSums, (long)parts * (wLen + Out));
        var body = new BackwardBody
        {
            X = x.Data, GY = gy.Data, GX = gx is null ? null : gx.Data, W = Weight.Value.Data, Partial = partial,
            Parts = parts, Batch = x.Dim(0), In = In, Out = Out, K = Kernel, H = x.Dim(2), Wd = x.Dim(3),
        };
        Workers.For(parts, ref body);
        Partition.AddParts(partial, parts, Weight.Grad!.Data, wLen, Bias.Grad!.Data, Out);
    }

    // A 1x1 input (the bottleneck's k x k expansion) makes each image's product a vector times
    // W, which would stream all of W once per image. The batch is one product instead,
    // Y[batch x out*k*k] = X[batch x in] W[in x out*k*k], whose rows are the images' outputs in
    // NCHW order already; its rows are split between the threads.
    private void ForwardOnePixel(Tensor x, Tensor y, float* weight, float* bias)
    {
        int batch = x.Dim(0);
        if (batch < SmallBatch)
        {
            // A few images give the product too few rows to share: the threads split W's columns
            // instead, each streaming its part of W once for all the images. On one thread too:
            // the GEMM would pack all of W for a product of one row (n_feat 32 batch 1, one
            // thread: this layer 8.5 -> 2.4 us).
            var columns = new OnePixelColumns
            {
                X = x.Data, Y = y.Data, W = weight, B = bias,
                Batch = batch, Parts = Workers.Threads, In = In, Rows = Out * Kernel * Kernel, KK = Kernel * Kernel,
            };
            Workers.For(columns.Parts, ref columns);
            return;
        }
        var body = new OnePixelForward
        {
            X = x.Data, Y = y.Data, W = weight, B = bias,
            Batch = batch, Parts = Math.Min(Workers.Threads, batch), In = In, Out = Out, KK = Kernel * Kernel,
        };
        Workers.For(body.Parts, ref body);
    }

    // gW[in x out*k*k] += X^T G with its columns split between the threads (no partial sums to
    // add, so the result does not depend on the thread count); then gx = G W^T by rows of the batch.
    private void BackwardOnePixel(Tensor x, Tensor gy, Tensor? gx)
    {
        int batch = x.Dim(0), rows = Out * Kernel * Kernel;
        var weights = new OnePixelWeightGradient
        {
            X = x.Data, GY = gy.Data, GW = Weight.Grad!.Data, GB = Bias.Grad!.Data,
            Batch = batch, Parts = Math.Min(Workers.Threads, Out), In = In, Out = Out, KK = Kernel * Kernel,
        };
        Workers.For(weights.Parts, ref weights);
        if (gx is null) return;
        var input = new OnePixelInputGradient
        {
            GY = gy.Data, GX = gx.Data, W = Weight.Value.Data,
            Batch = batch, Parts = Math.Min(Workers.Threads, batch), In = In, Rows = rows,
        };
        Workers.For(input.Parts, ref input);
    }

    // Below this many images a 1x1 input's product is a few vector-matrix products (the
    // sampling of one or a few sprites), which the blocked GEMM would pack W for every call.
    private const int SmallBatch = 8;

    /// <summary>
    /// y[b] = x[b] W + bias over a block of W's columns: for each column one fused multiply-add
    /// chain over the inputs in order from zero, as the GEMM computes it, so both paths give the
    /// same bits.
    /// </summary>
    private struct OnePixelColumns : IParallelBody
    {
        public float* X, Y, W, B;
        public int Batch, Parts, In, Rows, KK;

        public void Run(int part)
        {
            var (first, last) = Partition.Range((Rows + 15) / 16, Parts, part);
            int j0 = first * 16, j1 = Math.Min(Rows, last * 16), n = j1 - j0;
            if (n <= 0) return;
            for (int b = 0; b < Batch; b++)
            {
                float* y = Y + (long)b * Rows + j0;
                float* x = X + (long)b * In;
                var acc = new Span<float>(y, n);
                acc.Clear();
                for (int c = 0; c < In; c++) TensorPrimitives.FusedMultiplyAdd(new ReadOnlySpan<float>(W + (long)c * Rows + j0, n), x[c], acc, acc);
                for (int j = j0; j < j1; j++) y[j - j0] += B[j / KK];
            }
        }
    }

    private struct OnePixelForward : IParallelBody
    {
        public float* X, Y, W, B;
        public int Batch, Parts, In, Out, KK;

        public void Run(int part)
        {
            var (start, end) = Partition.Range(Batch, Parts, part);
            int rows = Out * KK;
            Sgemm.Multiply(false, false, end - start, rows, In, X + (long)start * In, In, W, rows, Y + (long)start * rows, rows, accumulate: false);
            for (int b = start; b < end; b++)
            for (int o = 0; o < Out; o++)
            {
                var yo = new Span<float>(Y + (long)b * rows + o * KK, KK);
                TensorPrimitives.Add(yo, B[o], yo);
            }
        }
    }

    private struct OnePixelWeightGradient : IParallelBody
    {
        public float* X, GY, GW, GB;
        public int Batch, Parts, In, Out, KK;

        public void Run(int part)
        {
            // Whole output channels per part, so each part also owns its bias entries.
            var (first, last) = Partition.Range(Out, Parts, part);
            int rows = Out * KK, column = first * KK, columns = (last - first) * KK;
            Sgemm.Multiply(true, false, In, columns, Batch, X, In, GY + column, rows, GW + column, rows, accumulate: true);
            for (int o = first; o < last; o++)
            {
                float sum = 0;
                for (int b = 0; b < Batch; b++) sum += TensorPrimitives.Sum(new ReadOnlySpan<float>(GY + (long)b * rows + o * KK, KK));
                GB[o] += sum;
            }
        }
    }

    private struct OnePixelInputGradient : IParallelBody
    {
        public float* GY, GX, W;
        public int Batch, Parts, In, Rows;

        public void Run(int part)
        {
            var (start, end) = Partition.Range(Batch, Parts, part);
            Sgemm.Multiply(false, true, end - start, In, Rows, GY + (long)start * Rows, Rows, W, Rows, GX + (long)start * In, In, accumulate: false);
        }
    }

    private struct ForwardBody : IParallelBody
    {
        public float* X, Y, W, B;
        public int In, Out, K, H, Wd, Groups;

        public void Run(int item)
        {
            int b = item / Groups;
            var (o0, o1) = Partition.Range(Out, Groups, item % Groups);
            int hw = H * Wd, kk = K * K, rows = Out * kk, ow = Wd * K;
            float* x = X + (long)b * In * hw;
            float* y = Y + (long)b * Out * hw * kk;
            // Rows of t are this item's channels' rows of W^T X, from (o0 * kk) on.
            float* t = Scratch.Get(ScratchSlot.Columns, (long)(o1 - o0) * kk * hw) - (long)o0 * kk * hw;
            Sgemm.Multiply(true, false, (o1 - o0) * kk, hw, In, W + o0 * kk, rows, x, hw, t + (long)o0 * kk * hw, hw, accumulate: false);
            Scatter(t, y, B, o0, o1, K, H, Wd);
        }
    }

    /// <summary>
    /// y[o] = the k x k tiles of t (row o * k * k + i * k + j holds tile pixel (i, j) of every input
    /// pixel) put in place, plus bias[o], for the output channels [o0, o1) of one image. A 2x2
    /// kernel interleaves two rows into each output row, on vectors.
    /// </summary>
    private static void Scatter(float* t, float* y, float* bias, int o0, int o1, int k, int h, int w)
    {
        int hw = h * w, kk = k * k, ow = w * k;
        for (int o = o0; o < o1; o++)
        {
            float b = bias[o];
            float* yo = y + (long)o * hw * kk;
            for (int i = 0; i < k; i++)
            {
                if (k == 2)
                {
                    float* even = t + (long)(o * kk + 2 * i) * hw, odd = even + hw;
                    for (int r = 0; r < h; r++)
                    {
                        float* dst = yo + (2 * r + i) * ow;
                        int c = 0;
                        if (Lanes8.Supported) c = Interleave<Lanes8, Vector256<float>>(even + r * w, odd + r * w, dst, b, c, w);
                        if (Lanes4.Supported) c = Interleave<Lanes4, Vector128<float>>(even + r * w, odd + r * w, dst, b, c, w);
                        Interleave<Lanes1, float>(even + r * w, odd + r * w, dst, b, c, w);
                    }
                    continue;
                }
                for (int j = 0; j < k; j++)
                {
                    float* src = t + (long)(o * kk + i * k + j) * hw;
                    for (int r = 0; r < h; r++)
                    {
                        float* dst = yo + (r * k + i) * ow + j;
                        float* s = src + r * w;
                        for (int c = 0; c < w; c++) dst[c * k] = s[c] + b;
                    }
                }
            }
        }
    }

    // dst[2 c] = even[c] + b, dst[2 c + 1] = odd[c] + b from column c on, while a vector's worth remains.
    private static int Interleave<L, TV>(float* even, float* odd, float* dst, float b, int c, int w) where L : ILanes<TV> where TV : struct
    {
        var bias = L.Broadcast(b);
        for (; c + L.Count <= w; c += L.Count)
            L.StorePairs(L.Add(L.Load(even + c), bias), L.Add(L.Load(odd + c), bias), dst + 2 * c);
        return c;
    }

    private struct BackwardBody : IParallelBody
    {
        public float* X, GY, GX, W, Partial;
        public int Parts, Batch, In, Out, K, H, Wd;

        public void Run(int part)
        {
            int hw = H * Wd, kk = K * K, rows = Out * kk, ow = Wd * K;
            float* gw = Partial + (long)part * (In * rows + Out);
            float* gb = gw + In * rows;
            new Span<float>(gw, In * rows + Out).Clear();
            float* t = Scratch.Get(ScratchSlot.Columns, (long)rows * hw);
            var (start, end) = Partition.Range(Batch, Parts, part);
            for (int b = start; b < end; b++)
            {
                float* gy = GY + (long)b * Out * hw * kk;
                for (int o = 0; o < Out; o++)
                {
                    float* go = gy + (long)o * hw * kk;
                    gb[o] += TensorPrimitives.Sum(new ReadOnlySpan<float>(go, hw * kk));
                    for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++)
                    {
                        float* dst = t + (long)(o * kk + i * K + j) * hw;
                        for (int h = 0; h < H; h++)
                        {
                            float* src = go + (h * K + i) * ow + j;
                            float* d = dst + h * Wd;
                            for (int w = 0; w < Wd; w++) d[w] = src[w * K];
                        }
                    }
                }
                float* x = X + (long)b * In * hw;
                Sgemm.Multiply(false, true, In, rows, hw, x, hw, t, hw, gw, rows, accumulate: true);
                if (GX != null)
                    Sgemm.Multiply(false, false, In, hw, rows, W, rows, t, hw, GX + (long)b * In * hw, hw, accumulate: false);
            }
        }
    }
}
