using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Layers;

/// <summary>
/// One image held as two halves of rows: a [2][C][h/2][w] tensor whose item 0 is rows [0, h/2) of
/// every channel and item 1 rows [h/2, h). A batch of one on two threads runs its layers in this
/// layout so that each core computes and keeps its own half from layer to layer: the 3x3
/// convolutions hand over only the row next to the boundary (Conv2d.Frozen.ForwardHalves), and
/// everything elementwise, the channel concatenation and the 2x2 pooling act on each half alone.
/// On the whole map a batch of one splits each layer by output channels, which hands half of
/// every layer's output to the other core (a third of a layer when the cores are far apart), or
/// by tile rows, which has both cores write halves of every plane. The ops here run one part per
/// half, so that thread k (see Workers) keeps half k; Join alone copies by channels.
/// </summary>
internal static unsafe class HalfRows
{
    private static readonly int PCopy = Profiler.Register("halves.copy");

    /// <summary>y ([2][C][h/2][w]) = x ([1][C][h][w]) in halves.</summary>
    public static void Split(Tensor x, Tensor y)
    {
        Check(y, x);
        using var profile = Profiler.Measure(PCopy);
        var body = new CopyBody { Whole = x.Data, Halves = y.Data, Channels = x.Dim(1), Half = (long)y.Dim(2) * y.Dim(3), ToHalves = true };
        Workers.For(2, ref body);
    }

    /// <summary>
    /// y ([1][C][h][w]) = the image that x ([2][C][h/2][w]) holds in halves. Here part k copies
    /// both halves of channels [k C/2, (k+1) C/2), so that each thread writes one contiguous run:
    /// two threads writing the two halves of every plane pull its lines back and forth between
    /// the cores.
    /// </summary>
    public static void Join(Tensor x, Tensor y)
    {
        Check(x, y);
        using var profile = Profiler.Measure(PCopy);
        var body = new CopyBody { Whole = y.Data, Halves = x.Data, Channels = y.Dim(1), Half = (long)x.Dim(2) * x.Dim(3), ToHalves = false };
        Workers.For(2, ref body);
    }

    /// <summary>The residual average (a + b) / 1.414 of tensors in halves, as TensorOps.Residual.</summary>
    public static void Residual(Tensor a, Tensor b, Tensor y)
    {
        CheckHalves(a, y.Dim(1), y.Dim(2), y.Dim(3));
        CheckHalves(b, y.Dim(1), y.Dim(2), y.Dim(3));
        TensorOps.Residual(a, b, y, parts: 2);
    }

    /// <summary>cat([a, b], channels) of two images in halves: the concatenation's halves.</summary>
    public static void ConcatChannels(Tensor a, Tensor b, Tensor y)
    {
        CheckHalves(a, a.Dim(1), y.Dim(2), y.Dim(3));
        CheckHalves(b, y.Dim(1) - a.Dim(1), y.Dim(2), y.Dim(3));
        TensorOps.ConcatChannels(a, b, y, parts: 2);
    }

    /// <summary>
    /// y ([2][C][h/4][w/2]) = 2x2 max pooling of x ([2][C][h/2][w]), h a multiple of 4: the pooled
    /// image's halves.
    /// </summary>
    public static void MaxPool2(Tensor x, Tensor y)
    {
        if (x.Dim(2) % 2 != 0 || x.Dim(3) % 2 != 0) throw new ArgumentException($"2x2 pooling in halves needs even halves, not {x}");
        CheckHalves(y, x.Dim(1), x.Dim(2) / 2, x.Dim(3) / 2);
        CheckHalves(x, y.Dim(1), x.Dim(2), x.Dim(3));
        Pooling.MaxPool2Forward(x, y, parts: 2);
    }

    private static void CheckHalves(Tensor t, int channels, int rows, int width)
    {
        if (t.Shape.Length != 4 || t.Dim(0) != 2 || t.Dim(1) != channels || t.Dim(2) != rows || t.Dim(3) != width)
            throw new ArgumentException($"expected halves of rows [2][{channels}][{rows}][{width}], not {t}");
    }

    private static void Check(Tensor halves, Tensor whole)
    {
        if (halves.Dim(0) != 2 || whole.Dim(0) != 1 || halves.Dim(1) != whole.Dim(1) || 2 * halves.Dim(2) != whole.Dim(2) || halves.Dim(3) != whole.Dim(3))
            throw new ArgumentException($"halves of rows are [2][C][h/2][w] for an image [1][C][h][w], not {halves} for {whole}");
    }

    // Split: part k copies half k of every channel, the rows its thread computes next. Join: part k
    // copies both halves of its share of the channels, so that it writes one contiguous run.
    private struct CopyBody : IParallelBody
    {
        public float* Whole, Halves;
        public int Channels;
        public long Half;
        public bool ToHalves;

        public readonly void Run(int part)
        {
            if (ToHalves)
                for (int c = 0; c < Channels; c++)
                    Copy(Whole + (2 * c + part) * Half, Halves + (part * Channels + c) * Half);
            else
                for (int c = part * Channels / 2; c < (part + 1) * Channels / 2; c++)
                    for (int k = 0; k < 2; k++) Copy(Halves + (k * Channels + c) * Half, Whole + (2 * c + k) * Half);
        }

        private readonly void Copy(float* from, float* to) => new ReadOnlySpan<float>(from, (int)Half).CopyTo(new Span<float>(to, (int)Half));
    }
}
