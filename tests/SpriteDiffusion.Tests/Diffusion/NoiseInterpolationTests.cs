using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Tests.Diffusion;

public class NoiseInterpolationTests
{
    private const int Length = 3 * 16 * 16;

    private static float[] Noise(ulong seed)
    {
        var x = new float[Length];
        new Rng(seed).FillGaussian(x);
        return x;
    }

    private static float[] Scaled(float[] v, double norm)
    {
        double s = norm / NoiseInterpolation.Norm(v);
        return Array.ConvertAll(v, x => (float)(x * s));
    }

    private static float[] Point(float[] path, int i) => path.AsSpan(i * Length, Length).ToArray();

    [Fact]
    public void The_ends_are_the_inputs_exactly()
    {
        var a = Noise(1);
        var b = Noise(2);
        var path = NoiseInterpolation.Path(a, b, 5);
        Assert.Equal(5 * Length, path.Length);
        Assert.Equal(a, Point(path, 0));
        Assert.Equal(b, Point(path, 4));
    }

    [Fact]
    public void Equal_norms_are_kept_and_the_angle_is_split_evenly()
    {
        var a = Scaled(Noise(3), 27.0);
        var b = Scaled(Noise(4), 27.0);
        const int n = 7;
        var path = NoiseInterpolation.Path(a, b, n);
        double theta = NoiseInterpolation.Angle(a, b);
        Assert.InRange(theta, 1.3, 1.85); // independent Gaussians in 768 dimensions are nearly orthogonal
        for (int i = 0; i < n; i++)
        {
            var p = Point(path, i);
            Assert.Equal(27.0, NoiseInterpolation.Norm(p), 1e-4);
            Assert.Equal(theta * i / (n - 1), NoiseInterpolation.Angle(a, p), 1e-5);
            Assert.Equal(theta * (n - 1 - i) / (n - 1), NoiseInterpolation.Angle(p, b), 1e-5);
            if (i > 0) Assert.Equal(theta / (n - 1), NoiseInterpolation.Angle(Point(path, i - 1), p), 1e-5);
        }
    }

    [Fact]
    public void The_midpoint_of_a_straight_line_would_shrink_the_noise_but_slerp_does_not()
    {
        var a = Noise(5);
        var b = Noise(6);
        var mid = new float[Length];
        NoiseInterpolation.Slerp(a, b, 0.5, mid);
        double ends = (NoiseInterpolation.Norm(a) + NoiseInterpolation.Norm(b)) / 2;
        double straight = NoiseInterpolation.Norm(a.Zip(b, (x, y) => (x + y) / 2).ToArray());
        Assert.InRange(straight / ends, 0.6, 0.8);
        Assert.InRange(NoiseInterpolation.Norm(mid) / ends, 0.99, 1.01);
    }

    [Fact]
    public void Parallel_and_nearly_parallel_inputs_fall_back_to_the_straight_line()
    {
        var a = Noise(7);
        var same = NoiseInterpolation.Path(a, a, 4);
        for (int i = 0; i < 4; i++) Assert.Equal(a, Point(same, i));

        var twice = Array.ConvertAll(a, x => 2 * x);
        var longer = NoiseInterpolation.Path(a, twice, 3);
        Assert.Equal(Array.ConvertAll(a, x => 1.5f * x), Point(longer, 1));

        var nudged = (float[])a.Clone();
        nudged[0] = MathF.BitIncrement(nudged[0]);
        Assert.InRange(NoiseInterpolation.Angle(a, nudged), 0, NoiseInterpolation.ParallelAngle);
        var near = NoiseInterpolation.Path(a, nudged, 5);
        Assert.All(near, v => Assert.True(float.IsFinite(v)));
        for (int i = 0; i < 5; i++) Assert.Equal(NoiseInterpolation.Norm(a), NoiseInterpolation.Norm(Point(near, i)), 1e-4);
    }

    [Fact]
    public void Zero_and_opposite_inputs_stay_finite()
    {
        var a = Noise(8);
        var zero = new float[Length];
        var toZero = NoiseInterpolation.Path(a, zero, 3);
        Assert.Equal(Array.ConvertAll(a, x => 0.5f * x), Point(toZero, 1));

        var opposite = NoiseInterpolation.Path(a, Array.ConvertAll(a, x => -x), 3);
        Assert.All(opposite, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Mismatched_lengths_and_paths_without_both_ends_are_bugs()
    {
        Assert.Throws<ArgumentException>(() => NoiseInterpolation.Slerp(new float[3], new float[4], 0.5, new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => NoiseInterpolation.Path(new float[3], new float[3], 1));
    }
}
