using System.IO.Compression;
using System.Text;

namespace SpriteDiffusion.IO.Pth;

/// <summary>
/// The zip format torch.save has written since torch 1.6: a folder (named after the file, or
/// "archive") holding data.pkl, the pickled state dict whose storages are persistent ids, and
/// data/&lt;key&gt; with each storage's raw bytes; newer versions add a byteorder record.
/// </summary>
internal static class PthZipReader
{
    /// <summary>Bytes of data.pkl; a state dict's pickle takes about 130 bytes per tensor.</summary>
    public const int MaxPickleBytes = 256 << 20;

    /// <summary>
    /// How far the storages may expand past the file's own size. torch stores them uncompressed, so
    /// this only refuses a re-compressed archive that would inflate without bound.
    /// </summary>
    public const int MaxExpansion = 32;

    public static (object? Root, StorageTable Storages) Read(byte[] bytes, PthErrors errors)
    {
        using var archive = Zip(() => new ZipArchive(new MemoryStream(bytes, writable: false), ZipArchiveMode.Read), "the zip directory", errors);
        var entries = Zip(() => archive.Entries, "the zip directory", errors);

        ZipArchiveEntry? pickle = null;
        foreach (var entry in entries)
        {
            string name = entry.FullName;
            if (!name.EndsWith("/data.pkl", StringComparison.Ordinal) || name.IndexOf('/') != name.Length - "/data.pkl".Length)
                continue;
            if (pickle is not null)
                throw errors.Unsupported($"the zip holds two state dicts, '{PthErrors.Show(pickle.FullName)}' and '{PthErrors.Show(name)}', where torch.save writes one");
            pickle = entry;
        }
        if (pickle is null)
            throw errors.NotStateDict("is a zip archive but not a PyTorch checkpoint: it has no <folder>/data.pkl");
        string folder = pickle.FullName[..^"data.pkl".Length];

        CheckByteOrder(archive, folder, errors);

        if (pickle.Length > MaxPickleBytes)
            throw errors.TooLarge($"{PthErrors.Show(pickle.FullName)} is {pickle.Length} bytes");
        byte[] pickleBytes = ReadEntry(pickle, (int)pickle.Length, errors);

        var storages = new StorageTable(errors, legacy: false);
        int position = 0;
        object? root = RestrictedUnpickler.Load(pickleBytes, ref position, pickleBytes.Length, errors, $"the pickle {PthErrors.Show(pickle.FullName)}", storages.Load);

        long budget = Math.Max((long)bytes.Length * MaxExpansion, 64L << 20);
        long total = 0;
        foreach (var storage in storages.InOrder)
        {
            string name = folder + "data/" + storage.Key;
            var entry = Zip(() => archive.GetEntry(name), $"entry {PthErrors.Show(name)}", errors)
                ?? throw errors.Damaged($"storage '{PthErrors.Show(storage.Key)}' is used by a tensor but the zip has no {PthErrors.Show(name)}");
            long expected = storage.Numel * storage.Kind.ElementSize;
            if (entry.Length != expected)
                throw errors.Damaged($"{PthErrors.Show(name)} holds {entry.Length} bytes but the pickle declares {storage.Numel} {storage.Kind.DType} elements ({expected} bytes)");
            total += expected;
            if (total > budget)
                throw errors.TooLarge($"its storages expand to more than {budget} bytes from a {bytes.Length} byte file");
            storage.SetBytes(ReadEntry(entry, (int)expected, errors), 0);
        }
        return (root, storages);
    }

    /// <summary>Storages are written in the saving machine's byte order; only little-endian is read.</summary>
    private static void CheckByteOrder(ZipArchive archive, string folder, PthErrors errors)
    {
        string name = folder + "byteorder";
        var entry = Zip(() => archive.GetEntry(name), $"entry {PthErrors.Show(name)}", errors);
        if (entry is null)
            return; // torch before 2.1 wrote none, and only little-endian storages
        if (entry.Length > 16)
            throw errors.Damaged($"{PthErrors.Show(name)} is {entry.Length} bytes where torch writes 'little' or 'big'");
        string order = Encoding.ASCII.GetString(ReadEntry(entry, (int)entry.Length, errors));
        if (order == "big")
            throw errors.Unsupported($"{PthErrors.Show(name)} says the file was saved on a big-endian machine; only little-endian checkpoints are supported (as saved on x86 and ARM computers)");
        if (order != "little")
            throw errors.Damaged($"{PthErrors.Show(name)} says '{PthErrors.Show(order)}' where torch writes 'little' or 'big'");
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry, int length, PthErrors errors)
    {
        var data = new byte[length];
        Zip(() =>
        {
            using var stream = entry.Open();
            stream.ReadExactly(data);
            return true;
        }, $"entry {PthErrors.Show(entry.FullName)}", errors);
        return data;
    }

    /// <summary>
    /// Runs a ZipArchive call, turning the ways it reports a damaged archive into one message that
    /// names the file. Only BCL calls go in here, so none of this reader's own messages are rewrapped.
    /// </summary>
    private static T Zip<T>(Func<T> action, string what, PthErrors errors)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException)
        {
            throw errors.Damaged($"cannot read {what} of the zip archive ({e.Message})", e);
        }
    }
}
