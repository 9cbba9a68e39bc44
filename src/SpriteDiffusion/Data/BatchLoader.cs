namespace SpriteDiffusion.Data;

/// <summary>
/// Shuffled mini-batches copied into the caller's buffers. The order of epoch e (and which
/// images are flipped) is a pure function of (seed, e), so a run resumed at epoch e sees exactly
/// the batches an uninterrupted run would have.
/// </summary>
public sealed class BatchLoader
{
    private readonly SpriteDataset _data;
    private readonly int _seed;
    private readonly bool _flip;
    private readonly bool[] _keepUnflipped;
    private readonly int[] _order;
    private DataRandom _flipRandom;
    private int _position;
    private int _batchesLeft;

    /// <summary>
    /// A loader positioned at the start of epoch 0. Throws <see cref="InvalidDataException"/> for an
    /// empty data set and <see cref="ArgumentOutOfRangeException"/> when not even one batch fits.
    /// </summary>
    /// <param name="data">The images and labels to draw from; not copied.</param>
    /// <param name="batchSize">Images per batch.</param>
    /// <param name="seed">Fixes every epoch's order and flips.</param>
    /// <param name="flip">Mirror each image left to right with probability 1/2 (training only).</param>
    /// <param name="dropLast">Leave out the last, partial batch of an epoch (training), or keep it (validation).</param>
    /// <param name="noFlipClasses">
    /// Class indices never mirrored, even when <paramref name="flip"/> is on: a mirrored flag, digit
    /// or letter is a sprite that does not exist.
    /// </param>
    public BatchLoader(SpriteDataset data, int batchSize, int seed, bool flip, bool dropLast, IReadOnlyCollection<int>? noFlipClasses = null)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "The batch size must be at least 1.");
        if (data.Count == 0) throw new InvalidDataException("The data set is empty; there is nothing to train on.");
        _data = data;
        _seed = seed;
        _flip = flip;
        _keepUnflipped = new bool[data.NumClasses];
        foreach (int c in noFlipClasses ?? [])
        {
            if ((uint)c >= (uint)data.NumClasses)
                throw new ArgumentOutOfRangeException(nameof(noFlipClasses), c, $"class index must be in 0..{data.NumClasses - 1}.");
            _keepUnflipped[c] = true;
        }
        BatchSize = batchSize;
        BatchesPerEpoch = dropLast ? data.Count / batchSize : (data.Count + batchSize - 1) / batchSize;
        if (BatchesPerEpoch == 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), $"The data set has {data.Count} images, fewer than one batch of {batchSize}. Lower the batch size.");
        _order = new int[data.Count];
        StartEpoch(0);
    }

    /// <summary>Images per batch; the last batch of an epoch may be smaller unless it is dropped.</summary>
    public int BatchSize { get; }
    /// <summary>Batches <see cref="Next(Span{float}, Span{float})"/> returns per epoch before returning 0.</summary>
    public int BatchesPerEpoch { get; }
    /// <summary>The epoch being drawn, as last set by <see cref="StartEpoch"/>.</summary>
    public int Epoch { get; private set; }
    /// <summary>Floats one image takes in the images buffer.</summary>
    public int ImageLength => _data.ImageLength;
    /// <summary>The length of each one-hot context row.</summary>
    public int NumClasses => _data.NumClasses;

    /// <summary>Shuffles for <paramref name="epoch"/> and rewinds to its first batch; the same epoch always gives the same order and flips.</summary>
    public void StartEpoch(int epoch)
    {
        Epoch = epoch;
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        DataRandom.For(_seed, epoch, purpose: 10).Shuffle(_order);
        _flipRandom = DataRandom.For(_seed, epoch, purpose: 11);
        _position = 0;
        _batchesLeft = BatchesPerEpoch;
    }

    /// <summary>
    /// Fills up to BatchSize images (N x 3 x S x S) and their one-hot classes (N x NumClasses;
    /// pass an empty span to skip them). Returns how many were filled, 0 at the end of the epoch.
    /// </summary>
    public int Next(Span<float> images, Span<float> contextOneHot) => Next(images, contextOneHot, Span<int>.Empty);

    /// <summary>
    /// As <see cref="Next(Span{float}, Span{float})"/>, also writing each image's class index into
    /// <paramref name="labels"/> unless it is empty. Throws <see cref="ArgumentException"/> for a buffer too small for the batch.
    /// </summary>
    public int Next(Span<float> images, Span<float> contextOneHot, Span<int> labels)
    {
        if (_batchesLeft == 0) return 0;
        int n = Math.Min(BatchSize, _order.Length - _position);
        int length = _data.ImageLength, k = _data.NumClasses, size = _data.ImageSize;
        if (images.Length < n * length)
            throw new ArgumentException($"The images buffer holds {images.Length} floats; a batch needs {n * length}.", nameof(images));
        if (!contextOneHot.IsEmpty && contextOneHot.Length < n * k)
            throw new ArgumentException($"The context buffer holds {contextOneHot.Length} floats; a batch needs {n * k}.", nameof(contextOneHot));
        if (!labels.IsEmpty && labels.Length < n)
            throw new ArgumentException($"The labels buffer holds {labels.Length}; a batch needs {n}.", nameof(labels));

        var source = _data.Images.AsSpan();
        for (int i = 0; i < n; i++)
        {
            int index = _order[_position + i];
            var destination = images.Slice(i * length, length);
            source.Slice(index * length, length).CopyTo(destination);
            // Draw for every image, flipping or not, so the draws do not depend on the flag's history.
            bool mirror = _flipRandom.NextBool();
            int label = _data.Labels[index];
            if (_flip && mirror && !_keepUnflipped[label])
                for (int row = 0; row < _data.Channels * size; row++)
                    destination.Slice(row * size, size).Reverse();
            if (!contextOneHot.IsEmpty)
            {
                var hot = contextOneHot.Slice(i * k, k);
                hot.Clear();
                hot[label] = 1f;
            }
            if (!labels.IsEmpty) labels[i] = label;
        }
        _position += n;
        _batchesLeft--;
        return n;
    }
}
