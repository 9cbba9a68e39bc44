using SpriteDiffusion.Tests.Cli;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Reliability;

/// <summary>Class 3: a folder or file that cannot be made is one "error:" line naming the path, a non-zero exit, nothing half-written.</summary>
public class WriteFailureTests
{
    [Fact]
    public void EveryCommandRefusesOutputsItCannotWriteBeforeWorking()
    {
        using var dir = new TempDir();
        string model = TestCheckpoints.Tiny(dir, "m.safetensors");
        File.WriteAllText(dir.File("file.txt"), "a regular file, not a folder");
        Directory.CreateDirectory(dir.File("folder"));
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["sample", "--checkpoint", "m.safetensors", "--out", "file.txt/x.png"], "file.txt is a file, not a folder"),
            (["sample", "--checkpoint", "m.safetensors", "--out", "folder"], "is a folder"),
            (["sample", "--checkpoint", "m.safetensors", "--out", ""], "the path is empty"),
            (["sample", "--checkpoint", "m.safetensors", "--out", "x.png", "--each", "file.txt"], "is a file; give a folder"),
            (["sample", "--checkpoint", "m.safetensors", "--out", "x.png", "--out-npy", "file.txt/deeper/x.npy"], "is a file, not a folder"),
            (["convert", "m.safetensors", "file.txt/c.safetensors"], "is a file, not a folder"),
            (["export", "m.safetensors", "--onnx", "file.txt/u.onnx"], "is a file, not a folder"),
            (["train", "--out", "file.txt/run", "--epochs", "1"], "is a file, not a folder"),
            (["data", "import", "folder", "--out", "file.txt/d"], "is a file, not a folder"),
            (["data", "show", "-o", "file.txt/p.png"], "is a file, not a folder"),
            (["data", "download", "--out", "file.txt"], "is a file; give a folder"),
            (["evaluate", "--checkpoint", "m.safetensors", "--out", "file.txt/e"], "is a file, not a folder"),
        })
        {
            var r = SpritesProcess.Run(dir.Path, args);
            SpritesProcess.AssertCleanFailure(r, expected);
        }
        Assert.Equal("a regular file, not a folder", File.ReadAllText(dir.File("file.txt")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.File("folder")));
        Assert.False(File.Exists(dir.File("x.png")));
        Assert.Empty(Directory.EnumerateFiles(dir.Path, "*.tmp", SearchOption.AllDirectories));
    }

    [NotRootFact]
    public void AReadOnlyFolderIsOneErrorLine()
    {
        if (OperatingSystem.IsWindows()) return;
        using var dir = new TempDir();
        string model = TestCheckpoints.Tiny(dir, "m.safetensors");
        Directory.CreateDirectory(dir.File("ro"));
        File.SetUnixFileMode(dir.File("ro"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, "sample", "--checkpoint", "m.safetensors", "--out", "ro/x.png"), "cannot write in");
            SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, "evaluate", "--checkpoint", "m.safetensors", "--out", "ro/e"), "cannot write in");
        }
        finally { File.SetUnixFileMode(dir.File("ro"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); }
    }
}
