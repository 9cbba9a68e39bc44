using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Data;

namespace SpriteDiffusion.Evaluation;

/// <summary>
/// A data set divided as a training run divided it (<see cref="TrainingSplit"/>): every image the
/// run drew from, its training split and its validation split, each with the row every image has
/// in the data set's files, so that a reported index can be looked up.
/// </summary>
public sealed class EvaluationData
{
    private EvaluationData(string directory, int dataSetCount, TrainingSplit split, SpriteDataset all, int[] allRows,
        SpriteDataset train, int[] trainRows, SpriteDataset validation, int[] validationRows)
    {
        Directory = directory;
        DataSetCount = dataSetCount;
        Split = split;
        All = all;
        AllRows = allRows;
        Train = train;
        TrainRows = trainRows;
        Validation = validation;
        ValidationRows = validationRows;
    }

    /// <summary>The data set's folder.</summary>
    public string Directory { get; }

    /// <summary>Images in the data set's files, before any limit.</summary>
    public int DataSetCount { get; }

    /// <summary>The split applied.</summary>
    public TrainingSplit Split { get; }

    /// <summary>Every image the run drew from: the data set, or the subset its limit kept.</summary>
    public SpriteDataset All { get; }

    /// <summary>The training split (in data-set order).</summary>
    public SpriteDataset Train { get; }

    /// <summary>The validation split (in data-set order).</summary>
    public SpriteDataset Validation { get; }

    /// <summary>Row in the data set's files of each image of <see cref="All"/>.</summary>
    public int[] AllRows { get; }

    /// <summary>Row in the data set's files of each image of <see cref="Train"/>.</summary>
    public int[] TrainRows { get; }

    /// <summary>Row in the data set's files of each image of <see cref="Validation"/>.</summary>
    public int[] ValidationRows { get; }

    /// <summary>Class names of the data set.</summary>
    public string[] ClassNames => All.ClassNames;

    /// <summary>Loads the data set in <paramref name="dataDirectory"/> and divides it as the trainer divides it with <paramref name="split"/>.</summary>
    /// <exception cref="ArgumentException">The split needs more images than the data set holds (at least 2 after the limit).</exception>
    public static EvaluationData Load(string dataDirectory, TrainingSplit split) =>
        Divide(SpriteDataset.LoadDirectory(dataDirectory), dataDirectory, split);

    /// <summary>As <see cref="Load"/>, for a data set already in memory.</summary>
    /// <exception cref="ArgumentException">The split needs more images than the data set holds (at least 2 after the limit).</exception>
    public static EvaluationData Divide(SpriteDataset data, string dataDirectory, TrainingSplit split)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(split);
        // Subset and Split draw their permutations from the image count and the seed alone, so a
        // data set of the same count whose images are just their row numbers goes through the same
        // draws and says where every selected image came from.
        var rows = RowNumbers(data);
        var all = data;
        if (split.Limit is int limit && limit < data.Count)
        {
            all = data.Subset(limit, split.Seed);
            rows = rows.Subset(limit, split.Seed);
        }
        if (all.Count < 2)
            throw new ArgumentException($"{dataDirectory}: {all.Count} image(s) cannot be split into training and validation images.", nameof(dataDirectory));
        var (train, validation) = all.Split(split.ValidationFraction, split.Seed);
        var (trainRows, validationRows) = rows.Split(split.ValidationFraction, split.Seed);
        return new EvaluationData(dataDirectory, data.Count, split, all, ReadRows(rows), train, ReadRows(trainRows), validation, ReadRows(validationRows));
    }

    /// <summary>The chosen part of the data.</summary>
    public SpriteDataset Real(RealSet set) => set switch
    {
        RealSet.All => All,
        RealSet.Train => Train,
        RealSet.Validation => Validation,
        _ => throw new ArgumentOutOfRangeException(nameof(set), set, null),
    };

    /// <summary>Data-set rows of the chosen part.</summary>
    public int[] RealRows(RealSet set) => set switch
    {
        RealSet.All => AllRows,
        RealSet.Train => TrainRows,
        RealSet.Validation => ValidationRows,
        _ => throw new ArgumentOutOfRangeException(nameof(set), set, null),
    };

    /// <summary>
    /// Refuses a data set the checkpoint was not trained on: the run's split, the near-copy search
    /// and any class-by-class comparison only mean something on the model's own data. A checkpoint
    /// that names its classes must name exactly the data set's; one that does not (a PyTorch state
    /// dict) must have as many class inputs when it is conditional or sampled with guidance.
    /// </summary>
    /// <param name="info">What the checkpoint records.</param>
    /// <param name="checkpointPath">The checkpoint's path, for the message.</param>
    /// <param name="guided">Whether sprites will be drawn per class.</param>
    /// <exception cref="ArgumentException">The classes differ (parameter name: dataDirectory).</exception>
    public void RequireClassesOf(CheckpointInfo info, string checkpointPath, bool guided)
    {
        ArgumentNullException.ThrowIfNull(info);
        string[] own = ClassNames;
        string? problem = null;
        if (info.ClassNames.Length > 0)
        {
            if (!info.ClassNames.SequenceEqual(own, StringComparer.Ordinal))
                problem = $"the checkpoint {checkpointPath} was trained on {Count(info.ClassNames.Length)} ({List(info.ClassNames)}), but {Directory} holds {Count(own.Length)} ({List(own)})";
        }
        else if ((info.Conditional || guided) && info.Model.NCFeat != own.Length)
            problem = $"the checkpoint {checkpointPath} takes {Count(info.Model.NCFeat)}, but {Directory} holds {Count(own.Length)}";
        if (problem is null) return;
        string recorded = info.Extra.TryGetValue("data", out var data) ? $" (the checkpoint records '{data}')" : "";
        throw new ArgumentException($"{problem}. Evaluate a model against the data set it was trained on{recorded}.", "dataDirectory");
    }

    private static string Count(int classes) => classes == 1 ? "1 class" : $"{classes} classes";

    private static string List(string[] names) =>
        names.Length <= 6 ? string.Join(", ", names) : string.Join(", ", names.Take(5)) + $", ... {names[^1]}";

    private static SpriteDataset RowNumbers(SpriteDataset data)
    {
        const int size = 4; // the smallest image a SpriteDataset holds: 48 floats, the first carries the row
        int length = 3 * size * size;
        var images = new float[(long)data.Count * length];
        for (int i = 0; i < data.Count; i++) images[(long)i * length] = i;
        return new SpriteDataset(images, data.Labels, data.ClassNames, size);
    }

    private static int[] ReadRows(SpriteDataset rows)
    {
        var result = new int[rows.Count];
        for (int i = 0; i < rows.Count; i++) result[i] = (int)rows.Image(i)[0];
        return result;
    }
}
