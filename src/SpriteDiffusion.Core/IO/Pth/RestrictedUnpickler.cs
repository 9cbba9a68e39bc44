using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace SpriteDiffusion.IO.Pth;

/// <summary>
/// A pickle reader for what torch.save writes and nothing more. It knows the opcodes of protocol 2
/// that state dicts use; a GLOBAL outside <see cref="PickleGlobal.Allowed"/> stops it at once, and
/// REDUCE only applies the allowed callables, implemented in C# by <see cref="TorchCalls"/>, so no
/// code from the file can run. Every length and count read from the file is bounded before use.
/// </summary>
internal sealed class RestrictedUnpickler
{
    /// <summary>Values on the stack at once; a state dict needs a few dozen.</summary>
    public const int MaxStack = 1 << 20;

    /// <summary>Memo entries; torch memoizes about five per tensor.</summary>
    public const int MaxMemo = 1 << 22;

    /// <summary>Open MARKs at once: the nesting of tuples, lists and dicts being built.</summary>
    public const int MaxMarks = 1 << 12;

    /// <summary>Bytes of one string: names and storage keys are short.</summary>
    public const int MaxStringBytes = 1 << 20;

    /// <summary>Items of one tuple, list or dict.</summary>
    public const int MaxItems = 1 << 20;

    /// <summary>Characters of one line of a GLOBAL opcode (module or name).</summary>
    private const int MaxGlobalLine = 256;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _data;
    private readonly int _end;
    private readonly PthErrors _errors;
    private readonly string _where;
    private readonly Func<object?, string, object>? _persistentLoad;
    private readonly List<object?> _stack = new();
    private readonly List<int> _marks = new();
    private readonly Dictionary<uint, object?> _memo = new();
    private int _pos;
    private int _opcodeStart;

    private RestrictedUnpickler(byte[] data, int start, int end, PthErrors errors, string where, Func<object?, string, object>? persistentLoad)
    {
        _data = data;
        _pos = start;
        _end = end;
        _errors = errors;
        _where = where;
        _persistentLoad = persistentLoad;
    }

    /// <summary>
    /// Reads one pickle starting at <paramref name="position"/> and returns its value;
    /// <paramref name="position"/> is left just past the STOP opcode.
    /// </summary>
    /// <param name="data">The bytes holding the pickle.</param>
    /// <param name="position">Where the pickle starts in <paramref name="data"/>; on return, just past its STOP.</param>
    /// <param name="end">Where reading must stop even without a STOP.</param>
    /// <param name="errors">Messages for the file.</param>
    /// <param name="where">Names this pickle in messages, e.g. "the pickle archive/data.pkl".</param>
    /// <param name="persistentLoad">Turns a persistent id into a storage (given the id and where it was read); null where none may occur.</param>
    public static object? Load(byte[] data, ref int position, int end, PthErrors errors, string where, Func<object?, string, object>? persistentLoad)
    {
        var reader = new RestrictedUnpickler(data, position, end, errors, where, persistentLoad);
        object? value = reader.Run();
        position = reader._pos;
        return value;
    }

    /// <summary>Where the current opcode started, as messages report it.</summary>
    private string At => $"{_where}, at byte {_opcodeStart}";

    private object? Run()
    {
        while (true)
        {
            _opcodeStart = _pos;
            byte op = ReadByte("an opcode");
            switch (op)
            {
                case 0x80: // PROTO
                    byte protocol = ReadByte("PROTO's version");
                    if (protocol > 5)
                        throw _errors.Damaged($"{At}: pickle protocol {protocol} does not exist (Python knows 0 to 5)");
                    break;
                case (byte)'.': // STOP
                    return Pop("STOP");
                case (byte)'(': // MARK
                    if (_marks.Count >= MaxMarks)
                        throw _errors.TooLarge($"{At}: more than {MaxMarks} nested MARKs");
                    _marks.Add(_stack.Count);
                    break;
                case (byte)'}': // EMPTY_DICT
                    Push(new PickleDict(ordered: false));
                    break;
                case (byte)']': // EMPTY_LIST
                    Push(new PickleList());
                    break;
                case (byte)')': // EMPTY_TUPLE
                    Push(new PickleTuple([]));
                    break;
                case 0x85: // TUPLE1
                case 0x86: // TUPLE2
                case 0x87: // TUPLE3
                    {
                        int n = op - 0x84;
                        int available = _stack.Count - (_marks.Count > 0 ? _marks[^1] : 0);
                        if (available < n)
                            throw _errors.Damaged($"{At}: TUPLE{n} needs {n} values but the stack holds {available} above its last MARK");
                        Push(new PickleTuple(Take(_stack.Count - n)));
                        break;
                    }
                case (byte)'t': // TUPLE
                    Push(new PickleTuple(Take(PopMark("TUPLE"))));
                    break;
                case (byte)'q': // BINPUT
                    Memoize(ReadByte("BINPUT's index"));
                    break;
                case (byte)'r': // LONG_BINPUT
                    Memoize(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4, "LONG_BINPUT's index")));
                    break;
                case (byte)'h': // BINGET
                    Recall(ReadByte("BINGET's index"));
                    break;
                case (byte)'j': // LONG_BINGET
                    Recall(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4, "LONG_BINGET's index")));
                    break;
                case (byte)'J': // BININT
                    Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4, "BININT's value")));
                    break;
                case (byte)'K': // BININT1
                    Push((long)ReadByte("BININT1's value"));
                    break;
                case (byte)'M': // BININT2
                    Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2, "BININT2's value")));
                    break;
                case 0x8a: // LONG1: little-endian two's complement of the given length
                    {
                        int n = ReadByte("LONG1's length");
                        var bytes = ReadBytes(n, "LONG1's value");
                        var value = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
                        Push(value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value);
                        break;
                    }
                case (byte)'G': // BINFLOAT: big-endian, unlike everything else here
                    Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8, "BINFLOAT's value")));
                    break;
                case (byte)'X': // BINUNICODE
                    Push(ReadString(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4, "BINUNICODE's length")), "BINUNICODE"));
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    Push(ReadString(ReadByte("SHORT_BINUNICODE's length"), "SHORT_BINUNICODE"));
                    break;
                case (byte)'T': // BINSTRING: Python 2's str; torch.load decodes it as UTF-8
                    {
                        int length = BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4, "BINSTRING's length"));
                        if (length < 0)
                            throw _errors.Damaged($"{At}: BINSTRING has negative length {length}");
                        Push(ReadString((uint)length, "BINSTRING"));
                        break;
                    }
                case (byte)'U': // SHORT_BINSTRING
                    Push(ReadString(ReadByte("SHORT_BINSTRING's length"), "SHORT_BINSTRING"));
                    break;
                case 0x88: // NEWTRUE
                    Push(true);
                    break;
                case 0x89: // NEWFALSE
                    Push(false);
                    break;
                case (byte)'N': // NONE
                    Push(null);
                    break;
                case (byte)'c': // GLOBAL
                    Push(ReadGlobal());
                    break;
                case (byte)'R': // REDUCE
                    {
                        object? args = Pop("REDUCE");
                        object? callable = Pop("REDUCE");
                        if (callable is not PickleGlobal function)
                            throw _errors.NotStateDict($"{At}: REDUCE calls {PickleDescribe.TypeOf(callable)}, which is not a function");
                        if (args is not PickleTuple tuple)
                            throw _errors.Damaged($"{At}: REDUCE's arguments are {PickleDescribe.TypeOf(args)}, not a tuple");
                        Push(TorchCalls.Call(function, tuple, _errors, At));
                        break;
                    }
                case (byte)'b': // BUILD
                    {
                        object? state = Pop("BUILD");
                        object? target = Peek("BUILD");
                        // torch gives an OrderedDict state dict its _metadata this way; nothing else may be built.
                        if (target is not PickleDict dict)
                            throw _errors.NotStateDict($"{At}: BUILD sets the state of {PickleDescribe.TypeOf(target)}");
                        dict.State = state;
                        break;
                    }
                case (byte)'s': // SETITEM
                    {
                        object? value = Pop("SETITEM");
                        object? key = Pop("SETITEM");
                        SetItem(Peek("SETITEM"), key, value, "SETITEM");
                        break;
                    }
                case (byte)'u': // SETITEMS
                    {
                        int mark = PopMark("SETITEMS");
                        int n = _stack.Count - mark;
                        if (n % 2 != 0)
                            throw _errors.Damaged($"{At}: SETITEMS has {n} values, not key-value pairs");
                        if (mark == 0)
                            throw _errors.Damaged($"{At}: SETITEMS has no dict to fill");
                        object? target = _stack[mark - 1];
                        for (int i = mark; i < _stack.Count; i += 2) SetItem(target, _stack[i], _stack[i + 1], "SETITEMS");
                        _stack.RemoveRange(mark, n);
                        break;
                    }
                case (byte)'a': // APPEND
                    {
                        object? value = Pop("APPEND");
                        Append(Peek("APPEND"), value, "APPEND");
                        break;
                    }
                case (byte)'e': // APPENDS
                    {
                        int mark = PopMark("APPENDS");
                        if (mark == 0)
                            throw _errors.Damaged($"{At}: APPENDS has no list to fill");
                        object? target = _stack[mark - 1];
                        for (int i = mark; i < _stack.Count; i++) Append(target, _stack[i], "APPENDS");
                        _stack.RemoveRange(mark, _stack.Count - mark);
                        break;
                    }
                case (byte)'Q': // BINPERSID
                    {
                        object? pid = Pop("BINPERSID");
                        if (_persistentLoad is null)
                            throw _errors.Damaged($"{At}: a persistent id (BINPERSID) where none can be");
                        Push(_persistentLoad(pid, At));
                        break;
                    }
                default:
                    throw UnknownOpcode(op);
            }
        }
    }

    private InvalidDataException UnknownOpcode(byte op)
    {
        string? name = OpcodeName(op);
        return name is null
            ? _errors.Damaged($"{At}: byte 0x{op:x2} is not a pickle opcode")
            : _errors.Unsupported($"{At}: the pickle uses opcode {name}, which torch.save does not write for a state dict and this reader does not implement");
    }

    /// <summary>Names of the opcodes this reader leaves out, from Python's pickletools, for the message.</summary>
    private static string? OpcodeName(byte op) => op switch
    {
        (byte)'I' => "INT",
        (byte)'L' => "LONG",
        (byte)'F' => "FLOAT",
        (byte)'S' => "STRING",
        (byte)'V' => "UNICODE",
        (byte)'P' => "PERSID",
        (byte)'p' => "PUT",
        (byte)'g' => "GET",
        (byte)'l' => "LIST",
        (byte)'d' => "DICT",
        (byte)'i' => "INST",
        (byte)'o' => "OBJ",
        (byte)'0' => "POP",
        (byte)'1' => "POP_MARK",
        (byte)'2' => "DUP",
        0x81 => "NEWOBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x8b => "LONG4",
        (byte)'B' => "BINBYTES",
        (byte)'C' => "SHORT_BINBYTES",
        0x8d => "BINUNICODE8",
        0x8e => "BINBYTES8",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x92 => "NEWOBJ_EX",
        0x93 => "STACK_GLOBAL",
        0x94 => "MEMOIZE",
        0x95 => "FRAME",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => null,
    };

    private PickleGlobal ReadGlobal()
    {
        string module = ReadLine("GLOBAL's module");
        string name = ReadLine("GLOBAL's name");
        if (!PickleGlobal.Allowed.TryGetValue(module + " " + name, out var kind))
        {
            // A storage type torch has but this reader lacks is no attack; say what is supported instead.
            if (module == "torch" && name.EndsWith("Storage", StringComparison.Ordinal))
                throw _errors.Unsupported($"{At}: a tensor is stored as torch.{PthErrors.Show(name)}, which this reader does not support; it reads {StorageKind.Supported}");
            throw _errors.Forbidden(PthErrors.Show(module + "." + name), At);
        }
        return new PickleGlobal(module, name, kind);
    }

    private string ReadLine(string what)
    {
        int limit = Math.Min(_end, _pos + MaxGlobalLine + 1);
        int newline = Array.IndexOf(_data, (byte)'\n', _pos, limit - _pos);
        if (newline < 0)
        {
            if (limit == _end)
                throw _errors.Damaged($"{At}: the pickle ends inside {what}");
            throw _errors.Damaged($"{At}: {what} is longer than {MaxGlobalLine} characters");
        }
        string text = Decode(_pos, newline - _pos, what);
        _pos = newline + 1;
        return text;
    }

    private string ReadString(uint length, string opcode)
    {
        if (length > MaxStringBytes)
            throw _errors.TooLarge($"{At}: a {opcode} string of {length} bytes (the limit is {MaxStringBytes})");
        int start = _pos;
        ReadBytes((int)length, opcode + "'s text");
        return Decode(start, (int)length, opcode);
    }

    private string Decode(int start, int length, string what)
    {
        try
        {
            return StrictUtf8.GetString(_data, start, length);
        }
        catch (DecoderFallbackException e)
        {
            throw _errors.Damaged($"{At}: {what} is not valid UTF-8", e);
        }
    }

    private byte ReadByte(string what)
    {
        if (_pos >= _end)
            throw EndOfPickle(what);
        return _data[_pos++];
    }

    private ReadOnlySpan<byte> ReadBytes(int count, string what)
    {
        if (count > _end - _pos)
            throw EndOfPickle(what);
        var span = _data.AsSpan(_pos, count);
        _pos += count;
        return span;
    }

    private InvalidDataException EndOfPickle(string what) =>
        _errors.Damaged($"{_where} ends at byte {_end} in the middle of {what}, before its STOP opcode");

    private void Push(object? value)
    {
        if (_stack.Count >= MaxStack)
            throw _errors.TooLarge($"{At}: more than {MaxStack} values on the pickle stack");
        _stack.Add(value);
    }

    private object? Pop(string opcode)
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _marks[^1] == _stack.Count))
            throw _errors.Damaged($"{At}: {opcode} needs a value but {(_stack.Count == 0 ? "the stack is empty" : "there is none above the last MARK")}");
        object? value = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object? Peek(string opcode)
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _marks[^1] == _stack.Count))
            throw _errors.Damaged($"{At}: {opcode} needs a value but {(_stack.Count == 0 ? "the stack is empty" : "there is none above the last MARK")}");
        return _stack[^1];
    }

    /// <summary>Removes the innermost MARK and returns the stack index where its items begin.</summary>
    private int PopMark(string opcode)
    {
        if (_marks.Count == 0)
            throw _errors.Damaged($"{At}: {opcode} needs a MARK but there is none");
        int mark = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        if (_stack.Count - mark > MaxItems)
            throw _errors.TooLarge($"{At}: {opcode} of {_stack.Count - mark} items (the limit is {MaxItems})");
        return mark;
    }

    /// <summary>Moves the stack's values from <paramref name="start"/> on into an array.</summary>
    private object?[] Take(int start)
    {
        var items = _stack.GetRange(start, _stack.Count - start).ToArray();
        _stack.RemoveRange(start, _stack.Count - start);
        return items;
    }

    private void Memoize(uint index)
    {
        object? value = Peek("PUT");
        if (!_memo.ContainsKey(index) && _memo.Count >= MaxMemo)
            throw _errors.TooLarge($"{At}: more than {MaxMemo} memo entries");
        _memo[index] = value;
    }

    private void Recall(uint index)
    {
        if (!_memo.TryGetValue(index, out object? value))
            throw _errors.Damaged($"{At}: GET of memo entry {index}, which was never PUT");
        Push(value);
    }

    private void SetItem(object? target, object? key, object? value, string opcode)
    {
        if (target is not PickleDict dict)
            throw _errors.Damaged($"{At}: {opcode} on {PickleDescribe.TypeOf(target)}, not a dict");
        if (!PickleDict.IsSupportedKey(key))
            throw _errors.NotStateDict($"{At}: a dict key is {PickleDescribe.TypeOf(key)}");
        if (dict.Count >= MaxItems)
            throw _errors.TooLarge($"{At}: a dict of more than {MaxItems} entries");
        dict.Set(key, value);
    }

    private void Append(object? target, object? value, string opcode)
    {
        if (target is not PickleList list)
            throw _errors.Damaged($"{At}: {opcode} on {PickleDescribe.TypeOf(target)}, not a list");
        if (list.Items.Count >= MaxItems)
            throw _errors.TooLarge($"{At}: a list of more than {MaxItems} items");
        list.Items.Add(value);
    }
}
