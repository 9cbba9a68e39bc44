using SpriteDiffusion.Engine;

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
        private readonly float[] _weight, _bias, _transformed;
        private readonly bool _gelu, _winograd, _circular;
        private readonly int _in, _out, _k;
        private const long SplitMultiplyAdds = 2_000_000;

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
            fixed (float* pw = _weight, pu = _transformed)
                if (_winograd) Winograd.TransformWeights(pw, pu, _out, _in);
        }

        /// <summary>y (N x Out x H x W) = the layer (with its folded BatchNorm and GELU) applied to x, overwriting y.</summary>
        public void Forward(Tensor x, Tensor y)
        {
            using var profile = Profiler.Measure(PForward);
            int batch = x.Dim(0), h = x.Dim(2), w = x.Dim(3);
            if (batch == 0) return;
            fixed (float* pw = _weight, pb = _bias, pu = _transformed)
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
                int perChunk = ImagesPerChunk(batch, Math.Max(_in, _out), h, w);
                int chunks = (batch + perChunk - 1) / perChunk;
                // Fewer chunks than threads (batch 1): the threads split a chunk's output channels,
                // in blocks of 8 rows (a micro-kernel's height); each transforms the input itself.
                // Only a chunk of some 2 M multiply-adds (about 20 us) pays for waking a thread.
                long macs = (long)Winograd.Positions * _in * _out * Math.Min(perChunk, batch) * Winograd.TilesAlong(h) * Winograd.TilesAlong(w);
                int groups = macs < SplitMultiplyAdds ? 1 : Math.Clamp(Workers.Threads / chunks, 1, Math.Max(1, _out / 8));
                var body = new Product
                {
                    X = x.Data, Y = y.Data, U = pu, Bias = pb, Gelu = _gelu, Circular = _circular,
                    Batch = batch, In = _in, Out = _out, H = h, W = w, PerChunk = perChunk, Groups = groups,
                };
                Workers.For(chunks * groups, ref body);
            }
        }

        private struct Product : IParallelBody
        {
            public float* X, Y, U, Bias;
            public bool Gelu, Circular;
            public int Batch, In, Out, H, W, PerChunk, Groups;

            public void Run(int part)
            {
                int chunk = part / Groups, group = part % Groups;
                int first = chunk * PerChunk, images = Math.Min(PerChunk, Batch - first);
                int blocks = (Out + 7) / 8;
                var (b0, b1) = Partition.Range(blocks, Groups, group);
                int o0 = b0 * 8, o1 = Math.Min(Out, b1 * 8);
                int tiles = ChunkBuffers(images, In, Out, H, W, out long vStride, out long mStride, out float* v, out float* m, out float* plane);
                long hw = (long)H * W;
                Winograd.TransformInput(X + first * In * hw, images, In, H, W, v, tiles, plane, Circular);
                for (int e = 0; e < Winograd.Positions; e++)
                    Sgemm.Multiply(false, false, o1 - o0, tiles, In, U + ((long)e * Out + o0) * In, In,
                        v + e * vStride, tiles, m + e * mStride + (long)o0 * tiles, tiles, accumulate: false);
                Winograd.TransformOutputChannels(m, mStride, tiles, Y + first * Out * hw, images, Out, o0, o1 - o0, H, W, Bias, Gelu, plane);
            }
        }

        private struct GeluBody : IParallelBody
        {
            public float* Y;
            public long N;

            public void Run(int chunk)
            {
                long start = (long)chunk * Activations.Chunk;
                Winograd.GeluInPlace(Y + start, (int)Math.Min(Activations.Chunk, N - start));
            }
        }
    }
}
