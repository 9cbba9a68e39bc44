namespace SpriteDiffusion.Imaging;

/// <summary>The JSON layouts a sprite sheet's atlas can be written in.</summary>
public enum AtlasFormat
{
    /// <summary>
    /// TexturePacker's "JSON (Hash)": frames keyed by name. Phaser (<c>load.atlas</c>) and PixiJS
    /// (<c>Assets.load</c> of the .json) read it as-is.
    /// </summary>
    TexturePackerHash,

    /// <summary>Aseprite's "json-hash" sheet export: TexturePacker's layout plus frame durations, tags and layers.</summary>
    AsepriteHash,

    /// <summary>Aseprite's "json-array" sheet export: the frames as a list in sheet order, each with a "filename".</summary>
    AsepriteArray,
}
