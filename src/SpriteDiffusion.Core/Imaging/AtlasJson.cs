using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace SpriteDiffusion.Imaging;

/// <summary>
/// Writes a sheet's atlas in the JSON layouts of TexturePacker ("JSON (Hash)") and Aseprite
/// (sheet export, json-hash and json-array), the layouts Phaser, PixiJS and most engines load.
/// Frames are never trimmed or rotated, so each frame's source box is the whole frame.
/// </summary>
internal static class AtlasJson
{
    /// <summary>Aseprite's default frame duration, which its loaders expect on every frame.</summary>
    private const int FrameDurationMs = 100;

    private static readonly string AppVersion =
        typeof(AtlasJson).Assembly.GetName().Version?.ToString(3) ?? "1.0.0";

    // The atlas is a file of its own, read with a JSON parser and never pasted into HTML, so the
    // default HTML-safe escaping would only turn "Smileys & Emotion" into "Smileys \u0026 Emotion"
    // for anyone reading it; the relaxed encoder still escapes quotes, backslashes and controls.
    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Write(SpriteSheet sheet, AtlasFormat format, string imageFileName)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            if (format == AtlasFormat.AsepriteArray)
            {
                json.WriteStartArray("frames");
                foreach (var frame in sheet.Frames)
                {
                    json.WriteStartObject();
                    json.WriteString("filename", frame.Name);
                    WriteFrameFields(json, frame, withDuration: true);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            else
            {
                json.WriteStartObject("frames");
                foreach (var frame in sheet.Frames)
                {
                    json.WriteStartObject(frame.Name);
                    WriteFrameFields(json, frame, withDuration: format == AtlasFormat.AsepriteHash);
                    json.WriteEndObject();
                }
                json.WriteEndObject();
            }
            WriteMeta(json, sheet, imageFileName, aseprite: format != AtlasFormat.TexturePackerHash);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteFrameFields(Utf8JsonWriter json, SheetFrame frame, bool withDuration)
    {
        json.WriteStartObject("frame");
        json.WriteNumber("x", frame.X);
        json.WriteNumber("y", frame.Y);
        json.WriteNumber("w", frame.Width);
        json.WriteNumber("h", frame.Height);
        json.WriteEndObject();
        json.WriteBoolean("rotated", false);
        json.WriteBoolean("trimmed", false);
        json.WriteStartObject("spriteSourceSize");
        json.WriteNumber("x", 0);
        json.WriteNumber("y", 0);
        json.WriteNumber("w", frame.Width);
        json.WriteNumber("h", frame.Height);
        json.WriteEndObject();
        WriteSize(json, "sourceSize", frame.Width, frame.Height);
        if (withDuration) json.WriteNumber("duration", FrameDurationMs);
    }

    private static void WriteMeta(Utf8JsonWriter json, SpriteSheet sheet, string imageFileName, bool aseprite)
    {
        json.WriteStartObject("meta");
        json.WriteString("app", "SpriteDiffusion");
        json.WriteString("version", AppVersion);
        json.WriteString("image", imageFileName);
        json.WriteString("format", "RGBA8888");
        WriteSize(json, "size", sheet.Image.Width, sheet.Image.Height);
        // "1" even for an enlarged sheet: frames are given in the sheet's own pixels, and PixiJS
        // takes meta.scale as the texture's resolution, so "3" would shrink sprites back to 1/3.
        json.WriteString("scale", "1");
        if (aseprite)
        {
            json.WriteStartArray("frameTags");
            json.WriteEndArray();
            json.WriteStartArray("layers");
            json.WriteStartObject();
            json.WriteString("name", "Sprites");
            json.WriteNumber("opacity", 255);
            json.WriteString("blendMode", "normal");
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteStartArray("slices");
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }

    private static void WriteSize(Utf8JsonWriter json, string name, int width, int height)
    {
        json.WriteStartObject(name);
        json.WriteNumber("w", width);
        json.WriteNumber("h", height);
        json.WriteEndObject();
    }
}
