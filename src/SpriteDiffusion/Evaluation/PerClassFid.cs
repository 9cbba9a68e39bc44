namespace SpriteDiffusion.Evaluation;

/// <summary>
/// The classes guided generation draws: as many sprites of each class as the real set's share of
/// it, so that the overall comparison is like with like and every class can be compared on its own.
/// </summary>
public static class ClassDraw
{
    /// <summary>
    /// <paramref name="count"/> class indices, <paramref name="realLabels"/>' proportions rounded by
    /// largest remainder (ties to the lower class), grouped by class in class order.
    /// </summary>
    /// <remarks>
    /// Data sets are often stored sorted by class (the bundled one is), so taking the first labels,
    /// or cycling through them, would draw only the first classes whenever fewer sprites than real
    /// images are generated.
    /// </remarks>
    /// <exception cref="ArgumentException">No labels, a label outside [0, classCount), or a count below 1.</exception>
    public static int[] Proportional(IReadOnlyList<int> realLabels, int classCount, int count)
    {
        ArgumentNullException.ThrowIfNull(realLabels);
        if (realLabels.Count == 0) throw new ArgumentException("there are no real labels to draw classes from.", nameof(realLabels));
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var real = new long[classCount];
        foreach (int label in realLabels)
        {
            if ((uint)label >= (uint)classCount)
                throw new ArgumentException($"label {label} is outside the {classCount} classes.", nameof(realLabels));
            real[label]++;
        }
        var drawn = new int[classCount];
        var remainders = new long[classCount];
        int assigned = 0;
        for (int c = 0; c < classCount; c++)
        {
            // Exact integer arithmetic: count * real[c] / total, quotient and remainder.
            drawn[c] = (int)(count * real[c] / realLabels.Count);
            remainders[c] = count * real[c] % realLabels.Count;
            assigned += drawn[c];
        }
        foreach (int c in Enumerable.Range(0, classCount).OrderByDescending(c => remainders[c]).ThenBy(c => c).Take(count - assigned))
            drawn[c]++;
        var classes = new int[count];
        int at = 0;
        for (int c = 0; c < classCount; c++)
            for (int i = 0; i < drawn[c]; i++) classes[at++] = c;
        return classes;
    }
}

/// <summary>FID of one class: its real images against the sprites generated for it.</summary>
/// <param name="Class">Class index.</param>
/// <param name="Name">Class name.</param>
/// <param name="RealCount">Real images of the class.</param>
/// <param name="GeneratedCount">Sprites generated for the class.</param>
/// <param name="Fid">The Fréchet distance, null where there were too few images.</param>
/// <param name="Note">Why there is no value, or null.</param>
public sealed record ClassFid(int Class, string Name, int RealCount, int GeneratedCount, double? Fid, string? Note);

/// <summary>FID class by class, in the same feature space as the overall value.</summary>
/// <param name="Name">Which network's features, e.g. "FID (ResNet-18 features) per class".</param>
/// <param name="MinimumImages">The fewest images of each side a class needs for a value.</param>
/// <param name="Classes">One entry per class, in class order.</param>
public sealed record PerClassReport(string Name, int MinimumImages, IReadOnlyList<ClassFid> Classes);

/// <summary>Splits two labelled feature sets by class and computes the Fréchet distance of each class.</summary>
public static class PerClassFid
{
    /// <summary>
    /// Below 10 images a side, a 512-dimensional covariance is estimated from almost nothing and the
    /// value says more about the count than the model; such classes get a note instead.
    /// </summary>
    public const int DefaultMinimumImages = 10;

    /// <summary>FID of every class that has at least <paramref name="minimumImages"/> real and generated images; a note for the others.</summary>
    /// <param name="name">How the report names the values.</param>
    /// <param name="real">Real features, one row per image.</param>
    /// <param name="realLabels">Class of each real row.</param>
    /// <param name="generated">Generated features.</param>
    /// <param name="generatedLabels">Class each generated row was drawn for.</param>
    /// <param name="classNames">Names of the classes; their count is the number of classes.</param>
    /// <param name="minimumImages">At least 2 (a covariance needs two rows).</param>
    /// <exception cref="ArgumentException">Labels and rows disagree in number, or a label is outside the classes.</exception>
    public static PerClassReport Compute(string name, FeatureMatrix real, IReadOnlyList<int> realLabels, FeatureMatrix generated,
        IReadOnlyList<int> generatedLabels, IReadOnlyList<string> classNames, int minimumImages = DefaultMinimumImages)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(generated);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentOutOfRangeException.ThrowIfLessThan(minimumImages, 2);
        var realByClass = ByClass(realLabels, real.Count, classNames.Count, nameof(realLabels));
        var generatedByClass = ByClass(generatedLabels, generated.Count, classNames.Count, nameof(generatedLabels));
        var classes = new ClassFid[classNames.Count];
        for (int c = 0; c < classNames.Count; c++)
        {
            int r = realByClass[c].Count, g = generatedByClass[c].Count;
            if (r < minimumImages || g < minimumImages)
            {
                classes[c] = new ClassFid(c, classNames[c], r, g, null,
                    $"too few images for a per-class FID ({r} real, {g} generated; at least {minimumImages} of each needed)");
                continue;
            }
            double fid = FrechetDistance.Compute(real.Select(realByClass[c]), generated.Select(generatedByClass[c]));
            classes[c] = new ClassFid(c, classNames[c], r, g, fid, null);
        }
        return new PerClassReport(name, minimumImages, classes);
    }

    private static List<int>[] ByClass(IReadOnlyList<int> labels, int rows, int classCount, string paramName)
    {
        ArgumentNullException.ThrowIfNull(labels, paramName);
        if (labels.Count != rows)
            throw new ArgumentException($"{labels.Count} labels for {rows} feature rows.", paramName);
        var byClass = new List<int>[classCount];
        for (int c = 0; c < classCount; c++) byClass[c] = [];
        for (int i = 0; i < labels.Count; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
                throw new ArgumentException($"label {labels[i]} is outside the {classCount} classes.", paramName);
            byClass[labels[i]].Add(i);
        }
        return byClass;
    }
}
