using System.IO.Compression;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using SpriteDiffusion.Imaging;
using SpriteDiffusion.IO;
using SpriteDiffusion.Web.Hosting;

namespace SpriteDiffusion.Web.Generation;

/// <summary>
/// The downloads of a finished batch, by the id the stream gave: each sprite, the grid, the sprite
/// sheet with its atlas, and a zip of everything. All are made from the sprites in memory.
/// </summary>
internal static class ResultEndpoints
{
    private static readonly Dictionary<string, AtlasFormat> Atlases = new(StringComparer.Ordinal)
    {
        ["texturepacker"] = AtlasFormat.TexturePackerHash, ["aseprite"] = AtlasFormat.AsepriteHash, ["aseprite-array"] = AtlasFormat.AsepriteArray,
    };

    public static IResult Sprite(HttpRequest request, Playground p, string id, int index)
    {
        var result = Find(p, id);
        if (index < 0 || index >= result.Sprites.Length)
            return Api.NotFound($"this batch has sprites 0 to {result.Sprites.Length - 1}; there is no sprite {index}.");
        int scale = Api.IntQuery(request, "scale", 1, 1, p.Limits.MaxScale);
        return PngFile(request, ImageGrid.Upscale(result.Sprites[index], scale), $"{result.NameOf(index)}.png");
    }

    public static IResult Grid(HttpRequest request, Playground p, string id)
    {
        var result = Find(p, id);
        int scale = Api.IntQuery(request, "scale", 4, 1, p.Limits.MaxScale);
        return PngFile(request, SpriteImages.Grid(result.Sprites, scale), $"{result.Stem}-grid.png");
    }

    public static IResult Sheet(HttpRequest request, Playground p, string id)
    {
        var result = Find(p, id);
        var sheet = Pack(result, Api.IntQuery(request, "scale", 1, 1, p.Limits.MaxScale));
        return PngFile(request, sheet.Image, $"{result.Stem}-sheet.png");
    }

    public static IResult Atlas(HttpRequest request, Playground p, string id)
    {
        var result = Find(p, id);
        var sheet = Pack(result, Api.IntQuery(request, "scale", 1, 1, p.Limits.MaxScale));
        string json = sheet.ToAtlasJson(AtlasOf(request), $"{result.Stem}-sheet.png");
        return File(request, System.Text.Encoding.UTF8.GetBytes(json), "application/json", $"{result.Stem}-sheet.json");
    }

    public static IResult Zip(HttpRequest request, Playground p, string id)
    {
        var result = Find(p, id);
        int scale = Api.IntQuery(request, "scale", 1, 1, p.Limits.MaxScale);
        var format = AtlasOf(request);
        var sheet = Pack(result, scale);
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            for (int i = 0; i < result.Sprites.Length; i++)
                Add(zip, $"sprites/{result.NameOf(i)}.png", Png.Encode(ImageGrid.Upscale(result.Sprites[i], scale)));
            Add(zip, $"{result.Stem}-sheet.png", Png.Encode(sheet.Image));
            Add(zip, $"{result.Stem}-sheet.json", System.Text.Encoding.UTF8.GetBytes(sheet.ToAtlasJson(format, $"{result.Stem}-sheet.png")));
            Add(zip, $"{result.Stem}-grid.png", Png.Encode(SpriteImages.Grid(result.Sprites, Math.Max(scale, 4))));
            Add(zip, "batch.json", JsonSerializer.SerializeToUtf8Bytes(Manifest(result), new JsonSerializerOptions(Api.Json) { WriteIndented = true }));
        }
        return File(request, buffer.ToArray(), "application/zip", $"{result.Stem}.zip", forceDownload: true);
    }

    /// <summary>What the batch was drawn with, and the command that draws each sprite again.</summary>
    private static object Manifest(GenerationResult r)
    {
        var plan = r.Plan;
        string conditioning = plan.ClassName is { } c ? $" --class \"{c}\" --guidance {plan.Guidance.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "";
        return new
        {
            model = plan.Model.Name, method = plan.Method, steps = plan.Steps, @class = plan.ClassName,
            guidance = plan.ClassIndex is null ? (double?)null : plan.Guidance, seed = plan.Seed, count = plan.Count,
            sprites = r.Sprites.Select((_, i) => new
            {
                name = r.NameOf(i), seed = plan.SeedOf(i),
                command = $"sprites sample --n 1 --seed {plan.SeedOf(i)} --method {plan.Method} --steps {plan.Steps}{conditioning}",
            }),
        };
    }

    private static SpriteSheet Pack(GenerationResult r, int scale)
    {
        var named = r.Sprites.Select((s, i) => new NamedSprite(r.NameOf(i), s)).ToList();
        try { return SpriteSheet.Pack(named, scale); }
        catch (ArgumentException e) { throw new BadRequest(GenerationPlan.Plain(e), "scale"); }
    }

    private static AtlasFormat AtlasOf(HttpRequest request)
    {
        string name = request.Query["atlas"].ToString() is { Length: > 0 } a ? a : "texturepacker";
        return Atlases.TryGetValue(name, out var format) ? format
            : throw new BadRequest($"atlas must be one of {string.Join(", ", Atlases.Keys)} (got '{name}').", "atlas");
    }

    private static GenerationResult Find(Playground p, string id) =>
        p.Results.Find(id) ?? throw new NotFound($"no batch '{id}' here: the server keeps the last {p.Limits.KeptResults} batches, and forgets them all when it restarts.");

    private static IResult PngFile(HttpRequest request, RgbaImage image, string name) =>
        File(request, Png.Encode(image), "image/png", name);

    // ?download=1 asks for an attachment with a useful file name; without it the page can show the image.
    private static IResult File(HttpRequest request, byte[] bytes, string type, string name, bool forceDownload = false) =>
        forceDownload || request.Query["download"] == "1"
            ? Results.File(bytes, type, name)
            : Results.File(bytes, type);

    private static void Add(ZipArchive zip, string name, byte[] bytes)
    {
        using var entry = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
        entry.Write(bytes);
    }
}

/// <summary>Something the browser asked for that is not there; answered 404 in words.</summary>
internal sealed class NotFound(string message) : Exception(message);
