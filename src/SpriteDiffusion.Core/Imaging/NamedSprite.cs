using SpriteDiffusion.IO;

namespace SpriteDiffusion.Imaging;

/// <summary>A sprite and the frame name a game engine will look it up by in the atlas.</summary>
/// <param name="Name">The frame name, unique within a sheet (e.g. "Smileys &amp; Emotion_003").</param>
/// <param name="Image">The sprite's pixels; every sprite on one sheet has the same size.</param>
public sealed record NamedSprite(string Name, RgbaImage Image);
