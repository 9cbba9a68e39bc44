using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using SpriteDiffusion.Tests.Data;
using SpriteDiffusion.Checkpoints;

namespace SpriteDiffusion.Tests;

/// <summary>Checkpoints of an untrained n_feat 8 U-Net: enough for the commands to run end to end in seconds.</summary>
internal static class TestCheckpoints
{
    /// <summary>An unconditional tiny checkpoint with five class names, written into dir.</summary>
    public static string Tiny(TempDir dir, string name = "tiny.safetensors")
    {
        string path = dir.File(name);
        var model = new UNet(new UNetConfig(NFeat: 8), seed: 5);
        Checkpoint.Save(path, model, new CheckpointInfo { Model = model.Config, ClassNames = ["a", "b", "c", "d", "e"] });
        return path;
    }
}
