using System.Buffers.Binary;
using System.Text;

namespace SpriteDiffusion.IO;

/// <summary>One PNG chunk: a four-letter type and its data (length and CRC are implied).</summary>
/// <param name="Type">The four-letter chunk type, e.g. "IHDR" or "IDAT".</param>
/// <param name="Data">The chunk's data bytes.</param>
public sealed record PngChunk(string Type, byte[] Data);

/// <summary>
/// The PNG file structure (PNG specification, sections 5.2-5.5): the signature, then chunks of
/// length, type, data and a CRC-32 over type and data. Enough to re-wrap an encoder's output;
/// pixels are never decoded here.
/// </summary>
public static class PngChunks
{
    /// <summary>The eight bytes every PNG file starts with.</summary>
    public static ReadOnlySpan<byte> Signature => [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>Every chunk of a PNG file in order, with its CRC checked.</summary>
    public static List<PngChunk> Read(ReadOnlySpan<byte> png, string nameForErrors)
    {
        if (!png.StartsWith(Signature))
            throw new InvalidDataException($"{nameForErrors}: not a PNG file (the 8-byte PNG signature is missing).");
        var chunks = new List<PngChunk>();
        int at = Signature.Length;
        while (at < png.Length)
        {
            if (png.Length - at < 12)
                throw new InvalidDataException($"{nameForErrors}: the file ends inside a chunk header at byte {at}; it is truncated.");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png[at..]);
            if (length > int.MaxValue || length > png.Length - at - 12)
                throw new InvalidDataException($"{nameForErrors}: the chunk at byte {at} claims {length} bytes, more than the file holds; it is truncated or damaged.");
            var typeAndData = png.Slice(at + 4, 4 + (int)length);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(png[(at + 8 + (int)length)..]);
            string type = Encoding.ASCII.GetString(typeAndData[..4]);
            if (Crc(typeAndData) != stored)
                throw new InvalidDataException($"{nameForErrors}: the {type} chunk at byte {at} fails its CRC check; the file is damaged.");
            chunks.Add(new PngChunk(type, typeAndData[4..].ToArray()));
            at += 12 + (int)length;
            if (type == "IEND") break;
        }
        return chunks;
    }

    /// <summary>
    /// Writes one chunk (length, type, data, CRC) at the stream's position; throws
    /// <see cref="ArgumentException"/> unless <paramref name="type"/> has four letters.
    /// </summary>
    public static void Write(Stream stream, string type, ReadOnlySpan<byte> data)
    {
        if (type.Length != 4) throw new ArgumentException($"PNG chunk types have four letters, not '{type}'.", nameof(type));
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        stream.Write(word);
        var typeAndData = new byte[4 + data.Length];
        Encoding.ASCII.GetBytes(type, typeAndData);
        data.CopyTo(typeAndData.AsSpan(4));
        stream.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc(typeAndData));
        stream.Write(word);
    }

    /// <summary>The CRC-32 of PNG (and zlib, gzip): polynomial 0xEDB88320 reflected, all ones in and out.</summary>
    public static uint Crc(ReadOnlySpan<byte> bytes) => System.IO.Hashing.Crc32.HashToUInt32(bytes);
}
