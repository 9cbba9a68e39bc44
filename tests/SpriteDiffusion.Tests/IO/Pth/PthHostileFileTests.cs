using SpriteDiffusion.IO.Pth;

namespace SpriteDiffusion.Tests.IO.Pth;

/// <summary>Malicious and damaged files: each fails with a message for people, and nothing runs or is written.</summary>
public class PthHostileFileTests
{
    public static TheoryData<string, string> HostileFiles => new()
    {
        { "hostile_os_system.pth", "names the Python global 'os.system'" },
        { "hostile_posix_system.legacy.pth", "names the Python global 'posix.system'" },
        { "hostile_builtins_eval.pth", "names the Python global 'builtins.eval'" },
        { "hostile_eval_torch_save.pth", "names the Python global '__builtin__.eval'" },
        { "hostile_unknown_global.pth", "names the Python global 'spritediffusion_payload.Loader'" },
        { "truncated_zip.pth", "cannot read the zip directory of the zip archive" },
        { "storage_short.pth", "a tensor of shape [10] with strides (1) at offset 0 needs 10 elements of its storage '0', which holds 4" },
        { "legacy_truncated.pth", "the state dict's pickle ends at byte 437 in the middle of" },
        { "big_endian.pth", "saved on a big-endian machine; only little-endian checkpoints are supported" },
    };

    [Theory]
    [MemberData(nameof(HostileFiles))]
    public void FailsWithAClearMessageAndRunsNothing(string file, string expected)
    {
        if (File.Exists(PthTestFiles.Marker)) File.Delete(PthTestFiles.Marker);
        var before = Snapshot();
        string path = PthTestFiles.PathOf(file);

        var e = Assert.Throws<InvalidDataException>(() => PthFile.Read(path));

        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("--", e.Message);
        Assert.False(File.Exists(PthTestFiles.Marker), "a hostile pickle ran");
        Assert.Equal(before, Snapshot());
    }

    [Theory]
    [InlineData("hostile_os_system.pth")]
    [InlineData("hostile_posix_system.legacy.pth")]
    [InlineData("hostile_builtins_eval.pth")]
    [InlineData("hostile_unknown_global.pth")]
    public void AForbiddenGlobalSaysNothingRanAndWhatToDo(string file)
    {
        var e = Assert.Throws<InvalidDataException>(() => PthFile.Read(PthTestFiles.PathOf(file)));
        Assert.Contains("nothing from the file was run", e.Message);
        Assert.Contains("do not open it with torch.load", e.Message);
        Assert.Contains("torch._utils._rebuild_tensor_v2", e.Message);
    }

    [Theory]
    [InlineData("truncated_zip.pth")]
    [InlineData("legacy_truncated.pth")]
    [InlineData("storage_short.pth")]
    public void DamageSaysToGetTheFileAgain(string file)
    {
        var e = Assert.Throws<InvalidDataException>(() => PthFile.Read(PthTestFiles.PathOf(file)));
        Assert.Contains("damaged or truncated: copy or download it again", e.Message);
    }

    /// <summary>The fixtures' folder, the only place the reader could conceivably write to.</summary>
    private static string Snapshot() => string.Join("\n",
        Directory.GetFiles(PthTestFiles.Dir).Order(StringComparer.Ordinal)
            .Select(f => $"{Path.GetFileName(f)} {new FileInfo(f).Length} {File.GetLastWriteTimeUtc(f).Ticks}"));
}
