using SpriteDiffusion.Engine;
using SpriteDiffusion.Engine.Gemm;

namespace SpriteDiffusion.Layers;

public sealed unsafe partial class ConvTranspose2d
{
    /// <summary>
    /// This layer for inference only, from its weights as they are now: W^T packed once into the
    /// micro-kernels' row panels (<see cref="PanelProducts"/>), so that each image's product W^T X
    /// runs straight through them instead of packing W^T on every call (a batch of one's 2x2
    /// up-samplings). A snapshot, taken
    /// and dropped with the model's inference scope, as <see cref="Conv2d.Freeze"/> is.
    /// </summary>
    internal Frozen Freeze() => new(this);

    internal sealed class Frozen
    {
        private readonly ConvTranspose2d _layer;
        private readonly float[] _weight, _bias, _panels;
        private readonly int _in, _out, _k;

        public Frozen(ConvTranspose2d layer)
        {
            (_layer, _in, _out, _k) = (layer, layer.In, layer.Out, layer.Kernel);
            int rows = _out * _k * _k;
            _bias = GC.AllocateArray<float>(_out, pinned: true);
            layer.Bias.Value.Span.CopyTo(_bias);
            _weight = GC.AllocateArray<float>(_in * rows, pinned: true);
            layer.Weight.Value.Span.CopyTo(_weight);
            // An even kernel (k k a multiple of 4) starts every pair of channels on an 8-row block.
            _panels = _k % 2 == 0 && PanelProducts.CanPack(rows) ? GC.AllocateArray<float>(rows * _in, pinned: true) : [];
            if (_panels.Length == 0) return;
            // W is in x (out k k); the product's A is its transpose, (out k k) x in.
            fixed (float* pw = _weight, pp = _panels) PanelProducts.Pack(pw, 1, rows, pp, rows, _in);
        }

        /// <summary>Whether the products may run on the packed panels where they fit (tests turn it off to compare).</summary>
        internal bool UsePanels { get; set; } = true;

        /// <summary>y (N x Out x kH x kW) = the transposed convolution of x plus the bias, overwriting y.</summary>
        public void Forward(Tensor x, Tensor y)
        {
            using var profile = Profiler.Measure(PForward);
            int batch = x.Dim(0), h = x.Dim(2), w = x.Dim(3);
            // A 1x1 input's path streams W once for the batch, no packing to save; odd products go through the GEMM.
            if (!UsePanels || _panels.Length == 0 || h * w == 1 || !PanelProducts.Fits(h * w))
            {
                fixed (float* pw = _weight, pb = _bias) _layer.Forward(x, y, pw, pb);
                return;
            }
            // As the live layer: fewer images than threads split each image's output channels, here
            // in pairs, so that each part's rows of W^T (k k = 4 a channel) start on an 8-row block.
            int pairs = (_out + 1) / 2;
            int groups = batch >= Workers.Threads ? 1 : Math.Min(pairs, Workers.Threads / batch);
            fixed (float* pp = _panels, pb = _bias)
            {
                var body = new PanelBody { X = x.Data, Y = y.Data, Panels = pp, Bias = pb, In = _in, Out = _out, K = _k, H = h, W = w, Groups = groups };
                Workers.For(batch * groups, ref body);
            }
        }

        /// <summary>Whether <see cref="ForwardHalves"/> can run this layer on an h x w input.</summary>
        internal bool RunsHalves(int h, int w) => UsePanels && _panels.Length > 0 && h % 2 == 0 && PanelProducts.Fits(h / 2 * w);

        /// <summary>
        /// y = the layer applied to one image x ([1][In][h][w], h even), written as two halves of
        /// rows (see <see cref="HalfRows"/>): y is [2][Out][k h/2][k w]. Thread k reads half k of x's
        /// rows, which alone make half k of y, and writes only that half. The same bits as <see cref="Forward"/>.
        /// </summary>
        public void ForwardHalves(Tensor x, Tensor y)
        {
            using var profile = Profiler.Measure(PForward);
            int h = x.Dim(2), w = x.Dim(3);
            if (x.Dim(0) != 1 || x.Dim(1) != _in || !RunsHalves(h, w) || y.Dim(0) != 2 || y.Dim(1) != _out || y.Dim(2) != _k * h / 2 || y.Dim(3) != _k * w)
                throw new ArgumentException($"halves of a transposed convolution need x [1][{_in}][h][w] (h even, h w / 2 a multiple of 16) and y [2][{_out}][{_k} h/2][{_k} w], not x {x} y {y}");
            fixed (float* pp = _panels, pb = _bias)
            {
                var body = new HalfBody { X = x.Data, Y = y.Data, Panels = pp, Bias = pb, In = _in, Out = _out, K = _k, H = h, W = w };
                Workers.For(2, ref body);
            }
        }

        private struct HalfBody : IParallelBody
        {
            public float* X, Y, Panels, Bias;
            public int In, Out, K, H, W;

            public readonly void Run(int part)
            {
                int rows = Out * K * K, half = H / 2, hw = half * W;
                // The half's input rows of every channel, side by side: the product's columns.
                float* columns = Scratch.Get(ScratchSlot.Products, (long)In * hw);
                Winograd.CopyPlane(X + (long)part * hw, H * W, columns, hw, In, hw);
                float* t = Scratch.Get(ScratchSlot.Columns, (long)rows * hw);
                PanelProducts.Multiply(Panels, 1, rows, In, columns, 0, hw, t, 0, 0, rows);
                Scatter(t, Y + (long)part * Out * hw * K * K, Bias, 0, Out, K, half, W);
            }
        }

        private struct PanelBody : IParallelBody
        {
            public float* X, Y, Panels, Bias;
            public int In, Out, K, H, W, Groups;

            public void Run(int item)
            {
                int b = item / Groups, kk = K * K, hw = H * W, rows = Out * kk;
                var (p0, p1) = Partition.Range((Out + 1) / 2, Groups, item % Groups);
                int o0 = 2 * p0, o1 = Math.Min(Out, 2 * p1);
                float* t = Scratch.Get(ScratchSlot.Columns, (long)rows * hw);
                PanelProducts.Multiply(Panels, 1, rows, In, X + (long)b * In * hw, 0, hw, t, 0, o0 * kk, o1 * kk);
                Scatter(t, Y + (long)b * Out * hw * kk, Bias, o0, o1, K, H, W);
            }
        }
    }
}
