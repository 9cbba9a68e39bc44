using System.Buffers.Binary;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.IO;

/// <summary>One frame as its fcTL describes it, with its zlib data gathered from IDAT or fdAT.</summary>
internal sealed record ApngFrame(int Width, int Height, int X, int Y, int DelayNum, int DelayDen, byte Dispose, byte Blend, byte[] Data)
{
    public double DelayMs => DelayDen == 0 ? DelayNum * 10.0 : DelayNum * 1000.0 / DelayDen;
}

/// <summary>
/// An APNG read back as the APNG specification describes it, asserting the rules a browser relies
/// on: acTL before the image data, one sequence shared by fcTL and fdAT counting from 0 with no
/// gaps, a fcTL before the IDAT (the default image is frame 0), and acTL's count of frames.
/// </summary>
internal sealed class ApngFile
{
    private ApngFile(byte[] header, int frameCount, int plays, List<ApngFrame> frames, List<string> order)
    {
        Header = header;
        DeclaredFrames = frameCount;
        Plays = plays;
        Frames = frames;
        ChunkOrder = order;
    }

    public byte[] Header { get; }
    public int Width => BinaryPrimitives.ReadInt32BigEndian(Header);
    public int Height => BinaryPrimitives.ReadInt32BigEndian(Header.AsSpan(4));
    public int DeclaredFrames { get; }
    public int Plays { get; }
    public IReadOnlyList<ApngFrame> Frames { get; }
    public IReadOnlyList<string> ChunkOrder { get; }

    public static ApngFile Read(string path) => Read(File.ReadAllBytes(path));

    public static ApngFile Read(byte[] bytes)
    {
        var chunks = PngChunks.Read(bytes, "apng"); // checks the signature and every CRC
        var order = chunks.Select(c => c.Type).ToList();
        Assert.Equal("IHDR", order[0]);
        Assert.Equal("IEND", order[^1]);
        int actl = order.IndexOf("acTL");
        Assert.True(actl > 0 && actl < order.IndexOf("IDAT"), "acTL must come before the first IDAT");
        int declared = BinaryPrimitives.ReadInt32BigEndian(chunks[actl].Data);
        int plays = BinaryPrimitives.ReadInt32BigEndian(chunks[actl].Data.AsSpan(4));

        var frames = new List<(ApngFrame Control, MemoryStream Data)>();
        int sequence = 0;
        bool sawIdat = false;
        foreach (var chunk in chunks)
        {
            var d = chunk.Data;
            switch (chunk.Type)
            {
                case "fcTL":
                    Assert.Equal(26, d.Length);
                    Assert.Equal(sequence++, BinaryPrimitives.ReadInt32BigEndian(d));
                    frames.Add((new ApngFrame(
                        BinaryPrimitives.ReadInt32BigEndian(d.AsSpan(4)), BinaryPrimitives.ReadInt32BigEndian(d.AsSpan(8)),
                        BinaryPrimitives.ReadInt32BigEndian(d.AsSpan(12)), BinaryPrimitives.ReadInt32BigEndian(d.AsSpan(16)),
                        BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(20)), BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(22)),
                        d[24], d[25], []), new MemoryStream()));
                    break;
                case "IDAT":
                    Assert.True(frames.Count == 1, "the IDAT must belong to frame 0, after its fcTL");
                    sawIdat = true;
                    frames[0].Data.Write(d);
                    break;
                case "fdAT":
                    Assert.True(sawIdat && frames.Count > 1, "fdAT must follow the IDAT and a later frame's fcTL");
                    Assert.Equal(sequence++, BinaryPrimitives.ReadInt32BigEndian(d));
                    frames[^1].Data.Write(d.AsSpan(4));
                    break;
            }
        }
        Assert.Equal(declared, frames.Count);
        return new ApngFile(chunks[0].Data, declared, plays, frames.Select(f => f.Control with { Data = f.Data.ToArray() }).ToList(), order);
    }

    /// <summary>Frame k as a plain PNG: the file's header at the frame's size around the frame's data.</summary>
    public byte[] FramePng(int k)
    {
        var frame = Frames[k];
        var header = (byte[])Header.Clone();
        BinaryPrimitives.WriteInt32BigEndian(header, frame.Width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), frame.Height);
        using var png = new MemoryStream();
        png.Write(PngChunks.Signature);
        PngChunks.Write(png, "IHDR", header);
        PngChunks.Write(png, "IDAT", frame.Data);
        PngChunks.Write(png, "IEND", []);
        return png.ToArray();
    }

    public RgbaImage DecodeFrame(int k) => Png.Decode(FramePng(k), $"frame {k}");
}
