using SpriteDiffusion.IO;

namespace SpriteDiffusion.Web.Generation;

/// <summary>A finished batch, kept in memory for its downloads under an id nobody can guess.</summary>
internal sealed record GenerationResult(string Id, GenerationPlan Plan, RgbaImage[] Sprites, double Seconds)
{
    /// <summary>Frame names for atlases and zip entries: the class (if any) and the sprite's own seed, unique in a batch.</summary>
    public string NameOf(int index) =>
        (Plan.ClassName is { } c ? Safe(c) + "_" : "") + "seed" + Plan.SeedOf(index).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The file name stem of the batch's downloads.</summary>
    public string Stem => $"sprites-seed{Plan.Seed}-{Plan.Count}";

    // Class names such as "Smileys & Emotion" become file-name-safe ("Smileys-Emotion") and stay readable.
    private static string Safe(string name) =>
        System.Text.RegularExpressions.Regex.Replace(name, "[^A-Za-z0-9]+", "-").Trim('-') is { Length: > 0 } safe ? safe : "class";
}

/// <summary>The last few finished batches; older ones are dropped so memory stays bounded however long the server runs.</summary>
internal sealed class ResultStore(int capacity)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, GenerationResult> _byId = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    public GenerationResult Add(GenerationPlan plan, RgbaImage[] sprites, double seconds)
    {
        var result = new GenerationResult(Guid.NewGuid().ToString("N"), plan, sprites, seconds);
        lock (_gate)
        {
            _byId[result.Id] = result;
            _order.Enqueue(result.Id);
            while (_order.Count > capacity) _byId.Remove(_order.Dequeue());
        }
        return result;
    }

    public GenerationResult? Find(string id)
    {
        lock (_gate) return _byId.GetValueOrDefault(id);
    }
}
