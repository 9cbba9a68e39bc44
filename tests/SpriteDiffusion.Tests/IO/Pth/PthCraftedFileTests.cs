using System.Text;
using SpriteDiffusion.IO.Pth;

namespace SpriteDiffusion.Tests.IO.Pth;

/// <summary>Hand-written files that test one rule each: the bounds on sizes, and what is not a state dict.</summary>
public class PthCraftedFileTests
{
    private static InvalidDataException Fails(byte[] bytes)
    {
        var e = Assert.Throws<InvalidDataException>(() => PthFile.Parse(bytes, "crafted.pth"));
        Assert.StartsWith("crafted.pth: ", e.Message);
        return e;
    }

    private static byte[] OneTensor(string type, long numel, long offset, long[] size, long[] stride, byte[] storage) =>
        PthTestFiles.Zip(
            new PickleBuilder().OrderedDict().Str("w").Tensor(type, "0", numel, offset, size, stride).SetItemAndStop(),
            ("0", storage));

    [Fact]
    public void AHandWrittenZipReadsLikeTorchs()
    {
        var pth = PthFile.Parse(OneTensor("FloatStorage", 4, 1, [2], [2], PthTestFiles.Floats(1, 2, 3, 4)), "crafted.pth");
        Assert.Equal(new float[] { 2, 4 }, pth["w"].ToFloat32());
    }

    [Fact]
    public void ABroadcastCannotBlowUpMemory()
    {
        // One stored float repeated 2^30 times: 4 GiB from a file of a few hundred bytes.
        var e = Fails(OneTensor("FloatStorage", 1, 0, [1L << 30], [0], PthTestFiles.Floats(1)));
        Assert.Contains("more than this reader accepts", e.Message);
    }

    [Fact]
    public void StridesThatOverflow64BitsAreCaught()
    {
        var e = Fails(OneTensor("FloatStorage", 4, 0, [2, 2], [1L << 62, 1L << 62], PthTestFiles.Floats(1, 2, 3, 4)));
        Assert.Contains("needs 9223372036854775809 elements of its storage '0', which holds 4", e.Message);
    }

    [Fact]
    public void AnOffsetPastTheStorageIsCaught()
    {
        var e = Fails(OneTensor("FloatStorage", 4, 4, [], [], PthTestFiles.Floats(1, 2, 3, 4)));
        Assert.Contains("needs 5 elements of its storage '0', which holds 4", e.Message);
    }

    [Fact]
    public void AStorageWhoseBytesDisagreeWithItsDeclaredSizeIsCaught()
    {
        var e = Fails(OneTensor("FloatStorage", 4, 0, [2], [1], PthTestFiles.Floats(1, 2, 3)));
        Assert.Contains("archive/data/0 holds 12 bytes but the pickle declares 4 float32 elements (16 bytes)", e.Message);
    }

    [Fact]
    public void AHugeDeclaredStorageIsRefusedBeforeAnythingIsAllocated()
    {
        var e = Fails(OneTensor("FloatStorage", 1L << 40, 0, [1], [1], PthTestFiles.Floats(1)));
        Assert.Contains("storage '0' of 1099511627776 float32 elements", e.Message);
    }

    [Fact]
    public void AMissingStorageIsNamed()
    {
        var pickle = new PickleBuilder().OrderedDict().Str("w").Tensor("FloatStorage", "7", 1, 0, [], []).SetItemAndStop();
        var e = Fails(PthTestFiles.Zip(pickle));
        Assert.Contains("storage '7' is used by a tensor but the zip has no archive/data/7", e.Message);
    }

    [Fact]
    public void AnUnsupportedStorageTypeSaysWhichAreSupported()
    {
        var pickle = new PickleBuilder().OrderedDict().Str("w").Tensor("ComplexFloatStorage", "0", 1, 0, [], []).SetItemAndStop();
        var e = Fails(PthTestFiles.Zip(pickle, ("0", new byte[8])));
        Assert.Contains("a tensor is stored as torch.ComplexFloatStorage, which this reader does not support", e.Message);
        Assert.Contains("torch.HalfStorage (float16)", e.Message);
    }

    [Fact]
    public void AWholeCheckpointDictIsNotAStateDict()
    {
        // {'model': OrderedDict(w=tensor), 'epoch': 3}, as training scripts often save.
        var pickle = new PickleBuilder().Op((byte)'}').Str("model").OrderedDict().Str("w")
            .Tensor("FloatStorage", "0", 1, 0, [], []).Op((byte)'s').Op((byte)'s')
            .Str("epoch").Int(3).SetItemAndStop();
        var e = Fails(PthTestFiles.Zip(pickle, ("0", PthTestFiles.Floats(1))));
        Assert.Contains("has an entry 'model' that is an OrderedDict of 1, not a tensor", e.Message);
        Assert.Contains("save the model's state_dict() on its own", e.Message);
    }

    [Fact]
    public void ABareTensorIsNotAStateDict()
    {
        var pickle = new PickleBuilder().Tensor("FloatStorage", "0", 1, 0, [], []).Op((byte)'.').ToArray();
        var e = Fails(PthTestFiles.Zip(pickle, ("0", PthTestFiles.Floats(1))));
        Assert.Contains("holds a tensor, not a dict of tensors", e.Message);
    }

    [Fact]
    public void AZipWithoutAPickleIsNotACheckpoint()
    {
        using var memory = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(memory, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
            zip.CreateEntry("weights.npy");
        var e = Fails(memory.ToArray());
        Assert.Contains("is a zip archive but not a PyTorch checkpoint", e.Message);
    }

    [Fact]
    public void ForeignBytesAreNotACheckpoint()
    {
        Assert.Contains("is empty", Fails([]).Message);
        Assert.Contains("starts with neither a zip header nor a pickle", Fails(Encoding.ASCII.GetBytes("GIF89a and more")).Message);
        var safetensors = new byte[] { 2, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}' };
        Assert.Contains("looks like a safetensors file", Fails(safetensors).Message);
    }

    [Fact]
    public void APlainPickleWithoutTheMagicNumberIsNotALegacyCheckpoint()
    {
        var e = Fails(new PickleBuilder().Op((byte)'}', (byte)'.').ToArray());
        Assert.Contains("instead of torch's magic number", e.Message);
    }

    [Fact]
    public void ALegacyFileIgnoresSysInfosByteOrderSinceItsStoragesAreAlwaysLittleEndian()
    {
        var bytes = File.ReadAllBytes(PthTestFiles.PathOf("views.legacy.pth"));
        int at = IndexOf(bytes, "little_endian"u8) + "little_endian".Length + 2; // past BINPUT n
        Assert.Equal(0x88, bytes[at]); // NEWTRUE
        bytes[at] = 0x89; // NEWFALSE
        var pth = PthFile.Parse(bytes, "flipped.pth");
        Assert.Equal(PthFile.Read(PthTestFiles.PathOf("views.legacy.pth")).Names, pth.Names);
    }

    [Fact]
    public void MissingFilesAreFileNotFound()
    {
        string path = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "model.pth");
        var e = Assert.Throws<FileNotFoundException>(() => PthFile.Read(path));
        Assert.StartsWith(path + ": file not found", e.Message);
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);
}
