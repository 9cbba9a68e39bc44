using SpriteDiffusion.IO;

namespace SpriteDiffusion.Imaging;

/// <summary>
/// Fits a palette to sprites with k-means in Oklab. Deterministic by construction, so the same
/// sprites always give the same palette: k-means++ seeding from a fixed seed, a fixed iteration
/// cap, and every tie going to the lower index.
/// </summary>
internal static class AdaptivePalette
{
    /// <summary>Lloyd iterations at most; sprite colour sets settle in far fewer.</summary>
    public const int MaxIterations = 50;

    private const int Seed = 1234;

    /// <summary>Parameter names are those of <see cref="Palette.Adaptive(IEnumerable{RgbaImage}, int)"/>, which errors report.</summary>
    public static Palette Fit(IEnumerable<RgbaImage> sprites, int colors)
    {
        ArgumentNullException.ThrowIfNull(sprites);
        if (colors is < 1 or > Palette.MaxColors)
            throw new ArgumentOutOfRangeException(nameof(colors), colors, $"An adaptive palette has 1 to {Palette.MaxColors} colours.");

        var (distinct, weights) = CountVisibleColors(sprites);
        RgbColor[] fitted = distinct.Length <= colors ? distinct : KMeans(distinct, weights, colors);
        // Dark to light reads naturally in a palette swatch; the RGB value settles equal lightness.
        var ordered = fitted
            .OrderBy(c => Oklab.FromSrgb(c).L)
            .ThenBy(c => c.ToHex());
        return new Palette($"adaptive-{colors}", ordered);
    }

    /// <summary>Distinct colours of the pixels that are not fully transparent, first-seen order, with pixel counts.</summary>
    private static (RgbColor[] Colors, double[] Weights) CountVisibleColors(IEnumerable<RgbaImage> sprites)
    {
        var index = new Dictionary<RgbColor, int>();
        var colors = new List<RgbColor>();
        var counts = new List<double>();
        int spriteNumber = 0;
        foreach (var sprite in sprites)
        {
            if (sprite is null)
                throw new ArgumentException($"Sprite {spriteNumber} is null.", nameof(sprites));
            ImageChecks.RequireWellFormed(sprite, $"Sprite {spriteNumber}", nameof(sprites));
            byte[] p = sprite.Pixels;
            for (int i = 0; i < p.Length; i += 4)
            {
                if (p[i + 3] == 0) continue;
                var color = new RgbColor(p[i], p[i + 1], p[i + 2]);
                if (index.TryGetValue(color, out int at)) counts[at]++;
                else
                {
                    index.Add(color, colors.Count);
                    colors.Add(color);
                    counts.Add(1);
                }
            }
            spriteNumber++;
        }
        if (spriteNumber == 0)
            throw new ArgumentException("There are no sprites to fit a palette to.", nameof(sprites));
        if (colors.Count == 0)
            throw new ArgumentException("Every pixel of the sprites is fully transparent, so there is no colour to fit a palette to.", nameof(sprites));
        return (colors.ToArray(), counts.ToArray());
    }

    /// <summary>Weighted k-means over the distinct colours (weight = pixel count); more colours than k.</summary>
    private static RgbColor[] KMeans(RgbColor[] colors, double[] weights, int k)
    {
        var points = Array.ConvertAll(colors, Oklab.FromSrgb);
        var centres = SeedKMeansPlusPlus(points, weights, k);
        var assignment = new int[points.Length];
        Array.Fill(assignment, -1);
        var sums = new OklabSums(k);

        for (int iteration = 0; iteration < MaxIterations; iteration++)
        {
            bool changed = false;
            for (int i = 0; i < points.Length; i++)
            {
                int nearest = Nearest(centres, points[i]);
                if (nearest != assignment[i]) { assignment[i] = nearest; changed = true; }
            }
            if (!changed) break;

            sums.Clear();
            for (int i = 0; i < points.Length; i++) sums.Add(assignment[i], points[i], weights[i]);
            RefillEmptyClusters(points, weights, centres, assignment, sums);
            for (int c = 0; c < k; c++) centres[c] = sums.Mean(c);
        }
        return Array.ConvertAll(centres, Oklab.ToSrgb);
    }

    /// <summary>
    /// k-means++ (Arthur and Vassilvitskii, 2007) with the first centre at the most frequent
    /// colour (usually the sprite's body) and later ones drawn with probability proportional to
    /// weight x squared distance from the nearest centre so far.
    /// </summary>
    private static OklabColor[] SeedKMeansPlusPlus(OklabColor[] points, double[] weights, int k)
    {
        var random = new Random(Seed);
        var centres = new OklabColor[k];
        int first = 0;
        for (int i = 1; i < points.Length; i++)
            if (weights[i] > weights[first]) first = i;
        centres[0] = points[first];

        var nearestDistance = new double[points.Length];
        for (int i = 0; i < points.Length; i++) nearestDistance[i] = points[i].DistanceSquared(centres[0]);
        for (int c = 1; c < k; c++)
        {
            double total = 0;
            for (int i = 0; i < points.Length; i++) total += weights[i] * nearestDistance[i];
            double target = random.NextDouble() * total;
            int chosen = -1;
            double running = 0;
            for (int i = 0; i < points.Length; i++)
            {
                if (nearestDistance[i] == 0) continue; // already a centre
                chosen = i;
                running += weights[i] * nearestDistance[i];
                if (running > target) break;
            }
            centres[c] = points[chosen];
            for (int i = 0; i < points.Length; i++)
                nearestDistance[i] = Math.Min(nearestDistance[i], points[i].DistanceSquared(centres[c]));
        }
        return centres;
    }

    /// <summary>
    /// Gives each cluster that lost all its colours the colour farthest from its own centre,
    /// taken from a cluster that keeps at least one other: k clusters stay k colours.
    /// </summary>
    private static void RefillEmptyClusters(OklabColor[] points, double[] weights, OklabColor[] centres, int[] assignment, OklabSums sums)
    {
        for (int empty = 0; empty < centres.Length; empty++)
        {
            if (sums.Members(empty) > 0) continue;
            int farthest = -1;
            double farthestDistance = -1;
            for (int i = 0; i < points.Length; i++)
            {
                if (sums.Members(assignment[i]) < 2) continue;
                double d = points[i].DistanceSquared(centres[assignment[i]]);
                if (d > farthestDistance) { farthestDistance = d; farthest = i; }
            }
            sums.Remove(assignment[farthest], points[farthest], weights[farthest]);
            sums.Add(empty, points[farthest], weights[farthest]);
            assignment[farthest] = empty;
        }
    }

    private static int Nearest(OklabColor[] centres, OklabColor point) => Oklab.IndexOfNearest(centres, point);

    /// <summary>Per-cluster weighted sums of Oklab coordinates, reused across iterations.</summary>
    private sealed class OklabSums(int clusters)
    {
        private readonly double[] _l = new double[clusters], _a = new double[clusters], _b = new double[clusters], _weight = new double[clusters];
        private readonly int[] _members = new int[clusters];

        public void Clear()
        {
            Array.Clear(_l); Array.Clear(_a); Array.Clear(_b); Array.Clear(_weight); Array.Clear(_members);
        }

        public void Add(int cluster, OklabColor point, double weight) => Accumulate(cluster, point, weight, +1);

        public void Remove(int cluster, OklabColor point, double weight) => Accumulate(cluster, point, -weight, -1);

        public int Members(int cluster) => _members[cluster];

        public OklabColor Mean(int cluster) =>
            new(_l[cluster] / _weight[cluster], _a[cluster] / _weight[cluster], _b[cluster] / _weight[cluster]);

        private void Accumulate(int cluster, OklabColor point, double weight, int members)
        {
            _l[cluster] += weight * point.L;
            _a[cluster] += weight * point.A;
            _b[cluster] += weight * point.B;
            _weight[cluster] += weight;
            _members[cluster] += members;
        }
    }
}
