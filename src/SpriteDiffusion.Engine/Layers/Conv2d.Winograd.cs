using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Layers;

/// <summary>
/// The 3x3 convolution through Winograd's F(2x2, 3x3) (<see cref="Winograd"/>): per chunk of
/// images, the input tiles are transformed once, the 16 tile positions become 16 channel
/// products, and the result is transformed back. The backward pass differentiates the same
/// factorisation: the weight gradient is G^T (sum over tiles of gM V^T) G with gM = A gy A^T, and
/// the input gradient is the forward algorithm run on gy with the flipped, transposed kernel.
/// </summary>
public sealed unsafe partial class Conv2d
{
    // Floats of one chunk's transformed tiles (16 x channels x tiles): the tiles and the products
    // made from them should stay in the core's L2 between the transform and the 16 products.
    private const int ChunkFloats = 65536;

    private static int ImagesPerChunk(int batch, int channels, int h, int w) =>
        ImagesPerChunk(batch, channels, Winograd.Positions * Winograd.TilesAlong(h) * Winograd.TilesAlong(w));

    // transformedPerChannel: floats of one image's transformed tiles per channel (positions x tiles).
    private static int ImagesPerChunk(int batch, int channels, int transformedPerChannel)
    {
        int perThread = (batch + Workers.Threads - 1) / Workers.Threads;
        long perImageFloats = (long)channels * transformedPerChannel;
        return (int)Math.Clamp(ChunkFloats / perImageFloats, 1, Math.Max(1, perThread));
    }

    private void WinogradForward(Tensor x, Tensor y)
    {
        int batch = x.Dim(0), h = x.Dim(2), w = x.Dim(3);
        if (batch == 0) return;
        float* u = Scratch.Get(ScratchSlot.TransformedWeights, (long)Winograd.Positions * Out * In); // owned by this (calling) thread
        Winograd.TransformWeights(Weight.Value.Data, u, Out, In);
        int perChunk = ImagesPerChunk(batch, Math.Max(In, Out), h, w);
        var body = new WinogradProduct
        {
            X = x.Data, Y = y.Data, U = u, Bias = Bias.Value.Data, Accumulate = false, Circular = Padding == PaddingMode.Circular,
            Batch = batch, In = In, Out = Out, H = h, W = w, PerChunk = perChunk,
        };
        Workers.For((batch + perChunk - 1) / perChunk, ref body);
    }

    private void WinogradBackward(Tensor x, Tensor gy, Tensor? gx, bool accumulate)
    {
        int batch = x.Dim(0), h = x.Dim(2), w = x.Dim(3);
        // No parts would clear the partial sums, and an empty batch adds nothing.
        if (batch == 0) return;
        int parts = Math.Min(Workers.Threads, batch);
        long uLen = (long)Winograd.Positions * Out * In, partLen = uLen + Out;
        float* partial = Scratch.Get(ScratchSlot.PartialSums, parts * partLen + uLen + (long)Out * In * 9); // owned by this (calling) thread
        float* uFlipped = partial + parts * partLen;
        if (gx is not null)
        {
            float* flipped = uFlipped + uLen;
            FlipTranspose(Weight.Value.Data, flipped, In, Out, Kernel);
            Winograd.TransformWeights(flipped, uFlipped, In, Out);
        }
        var body = new WinogradBackwardBody
        {
            X = x.Data, GY = gy.Data, GX = gx is null ? null : gx.Data, UFlipped = uFlipped, Partial = partial,
            Accumulate = accumulate, Parts = parts, Circular = Padding == PaddingMode.Circular,
            Batch = batch, In = In, Out = Out, H = h, W = w, PerChunk = ImagesPerChunk(batch, Math.Max(In, Out), h, w),
        };
        Workers.For(parts, ref body);
        // Parts are summed in order before the (linear) back-transform, so the result depends on the thread count only.
        for (int p = 1; p < parts; p++)
            TensorPrimitives.Add(new ReadOnlySpan<float>(partial, (int)partLen), new ReadOnlySpan<float>(partial + p * partLen, (int)partLen),
                new Span<float>(partial, (int)partLen));
        Winograd.AddWeightGradient(partial, Weight.Grad!.Data, Out, In);
        var gb = Bias.Grad!.Span;
        TensorPrimitives.Add(gb, new ReadOnlySpan<float>(partial + uLen, Out), gb);
    }

    /// <summary>
    /// The tile count of a chunk of <paramref name="images"/> and this thread's scratch for it: the
    /// transformed input tiles v, the 16 products m (with their per-position strides) and a padded plane.
    /// </summary>
    private static int ChunkBuffers(int images, int inChannels, int outChannels, int h, int w,
        out long vStride, out long mStride, out float* v, out float* m, out float* plane)
    {
        int tiles = images * Winograd.TilesAlong(h) * Winograd.TilesAlong(w);
        vStride = Winograd.PositionStride(inChannels, tiles);
        mStride = Winograd.PositionStride(outChannels, tiles);
        v = Scratch.Get(ScratchSlot.Columns, Winograd.Positions * vStride);
        m = Scratch.Get(ScratchSlot.Products, Winograd.Positions * mStride);
        plane = Scratch.Get(ScratchSlot.Plane, Winograd.PlaneLength(h, w));
        return tiles;
    }

    /// <summary>One chunk of the forward algorithm: y (+)= conv(x) with transformed weights U (+ bias).</summary>
    private struct WinogradProduct : IParallelBody
    {
        public float* X, Y, U, Bias;
        public bool Accumulate, Circular;
        public int Batch, In, Out, H, W, PerChunk;

        public void Run(int chunk)
        {
            int first = chunk * PerChunk, images = Math.Min(PerChunk, Batch - first);
            int tiles = ChunkBuffers(images, In, Out, H, W, out long vStride, out long mStride, out float* v, out float* m, out float* plane);
            long hw = (long)H * W;
            Winograd.TransformInput(X + first * In * hw, images, In, H, W, v, tiles, plane, Circular);
            for (int e = 0; e < Winograd.Positions; e++)
                Sgemm.Multiply(false, false, Out, tiles, In, U + (long)e * Out * In, In,
                    v + e * vStride, tiles, m + e * mStride, tiles, accumulate: false);
            Winograd.TransformOutput(m, tiles, Y + first * Out * hw, images, Out, H, W, Bias, Accumulate, plane);
        }
    }

    private struct WinogradBackwardBody : IParallelBody
    {
        public float* X, GY, GX, UFlipped, Partial;
        public bool Accumulate, Circular;
        public int Parts, Batch, In, Out, H, W, PerChunk;

        public void Run(int part)
        {
            long uLen = (long)Winograd.Positions * Out * In;
            float* gu = Partial + part * (uLen + Out);
            float* gb = gu + uLen;
            new Span<float>(gu, (int)(uLen + Out)).Clear();
            var (start, end) = Partition.Range(Batch, Parts, part);
            int perImage = Winograd.TilesAlong(H) * Winograd.TilesAlong(W), wide = Math.Max(In, Out);
            long hw = (long)H * W;
            for (int first = start; first < end; first += PerChunk)
            {
                int images = Math.Min(PerChunk, end - first), tiles = images * perImage;
                long vStride = Winograd.PositionStride(In, tiles), mStride = Winograd.PositionStride(Out, tiles);
                long wideStride = Winograd.PositionStride(wide, tiles);
                float* v = Scratch.Get(ScratchSlot.Columns, Winograd.Positions * wideStride);
                float* m = Scratch.Get(ScratchSlot.Products, Winograd.Positions * wideStride);
                float* plane = Scratch.Get(ScratchSlot.Plane, Winograd.PlaneLength(H, W));
                float* gy = GY + first * Out * hw;
                Winograd.TransformInput(X + first * In * hw, images, In, H, W, v, tiles, plane, Circular);
                Winograd.TransformOutputGradient(gy, images, Out, H, W, m, tiles, plane);
                for (int e = 0; e < Winograd.Positions; e++)
                    Sgemm.Multiply(false, true, Out, In, tiles, m + e * mStride, tiles,
                        v + e * vStride, tiles, gu + e * (long)Out * In, In, accumulate: true);
                for (int i = 0; i < images; i++)
                for (int o = 0; o < Out; o++)
                    gb[o] += TensorPrimitives.Sum(new ReadOnlySpan<float>(gy + (i * Out + o) * hw, (int)hw));
                if (GX == null) continue;
                var data = new WinogradProduct
                {
                    X = gy, Y = GX + first * In * hw, U = UFlipped, Bias = null, Accumulate = Accumulate, Circular = Circular,
                    Batch = images, In = Out, Out = In, H = H, W = W, PerChunk = images,
                };
                data.Run(0);
            }
        }
    }
}
