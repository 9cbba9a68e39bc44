using SpriteDiffusion.Engine;
using SpriteDiffusion.Training;

namespace SpriteDiffusion.Tests.Training;

public class ContextDropoutTests
{
    private static float[] OneHots(int rows, int k)
    {
        var c = new float[rows * k];
        for (int r = 0; r < rows; r++) c[r * k + r % k] = 1f;
        return c;
    }

    [Fact]
    public void AboutTheRequestedShareOfRowsBecomesTheNullContextAndTheRestIsUntouched()
    {
        const int rows = 20_000, k = 9;
        var original = OneHots(rows, k);
        var c = (float[])original.Clone();
        ContextDropout.Apply(c, k, 0.1, new Rng(7));
        int dropped = 0;
        for (int r = 0; r < rows; r++)
        {
            var row = c.AsSpan(r * k, k);
            if (row.IndexOfAnyExcept(0f) < 0) dropped++;
            else Assert.True(row.SequenceEqual(original.AsSpan(r * k, k)), $"row {r} changed without being dropped");
        }
        // Binomial(20000, 0.1): mean 2000, standard deviation 42.
        Assert.InRange(dropped, 2000 - 200, 2000 + 200);
    }

    [Fact]
    public void ZeroDrawsNothingAndOneDropsEverything()
    {
        var rng = new Rng(1);
        var before = rng.GetState();
        var c = OneHots(50, 5);
        ContextDropout.Apply(c, 5, 0, rng);
        Assert.Equal(OneHots(50, 5), c);
        Assert.Equal(before, rng.GetState());
        ContextDropout.Apply(c, 5, 1, rng);
        Assert.All(c, v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentException>(() => ContextDropout.Apply(new float[7], 5, 0.5, rng));
    }
}
