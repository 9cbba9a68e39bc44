using System.Numerics.Tensors;

namespace SpriteDiffusion.Evaluation;

/// <summary>
/// Brute-force Euclidean neighbour queries between the rows of two feature matrices, shared by
/// precision/recall and the near-copy search. Squared distances come from the expansion
/// |a|^2 + |b|^2 - 2 a.b, with the dot products taken by <see cref="DenseProducts"/> one block of
/// query rows at a time, so memory stays at one block x all reference rows however large the
/// query set is. The expansion loses digits when two rows are close compared with their norms
/// (a near-copy in pixel space: |a|^2 ~ 700, d^2 ~ 1e-4), so it only ranks candidates and settles
/// clear cases. Every reported distance, and every membership the expansion cannot settle within
/// its rounding bound, is computed directly as sqrt(sum (a_i - b_i)^2)
/// (<see cref="TensorPrimitives.Distance{T}(ReadOnlySpan{T}, ReadOnlySpan{T})"/>): exact copies come
/// out at exactly 0, and ties are ties of that one computation.
/// </summary>
internal static class NeighbourSearch
{
    // 2^21 doubles (16 MB) of dot products per block: large enough that DenseProducts keeps both
    // cores busy, small enough that 4000 x 4000 never becomes one 128 MB matrix.
    private const int TargetBlockEntries = 1 << 21;

    private const double UnitRoundoff = 1.0 / (1L << 53);

    /// <summary>Query rows per block for a reference set of <paramref name="referenceCount"/> rows.</summary>
    public static int DefaultBlockRows(int referenceCount) => Math.Clamp(TargetBlockEntries / Math.Max(referenceCount, 1), 32, 8192);

    /// <summary>|row|^2 of every row; rejects non-finite values, which would make every comparison false without a word.</summary>
    public static double[] SquaredNorms(FeatureMatrix set, string paramName)
    {
        var norms = new double[set.Count];
        for (int i = 0; i < set.Count; i++)
        {
            var row = set.Row(i);
            norms[i] = TensorPrimitives.Dot(row, row);
            if (!double.IsFinite(norms[i]))
                throw new ArgumentException($"row {i} holds a value that is not finite (or too large to square).", paramName);
        }
        return norms;
    }

    /// <summary>
    /// The <paramref name="k"/> nearest reference rows of every query row, written to
    /// indices[q * k ..] and distances[q * k ..] in increasing distance (ties: lower index first).
    /// With <paramref name="excludeSelf"/> the two sets are one and row q is not its own neighbour.
    /// The caller guarantees k reference rows are available.
    /// </summary>
    public static void Nearest(FeatureMatrix query, double[] queryNorms, FeatureMatrix reference, double[] referenceNorms,
        int k, bool excludeSelf, int[] indices, double[] distances, int blockRows)
    {
        int n = reference.Count;
        ForEachBlock(query, reference, blockRows, (first, rows, dots) => ForChunks(rows, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int q = first + r;
                var heapDistances = distances.AsSpan(q * k, k);
                var heapIndices = indices.AsSpan(q * k, k);
                var row = dots.AsSpan(r * n, n);
                double qn = queryNorms[q];
                int count = 0;
                for (int j = 0; j < n; j++)
                {
                    if (excludeSelf && j == q) continue;
                    double d2 = Math.Max(0.0, qn + referenceNorms[j] - 2.0 * row[j]);
                    if (count < k)
                        Push(heapDistances, heapIndices, ref count, d2, j);
                    // Strict: an equal candidate never displaces one seen earlier, so among equal
                    // distances the lowest index survives.
                    else if (d2 < heapDistances[0])
                        ReplaceTop(heapDistances, heapIndices, d2, j);
                }
                var x = query.Row(q);
                for (int t = 0; t < k; t++)
                    heapDistances[t] = TensorPrimitives.Distance(x, reference.Row(heapIndices[t]));
                SortByDistanceThenIndex(heapDistances, heapIndices);
            }
        }));
    }

    /// <summary>
    /// Ball membership between two sets: aInB[i] becomes true when some row j of b has
    /// |a_i - b_j| &lt;= bRadii[j]; bInA[j] when some row i of a has |a_i - b_j| &lt;= aRadii[i].
    /// Either direction may be skipped (null). Entries already true stay true.
    /// </summary>
    public static void Membership(FeatureMatrix a, double[] aNorms, double[]? aRadii, bool[]? bInA,
        FeatureMatrix b, double[] bNorms, double[]? bRadii, bool[]? aInB, int blockRows)
    {
        int n = b.Count;
        double slack = SlackPerUnit(a.Dimension);
        ForEachBlock(a, b, blockRows, (first, rows, dots) =>
        {
            if (aInB is not null && bRadii is not null)
                ForChunks(rows, (r0, r1) =>
                {
                    for (int r = r0; r < r1; r++)
                    {
                        int i = first + r;
                        if (aInB[i]) continue;
                        var row = dots.AsSpan(r * n, n);
                        for (int j = 0; j < n; j++)
                            if (Within(aNorms[i] + bNorms[j] - 2.0 * row[j], bRadii[j], aNorms[i] + bNorms[j], slack, a, i, b, j))
                            {
                                aInB[i] = true;
                                break;
                            }
                    }
                });
            // Split by columns so that each worker writes only its own entries of bInA, but walk
            // the block row by row so the reads stay sequential.
            if (bInA is not null && aRadii is not null)
                ForChunks(n, (j0, j1) =>
                {
                    for (int r = 0; r < rows; r++)
                    {
                        int i = first + r;
                        var row = dots.AsSpan(r * n, n);
                        for (int j = j0; j < j1; j++)
                            if (!bInA[j] && Within(aNorms[i] + bNorms[j] - 2.0 * row[j], aRadii[i], aNorms[i] + bNorms[j], slack, a, i, b, j))
                                bInA[j] = true;
                    }
                });
        });
    }

    /// <summary>
    /// Whether |a_i - b_j| &lt;= radius, decided on the directly computed distance. The expanded square
    /// settles it alone when it is further from radius^2 than both computations' rounding can
    /// reach: the dot products and norms are each off by at most about dimension * u * (|x|^2 + |y|^2)
    /// (u the unit roundoff), the direct sum of squares by dimension * u * d^2.
    /// </summary>
    private static bool Within(double expandedSquare, double radius, double normSum, double slackPerUnit, FeatureMatrix a, int i, FeatureMatrix b, int j)
    {
        double r2 = radius * radius;
        double slack = slackPerUnit * (normSum + r2);
        if (expandedSquare > r2 + slack) return false;
        if (expandedSquare < r2 - slack) return true;
        return TensorPrimitives.Distance(a.Row(i), b.Row(j)) <= radius;
    }

    // Twice the worst-case bound for a dot product of this length plus a few roundings for the
    // sums, the square root and r^2; it is still ~1e-13 relative at 768 dimensions, so the direct
    // computation runs for a vanishing share of pairs.
    private static double SlackPerUnit(int dimension) => (4.0 * dimension + 16.0) * UnitRoundoff;

    private static void ForEachBlock(FeatureMatrix query, FeatureMatrix reference, int blockRows, Action<int, int, double[]> scan)
    {
        int d = query.Dimension, n = reference.Count;
        int rowsPerBlock = Math.Max(1, Math.Min(blockRows, query.Count));
        double[]? block = rowsPerBlock < query.Count ? new double[(long)rowsPerBlock * d] : null;
        var dots = new double[(long)rowsPerBlock * n];
        for (int first = 0; first < query.Count; first += rowsPerBlock)
        {
            int rows = Math.Min(rowsPerBlock, query.Count - first);
            double[] a = query.Values;
            if (block is not null)
            {
                // DenseProducts reads A from row 0, so a later block of query rows is copied out.
                Array.Copy(query.Values, (long)first * d, block, 0, (long)rows * d);
                a = block;
            }
            DenseProducts.MultiplyTransposed(a, rows, reference.Values, n, d, dots);
            scan(first, rows, dots);
        }
    }

    private static void ForChunks(int count, Action<int, int> body)
    {
        if (count == 0) return;
        int chunks = Math.Min(count, Environment.ProcessorCount * 4);
        Parallel.For(0, chunks, c => body((int)((long)count * c / chunks), (int)((long)count * (c + 1) / chunks)));
    }

    private static void Push(Span<double> heap, Span<int> index, ref int count, double value, int j)
    {
        int at = count++;
        while (at > 0)
        {
            int parent = (at - 1) / 2;
            if (heap[parent] >= value) break;
            heap[at] = heap[parent];
            index[at] = index[parent];
            at = parent;
        }
        heap[at] = value;
        index[at] = j;
    }

    private static void ReplaceTop(Span<double> heap, Span<int> index, double value, int j)
    {
        int count = heap.Length, at = 0;
        while (true)
        {
            int child = 2 * at + 1;
            if (child >= count) break;
            if (child + 1 < count && heap[child + 1] > heap[child]) child++;
            if (heap[child] <= value) break;
            heap[at] = heap[child];
            index[at] = index[child];
            at = child;
        }
        heap[at] = value;
        index[at] = j;
    }

    private static void SortByDistanceThenIndex(Span<double> distance, Span<int> index)
    {
        for (int i = 1; i < distance.Length; i++)
        {
            double v = distance[i];
            int j = index[i], at = i;
            while (at > 0 && (distance[at - 1] > v || (distance[at - 1] == v && index[at - 1] > j)))
            {
                distance[at] = distance[at - 1];
                index[at] = index[at - 1];
                at--;
            }
            distance[at] = v;
            index[at] = j;
        }
    }
}
