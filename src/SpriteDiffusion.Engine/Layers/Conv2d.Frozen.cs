using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Engine.Gemm;

namespace SpriteDiffusion.Layers;

public sealed unsafe partial class Conv2d
{
    /// <summary>
    /// This layer for inference only, from its weights as they are now: an eval-mode BatchNorm that
    /// follows it folded into the weights and bias, GELU after it applied as each output plane is
    /// written, and the Winograd-transformed weights computed once instead of on every call.
    /// <para>
    /// A snapshot: later changes to the layer's or the BatchNorm's parameters are not seen, so its
    /// owner takes it for one stretch of sampling (see the U-Net's Freeze) and drops it afterwards.
    /// Backward has nothing to differentiate through: it is for eval-mode forward passes only.
    /// </para>
    /// </summary>
    internal Frozen Freeze(BatchNorm2d? bn = null, bool gelu = false) => new(this, bn, gelu);

    internal sealed class Frozen
    {
        // Outside the snapshot's arrays nothing is kept of the layer but its shape, so a stale
        // snapshot cannot mix old and new weights.
        private readonly float[] _weight, _bias, _transformed, _transformed4, _panels, _panels4;
        private readonly bool _gelu, _winograd, _circular;
        private readonly int _in, _out, _k;
        private const long SplitMultiplyAdds = 500_000;

        public Frozen(Conv2d conv, BatchNorm2d? bn, bool gelu)
        {
            (_in, _out, _k, _gelu, _circular) = (conv.In, conv.Out, conv.Kernel, gelu, conv.Padding == PaddingMode.Circular);
            int perOut = _in * _k * _k;
            _weight = GC.AllocateArray<float>(_out * perOut, pinned: true);
            _bias = GC.AllocateArray<float>(_out, pinned: true);
            var w = conv.Weight.Value.Span;
            var b = conv.Bias.Value.Span;
            if (bn is not null && bn.Channels != _out) throw new ArgumentException("the BatchNorm must have one channel per output channel of the convolution", nameof(bn));
            for (int o = 0; o < _out; o++)
            {
                // BN(z) = z * scale + shift with the running statistics, as BatchNormGelu computes it in evaluation.
                float scale = 1f, shift = 0f;
                if (bn is not null)
                {
                    float rstd = (float)(1.0 / Math.Sqrt(bn.RunningVar.Value.Span[o] + (double)BatchNorm2d.Eps));
                    scale = bn.Weight.Value.Span[o] * rstd;
                    shift = bn.Bias.Value.Span[o] - bn.RunningMean.Value.Span[o] * scale;
                }
                for (int i = 0; i < perOut; i++) _weight[o * perOut + i] = w[o * perOut + i] * scale;
                _bias[o] = MathF.FusedMultiplyAdd(b[o], scale, shift);
            }
            // With the weights transformed once, Winograd pays off down to the last layer's 3 output
            // channels; 3 input channels make its 16 products too short (k = 3) to beat im2col.
            _winograd = _k == 3 && conv.Algorithm switch
            {
                ConvAlgorithm.Winograd => true,
                ConvAlgorithm.Im2Col => false,
                _ => _in >= 16,
            };
            _transformed = _winograd ? GC.AllocateArray<float>(Winograd.Positions * _out * _in, pinned: true) : [];
            _transformed4 = _winograd ? GC.AllocateArray<float>(Winograd4.Positions * _out * _in, pinned: true) : [];
            bool panels = _winograd && PanelProducts.CanPack(_out);
            _panels = panels ? GC.AllocateArray<float>(_transformed.Length, pinned: true) : [];
            _panels4 = panels ? GC.AllocateArray<float>(_transformed4.Length, pinned: true) : [];
            fixed (float* pw = _weight, pu = _transformed, pu4 = _transformed4, pp = _panels, pp4 = _panels4)
                if (_winograd)
                {
                    Winograd.TransformWeights(pw, pu, _out, _in);
                    Winograd4.TransformWeights(pw, pu4, _out, _in);
                    if (panels)
                    {
                        PanelProducts.Pack(pu, pp, Winograd.Positions, _out, _in);
                        PanelProducts.Pack(pu4, pp4, Winograd4.Positions, _out, _in);
                    }
                }
        }

        /// <summary>Which Winograd tiles the forward pass uses; Auto picks by map size (tests force each).</summary>
        internal WinogradTiles Tiles { get; set; } = WinogradTiles.Auto;

        /// <summary>Whether the channel products may run on the packed weight panels where they fit (tests turn it off to compare).</summary>
        internal bool UsePanels { get; set; } = true;

        /// <summary>
        /// Whether a batch of one splits its F(2x2) tiles over the threads by tile rows (true), by output
        /// channels (false), or by whichever runs faster here (null, the default); tests force each.
        /// </summary>
        internal bool? SplitTileRows { get; set; }

        private readonly SplitChooser _split = new();

        // A batch of one may split over the threads by tile rows where each thread's slab still fills
        // the products' 32-wide kernel panels (16x16 maps: 4 of 8 tile rows, 32 tiles each): every
        // thread then transforms only its own part of the input, where splitting the output channels
        // has each transform all of it (a fifth to a quarter of a 64-channel 16x16 layer's time). But
        // the threads then write the two halves of every output plane, and how much that costs
        // depends on where the cores are (see SplitChooser), so the two splits are timed against
        // each other: they compute the same bits.
        internal bool SplitsTileRows(int batch, int h, int w) =>
            SplitTileRows != false && batch == 1 && Workers.Threads > 1 && h % 2 == 0 && w % 2 == 0
            && Winograd.TilesAlong(h) >= 2 * Workers.Threads && Winograd.TilesAlong(w) * (Winograd.TilesAlong(h) / Workers.Threads) >= 32;

        // F(4x4) where its 2.25 multiplies per output beat F(2x2)'s 4 by more than its dearer
        // transforms cost: maps of 16x16 and more, whose tile rows fill the transforms' vectors.
        // A batch of one split over two AVX-512 threads (by output channels, each transforming the
        // whole input) lost to F(2x2) (n_feat 64: 0.84x-0.88x, before and after the panel products):
        // there the products are so fast that the transforms decide. On one AVX-512 thread its
        // 16-tile products on panels win (n_feat 32 and 64 batch 1: 1.10x), and without AVX-512,
        // where the products take most of a layer, it wins on one thread and two (AVX-512 turned
        // off on Zen 5: one thread 1.15x, two threads n_feat 64 1.15x, n_feat 32 1.02x). More
        // threads, each transforming the whole input for a smaller share of the products, were
        // not measured and keep F(2x2).
        internal static bool AutoPicksF4(int batch, int h, int w) =>
            h >= 16 && w >= 16 && ((batch + Workers.Threads - 1) / Workers.Threads >= 2
                || batch == 1 && (Workers.Threads == 1 || Workers.Threads == 2 && !Sgemm.HasAvx512));

        private bool UsesF4(int batch, int h, int w) => Tiles switch
        {
            WinogradTiles.F4x4 => true,
            WinogradTiles.F2x2 => false,
            _ => AutoPicksF4(batch, h, w),
        };

        /// <summary>
        /// Multiply-adds one image of a batch costs a frozen 3x3 (or other) layer with the Auto
        /// choices: direct below 16 input channels, else Winograd F(4x4) or F(2x2) as Forward picks.
        /// </summary>
        internal static double MultiplyAdds(int inChannels, int outChannels, int kernel, int h, int w, int batch)
        {
            if (kernel != 3 || inChannels < 16) return (double)inChannels * outChannels * kernel * kernel * h * w;
            return AutoPicksF4(batch, h, w)
                ? (double)Winograd4.Positions * inChannels * outChannels * Winograd4.TilesAlong(h) * Winograd4.TilesAlong(w)
                : (double)Winograd.Positions * inChannels * outChannels * Winograd.TilesAlong(h) * Winograd.TilesAlong(w);
        }

        /// <summary>y (N x Out x H x W) = the layer (with its folded BatchNorm and GELU) applied to x, overwriting y.</summary>
        public void Forward(Tensor x, Tensor y)
        {
            using var profile = Profiler.Measure(PForward);
            int batch = x.Dim(0), h = x.Dim(2), w = x.Dim(3);
            if (batch == 0) return;
            fixed (float* pw = _weight, pb = _bias, pu = _transformed, pu4 = _transformed4, pp = _panels, pp4 = _panels4)
            {
                if (!_winograd)
                {
                    var direct = new ForwardBody { X = x.Data, Y = y.Data, W = pw, B = pb, In = _in, Out = _out, K = _k, H = h, Wd = w, Circular = _circular };
                    Workers.For(batch, ref direct);
                    if (_gelu)
                    {
                        var g = new GeluBody { Y = y.Data, N = (long)y.Length };
                        Workers.For((int)((g.N + Activations.Chunk - 1) / Activations.Chunk), ref g);
                    }
                    return;
                }
                bool f4 = UsesF4(batch, h, w);
                int perChunk = f4 ? ImagesPerChunkF4(batch, _in, _out, h, w) : 0;
                int positions = f4 ? Winograd4.Positions : Winograd.Positions;
                int tilesPerImage = f4 ? Winograd4.TilesAlong(h) * Winograd4.TilesAlong(w) : Winograd.TilesAlong(h) * Winograd.TilesAlong(w);
                if (!f4) perChunk = ImagesPerChunk(batch, Math.Max(_in, _out), positions * tilesPerImage);
                int chunks = (batch + perChunk - 1) / perChunk;
                // Fewer chunks than threads (batch 1): the threads split a chunk's output channels,
                // in blocks of 8 rows (a micro-kernel's height); each transforms the input itself.
                // A chunk of 0.5 M multiply-adds (about 5 us) already pays for the second thread, which
                // watches for loops between layers rather than sleeping (n_feat 32 batch 1, fastest
                // step of 3000 in 3 runs each: 0.57-0.61 ms with 2 M here, 0.43-0.52 ms with 0.5 M).
                long macs = (long)positions * _in * _out * Math.Min(perChunk, batch) * tilesPerImage;
                bool split = macs >= SplitMultiplyAdds, rowsAllowed = split && !f4 && SplitsTileRows(batch, h, w), timed = rowsAllowed && SplitTileRows is null;
                bool rows = rowsAllowed && (SplitTileRows == true || _split.Next() == 0);
                int groups = !split ? 1 : rows ? Workers.Threads : Math.Clamp(Workers.Threads / chunks, 1, Math.Max(1, _out / 8));
                var body = new Product
                {
                    X = x.Data, Y = y.Data, U = f4 ? pu4 : pu, Panels = UsePanels && _panels.Length > 0 ? (f4 ? pp4 : pp) : null, Bias = pb, Gelu = _gelu, Circular = _circular, F4 = f4, Rows = rows,
                    Batch = batch, In = _in, Out = _out, H = h, W = w, PerChunk = perChunk, Groups = groups,
                };
                long start = timed ? Stopwatch.GetTimestamp() : 0;
                Workers.For(chunks * groups, ref body);
                if (timed) _split.Record(rows ? 0 : 1, Stopwatch.GetTimestamp() - start);
            }
        }

        /// <summary>Whether <see cref="ForwardHalves"/> can run this layer on an input in halves: a 3x3 Winograd layer with zero padding.</summary>
        internal bool RunsHalves => _winograd && !_circular;

        /// <summary>Whether <see cref="ForwardHalves"/> can run this layer on a whole input: any layer with zero padding.</summary>
        internal bool RunsHalvesFromWhole => !_circular;

        /// <summary>
        /// y = the layer applied to one image of h x w held as two halves of rows (see
        /// <see cref="HalfRows"/>): y is [2][Out][h/2][w]; x is the same layout or, for the first
        /// layer of a run, the whole map [1][In][h][w] (the only input a direct layer takes). Thread
        /// k computes half k from half k of x and the one row of the other half its tiles reach, and
        /// writes only its own half of y, so a batch of one on two cores hands over two rows a layer
        /// instead of half of every plane. The same bits as <see cref="Forward"/> on the whole map
        /// (Winograd layers with F(2x2) tiles).
        /// </summary>
        public void ForwardHalves(Tensor x, Tensor y)
        {
            using var profile = Profiler.Measure(PForward);
            bool inHalves = x.Dim(0) == 2;
            int h = inHalves ? 2 * x.Dim(2) : x.Dim(2), w = x.Dim(3);
            if (!(inHalves ? RunsHalves : RunsHalvesFromWhole) || x.Dim(0) is not (1 or 2) || x.Dim(1) != _in || y.Dim(0) != 2 || y.Dim(1) != _out
                || 2 * y.Dim(2) != h || y.Dim(3) != w || h % 8 != 0 || w % 2 != 0)
                throw new ArgumentException($"halves of a {h}x{w} map need a zero-padded layer (3x3 Winograd for an input in halves), [2][C][h/2][w] tensors with h a multiple of 8 and w even, not x {x} y {y}");
            fixed (float* pw = _weight, pb = _bias, pu = _transformed, pp = _panels)
            {
                if (!_winograd)
                {
                    var direct = new DirectHalf { X = x.Data, Y = y.Data, W = pw, B = pb, Gelu = _gelu, In = _in, Out = _out, K = _k, H = h, Wd = w };
                    Workers.For(2, ref direct);
                    return;
                }
                var body = new Product
                {
                    X = x.Data, Y = y.Data, U = pu, Panels = UsePanels && _panels.Length > 0 ? pp : null, Bias = pb, Gelu = _gelu, Halves = true, InHalves = inHalves,
                    In = _in, Out = _out, H = h, W = w,
                };
                Workers.For(2, ref body);
            }
        }

        // Half `part` of a direct layer's output over a whole input: the half's columns of the
        // whole map's im2col product (each thread lays out the small input itself).
        private struct DirectHalf : IParallelBody
        {
            public float* X, Y, W, B;
            public bool Gelu;
            public int In, Out, K, H, Wd;

            public readonly void Run(int part)
            {
                int half = H * Wd / 2;
                float* y = Y + (long)part * Out * half;
                DirectColumns(X, y, half, part * half, (part + 1) * half, W, B, In, Out, K, H, Wd, circular: false);
                if (Gelu) InferenceGelu.Span(y, y, Out * half);
            }
        }

        // A chunk's F(4x4) tiles, their products and the layer's transformed weights (read once per
        // chunk) should share half the core's L2 (1 MiB, 4 x ChunkFloats). With the products on
        // weight panels (16-tile products no longer waste half of a 32-wide kernel), n_feat 32 takes
        // chunks of 2 images: batch 16 1.08x and batch 128 1.01x over chunks of 4 (ab.sh, Zen 5);
        // at n_feat 64, whose weights alone take 576 KiB, 1 image beats 2. Chunks are even where
        // they hold several images, and of one size per thread (not 3 + 3 + 2 where 8 images fit 3).
        private static int ImagesPerChunkF4(int batch, int inChannels, int outChannels, int h, int w)
        {
            int perThread = (batch + Workers.Threads - 1) / Workers.Threads;
            long perImage = 2L * Math.Max(inChannels, outChannels) * Winograd4.Positions * Winograd4.TilesAlong(h) * Winograd4.TilesAlong(w);
            long room = 2L * ChunkFloats - (long)Winograd4.Positions * inChannels * outChannels;
            int most = (int)Math.Clamp(room / perImage, 1, Math.Max(1, perThread));
            int chunksPerThread = (perThread + most - 1) / most;
            int images = (perThread + chunksPerThread - 1) / chunksPerThread;
            return images > 1 ? images & ~1 : images;
        }

        private struct Product : IParallelBody
        {
            public float* X, Y, U, Panels, Bias;
            public bool Gelu, Circular, F4, Rows, Halves, InHalves;
            public int Batch, In, Out, H, W, PerChunk, Groups;

            public void Run(int part)
            {
                if (Rows) { RunRows(part); return; }
                if (Halves) { RunHalf(part); return; }
                int chunk = part / Groups, group = part % Groups;
                int first = chunk * PerChunk, images = Math.Min(PerChunk, Batch - first);
                int blocks = (Out + 7) / 8;
                var (b0, b1) = Partition.Range(blocks, Groups, group);
                int o0 = b0 * 8, o1 = Math.Min(Out, b1 * 8);
                if (Groups > 1) PrefetchInput(X + (long)first * In * H * W, Math.Min((long)images * In * H * W, PrefetchFloats));
                if (F4) { RunF4(first, images, o0, o1); return; }
                int tiles = ChunkBuffers(images, In, Out, H, W, out long vStride, out long mStride, out float* v, out float* m, out float* plane);
                long hw = (long)H * W;
                Winograd.TransformInput(X + first * In * hw, images, In, H, W, v, tiles, plane, Circular);
                Products(Winograd.Positions, v, vStride, m, mStride, tiles, o0, o1);
                Winograd.TransformOutputChannels(m, mStride, tiles, Y + first * Out * hw, images, Out, o0, o1 - o0, H, W, Bias, Gelu, plane);
            }

            // Threads that split a chunk's output channels each read all of its input, which the
            // last layer's threads wrote in parts: asking for its lines up front lets the copies
            // from the other core overlap (as many as the core keeps in flight) instead of arriving
            // one plane at a time as the transform reaches them (F(2x2), n_feat 32 and 64 batch 1,
            // two AVX-512 threads, cores 450-500 ns apart: 1.02x and 1.03x, six alternated rounds
            // each). At most a quarter of L2, so that a large map does not evict what it fetched.
            private const long PrefetchFloats = 64 * 1024;

            private static void PrefetchInput(float* x, long floats)
            {
                if (!Sse.IsSupported) return;
                for (long i = 0; i < floats; i += 16) Sse.Prefetch0(x + i);
            }

            // m[e][o][t] = U[e][o] . v[e][t] for every tile position e, output channels [o0, o1).
            private readonly void Products(int positions, float* v, long vStride, float* m, long mStride, int tiles, int o0, int o1)
            {
                if (Panels != null && PanelProducts.Fits(tiles))
                {
                    PanelProducts.Multiply(Panels, positions, Out, In, v, vStride, tiles, m, mStride, o0, o1);
                    return;
                }
                for (int e = 0; e < positions; e++)
                    Sgemm.Multiply(false, false, o1 - o0, tiles, In, U + ((long)e * Out + o0) * In, In,
                        v + e * vStride, tiles, m + e * mStride + (long)o0 * tiles, tiles, accumulate: false);
            }

            // A batch of one, this part's slab of tile rows through every output channel.
            private readonly void RunRows(int part)
            {
                var (r0, r1) = Partition.Range(Winograd.TilesAlong(H), Groups, part);
                int tiles = (r1 - r0) * Winograd.TilesAlong(W);
                long vStride = Winograd.PositionStride(In, tiles), mStride = Winograd.PositionStride(Out, tiles);
                float* v = Scratch.Get(ScratchSlot.Columns, Winograd.Positions * vStride);
                float* m = Scratch.Get(ScratchSlot.Products, Winograd.Positions * mStride);
                float* plane = Scratch.Get(ScratchSlot.Plane, Winograd.PlaneLength(H, W));
                Winograd.TransformInputRows(X, In, H, W, r0, r1 - r0, v, tiles, plane, Circular);
                Products(Winograd.Positions, v, vStride, m, mStride, tiles, 0, Out);
                Winograd.TransformOutputRows(m, mStride, tiles, Y, Out, H, W, r0, r1 - r0, Bias, Gelu);
            }

            // Half `part` of an image held in halves: its tile rows through every output channel.
            private readonly void RunHalf(int part)
            {
                int rows = Winograd.TilesAlong(H) / 2, tiles = rows * Winograd.TilesAlong(W);
                long vStride = Winograd.PositionStride(In, tiles), mStride = Winograd.PositionStride(Out, tiles);
                long halfIn = (long)In * (H / 2) * W, halfOut = (long)Out * (H / 2) * W;
                float* v = Scratch.Get(ScratchSlot.Columns, Winograd.Positions * vStride);
                float* m = Scratch.Get(ScratchSlot.Products, Winograd.Positions * mStride);
                float* plane = Scratch.Get(ScratchSlot.Plane, Winograd.PlaneLength(H, W));
                // x as two halves ([2][In][H/2][W]) or one whole map ([1][In][H][W]), read the same way.
                long channelStride = InHalves ? (long)(H / 2) * W : (long)H * W;
                float* upper = X, lower = X + (InHalves ? halfIn : (long)(H / 2) * W);
                ClaimEdgeRows(Y + part * halfOut, part == 0 ? H / 2 - 2 : 0);
                Winograd.TransformInputHalves(upper, lower, channelStride, In, H, W, part * rows, rows, v, tiles, plane);
                Products(Winograd.Positions, v, vStride, m, mStride, tiles, 0, Out);
                Winograd.TransformOutputRows(m, mStride, tiles, Y + part * halfOut, Out, H / 2, W, 0, rows, Bias, Gelu);
            }

            // The other half's thread read the two rows of this half next to it (the one its tiles
            // reach, and its neighbour, which the cores' prefetchers fetch with it) from this
            // output's last use. Written first thing, all of them at once, their transfers back
            // overlap one another and the transforms, instead of stalling the output transform
            // plane by plane (9 layers of 64 channels at 16x16, two threads, cores 400 ns apart:
            // 350 -> 310 us). Zeros: the output transform overwrites them.
            private readonly void ClaimEdgeRows(float* half, int firstRow)
            {
                long plane = (long)(H / 2) * W;
                for (int c = 0; c < Out; c++) new Span<float>(half + c * plane + (long)firstRow * W, 2 * W).Clear();
            }

            private readonly void RunF4(int first, int images, int o0, int o1)
            {
                int tiles = images * Winograd4.TilesAlong(H) * Winograd4.TilesAlong(W);
                long vStride = Winograd.PositionStride(In, tiles), mStride = Winograd.PositionStride(Out, tiles);
                float* v = Scratch.Get(ScratchSlot.Columns, Winograd4.Positions * vStride);
                float* m = Scratch.Get(ScratchSlot.Products, Winograd4.Positions * mStride);
                float* plane = Scratch.Get(ScratchSlot.Plane, Winograd4.PlaneLength(H, W));
                long hw = (long)H * W;
                Winograd4.TransformInput(X + first * In * hw, images, In, H, W, v, tiles, plane, Circular);
                Products(Winograd4.Positions, v, vStride, m, mStride, tiles, o0, o1);
                Winograd4.TransformOutputChannels(m, mStride, tiles, Y + first * Out * hw, images, Out, o0, o1 - o0, H, W, Bias, Gelu, plane);
            }
        }

        private struct GeluBody : IParallelBody
        {
            public float* Y;
            public long N;

            public void Run(int chunk)
            {
                long start = (long)chunk * Activations.Chunk;
                InferenceGelu.Span(Y + start, Y + start, (int)Math.Min(Activations.Chunk, N - start));
            }
        }
    }
}

/// <summary>The Winograd tiles of a frozen convolution: Auto picks F(4x4, 3x3) for large maps.</summary>
internal enum WinogradTiles
{
    Auto,
    F2x2,
    F4x4,
}
