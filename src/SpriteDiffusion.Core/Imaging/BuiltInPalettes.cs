namespace SpriteDiffusion.Imaging;

/// <summary>
/// The palettes that ship with the library, as 0xRRGGBB in the order their sources publish them.
/// Each table says where its values come from, so that a reader can check them digit by digit.
/// </summary>
internal static class BuiltInPalettes
{
    /// <summary>Canonical names, in the order error messages list them.</summary>
    public static readonly string[] Names = ["pico-8", "gameboy", "nes", "cga", "endesga-32"];

    /// <summary>
    /// The canonical name and table for a name, or null. Case, '-', '_' and spaces are ignored,
    /// so "PICO-8", "pico8", "Game Boy" and "endesga_32" all match.
    /// </summary>
    public static (string Name, uint[] Colors)? Find(string name) => Normalize(name) switch
    {
        "pico8" => ("pico-8", Pico8),
        "gameboy" => ("gameboy", GameBoy),
        "nes" => ("nes", Nes),
        "cga" => ("cga", Cga),
        "endesga32" => ("endesga-32", Endesga32),
        _ => null,
    };

    private static string Normalize(string name) =>
        string.Concat(name.Where(c => c is not ('-' or '_' or ' '))).ToLowerInvariant();

    // PICO-8's 16 fixed colours, indices 0..15, as listed on the PICO-8 wiki
    // (https://pico-8.fandom.com/wiki/Palette) and Lospec (https://lospec.com/palette-list/pico-8).
    private static readonly uint[] Pico8 =
    [
        0x000000, 0x1D2B53, 0x7E2553, 0x008751, 0xAB5236, 0x5F574F, 0xC2C3C7, 0xFFF1E8,
        0xFF004D, 0xFFA300, 0xFFEC27, 0x00E436, 0x29ADFF, 0x83769C, 0xFF77A8, 0xFFCCAA,
    ];

    // The four greens of the original Game Boy (DMG-01) screen, darkest first, as commonly
    // published (e.g. Wikipedia, "List of video game console palettes", Game Boy).
    private static readonly uint[] GameBoy = [0x0F380F, 0x306230, 0x8BAC0F, 0x9BBC0F];

    // The NTSC 2C02 PPU palette in the table long given on the NESdev wiki
    // (https://www.nesdev.org/wiki/PPU_palettes, "2C02") and reused by many emulators: entries
    // $00..$3F, one row of 16 per line. The repeated blacks ($xD..$xF) and the second white ($30)
    // collapse when the palette is built, leaving the 54 distinct colours the console can show.
    private static readonly uint[] Nes =
    [
        0x545454, 0x001E74, 0x081090, 0x300088, 0x440064, 0x5C0030, 0x540400, 0x3C1800, 0x202A00, 0x083A00, 0x004000, 0x003C00, 0x00323C, 0x000000, 0x000000, 0x000000,
        0x989698, 0x084CC4, 0x3032EC, 0x5C1EE4, 0x8814B0, 0xA01464, 0x982220, 0x783C00, 0x545A00, 0x287200, 0x087C00, 0x007628, 0x006678, 0x000000, 0x000000, 0x000000,
        0xECEEEC, 0x4C9AEC, 0x787CEC, 0xB062EC, 0xE454EC, 0xEC58B4, 0xEC6A64, 0xD48820, 0xA0AA00, 0x74C400, 0x4CD020, 0x38CC6C, 0x38B4CC, 0x3C3C3C, 0x000000, 0x000000,
        0xECEEEC, 0xA8CCEC, 0xBCBCEC, 0xD4B2EC, 0xECAEEC, 0xECAED4, 0xECB4B0, 0xE4C490, 0xCCD278, 0xB4DE78, 0xA8E290, 0x98E2B4, 0xA0D6E4, 0xA0A2A0, 0x000000, 0x000000,
    ];

    // The full 16-colour CGA palette in IRGB order (0 black .. 15 white), with colour 6 as the
    // brown (#AA5500) that the IBM 5153 monitor shows instead of dark yellow; the 0x55/0xAA/0xFF
    // levels as given by Wikipedia, "Color Graphics Adapter", full CGA 16-colour palette.
    private static readonly uint[] Cga =
    [
        0x000000, 0x0000AA, 0x00AA00, 0x00AAAA, 0xAA0000, 0xAA00AA, 0xAA5500, 0xAAAAAA,
        0x555555, 0x5555FF, 0x55FF55, 0x55FFFF, 0xFF5555, 0xFF55FF, 0xFFFF55, 0xFFFFFF,
    ];

    // ENDESGA 32 by ENDESGA Studios, in the order of https://lospec.com/palette-list/endesga-32.
    private static readonly uint[] Endesga32 =
    [
        0xBE4A2F, 0xD77643, 0xEAD4AA, 0xE4A672, 0xB86F50, 0x733E39, 0x3E2731, 0xA22633,
        0xE43B44, 0xF77622, 0xFEAE34, 0xFEE761, 0x63C74D, 0x3E8948, 0x265C42, 0x193C3E,
        0x124E89, 0x0099DB, 0x2CE8F5, 0xFFFFFF, 0xC0CBDC, 0x8B9BB4, 0x5A6988, 0x3A4466,
        0x262B44, 0x181425, 0xFF0044, 0x68386C, 0xB55088, 0xF6757A, 0xE8B796, 0xC28569,
    ];
}
