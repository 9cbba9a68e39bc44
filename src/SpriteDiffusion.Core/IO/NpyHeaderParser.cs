using System.Globalization;

namespace SpriteDiffusion.IO;

/// <summary>
/// Reads the Python dict literal of a .npy header ({'descr': '&lt;f8', 'fortran_order': False,
/// 'shape': (3, 4), }). Only the literal forms NumPy writes are accepted; nesting is capped so a
/// hostile header of a million '(' cannot overflow the stack.
/// </summary>
internal sealed class NpyHeaderParser
{
    private const int MaxDepth = 8;
    private readonly string _text;
    private readonly string _fileName;
    private int _pos;
    private int _depth;

    private NpyHeaderParser(string text, string fileName)
    {
        _text = text;
        _fileName = fileName;
    }

    public static Dictionary<string, object?> ParseDict(string text, string fileName)
    {
        var parser = new NpyHeaderParser(text, fileName);
        parser.SkipSpace();
        if (parser.Peek() != '{')
            throw parser.Fail("it does not start with '{'");
        var value = (Dictionary<string, object?>)parser.ParseValue()!;
        parser.SkipSpace();
        if (parser._pos != text.Length)
            throw parser.Fail("unexpected text after the closing '}'");
        return value;
    }

    private object? ParseValue()
    {
        SkipSpace();
        char c = Peek();
        switch (c)
        {
            case '{': return Nested(ParseDictBody);
            case '(': return Nested(() => ParseSequence(')', isTuple: true));
            case '[': return Nested(() => ParseSequence(']', isTuple: false));
            case '\'' or '"': return ParseString();
        }
        if (c is '-' or '+' || char.IsAsciiDigit(c))
            return ParseInteger();
        if (TryWord("True")) return true;
        if (TryWord("False")) return false;
        if (TryWord("None")) return null;
        throw Fail(_pos >= _text.Length ? "it ends too early" : $"unexpected character '{Show(c)}'");
    }

    private object? Nested(Func<object?> parse)
    {
        if (++_depth > MaxDepth)
            throw Fail("values nested too deeply");
        var value = parse();
        _depth--;
        return value;
    }

    private object? ParseDictBody()
    {
        _pos++; // '{'
        var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (true)
        {
            SkipSpace();
            if (Peek() == '}') { _pos++; return dict; }
            if (Peek() is not ('\'' or '"'))
                throw Fail("a key is not a string");
            string key = ParseString();
            SkipSpace();
            Expect(':');
            object? value = ParseValue();
            if (!dict.TryAdd(key, value))
                throw Fail($"the key '{NpyDTypes.Printable(key)}' appears twice");
            SkipSpace();
            if (Peek() == ',') { _pos++; continue; }
            SkipSpace();
            Expect('}');
            return dict;
        }
    }

    /// <summary>Python's "(3)" is the int 3, not a tuple; only a comma makes a 1-tuple.</summary>
    private object? ParseSequence(char close, bool isTuple)
    {
        _pos++; // '(' or '['
        var items = new List<object?>();
        bool sawComma = false;
        while (true)
        {
            SkipSpace();
            if (Peek() == close) { _pos++; break; }
            if (items.Count > 64)
                throw Fail("a sequence is too long");
            items.Add(ParseValue());
            SkipSpace();
            if (Peek() == ',') { _pos++; sawComma = true; continue; }
            Expect(close);
            break;
        }
        if (isTuple && items.Count == 1 && !sawComma)
            return items[0];
        return isTuple ? new PyTuple(items) : items;
    }

    private string ParseString()
    {
        char quote = _text[_pos++];
        var sb = new System.Text.StringBuilder();
        while (_pos < _text.Length)
        {
            char c = _text[_pos++];
            if (c == quote) return sb.ToString();
            if (c == '\\')
            {
                if (_pos >= _text.Length) break;
                c = _text[_pos++];
            }
            if (c == '\n') throw Fail("a string runs past the end of the line");
            if (sb.Length > 256) throw Fail("a string is too long");
            sb.Append(c);
        }
        throw Fail("a string is not closed");
    }

    private long ParseInteger()
    {
        int start = _pos;
        if (Peek() is '-' or '+') _pos++;
        int digitsStart = _pos;
        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos])) _pos++;
        if (_pos == digitsStart)
            throw Fail("a sign without digits");
        var span = _text.AsSpan(start, _pos - start);
        if (Peek() is 'L' or 'l') _pos++; // Python 2 long literal, as old NumPy wrote shapes
        if (!long.TryParse(span, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            throw Fail($"the number {NpyDTypes.Printable(span.ToString())} is out of range");
        return value;
    }

    private bool TryWord(string word)
    {
        if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) != 0) return false;
        int end = _pos + word.Length;
        if (end < _text.Length && (char.IsAsciiLetterOrDigit(_text[end]) || _text[end] == '_')) return false;
        _pos = end;
        return true;
    }

    private void Expect(char c)
    {
        if (Peek() != c)
            throw Fail(_pos >= _text.Length ? $"it ends where '{c}' was expected" : $"'{c}' expected but found '{Show(Peek())}'");
        _pos++;
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private void SkipSpace()
    {
        while (_pos < _text.Length && _text[_pos] is ' ' or '\t' or '\n' or '\r') _pos++;
    }

    private static string Show(char c) => c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:x4}";

    private InvalidDataException Fail(string what) =>
        new($"{_fileName}: the .npy header is damaged ({what}, at character {_pos}). Re-save the array with numpy.save.");
}

/// <summary>A parsed Python tuple, kept distinct from a list because NumPy requires the shape to be a tuple.</summary>
internal sealed record PyTuple(List<object?> Items);
