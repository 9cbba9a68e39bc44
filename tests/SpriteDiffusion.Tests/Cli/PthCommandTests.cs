using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Cli;

/// <summary>The seed's own checkpoints through the command line: sample from a .pth, convert it, refuse hostile ones.</summary>
public class PthCommandTests
{
    private static string Fixture(string folder, string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", folder, name);

    [Fact]
    public void TheSeedsPthSamplesAndConvertsToTheSameSprites()
    {
        using var dir = new TempDir();
        string pth = Fixture("checkpoint", "torch_trained_nf16.pth");
        var fromPth = SpritesProcess.Run(dir.Path, "sample", "--checkpoint", pth, "--steps", "4", "--n", "4", "--out", "pth.png");
        Assert.True(fromPth.Code == 0, fromPth.Out + fromPth.Err);

        var convert = SpritesProcess.Run(dir.Path, "convert", pth, "seed.safetensors");
        Assert.True(convert.Code == 0, convert.Out + convert.Err);
        Assert.Contains("time input raw", convert.Out);
        var fromConverted = SpritesProcess.Run(dir.Path, "sample", "--checkpoint", "seed.safetensors", "--steps", "4", "--n", "4", "--out", "converted.png");
        Assert.True(fromConverted.Code == 0, fromConverted.Out + fromConverted.Err);
        Assert.Equal(File.ReadAllBytes(dir.File("pth.png")), File.ReadAllBytes(dir.File("converted.png")));

        // The override reaches the network: t/T instead of raw t draws other sprites.
        var overridden = SpritesProcess.Run(dir.Path, "sample", "--checkpoint", pth, "--time-input", "t/T", "--steps", "4", "--n", "4", "--out", "tT.png");
        Assert.True(overridden.Code == 0, overridden.Out + overridden.Err);
        Assert.NotEqual(File.ReadAllBytes(dir.File("pth.png")), File.ReadAllBytes(dir.File("tT.png")));
    }

    [Theory]
    [InlineData("hostile_os_system.pth", "os")]
    [InlineData("hostile_builtins_eval.pth", "eval")]
    [InlineData("truncated_zip.pth", "truncated_zip.pth")]
    [InlineData("storage_short.pth", "storage_short.pth")]
    public void HostileFilesFailCleanlyAndWriteNothing(string file, string mentioned)
    {
        using var dir = new TempDir();
        var r = SpritesProcess.Run(dir.Path, "convert", Fixture("pth", file), "out.safetensors");
        SpritesProcess.AssertCleanFailure(r, mentioned);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
        var s = SpritesProcess.Run(dir.Path, "sample", "--checkpoint", Fixture("pth", file), "--steps", "2", "--n", "1");
        SpritesProcess.AssertCleanFailure(s, mentioned);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void ConvertRefusesToReplaceItsInputAndNonSafetensorsOutputs()
    {
        using var dir = new TempDir();
        File.Copy(Fixture("checkpoint", "torch_trained_nf16.safetensors"), dir.File("m.safetensors"));
        SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, "convert", "m.safetensors", "m.safetensors"), "is the file IN reads");
        SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, "convert", "m.safetensors", "m.pth"), ".safetensors");
        var unknown = SpritesProcess.Run(dir.Path, "sample", "--checkpoint", "m.safetensors", "--time-input", "seconds");
        Assert.NotEqual(0, unknown.Code);
        Assert.Contains("seconds", unknown.Out + unknown.Err);
    }
}
