using System.Buffers.Binary;

namespace SpriteDiffusion.IO;

/// <summary>
/// Builds an APNG (the PNG extension with acTL, fcTL and fdAT chunks that browsers play); a viewer
/// that knows only PNG shows the first frame. SkiaSharp compresses each frame as a PNG and this
/// class moves that PNG's image data into the animation, so only compressed frames are kept.
/// Frames are opaque, full-size, 8-bit RGB, drawn in place of the previous one.
/// </summary>
public sealed class AnimatedPngWriter
{
    private const byte BitDepth = 8, ColorTypeRgb = 2;
    private readonly List<(byte[] Data, int DelayMs)> _frames = [];

    /// <summary>An empty animation of <paramref name="frameCount"/> frames; add them with <see cref="AddFrame"/>, then save.</summary>
    /// <param name="width">Frame width in pixels, at least 1.</param>
    /// <param name="height">Frame height in pixels, at least 1.</param>
    /// <param name="frameCount">Declared up front because acTL, which precedes every frame, carries it.</param>
    /// <param name="plays">How often a viewer plays it; 0 loops for ever.</param>
    public AnimatedPngWriter(int width, int height, int frameCount, int plays = 0)
    {
        if (width < 1 || height < 1) throw new ArgumentOutOfRangeException(nameof(width), $"frames must be at least 1x1 (got {width}x{height}).");
        if (frameCount < 1) throw new ArgumentOutOfRangeException(nameof(frameCount), frameCount, "an animation needs at least one frame.");
        if (plays < 0) throw new ArgumentOutOfRangeException(nameof(plays), plays, "the play count cannot be negative (0 loops for ever).");
        Width = width;
        Height = height;
        FrameCount = frameCount;
        Plays = plays;
    }

    /// <summary>Frame width in pixels; every frame has it.</summary>
    public int Width { get; }
    /// <summary>Frame height in pixels; every frame has it.</summary>
    public int Height { get; }
    /// <summary>The number of frames declared up front; <see cref="WriteTo"/> needs exactly this many.</summary>
    public int FrameCount { get; }
    /// <summary>How often a viewer plays the animation; 0 loops for ever.</summary>
    public int Plays { get; }
    /// <summary>How many frames <see cref="AddFrame"/> has taken so far.</summary>
    public int FramesAdded => _frames.Count;

    /// <summary>
    /// Appends a frame, compressed at once (only the compressed data is kept). Throws
    /// <see cref="InvalidOperationException"/> once <see cref="FrameCount"/> frames are in.
    /// </summary>
    /// <param name="frame">Width x Height and fully opaque; <see cref="ArgumentException"/> otherwise.</param>
    /// <param name="delayMs">How long the frame shows, 0 to 65535 ms (fcTL stores it in 16 bits).</param>
    public void AddFrame(RgbaImage frame, int delayMs)
    {
        if (_frames.Count == FrameCount)
            throw new InvalidOperationException($"the animation was declared with {FrameCount} frames; a frame {FrameCount + 1} does not fit.");
        if (frame.Width != Width || frame.Height != Height)
            throw new ArgumentException($"frame {_frames.Count + 1} is {frame.Width}x{frame.Height}; every frame of this animation is {Width}x{Height}.", nameof(frame));
        if ((uint)delayMs > ushort.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(delayMs), delayMs, "a frame delay must be 0 to 65535 ms.");
        for (int i = 3; i < frame.Pixels.Length; i += 4)
            if (frame.Pixels[i] != 255)
                throw new ArgumentException($"frame {_frames.Count + 1} has transparent pixels; animation frames are stored as opaque RGB.", nameof(frame));
        _frames.Add((ImageData(Png.Encode(frame, opaque: true)), delayMs));
    }

    /// <summary>Writes the animation to <paramref name="path"/> atomically (see <see cref="WriteTo"/>).</summary>
    public void Save(string path) => AtomicFile.Write(path, WriteTo);

    /// <summary>
    /// Writes the APNG at the stream's position. Throws <see cref="InvalidOperationException"/> unless
    /// all <see cref="FrameCount"/> frames have been added.
    /// </summary>
    public void WriteTo(Stream stream)
    {
        if (_frames.Count != FrameCount)
            throw new InvalidOperationException($"the animation was declared with {FrameCount} frames but {_frames.Count} were added.");
        stream.Write(PngChunks.Signature);
        PngChunks.Write(stream, "IHDR", Header());
        var actl = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(actl, (uint)FrameCount);
        BinaryPrimitives.WriteUInt32BigEndian(actl.AsSpan(4), (uint)Plays);
        PngChunks.Write(stream, "acTL", actl);
        uint sequence = 0;
        for (int f = 0; f < _frames.Count; f++)
        {
            PngChunks.Write(stream, "fcTL", FrameControl(sequence++, _frames[f].DelayMs));
            // The first frame's data is IDAT, so it doubles as the still image; later frames carry
            // a sequence number in front of the same zlib data.
            if (f == 0)
            {
                PngChunks.Write(stream, "IDAT", _frames[f].Data);
                continue;
            }
            var fdat = new byte[4 + _frames[f].Data.Length];
            BinaryPrimitives.WriteUInt32BigEndian(fdat, sequence++);
            _frames[f].Data.CopyTo(fdat, 4);
            PngChunks.Write(stream, "fdAT", fdat);
        }
        PngChunks.Write(stream, "IEND", []);
    }

    private byte[] Header()
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)Width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)Height);
        ihdr[8] = BitDepth;
        ihdr[9] = ColorTypeRgb;
        // Compression, filter and interlace methods stay 0 (deflate, adaptive filters, none), as SkiaSharp writes them.
        return ihdr;
    }

    private byte[] FrameControl(uint sequence, int delayMs)
    {
        var fctl = new byte[26];
        BinaryPrimitives.WriteUInt32BigEndian(fctl, sequence);
        BinaryPrimitives.WriteUInt32BigEndian(fctl.AsSpan(4), (uint)Width);
        BinaryPrimitives.WriteUInt32BigEndian(fctl.AsSpan(8), (uint)Height);
        // x and y offsets stay 0: every frame covers the whole canvas.
        BinaryPrimitives.WriteUInt16BigEndian(fctl.AsSpan(20), (ushort)delayMs);
        BinaryPrimitives.WriteUInt16BigEndian(fctl.AsSpan(22), 1000);
        // dispose_op 0 (none) and blend_op 0 (source): opaque full frames simply replace each other.
        return fctl;
    }

    /// <summary>
    /// The zlib stream of an encoded frame, after checking that its header is the animation's:
    /// APNG frames share the IHDR's colour type and bit depth, and a SkiaSharp that chose others
    /// would make browsers show garbage.
    /// </summary>
    private byte[] ImageData(byte[] png)
    {
        var chunks = PngChunks.Read(png, "SkiaSharp's PNG encoding of an animation frame");
        if (chunks.Count == 0 || chunks[0].Type != "IHDR" || !chunks[0].Data.AsSpan().SequenceEqual(Header()))
            throw new InvalidOperationException($"SkiaSharp's PNG encoder did not write an 8-bit RGB, non-interlaced {Width}x{Height} header; frames would not match the animation.");
        using var data = new MemoryStream();
        foreach (var chunk in chunks)
            if (chunk.Type == "IDAT") data.Write(chunk.Data);
        return data.ToArray();
    }
}
