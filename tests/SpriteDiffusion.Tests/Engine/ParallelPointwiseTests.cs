using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;
using static SpriteDiffusion.Tests.GradientChecks.Checks;

namespace SpriteDiffusion.Tests.Engine;

/// <summary>
/// The pointwise layers that split large tensors over the threads (concatenation, scale and shift,
/// the residual average, max pooling, ReLU) against plain scalar loops, bit for bit, on shapes large
/// enough to be split and on shapes that stay on one thread, with NaN, infinities and signed zeros
/// among the inputs so that every vector lane and the scalar tail must agree on them too; and
/// GroupNorm's vectorised float64 statistics against a float64 reference.
/// </summary>
public unsafe class ParallelPointwiseTests
{
    // (batch, channels, size): batch 1 at 16x16 and the small odd shape stay on one thread; the others
    // are split; the odd sizes leave scalar tails in every plane (14) and at the end of the tensor
    // (3 x 5 x 7 x 7 and 9 x 41 x 15 x 15 are not multiples of 8).
    public static TheoryData<int, int, int> Shapes => new() { { 1, 32, 16 }, { 16, 32, 16 }, { 9, 40, 14 }, { 128, 64, 8 }, { 3, 5, 7 }, { 9, 41, 15 } };

    private static float[] Values(int n, int seed)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 6 - 3);
        // Special values at places that land in vector lanes and in tails alike.
        float[] special = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1e-40f, -1e-40f];
        for (int i = 0; i < n; i += 97) v[i] = special[(i / 97) % special.Length];
        return v;
    }

    private static void AssertBits(float[] expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]}, the scalar loop gives {expected[i]}");
    }

    [Theory, MemberData(nameof(Shapes))]
    public void ResidualMatchesTheScalarDivision(int b, int c, int s)
    {
        var a = Values(b * c * s * s, 1); var d = Values(b * c * s * s, 2);
        var expected = new float[a.Length];
        for (int i = 0; i < a.Length; i++) expected[i] = (a[i] + d[i]) / TensorOps.ResidualDivisor;
        var y = Poisoned(b, c, s, s);
        TensorOps.Residual(Tensor.FromArray(a, b, c, s, s), Tensor.FromArray(d, b, c, s, s), y);
        AssertBits(expected, y.Span, "residual");
        // In place, as the residual blocks call it.
        var inPlace = Tensor.FromArray(a, b, c, s, s);
        TensorOps.Residual(inPlace, Tensor.FromArray(d, b, c, s, s), inPlace);
        AssertBits(expected, inPlace.Span, "residual in place");
    }

    [Theory, MemberData(nameof(Shapes))]
    public void ScaleShiftMatchesTheScalarProductThenSum(int b, int c, int s)
    {
        var x = Values(b * c * s * s, 3); var scale = Values(b * c, 4); var shift = Values(b * c, 5);
        var expected = new float[x.Length];
        for (int p = 0; p < b * c; p++)
        for (int i = 0; i < s * s; i++)
        {
            float product = scale[p] * x[p * s * s + i];
            expected[p * s * s + i] = product + shift[p];
        }
        var y = Poisoned(b, c, s, s);
        TensorOps.ScaleShift(Tensor.FromArray(x, b, c, s, s), Tensor.FromArray(scale, b, c), Tensor.FromArray(shift, b, c), y);
        AssertBits(expected, y.Span, "scale and shift");
    }

    [Theory, MemberData(nameof(Shapes))]
    public void ConcatenationCopiesEveryImage(int b, int c, int s)
    {
        int c2 = c / 2 + 3;
        var x = Values(b * c * s * s, 6); var skip = Values(b * c2 * s * s, 7);
        var expected = new float[x.Length + skip.Length];
        for (int n = 0; n < b; n++)
        {
            Array.Copy(x, n * c * s * s, expected, n * (c + c2) * s * s, c * s * s);
            Array.Copy(skip, n * c2 * s * s, expected, (n * (c + c2) + c) * s * s, c2 * s * s);
        }
        var y = Poisoned(b, c + c2, s, s);
        TensorOps.ConcatChannels(Tensor.FromArray(x, b, c, s, s), Tensor.FromArray(skip, b, c2, s, s), y);
        AssertBits(expected, y.Span, "concatenation");
    }

    [Theory, MemberData(nameof(Shapes))]
    public void MaxPoolMatchesTheScalarWindows(int b, int c, int s)
    {
        var x = Values(b * c * s * s, 8);
        int o = s / 2;
        var expected = new float[b * c * o * o];
        for (int p = 0; p < b * c; p++)
        for (int i = 0; i < o; i++)
        for (int j = 0; j < o; j++)
        {
            int at = p * s * s + 2 * i * s + 2 * j;
            expected[(p * o + i) * o + j] = MathF.Max(MathF.Max(x[at], x[at + 1]), MathF.Max(x[at + s], x[at + s + 1]));
        }
        var y = Poisoned(b, c, o, o);
        Pooling.MaxPool2Forward(Tensor.FromArray(x, b, c, s, s), y);
        AssertBits(expected, y.Span, "max pool");
    }

    // Windows that hold both zeros, or two different NaNs, in every order: the vector path must pick
    // what MathF.Max picks, sign and payload included.
    [Fact]
    public void MaxPoolKeepsTheScalarChoiceOfZerosAndNaNs()
    {
        float nan1 = BitConverter.Int32BitsToSingle(0x7FC00001), nan2 = BitConverter.Int32BitsToSingle(unchecked((int)0xFFC00002));
        float[][] windows = [[-0f, 0f, -0f, -0f], [0f, -0f, -0f, -0f], [-0f, -0f, -0f, 0f], [-0f, -0f, -0f, -0f],
            [nan1, nan2, 1f, 2f], [nan2, nan1, 1f, 2f], [1f, 2f, nan1, nan2], [3f, nan2, nan1, -1f], [-0f, 0f, nan1, 0f]];
        int s = 16, o = s / 2;
        var x = new float[s * s];
        // Windows laid out along the first output rows, repeated to fill the map.
        for (int p = 0; p < o * o; p++)
        {
            var win = windows[p % windows.Length];
            int at = 2 * (p / o) * s + 2 * (p % o);
            (x[at], x[at + 1], x[at + s], x[at + s + 1]) = (win[0], win[1], win[2], win[3]);
        }
        var expected = new float[o * o];
        for (int i = 0; i < o; i++)
        for (int j = 0; j < o; j++)
        {
            int at = 2 * i * s + 2 * j;
            expected[i * o + j] = MathF.Max(MathF.Max(x[at], x[at + 1]), MathF.Max(x[at + s], x[at + s + 1]));
        }
        var y = Poisoned(1, 1, o, o);
        Pooling.MaxPool2Forward(Tensor.FromArray(x, 1, 1, s, s), y);
        AssertBits(expected, y.Span, "max pool of zeros and NaNs");
    }

    [Theory, MemberData(nameof(Shapes))]
    public void ReluMapsEveryLaneAsTheScalarLoop(int b, int c, int s)
    {
        var x = Values(b * c * s * s, 9);
        var expected = x.Select(v => v > 0 ? v : 0f).ToArray();
        var y = Poisoned(b, c, s, s);
        Activations.ReluForward(Tensor.FromArray(x, b, c, s, s), y);
        AssertBits(expected, y.Span, "relu");
        Assert.Contains(x, float.IsNaN);
    }

    // The U-Net's two GroupNorm shapes and an odd one (scalar tails), on values whose common offset is
    // 30 times their spread: float32 sums of a group's thousand values would put errors of about 1e-3
    // into the output (the check allows 1e-5), while the float32 affine's own cancellation stays near 4e-6.
    [Theory]
    [InlineData(16, 32, 16, 8)]
    [InlineData(16, 64, 4, 8)]
    [InlineData(3, 6, 5, 3)]
    public void GroupNormStatisticsAreFloat64AndBothPathsAgreeBitForBit(int b, int c, int s, int groups)
    {
        var rng = new Random(11);
        var x = new double[b * c * s * s];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(30 + rng.NextDouble());
        var gamma = Enumerable.Range(0, c).Select(i => (double)(float)(0.5 + 0.1 * i)).ToArray();
        var beta = Enumerable.Range(0, c).Select(i => (double)(float)(0.3 - 0.05 * i)).ToArray();
        var store = new ParameterStore();
        var gn = new GroupNorm(store, "gn", groups, c);
        store.Allocate(new Rng(1));
        Load(gn.Weight.Value, gamma);
        Load(gn.Bias.Value, beta);
        var y = Poisoned(b, c, s, s);
        gn.Forward(ToTensor(x, b, c, s, s), y);
        AssertClose($"GroupNorm({groups}) x[{b},{c},{s},{s}]", y.Span, GradientChecks.Norm64.GroupNorm(x, gamma, beta, b, c, groups, s * s));
        // The scalar statistics (machines without 256-bit vectors) give the same bits. Safe beside
        // other tests: both paths give every caller the same results.
        var scalar = Poisoned(b, c, s, s);
        bool saved = GroupNorm.VectorStatistics;
        try
        {
            GroupNorm.VectorStatistics = false;
            gn.Forward(ToTensor(x, b, c, s, s), scalar);
        }
        finally { GroupNorm.VectorStatistics = saved; }
        AssertBits(y.Span.ToArray(), scalar.Span, "GroupNorm, scalar statistics");
    }

    [Fact]
    public void PartsForKeepsSmallTensorsOnOneThreadAndSplitsLargeOnes()
    {
        Assert.Equal(1, Activations.PartsFor(1, 32 * 16 * 16));
        Assert.True(Activations.PartsFor(16, 32 * 16 * 16) > 1);
        Assert.Equal(3, Activations.PartsFor(3, 1 << 20));
        Assert.Equal(1, Activations.PartsFor(0, 5));
    }
}
