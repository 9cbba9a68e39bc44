using SpriteDiffusion.Engine;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Cli;

public class SampleCommandTests
{
    [Fact]
    public void TheSameSeedGivesTheSamePngBytes()
    {
        using var dir = new TempDir();
        string ckpt = TestCheckpoints.Tiny(dir);
        var first = SpritesProcess.Run(dir.Path, "sample", "--checkpoint", ckpt, "--steps", "5", "--n", "4", "--seed", "3", "--out", "a.png", "--eta", "0.5");
        Assert.True(first.Code == 0, first.Err);
        Assert.Contains("a.png", first.Out);
        var second = SpritesProcess.Run(dir.Path, "sample", "--checkpoint", ckpt, "--steps", "5", "--n", "4", "--seed", "3", "--out", "b.png", "--eta", "0.5");
        Assert.Equal(0, second.Code);
        var third = SpritesProcess.Run(dir.Path, "sample", "--checkpoint", ckpt, "--steps", "5", "--n", "4", "--seed", "4", "--out", "c.png", "--eta", "0.5");
        Assert.Equal(0, third.Code);
        Assert.Equal(File.ReadAllBytes(dir.File("a.png")), File.ReadAllBytes(dir.File("b.png")));
        Assert.NotEqual(File.ReadAllBytes(dir.File("a.png")), File.ReadAllBytes(dir.File("c.png")));
        var grid = Png.Read(dir.File("a.png"));
        Assert.Equal(2 * 16 * 4 + 3, grid.Width); // 2 x 2 grid, 4x upscale, 1-pixel gaps
    }

    [Fact]
    public void DdimAtEtaZeroIsDeterminedByTheNoiseFile()
    {
        using var dir = new TempDir();
        string ckpt = TestCheckpoints.Tiny(dir);
        var noise = new float[3 * 3 * 16 * 16];
        new Rng(9).FillGaussian(noise);
        Npy.WriteFloat32(dir.File("noise.npy"), noise, [3, 3, 16, 16]);
        foreach (var (seed, name) in new[] { ("1", "x1.npy"), ("2", "x2.npy") })
        {
            var r = SpritesProcess.Run(dir.Path, "sample", "--checkpoint", ckpt, "--steps", "4", "--noise", "noise.npy", "--seed", seed,
                "--out", "grid.png", "--out-npy", name, "--each", "each");
            Assert.True(r.Code == 0, r.Err);
        }
        var a = Npy.ReadFloat32(dir.File("x1.npy"), out var shape);
        Assert.Equal(new[] { 3, 3, 16, 16 }, shape);
        Assert.Equal(a, Npy.ReadFloat32(dir.File("x2.npy"), out _));
        Assert.Equal(3, Directory.GetFiles(dir.File("each"), "*.png").Length);
        Assert.NotEqual(noise, a);
    }

    [Fact]
    public void DpmSolverSamplesTheBundledModel()
    {
        using var dir = new TempDir();
        var r = SpritesProcess.Run(dir.Path, "sample", "--method", "dpm++2m", "--steps", "10", "--n", "4", "--out", "dpm.png");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("dpm++2m", r.Out);
        var grid = Png.Read(dir.File("dpm.png"));
        Assert.Equal(2 * 16 * 4 + 3, grid.Width);

        var help = SpritesProcess.Run(dir.Path, "sample", "--help");
        Assert.Equal(0, help.Code);
        Assert.Contains("dpm++2m", help.Out);
        Assert.Contains("20 for dpm++2m", help.Out);
    }

    [Theory]
    [InlineData("--steps 0", "--steps")]
    [InlineData("--eta -1", "--eta")]
    [InlineData("--steps 2000", "--steps")]
    [InlineData("--method ddpm --steps 10", "DDPM")]
    [InlineData("--method dpm++2m --eta 0.5", "--eta")]
    [InlineData("--method dpm++2m --steps 1001", "DPM-Solver++")]
    [InlineData("--n 0", "--n")]
    [InlineData("--scale 0", "--scale")]
    public void ImpossibleFlagsFailCleanlyAndWriteNothing(string flags, string mentioned)
    {
        using var dir = new TempDir();
        string ckpt = TestCheckpoints.Tiny(dir);
        var args = new List<string> { "sample", "--checkpoint", ckpt, "--out", "out.png" };
        args.AddRange(flags.Split(' '));
        SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, args.ToArray()), mentioned);
        Assert.False(File.Exists(dir.File("out.png")));
    }

    [Fact]
    public void BadCheckpointsAndNoiseFailCleanly()
    {
        using var dir = new TempDir();
        SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, "sample", "--checkpoint", "missing.safetensors"), "missing.safetensors");
        File.WriteAllBytes(dir.File("garbage.safetensors"), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, "sample", "--checkpoint", "garbage.safetensors"), "garbage.safetensors");

        // A checkpoint whose tensors do not form a U-Net of the configuration its metadata claims.
        var model = new UNet(new UNetConfig(NFeat: 8), seed: 1);
        var writer = new SafetensorsWriter();
        foreach (var e in model.Store.Entries.Where(e => e.Kind != StateKind.Counter)) writer.Add(e.Name, e.Value.Span, e.Shape);
        writer.Metadata["n_feat"] = "16";
        writer.Save(dir.File("mismatch.safetensors"));
        SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, "sample", "--checkpoint", "mismatch.safetensors"), "shape");

        string ckpt = TestCheckpoints.Tiny(dir);
        Npy.WriteFloat32(dir.File("noise.npy"), new float[2 * 3 * 8 * 8], [2, 3, 8, 8]);
        SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, "sample", "--checkpoint", ckpt, "--noise", "noise.npy", "--out", "o.png"), "noise.npy");
        Assert.False(File.Exists(dir.File("o.png")));
    }
}
