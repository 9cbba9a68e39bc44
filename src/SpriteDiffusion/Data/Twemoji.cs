using SpriteDiffusion.IO;
using System.Text.Json;

namespace SpriteDiffusion.Data;

/// <summary>
/// The bundled data set's recipe: the 16-pixel Twemoji sheet of the npm package
/// emoji-datasource-twitter, with positions and categories from its emoji.json, cut by the
/// general sheet importer.
/// </summary>
public static class Twemoji
{
    /// <summary>The npm package whose sheet the bundled data set is cut from.</summary>
    public const string PackageName = "emoji-datasource-twitter";
    /// <summary>The package version this recipe was written for; others may move cells or categories.</summary>
    public const string PackageVersion = "16.0.0";
    /// <summary>Only a handful of skin-tone and hair swatches; not a useful class of sprites.</summary>
    public const string LeftOutCategory = "Component";
    /// <summary>The file in the data-set folder that carries <see cref="Attribution"/>.</summary>
    public const string AttributionFileName = "ATTRIBUTION.md";

    /// <summary>The nine classes, in Unicode's category order.</summary>
    public static readonly string[] Categories =
    [
        "Smileys & Emotion", "People & Body", "Animals & Nature", "Food & Drink", "Travel & Places",
        "Activities", "Objects", "Symbols", "Flags",
    ];

    /// <summary>16x16 images in 18-pixel cells (a pixel of padding on every side).</summary>
    public static readonly SheetLayout Layout = new(16, 1);

    /// <summary>The 16-pixel sprite sheet in an installed package folder.</summary>
    public static string SheetPath(string packageDir) => Path.Combine(packageDir, "img", "twitter", "sheets", "16.png");
    /// <summary>The package's emoji.json, which gives each emoji's cell and category.</summary>
    public static string EmojiJsonPath(string packageDir) => Path.Combine(packageDir, "emoji.json");

    /// <summary>The version in the package's package.json, or null when it cannot be read.</summary>
    public static string? ReadPackageVersion(string packageDir)
    {
        try
        {
            using var doc = JsonDocument.Parse(InputFile.ReadAllText(Path.Combine(packageDir, "package.json")));
            return doc.RootElement.TryGetProperty("version", out var v) ? v.GetString() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException) { return null; }
    }

    /// <summary>
    /// Every emoji and skin variation that has a Twitter image, outside the left-out category,
    /// ordered by class, then the package's sort order, then skin tone.
    /// </summary>
    public static List<SheetEntry> ReadEntries(string emojiJsonPath)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(InputFile.ReadAllText(emojiJsonPath)); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"{emojiJsonPath}: not found. Install the package first: cd tools/twemoji && npm install (see data/twemoji16/README.md).", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new InvalidDataException($"{emojiJsonPath}: cannot read it as JSON ({e.Message}).", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{emojiJsonPath}: expected a JSON array of emoji.");
            var found = new List<(int Category, int SortOrder, string Skin, SheetEntry Entry)>();
            var seen = new HashSet<(int, int)>();
            foreach (var emoji in doc.RootElement.EnumerateArray())
            {
                string category = RequiredString(emoji, "category", emojiJsonPath);
                if (category == LeftOutCategory) continue;
                int classIndex = Array.IndexOf(Categories, category);
                if (classIndex < 0)
                    throw new InvalidDataException($"{emojiJsonPath}: unknown category '{category}'. This recipe is for {PackageName} {PackageVersion}; install that version.");
                int sortOrder = emoji.TryGetProperty("sort_order", out var so) && so.ValueKind == JsonValueKind.Number ? so.GetInt32() : int.MaxValue;
                string shortName = emoji.TryGetProperty("short_name", out var sn) ? sn.GetString() ?? "" : "";
                Add(emoji, "", category, classIndex, sortOrder, shortName);
                if (emoji.TryGetProperty("skin_variations", out var skins) && skins.ValueKind == JsonValueKind.Object)
                    foreach (var skin in skins.EnumerateObject())
                        Add(skin.Value, skin.Name, category, classIndex, sortOrder, shortName);
            }
            return found.OrderBy(f => f.Category).ThenBy(f => f.SortOrder).ThenBy(f => f.Skin, StringComparer.Ordinal)
                .Select(f => f.Entry).ToList();

            void Add(JsonElement item, string skin, string category, int classIndex, int sortOrder, string shortName)
            {
                if (!item.TryGetProperty("has_img_twitter", out var has) || has.ValueKind != JsonValueKind.True) return;
                int x = RequiredInt(item, "sheet_x", emojiJsonPath), y = RequiredInt(item, "sheet_y", emojiJsonPath);
                string unified = item.TryGetProperty("unified", out var u) ? u.GetString() ?? "" : "";
                if (!seen.Add((x, y)))
                    throw new InvalidDataException($"{emojiJsonPath}: two emoji share sheet cell ({x}, {y}) (the second is {unified}); the file is not what this recipe expects.");
                found.Add((classIndex, sortOrder, skin, new SheetEntry(x, y, category, $"{unified} {shortName}".Trim())));
            }
        }
    }

    /// <summary>Cuts the bundled data set out of an installed package folder, at the cells <see cref="ReadEntries"/> gave.</summary>
    /// <param name="packageDir">The installed package's folder (node_modules/emoji-datasource-twitter).</param>
    /// <param name="entries">The cells to cut, as <see cref="ReadEntries"/> lists them.</param>
    /// <param name="keepAlpha">Keep the emoji's transparency (RGBA) instead of compositing onto white.</param>
    public static ImportedSprites Build(string packageDir, IReadOnlyList<SheetEntry> entries, bool keepAlpha = false)
    {
        string sheet = SheetPath(packageDir);
        if (!File.Exists(sheet))
            throw new FileNotFoundException($"{sheet}: not found. Install the package first: cd tools/twemoji && npm install (see data/twemoji16/README.md).");
        var options = new ImportOptions { ImageSize = 16, ClassOrder = Categories, KeepAlpha = keepAlpha };
        return SpriteImporter.FromSheet(sheet, Layout, options, entries);
    }

    /// <summary>The CC-BY 4.0 attribution that must travel with the images, written beside the data set.</summary>
    public const string Attribution = """
        # Attribution

        The images in this folder (`images.npy`) are **Twemoji** graphics:

        - Copyright 2019 Twitter, Inc and other contributors; continued by the Twemoji fork at
          https://github.com/jdecked/twemoji (version 16.0.1 as shipped in the package below).
        - Licensed under the Creative Commons Attribution 4.0 International licence (CC-BY 4.0):
          https://creativecommons.org/licenses/by/4.0/
        - Taken from the 16-pixel sprite sheet `img/twitter/sheets/16.png` of the npm package
          `emoji-datasource-twitter` 16.0.0 (https://github.com/iamcal/emoji-data; its code and
          `emoji.json` are MIT-licensed, copyright Cal Henderson).

        Changes made: each 16x16 emoji was cut out of the sheet, its transparency composited onto
        white, and the result stored as a uint8 array; each is labelled with its emoji category.

        Anything made from this data set that ships these images (or images close to them) must
        carry this attribution.
        """;

    private static string RequiredString(JsonElement e, string name, string file) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
            : throw new InvalidDataException($"{file}: an emoji has no '{name}'; the file is not what this recipe expects.");

    private static int RequiredInt(JsonElement e, string name, string file) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) && i >= 0 ? i
            : throw new InvalidDataException($"{file}: an emoji has no usable '{name}'; the file is not what this recipe expects.");
}
