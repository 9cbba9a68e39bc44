using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Layers;

/// <summary>MaxPool2d(2) and AvgPool2d(k) with stride equal to the window, no padding.</summary>
public static unsafe class Pooling
{
    private static readonly int PMaxPool2Forward = Profiler.Register("maxpool.forward");
    private static readonly int PMaxPool2Backward = Profiler.Register("maxpool.backward");
    private static readonly int PAvgPoolForward = Profiler.Register("avgpool.forward");
    private static readonly int PAvgPoolBackward = Profiler.Register("avgpool.backward");

    /// <summary>y (N x C x H/2 x W/2) = the maximum of each 2x2 window of x, overwriting y.</summary>
    public static void MaxPool2Forward(Tensor x, Tensor y) => MaxPool2Forward(x, y, parts: 0);

    // parts 0: as many as the size is worth; HalfRows asks for one part per half.
    internal static void MaxPool2Forward(Tensor x, Tensor y, int parts)
    {
        using var profile = Profiler.Measure(PMaxPool2Forward);
        int planes = x.Dim(0) * x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        var body = new MaxPoolBody { X = x.Data, Y = y.Data, Planes = planes, H = h, W = w, Parts = parts > 0 ? parts : Activations.PartsFor(planes, (long)h * w) };
        Workers.For(body.Parts, ref body);
    }

    private struct MaxPoolBody : IParallelBody
    {
        public float* X, Y;
        public int Planes, H, W, Parts;

        public readonly void Run(int part)
        {
            int oh = H / 2, ow = W / 2;
            var (first, end) = Partition.Range(Planes, Parts, part);
            for (int p = first; p < end; p++)
            {
                float* src = X + (long)p * H * W;
                float* dst = Y + (long)p * oh * ow;
                for (int i = 0; i < oh; i++)
                {
                    float* r0 = src + 2 * i * W, r1 = r0 + W, d = dst + i * ow;
                    int j = Sse.IsSupported ? Windows4(r0, r1, d, ow) : 0;
                    for (; j < ow; j++)
                        d[j] = MathF.Max(MathF.Max(r0[2 * j], r0[2 * j + 1]), MathF.Max(r1[2 * j], r1[2 * j + 1]));
                }
            }
        }

        // Four windows at a time, the scalar loop's maxima in its order (each row's pair, then the
        // two rows): a shuffle splits 8 floats of a row into their even and odd columns, and
        // Vector128.Max treats NaN and signed zeros as MathF.Max does, so the bits are the same.
        private static int Windows4(float* r0, float* r1, float* d, int ow)
        {
            int j = 0;
            for (; j + 4 <= ow; j += 4)
            {
                Vector128<float> a0 = Vector128.Load(r0 + 2 * j), a1 = Vector128.Load(r0 + 2 * j + 4);
                Vector128<float> b0 = Vector128.Load(r1 + 2 * j), b1 = Vector128.Load(r1 + 2 * j + 4);
                var top = Vector128.Max(Sse.Shuffle(a0, a1, 0b10_00_10_00), Sse.Shuffle(a0, a1, 0b11_01_11_01));
                var bottom = Vector128.Max(Sse.Shuffle(b0, b1, 0b10_00_10_00), Sse.Shuffle(b0, b1, 0b11_01_11_01));
                Vector128.Max(top, bottom).Store(d + j);
            }
            return j;
        }
    }

    /// <summary>
    /// Routes each output gradient to the first maximum of its window (PyTorch's choice on ties).
    /// Works window by window, so gx may share storage with x.
    /// </summary>
    public static void MaxPool2Backward(Tensor x, Tensor gy, Tensor gx)
    {
        using var profile = Profiler.Measure(PMaxPool2Backward);
        int planes = x.Dim(0) * x.Dim(1), h = x.Dim(2), w = x.Dim(3), oh = h / 2, ow = w / 2;
        for (int p = 0; p < planes; p++)
        {
            float* src = x.Data + (long)p * h * w;
            float* g = gy.Data + (long)p * oh * ow;
            float* dst = gx.Data + (long)p * h * w;
            for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                int at = 2 * i * w + 2 * j, best = at;
                if (src[at + 1] > src[best]) best = at + 1;
                if (src[at + w] > src[best]) best = at + w;
                if (src[at + w + 1] > src[best]) best = at + w + 1;
                float v = g[i * ow + j];
                dst[at] = 0; dst[at + 1] = 0; dst[at + w] = 0; dst[at + w + 1] = 0;
                dst[best] = v;
            }
        }
    }

    /// <summary>y (N x C x H/k x W/k) = the mean of each k x k window of x, overwriting y.</summary>
    public static void AvgPoolForward(Tensor x, Tensor y, int k)
    {
        using var profile = Profiler.Measure(PAvgPoolForward);
        int planes = x.Dim(0) * x.Dim(1), h = x.Dim(2), w = x.Dim(3), oh = h / k, ow = w / k;
        float inv = 1f / (k * k);
        for (int p = 0; p < planes; p++)
        {
            float* src = x.Data + (long)p * h * w;
            float* dst = y.Data + (long)p * oh * ow;
            for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                float s = 0;
                for (int a = 0; a < k; a++)
                for (int b = 0; b < k; b++) s += src[(i * k + a) * w + j * k + b];
                dst[i * ow + j] = s * inv;
            }
        }
    }

    /// <summary>
    /// Overwrites gx (N x C x H x W) with each window's output gradient divided by k x k, spread over
    /// the window. Needs only gx's shape, not the forward input.
    /// </summary>
    public static void AvgPoolBackward(Tensor gy, Tensor gx, int k)
    {
        using var profile = Profiler.Measure(PAvgPoolBackward);
        int planes = gx.Dim(0) * gx.Dim(1), h = gx.Dim(2), w = gx.Dim(3), ow = w / k;
        float inv = 1f / (k * k);
        for (int p = 0; p < planes; p++)
        {
            float* g = gy.Data + (long)p * (h / k) * ow;
            float* dst = gx.Data + (long)p * h * w;
            for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) dst[i * w + j] = g[(i / k) * ow + j / k] * inv;
        }
    }
}
