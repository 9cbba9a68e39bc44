// Generates a sprite sheet with SpriteDiffusion's public API: eight sprites of every class of the
// bundled model, snapped to the PICO-8 palette, packed with a TexturePacker atlas beside them.
//   dotnet run --project examples/SpriteSheetExample -- [out.png]
using SpriteDiffusion;
using SpriteDiffusion.Imaging;

string output = args.Length > 0 ? args[0] : "sheet.png";
var model = SpriteModel.LoadBundled();
Console.WriteLine($"model: {model.ClassNames.Count} classes, {model.SpriteSize}x{model.SpriteSize}, {(model.HasAlpha ? "RGBA" : "RGB")}");

var progress = new Progress<GenerationProgress>(p =>
{
    if (p.Step == p.Steps) Console.WriteLine($"  {p.Steps} steps done");
});
var sprites = new List<Sprite>();
foreach (string className in model.ClassNames)
{
    var options = new GenerationOptions
    {
        Count = 8,
        Class = className,
        Seed = 42,
        Sampler = SamplerKind.DpmSolver2M,
        Finish = new SpriteFinish { Palette = Palette.BuiltIn("pico-8") },
    };
    Console.WriteLine($"drawing {className}");
    sprites.AddRange(model.Generate(options, progress));
}

string atlas = Sprite.ToSheet(sprites).Write(output, AtlasFormat.TexturePackerHash);
Console.WriteLine($"wrote {output} and {atlas}: {sprites.Count} sprites");
