using SpriteDiffusion.Imaging;
using SpriteDiffusion.IO;

namespace SpriteDiffusion;

/// <summary>One generated sprite: straight-alpha RGBA pixels at 1x (opaque unless the model draws transparency).</summary>
/// <param name="Image">The pixels, rows top to bottom.</param>
/// <param name="Index">Its place in the batch it was drawn in.</param>
/// <param name="ClassName">The class it was drawn for; null when drawn unconditionally.</param>
public sealed record Sprite(RgbaImage Image, int Index, string? ClassName)
{
    /// <summary>A name for atlases and files: the class and index ("Flags_003"), or "sprite_003".</summary>
    public string Name => $"{ClassName ?? "sprite"}_{Index:D3}";

    /// <summary>Writes the sprite as a PNG (atomically), upscaled with nearest neighbour.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="scale">Upscale factor, 1 to 64.</param>
    public void SavePng(string path, int scale = 1) =>
        Png.Write(path, scale == 1 ? Image : ImageGrid.Upscale(Image, CheckScale(scale)));

    /// <summary>Packs sprites into one sheet with frames named by <see cref="Name"/>, ready to write with its atlas.</summary>
    /// <param name="sprites">The sprites, all the same size.</param>
    /// <param name="scale">Upscale factor of the frames.</param>
    public static SpriteSheet ToSheet(IEnumerable<Sprite> sprites, int scale = 1) =>
        SpriteSheet.Pack(sprites.Select(s => new NamedSprite(s.Name, s.Image)).ToList(), scale);

    private static int CheckScale(int scale) =>
        scale is >= 1 and <= 64 ? scale : throw new ArgumentOutOfRangeException(nameof(scale), $"the scale must be between 1 and 64 (got {scale}).");
}
