using SpriteDiffusion.Evaluation;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>Two disjoint halves of one feature set, the closest pair of sets that are not the same images.</summary>
internal static class RandomHalves
{
    public static (FeatureMatrix First, FeatureMatrix Second) Of(FeatureMatrix features)
    {
        var order = Enumerable.Range(0, features.Count).ToArray();
        new Random(99).Shuffle(order);
        int half = order.Length / 2;
        return (Rows(features, order[..half]), Rows(features, order[half..]));
    }

    private static FeatureMatrix Rows(FeatureMatrix features, int[] rows)
    {
        var values = new double[rows.Length * features.Dimension];
        for (int i = 0; i < rows.Length; i++) features.Row(rows[i]).CopyTo(values.AsSpan(i * features.Dimension));
        return new FeatureMatrix(values, rows.Length, features.Dimension);
    }
}
