namespace SpriteDiffusion.Imaging;

/// <summary>Where one sprite lies on a sheet, in sheet pixels (after scaling).</summary>
/// <param name="Name">The sprite's frame name.</param>
/// <param name="X">Left edge, pixels from the sheet's left.</param>
/// <param name="Y">Top edge, pixels from the sheet's top.</param>
/// <param name="Width">Width on the sheet: the sprite's width times the scale.</param>
/// <param name="Height">Height on the sheet: the sprite's height times the scale.</param>
public sealed record SheetFrame(string Name, int X, int Y, int Width, int Height);
