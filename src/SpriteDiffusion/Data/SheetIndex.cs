using SpriteDiffusion.IO;
using System.Text;

namespace SpriteDiffusion.Data;

/// <summary>One tile of a sprite sheet to import: its cell (column, row), class and an optional note kept in sources.tsv.</summary>
/// <param name="Column">The tile's column, from 0 at the left.</param>
/// <param name="Row">The tile's row, from 0 at the top.</param>
/// <param name="ClassName">The class the tile is imported into.</param>
/// <param name="Note">Free text kept with the tile's source, e.g. the emoji's code point and name.</param>
public sealed record SheetEntry(int Column, int Row, string ClassName, string? Note = null);

/// <summary>
/// The index file of a sprite sheet: one tile a line, "column, row, class[, note]", separated by
/// tabs (or by commas when the line has no tab); blank lines and lines starting with '#' are skipped.
/// </summary>
public static class SheetIndex
{
    /// <summary>
    /// The tiles an index file lists, in file order. Throws <see cref="IOException"/> when it cannot be
    /// read and <see cref="InvalidDataException"/> naming the line for a malformed one, or when it lists no tiles.
    /// </summary>
    public static List<SheetEntry> Read(string path)
    {
        string[] lines;
        try { lines = InputFile.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot read the index file ({e.Message}).", e);
        }
        var entries = new List<SheetEntry>();
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            char separator = line.Contains('\t') ? '\t' : ',';
            var fields = line.Split(separator, 4);
            if (fields.Length < 3
                || !int.TryParse(fields[0].Trim(), out int column) || column < 0
                || !int.TryParse(fields[1].Trim(), out int row) || row < 0
                || fields[2].Trim().Length == 0)
                throw new InvalidDataException($"{path}, line {i + 1}: expected \"column, row, class[, note]\" with column and row whole numbers from 0, found \"{line}\".");
            entries.Add(new SheetEntry(column, row, fields[2].Trim(), fields.Length == 4 ? fields[3].Trim() : null));
        }
        if (entries.Count == 0)
            throw new InvalidDataException($"{path}: the index file lists no tiles.");
        return entries;
    }

    /// <summary>The entries as an index file, tab-separated under a header line; <paramref name="comment"/>'s lines come first, each after "# ".</summary>
    public static string Format(IEnumerable<SheetEntry> entries, string? comment = null)
    {
        var sb = new StringBuilder();
        if (comment is not null)
            foreach (string line in comment.Split('\n'))
                sb.Append("# ").Append(line).Append('\n');
        sb.Append("# column\trow\tclass\tnote\n");
        foreach (var e in entries)
            sb.Append(e.Column).Append('\t').Append(e.Row).Append('\t').Append(e.ClassName).Append('\t').Append(e.Note ?? "").Append('\n');
        return sb.ToString();
    }
}
