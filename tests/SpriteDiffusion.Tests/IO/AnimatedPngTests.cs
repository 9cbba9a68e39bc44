using System.Text;
using SpriteDiffusion.IO;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.IO;

public class AnimatedPngTests
{
    private static RgbaImage RandomOpaque(int width, int height, int seed)
    {
        var rgb = new byte[width * height * 3];
        new Random(seed).NextBytes(rgb);
        return Png.FromRgb(width, height, rgb);
    }

    [Fact]
    public void Frames_read_back_with_valid_chunks_sequence_numbers_delays_and_pixels()
    {
        using var dir = new TempDir();
        var frames = new[] { RandomOpaque(7, 5, 1), RandomOpaque(7, 5, 2), RandomOpaque(7, 5, 3) };
        int[] delays = [50, 60, 1500];
        var writer = new AnimatedPngWriter(7, 5, frameCount: 3);
        for (int i = 0; i < 3; i++) writer.AddFrame(frames[i], delays[i]);
        string path = dir.File("anim.png");
        writer.Save(path);

        var apng = ApngFile.Read(path);
        Assert.Equal(["IHDR", "acTL", "fcTL", "IDAT", "fcTL", "fdAT", "fcTL", "fdAT", "IEND"], apng.ChunkOrder);
        Assert.Equal((7, 5), (apng.Width, apng.Height));
        Assert.Equal(8, apng.Header[8]); // bit depth
        Assert.Equal(2, apng.Header[9]); // RGB
        Assert.Equal(3, apng.DeclaredFrames);
        Assert.Equal(0, apng.Plays);
        for (int i = 0; i < 3; i++)
        {
            var f = apng.Frames[i];
            Assert.Equal((7, 5, 0, 0), (f.Width, f.Height, f.X, f.Y));
            Assert.Equal(delays[i], f.DelayMs);
            Assert.Equal(frames[i].Pixels, apng.DecodeFrame(i).Pixels);
        }

        // A decoder that knows only PNG shows the default image, which is frame 0.
        var still = Png.Read(path);
        Assert.Equal((7, 5), (still.Width, still.Height));
        Assert.Equal(frames[0].Pixels, still.Pixels);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void A_single_frame_animation_is_a_valid_png()
    {
        var frame = RandomOpaque(3, 4, 9);
        var writer = new AnimatedPngWriter(3, 4, frameCount: 1, plays: 2);
        writer.AddFrame(frame, 100);
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        var apng = ApngFile.Read(stream.ToArray());
        Assert.Equal(["IHDR", "acTL", "fcTL", "IDAT", "IEND"], apng.ChunkOrder);
        Assert.Equal(2, apng.Plays);
        Assert.Equal(frame.Pixels, Png.Decode(stream.ToArray(), "single").Pixels);
    }

    [Fact]
    public void Frame_count_mismatches_are_rejected_and_write_nothing()
    {
        using var dir = new TempDir();
        var writer = new AnimatedPngWriter(4, 4, frameCount: 2);
        writer.AddFrame(RandomOpaque(4, 4, 1), 40);
        Assert.Throws<InvalidOperationException>(() => writer.Save(dir.File("short.png")));
        Assert.Empty(Directory.GetFiles(dir.Path));
        writer.AddFrame(RandomOpaque(4, 4, 2), 40);
        Assert.Throws<InvalidOperationException>(() => writer.AddFrame(RandomOpaque(4, 4, 3), 40));
        Assert.Equal(2, writer.FramesAdded);
    }

    [Fact]
    public void Frames_of_another_size_transparent_frames_and_long_delays_are_rejected()
    {
        var writer = new AnimatedPngWriter(4, 4, frameCount: 2);
        writer.AddFrame(RandomOpaque(4, 4, 1), 40);
        Assert.Contains("4x5", Assert.Throws<ArgumentException>(() => writer.AddFrame(RandomOpaque(4, 5, 2), 40)).Message);
        var transparent = RandomOpaque(4, 4, 3);
        transparent.Pixels[7] = 128;
        Assert.Throws<ArgumentException>(() => writer.AddFrame(transparent, 40));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.AddFrame(RandomOpaque(4, 4, 4), 70_000));
        Assert.Equal(1, writer.FramesAdded);
    }

    [Fact]
    public void Crc_is_the_png_crc32()
    {
        Assert.Equal(0xCBF43926u, PngChunks.Crc(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0xAE426082u, PngChunks.Crc(Encoding.ASCII.GetBytes("IEND")));
    }

    [Fact]
    public void Reading_chunks_checks_what_skiasharp_wrote_and_rejects_damage()
    {
        byte[] png = Png.Encode(RandomOpaque(6, 6, 5));
        var chunks = PngChunks.Read(png, "skia.png");
        Assert.Equal("IHDR", chunks[0].Type);
        Assert.Contains(chunks, c => c.Type == "IDAT");
        Assert.Equal("IEND", chunks[^1].Type);

        png[20] ^= 1; // inside IHDR's data
        Assert.Contains("CRC", Assert.Throws<InvalidDataException>(() => PngChunks.Read(png, "skia.png")).Message);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => PngChunks.Read(png.AsSpan(0, 30), "cut.png")).Message);
        Assert.Contains("signature", Assert.Throws<InvalidDataException>(() => PngChunks.Read([1, 2, 3], "junk.png")).Message);
    }
}
