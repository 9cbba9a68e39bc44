using System.Numerics;
using SpriteDiffusion.IO.Pth;

namespace SpriteDiffusion.Tests.IO.Pth;

/// <summary>The unpickler on its own: the values it builds, and the bounds it keeps on what a file claims.</summary>
public class RestrictedUnpicklerTests
{
    private static object? Load(byte[] pickle)
    {
        int position = 0;
        return RestrictedUnpickler.Load(pickle, ref position, pickle.Length, new PthErrors("p.pkl"), "the pickle", null);
    }

    private static string Fails(byte[] pickle)
    {
        var e = Assert.Throws<InvalidDataException>(() => Load(pickle));
        Assert.StartsWith("p.pkl: ", e.Message);
        return e.Message;
    }

    [Fact]
    public void BuildsTheValuesOfAProtocol2Pickle()
    {
        // [1, 300, 70000, -2, 2**70, 1.5, 'ü', True, False, None, (), (1,), {'k': 'v'}] with memo use.
        var p = new PickleBuilder().Op((byte)']', (byte)'q', 0).Mark()
            .Op((byte)'K', 1).Op((byte)'M', 0x2c, 0x01).Op((byte)'J', 0x70, 0x11, 0x01, 0x00).Op((byte)'J', 0xfe, 0xff, 0xff, 0xff)
            .Op(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x40)
            .Op((byte)'G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0)
            .Op(0x8c, 2, 0xc3, 0xbc).Op(0x88, 0x89, (byte)'N', (byte)')').Op((byte)'K', 1, 0x85)
            .Op((byte)'}', (byte)'U', 1, (byte)'k', (byte)'r', 5, 0, 0, 0, (byte)'T', 1, 0, 0, 0, (byte)'v', (byte)'s')
            .Op((byte)'e', (byte)'h', 0, (byte)'j', 5, 0, 0, 0, (byte)'\x87', (byte)'.').ToArray();
        var outer = Assert.IsType<PickleTuple>(Load(p));
        var list = Assert.IsType<PickleList>(outer[0]);
        Assert.Same(list, outer[1]);
        Assert.Equal("k", outer[2]);
        var items = list.Items;
        Assert.Equal(new object?[] { 1L, 300L, 70000L, -2L, BigInteger.Pow(2, 70), 1.5, "ü", true, false, null }, items.Take(10));
        Assert.Empty(Assert.IsType<PickleTuple>(items[10]).Items);
        Assert.Equal(new object?[] { 1L }, Assert.IsType<PickleTuple>(items[11]).Items);
        var dict = Assert.IsType<PickleDict>(items[12]);
        Assert.True(dict.TryGet("k", out var v));
        Assert.Equal("v", v);
    }

    [Fact]
    public void AStringLongerThanTheFileIsRefusedWithoutAllocating()
    {
        string m = Fails(new PickleBuilder().Op((byte)'X', 0xff, 0xff, 0xff, 0x7f).ToArray());
        Assert.Contains($"a BINUNICODE string of {0x7fffffff} bytes", m);
        Assert.Contains("ends at byte 8 in the middle of BINUNICODE's text", Fails(new PickleBuilder().Op((byte)'X', 9, 0, 0, 0, (byte)'a').ToArray()));
    }

    [Fact]
    public void NestingIsBounded()
    {
        var deep = new PickleBuilder();
        for (int i = 0; i <= RestrictedUnpickler.MaxMarks; i++) deep.Mark();
        Assert.Contains("nested MARKs", Fails(deep.ToArray()));
    }

    [Fact]
    public void OpcodesOutsideTheSubsetAreNamed()
    {
        Assert.Contains("opcode STACK_GLOBAL", Fails(new PickleBuilder().Op(0x93).ToArray()));
        Assert.Contains("opcode FRAME", Fails(new PickleBuilder().Op(0x95).ToArray()));
        Assert.Contains("byte 0xff is not a pickle opcode", Fails(new PickleBuilder().Op(0xff).ToArray()));
        Assert.Contains("pickle protocol 9 does not exist", Fails([0x80, 9, (byte)'.']));
    }

    [Fact]
    public void StackAndMemoMisuseIsCaught()
    {
        Assert.Contains("GET of memo entry 4, which was never PUT", Fails(new PickleBuilder().Op((byte)'h', 4).ToArray()));
        Assert.Contains("STOP needs a value but the stack is empty", Fails(new PickleBuilder().Op((byte)'.').ToArray()));
        Assert.Contains("STOP needs a value but there is none above the last MARK", Fails(new PickleBuilder().Op((byte)'N').Mark().Op((byte)'.').ToArray()));
        Assert.Contains("TUPLE needs a MARK", Fails(new PickleBuilder().Op((byte)'t').ToArray()));
        Assert.Contains("SETITEM on a list of 0, not a dict", Fails(new PickleBuilder().Op((byte)']', (byte)'N', (byte)'N', (byte)'s').ToArray()));
        Assert.Contains("a dict key is a tuple of 0", Fails(new PickleBuilder().Op((byte)'}', (byte)')', (byte)'N', (byte)'s').ToArray()));
        Assert.Contains("TUPLE2 needs 2 values", Fails(new PickleBuilder().Op((byte)'N').Mark().Op((byte)'N', 0x86).ToArray()));
        Assert.Contains("a persistent id (BINPERSID) where none can be", Fails(new PickleBuilder().Op((byte)'N', (byte)'Q').ToArray()));
    }

    [Fact]
    public void OnlyAllowedCallablesAreApplied()
    {
        Assert.Contains("REDUCE calls a str", Fails(new PickleBuilder().Str("os.system").Op((byte)')', (byte)'R').ToArray()));
        Assert.Contains("REDUCE calls torch.FloatStorage, a storage type",
            Fails(new PickleBuilder().Global("torch", "FloatStorage").Op((byte)')', (byte)'R').ToArray()));
        Assert.Contains("BUILD sets the state of a list of 0",
            Fails(new PickleBuilder().Op((byte)']', (byte)'}', (byte)'b').ToArray()));
        Assert.Contains("'subprocess.Popen'", Fails(new PickleBuilder().Global("subprocess", "Popen").ToArray()));
    }

    [Fact]
    public void NamesFromTheFileCannotGarbleTheTerminal()
    {
        string m = Fails(new PickleBuilder().Global("os\u001b[2J\u202e", "system").ToArray());
        Assert.Contains(@"'os\u001b[2J\u202e.system'", m);
        Assert.DoesNotContain('\u001b', m);
        string shown = PthErrors.Show(new string('a', 500));
        Assert.Equal(new string('a', 80) + "... (500 characters)", shown);
    }

    [Fact]
    public void ASecondSetOfAKeyKeepsItsPlaceAsInPython()
    {
        var p = new PickleBuilder().OrderedDict().Mark().Str("a").Int(1).Str("b").Int(2).Str("a").Int(3).Op((byte)'u', (byte)'.').ToArray();
        var dict = Assert.IsType<PickleDict>(Load(p));
        Assert.Equal(new (object?, object?)[] { ("a", 3L), ("b", 2L) }, dict.Entries);
    }
}
