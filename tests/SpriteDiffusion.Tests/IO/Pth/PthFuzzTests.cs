using System.Diagnostics;
using System.IO.Compression;
using SpriteDiffusion.IO.Pth;
using Xunit.Abstractions;

namespace SpriteDiffusion.Tests.IO.Pth;

/// <summary>
/// Truncations and random byte changes of the valid fixtures: every outcome must be a file read or
/// an InvalidDataException naming it, never another exception, a huge allocation or a hang.
/// </summary>
public class PthFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Files =
    [
        "seed_nf8.zip.pth", "seed_nf8.legacy.pth", "views.zip.pth", "views.legacy.pth",
        "dtypes.zip.pth", "dtypes.legacy.pth", "legacy_storage_view.pth",
    ];

    [Fact(Timeout = 300_000)]
    public async Task DamagedFilesFailOnlyWithInvalidDataException()
    {
        await Task.Run(() =>
        {
            var rng = new Random(20240611);
            var tally = new Tally();
            foreach (string file in Files)
            {
                byte[] valid = File.ReadAllBytes(PthTestFiles.PathOf(file));
                foreach (int length in TruncationLengths(valid.Length, rng))
                    tally.Check(valid.AsSpan(0, length).ToArray(), $"{file} cut to {length} bytes");
                for (int i = 0; i < 60; i++)
                {
                    var (bytes, what) = Mutate(valid, rng, structureBytes: file.Contains("legacy") ? 4096 : 8192, zip: file.Contains(".zip"));
                    tally.Check(bytes, $"{file} with {what}");
                }
            }
            output.WriteLine(tally.ToString());
            Assert.True(tally.Cases >= 500, tally.ToString());
            Assert.True(tally.Rejected > tally.Cases / 2, tally.ToString());
        });
    }

    /// <summary>
    /// A zip's CRCs reject most changes before the unpickler sees them, so this rebuilds a valid
    /// archive around a damaged data.pkl to put the unpickler itself under the same test.
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task DamagedPicklesInsideAnIntactZipFailOnlyWithInvalidDataException()
    {
        await Task.Run(() =>
        {
            var rng = new Random(77);
            var tally = new Tally();
            foreach (string file in new[] { "views.zip.pth", "dtypes.zip.pth" })
            {
                var (pickle, storages) = Unzip(File.ReadAllBytes(PthTestFiles.PathOf(file)));
                foreach (int length in TruncationLengths(pickle.Length, rng))
                    tally.Check(PthTestFiles.Zip(pickle.AsSpan(0, length).ToArray(), storages), $"{file} with data.pkl cut to {length} bytes");
                for (int i = 0; i < 150; i++)
                {
                    var (bytes, what) = Mutate(pickle, rng, structureBytes: pickle.Length, zip: false);
                    tally.Check(PthTestFiles.Zip(bytes, storages), $"{file} with data.pkl given {what}");
                }
            }
            output.WriteLine(tally.ToString());
            Assert.True(tally.Cases >= 300, tally.ToString());
        });
    }

    /// <summary>Every length up to 64, then lengths spread over the rest.</summary>
    private static IEnumerable<int> TruncationLengths(int length, Random rng)
    {
        for (int n = 0; n < Math.Min(64, length); n++) yield return n;
        for (int i = 0; i < 40; i++) yield return 64 + rng.Next(Math.Max(1, length - 64));
    }

    /// <summary>
    /// One to four bytes set to random values, mostly where the structure is (the pickles at the
    /// front, a zip's directory at the back), since changes to tensor data are valid files.
    /// </summary>
    private static (byte[] Bytes, string What) Mutate(byte[] valid, Random rng, int structureBytes, bool zip)
    {
        var bytes = (byte[])valid.Clone();
        var changes = new List<string>();
        int n = 1 + rng.Next(4);
        for (int k = 0; k < n; k++)
        {
            int region = Math.Min(structureBytes, bytes.Length);
            int at = rng.Next(3) switch
            {
                0 => rng.Next(bytes.Length),
                1 when zip => bytes.Length - 1 - rng.Next(region),
                _ => rng.Next(region),
            };
            byte value = (byte)rng.Next(256);
            changes.Add($"byte {at} 0x{bytes[at]:x2}->0x{value:x2}");
            bytes[at] = value;
        }
        return (bytes, string.Join(", ", changes));
    }

    private static (byte[] Pickle, (string, byte[])[] Storages) Unzip(byte[] zipBytes)
    {
        using var zip = new ZipArchive(new MemoryStream(zipBytes), ZipArchiveMode.Read);
        byte[]? pickle = null;
        var storages = new List<(string, byte[])>();
        foreach (var entry in zip.Entries)
        {
            using var stream = entry.Open();
            var data = new byte[entry.Length];
            stream.ReadExactly(data);
            if (entry.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)) pickle = data;
            else if (entry.FullName.Contains("/data/", StringComparison.Ordinal)) storages.Add((entry.FullName[(entry.FullName.LastIndexOf('/') + 1)..], data));
        }
        return (pickle!, storages.ToArray());
    }

    private sealed class Tally
    {
        public int Cases { get; private set; }

        public int Rejected { get; private set; }

        private TimeSpan _slowest;
        private string _slowestCase = "";

        public void Check(byte[] bytes, string what)
        {
            Cases++;
            var clock = Stopwatch.StartNew();
            try
            {
                PthFile.Parse(bytes, "fuzzed.pth");
            }
            catch (InvalidDataException e)
            {
                Rejected++;
                Assert.True(e.Message.StartsWith("fuzzed.pth: ", StringComparison.Ordinal), $"{what}: message does not name the file: {e.Message}");
            }
            catch (Exception e)
            {
                Assert.Fail($"{what}: {e.GetType().Name} instead of InvalidDataException: {e}");
            }
            if (clock.Elapsed > _slowest)
            {
                _slowest = clock.Elapsed;
                _slowestCase = what;
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{what}: took {clock.Elapsed}");
        }

        public override string ToString() =>
            $"{Cases} cases, {Rejected} rejected, slowest {_slowest.TotalMilliseconds:F1} ms ({_slowestCase})";
    }
}
