using System.Text;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Data;

/// <summary>
/// classes.txt: one line per class, "index&lt;TAB&gt;name", index from 0. A file of bare names, one a
/// line in index order, is read too.
/// </summary>
public static class ClassNamesFile
{
    /// <summary>The class names' file in a data-set folder.</summary>
    public const string FileName = "classes.txt";

    /// <summary>
    /// The class names in index order, from either layout. Throws <see cref="IOException"/> when the
    /// file cannot be read and <see cref="InvalidDataException"/> for an empty file or indices out of range, repeated or unnamed.
    /// </summary>
    public static string[] Read(string path)
    {
        string[] lines;
        try { lines = InputFile.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot read the class names ({e.Message}).", e);
        }
        var nonBlank = lines.Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        if (nonBlank.Count == 0)
            throw new InvalidDataException($"{path}: no class names in it. Write one class a line, as \"0<TAB>name\".");
        bool indexed = nonBlank.All(l => l.IndexOf('\t') > 0 && int.TryParse(l.AsSpan(0, l.IndexOf('\t')), out _));
        if (!indexed)
            return nonBlank.ToArray();

        var names = new string?[nonBlank.Count];
        foreach (string line in nonBlank)
        {
            int tab = line.IndexOf('\t');
            int index = int.Parse(line.AsSpan(0, tab));
            string name = line[(tab + 1)..].Trim();
            if (index < 0 || index >= names.Length)
                throw new InvalidDataException($"{path}: class index {index} is out of range; indices must run 0..{names.Length - 1} with no gaps.");
            if (names[index] is not null)
                throw new InvalidDataException($"{path}: class index {index} appears twice.");
            if (name.Length == 0)
                throw new InvalidDataException($"{path}: class {index} has an empty name.");
            names[index] = name;
        }
        return names.Select(n => n!).ToArray();
    }

    /// <summary>The names as the indexed layout, "0&lt;TAB&gt;name", one a line with '\n' endings.</summary>
    public static string Format(IReadOnlyList<string> names)
    {
        var sb = new StringBuilder();
        foreach (string name in names)
            if (Problem(name) is { } problem)
                throw new ArgumentException($"the class name '{name.ReplaceLineEndings("\\n").Replace("\t", "\\t")}' {problem}; it cannot be written as one line of classes.txt.", nameof(names));
        for (int i = 0; i < names.Count; i++)
            sb.Append(i).Append('\t').Append(names[i]).Append('\n');
        return sb.ToString();
    }

    /// <summary>Writes <see cref="Format"/>'s text atomically.</summary>
    public static void Write(string path, IReadOnlyList<string> names) => AtomicFile.WriteAllText(path, Format(names));

    /// <summary>
    /// Why a class name cannot be used, or null when it can: names travel through classes.txt (one a
    /// line, after a tab), sources.tsv, atlases and file names, so a line break, a tab, a blank or an
    /// endless name would break the files that carry it.
    /// </summary>
    public static string? Problem(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "is blank"
        : name.Length > MaxNameLength ? $"is longer than {MaxNameLength} characters"
        : name.Any(char.IsControl) ? "holds a line break, a tab or another control character"
        : name != name.Trim() ? "starts or ends with spaces"
        : null;

    /// <summary>The longest class name accepted.</summary>
    public const int MaxNameLength = 200;

    /// <summary>Stand-in names "class 0", "class 1", ... for a data set that has no classes.txt.</summary>
    public static string[] Default(int count) => Enumerable.Range(0, count).Select(i => $"class {i}").ToArray();
}
