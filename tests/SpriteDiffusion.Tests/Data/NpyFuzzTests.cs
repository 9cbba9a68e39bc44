using System.Diagnostics;
using System.Text;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Data;

/// <summary>
/// Throws mutated headers and random bytes at the reader: each must end in a valid array or a
/// <see cref="InvalidDataException"/> that names the file - never another exception, a hang, a crash, or an
/// allocation sized by what a lying header claims.
/// </summary>
public class NpyFuzzTests
{
    private const int Cases = 12_000;

    [Fact]
    public void EveryMutationEndsInAnArrayOrAClearError()
    {
        var rng = new Random(1234);
        var seeds = SeedFiles(rng);
        var failures = new List<string>();
        int valid = 0, refused = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < Cases && failures.Count < 5; i++)
        {
            byte[] bytes = Mutate(seeds[rng.Next(seeds.Count)], rng);
            string name = $"fuzz-{i}.npy";
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                Stream stream = i % 10 == 0 ? new ForwardOnlyStream(bytes) : new MemoryStream(bytes);
                var array = Npy.Read(stream, name);
                long count = array.Shape.Aggregate(1L, (a, b) => a * b);
                if (count != array.Count || count * array.DType.ItemSize() > bytes.Length)
                    failures.Add($"{name}: array of {array.Count} elements for shape ({string.Join(",", array.Shape)}) from {bytes.Length} bytes");
                valid++;
            }
            catch (InvalidDataException e)
            {
                if (!e.Message.Contains(name))
                    failures.Add($"{name}: error does not name the file: {e.Message}");
                refused++;
            }
            catch (Exception e)
            {
                failures.Add($"{name}: {e.GetType().Name}: {e.Message}\n  input: {Convert.ToHexString(bytes.AsSpan(0, Math.Min(bytes.Length, 160)))}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > 8L * bytes.Length + (1 << 18))
                failures.Add($"{name}: allocated {allocated:N0} bytes for a {bytes.Length}-byte input");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(valid > Cases / 20 && refused > Cases / 2, $"{valid} valid, {refused} refused: the mutations are not exercising both outcomes");
        // A generous bound: it guards against a hang, not against a busy machine (it takes about 2 s).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    private static List<byte[]> SeedFiles(Random rng)
    {
        var seeds = new List<byte[]>();
        int[][] shapes = [[], [0], [4], [2, 3], [3, 2, 2], [2, 4, 4, 3], [1, 1, 1, 1, 2]];
        foreach (int[] shape in shapes)
        {
            int n = shape.Aggregate(1, (a, b) => a * b);
            var stream = new MemoryStream();
            switch (rng.Next(4))
            {
                case 0: { var d = new byte[n]; rng.NextBytes(d); Npy.Write<byte>(stream, d, shape); break; }
                case 1: Npy.Write<long>(stream, Enumerable.Range(0, n).Select(i => (long)i * 7919).ToArray(), shape); break;
                case 2: Npy.Write<float>(stream, Enumerable.Range(0, n).Select(i => i * 0.25f).ToArray(), shape); break;
                default: Npy.Write<double>(stream, Enumerable.Range(0, n).Select(i => i * -1.5).ToArray(), shape); break;
            }
            seeds.Add(stream.ToArray());
        }
        foreach (string f in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Data", "npy"), "*.npy"))
            seeds.Add(File.ReadAllBytes(f));
        // Version 2.0 and 3.0 preambles around a valid dict.
        foreach (int major in new[] { 2, 3 })
            seeds.Add(WithVersion(seeds[3], major));
        return seeds;
    }

    /// <summary>A version 1.0 file re-framed as version 2.0 or 3.0: the header length grows from 2 bytes to 4.</summary>
    private static byte[] WithVersion(byte[] v1, int major)
    {
        int headerLength = BitConverter.ToUInt16(v1, 8);
        var v = new byte[v1.Length + 2];
        v1.AsSpan(0, 8).CopyTo(v);
        v[6] = (byte)major;
        BitConverter.GetBytes((uint)headerLength).CopyTo(v, 8);
        v1.AsSpan(10).CopyTo(v.AsSpan(12));
        return v;
    }

    private static readonly string[] Tokens =
    [
        "(", ")", "[", "]", "{", "}", ",", ":", "'", "\"", "True", "False", "None", "-1", "0", "1", "3L",
        "99999999999999999999", "2147483647", "2147483648", "'<f8'", "'>f8'", "'|u1'", "'<i4'", "'<c16'", "'O'",
        "'shape'", "'descr'", "'fortran_order'", " ", "\n", "\\", "\u00e9", "\u0000", "(3,)", "()",
        "(1000000, 1000000)", "(0, 5)", "[('a', '<f4')]",
    ];

    private static byte[] Mutate(byte[] seed, Random rng)
    {
        switch (rng.Next(9))
        {
            case 8:
                return Respell(seed, rng);
            case 0: // flip bytes, mostly in the header
            {
                var b = (byte[])seed.Clone();
                for (int k = rng.Next(1, 5); k > 0; k--)
                    b[rng.Next(Math.Min(b.Length, rng.Next(2) == 0 ? 16 : 128))] = (byte)rng.Next(256);
                return b;
            }
            case 1: // truncate
                return seed[..rng.Next(seed.Length + 1)];
            case 2: // append junk
            {
                var extra = new byte[rng.Next(1, 40)];
                rng.NextBytes(extra);
                return [.. seed, .. extra];
            }
            case 3: // rewrite the header-length field
            {
                var b = (byte[])seed.Clone();
                int width = b[6] == 1 ? 2 : 4;
                uint value = rng.Next(3) switch { 0 => (uint)rng.Next(0, 300), 1 => uint.MaxValue - (uint)rng.Next(100), _ => (uint)rng.Next() };
                for (int k = 0; k < width && 8 + k < b.Length; k++) b[8 + k] = (byte)(value >> (8 * k));
                return b;
            }
            case 4: // random bytes, sometimes behind a valid preamble
            {
                var b = new byte[rng.Next(0, 300)];
                rng.NextBytes(b);
                if (rng.Next(2) == 0 && b.Length >= 10)
                {
                    seed.AsSpan(0, 8).CopyTo(b);
                    b[8] = (byte)rng.Next(256);
                    b[9] = 0;
                }
                return b;
            }
            default: // edit the header text at the token level, then re-pad as a v1.0 file
            {
                string text = HeaderText(seed);
                var sb = new StringBuilder(text);
                for (int k = rng.Next(1, 4); k > 0; k--)
                {
                    int at = rng.Next(sb.Length + 1);
                    switch (rng.Next(3))
                    {
                        case 0: sb.Insert(at, Tokens[rng.Next(Tokens.Length)]); break;
                        case 1: sb.Remove(at, Math.Min(rng.Next(1, 6), sb.Length - at)); break;
                        default:
                            if (at < sb.Length) sb[at] = Tokens[rng.Next(Tokens.Length)][0];
                            break;
                    }
                }
                int dataStart = DataStart(seed);
                var data = seed.AsSpan(Math.Min(dataStart, seed.Length)).ToArray();
                if (rng.Next(4) == 0) data = data[..rng.Next(data.Length + 1)];
                return NpyTests.Handmade(sb.ToString(), data);
            }
        }
    }

    /// <summary>The same array spelled another legal way: key order, quotes, spacing, "L" suffixes, format version.</summary>
    private static byte[] Respell(byte[] seed, Random rng)
    {
        NpyHeader header;
        try { header = NpyHeader.Read(new MemoryStream(seed), "seed", seed.Length); }
        catch (InvalidDataException) { return seed; }
        char q = rng.Next(2) == 0 ? '\'' : '"';
        string sp() => new(' ', rng.Next(3));
        string dims = string.Join("," + sp(), header.Shape.Select(d => d + (rng.Next(4) == 0 ? "L" : "")));
        string shape = header.Shape.Length == 1 ? $"({dims},)" : $"({dims}{(rng.Next(2) == 0 ? "," : "")})";
        var items = new List<string>
        {
            $"{q}descr{q}:{sp()}{q}{header.DType.Descr()}{q}",
            $"{q}fortran_order{q}:{sp()}False",
            $"{q}shape{q}:{sp()}{shape}",
        };
        items = items.OrderBy(_ => rng.Next()).ToList();
        string dict = "{" + sp() + string.Join("," + sp(), items) + (rng.Next(2) == 0 ? ", " : "") + "}";
        byte[] data = seed[(int)header.DataOffset..];
        byte[] v1 = NpyTests.Handmade(dict, data);
        return rng.Next(3) == 0 ? v1 : WithVersion(v1, rng.Next(2, 4));
    }

    private static int DataStart(byte[] file) =>
        file.Length < 12 ? file.Length : file[6] == 1 ? 10 + BitConverter.ToUInt16(file, 8) : 12 + (int)Math.Min(BitConverter.ToUInt32(file, 8), (uint)file.Length);

    private static string HeaderText(byte[] file)
    {
        int start = file.Length >= 12 && file[6] != 1 ? 12 : 10;
        int end = Math.Min(DataStart(file), file.Length);
        return end > start ? Encoding.Latin1.GetString(file, start, end - start).TrimEnd() : "{}";
    }
}
