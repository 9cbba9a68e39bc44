using System.Buffers.Binary;
using System.Numerics;

namespace SpriteDiffusion.IO.Pth;

/// <summary>
/// The format of torch.save before 1.6 (and with _use_new_zipfile_serialization=False): pickles of
/// the magic number, the protocol version and sys_info, then the state dict whose storages are
/// persistent ids, then the list of storage keys, then for each key an 8-byte little-endian element
/// count and the storage's raw bytes.
/// </summary>
internal static class PthLegacyReader
{
    /// <summary>torch's MAGIC_NUMBER for this format.</summary>
    private static readonly BigInteger Magic = BigInteger.Parse("1950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber);

    /// <summary>torch's PROTOCOL_VERSION for this format.</summary>
    private const long ProtocolVersion = 1001;

    public static (object? Root, StorageTable Storages) Read(byte[] bytes, PthErrors errors)
    {
        int position = 0;
        object? magic = Next(bytes, ref position, errors, "the magic-number pickle", null);
        if (magic is not BigInteger m || m != Magic)
            throw errors.NotStateDict($"starts with a pickle of {PickleDescribe.TypeOf(magic)} instead of torch's magic number, so it is not a PyTorch checkpoint");
        object? version = Next(bytes, ref position, errors, "the protocol-version pickle", null);
        if (version is not long v || v != ProtocolVersion)
            throw errors.Unsupported($"is a legacy PyTorch checkpoint of protocol version {(version is long x ? x.ToString() : PickleDescribe.TypeOf(version))}; only version {ProtocolVersion} is known");
        // sys_info records the saving machine's byte order, but this format's storages are always
        // written little-endian, so nothing in it matters here.
        object? sysInfo = Next(bytes, ref position, errors, "the sys_info pickle", null);
        if (sysInfo is not PickleDict)
            throw errors.Damaged($"its sys_info pickle holds {PickleDescribe.TypeOf(sysInfo)}, not a dict");

        var storages = new StorageTable(errors, legacy: true);
        object? root = Next(bytes, ref position, errors, "the state dict's pickle", storages.Load);

        int keysStart = position;
        object? keys = Next(bytes, ref position, errors, "the storage-key pickle", null);
        if (keys is not PickleList list)
            throw errors.Damaged($"the storage-key pickle at byte {keysStart} holds {PickleDescribe.TypeOf(keys)}, not a list");

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (object? item in list.Items)
        {
            if (item is not string key)
                throw errors.Damaged($"the storage-key list holds {PickleDescribe.TypeOf(item)}");
            if (!storages.TryGet(key, out var storage))
                throw errors.Damaged($"the storage-key list names '{PthErrors.Show(key)}', which no tensor uses");
            if (!seen.Add(key))
                throw errors.Damaged($"the storage-key list names '{PthErrors.Show(key)}' twice");
            if (bytes.Length - position < 8)
                throw errors.Damaged($"the file ends at byte {bytes.Length}, before storage '{PthErrors.Show(key)}'");
            long count = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(position, 8));
            if (count != storage.Numel)
                throw errors.Damaged($"storage '{PthErrors.Show(key)}' at byte {position} holds {count} elements but the pickle declares {storage.Numel}");
            position += 8;
            long length = storage.Numel * storage.Kind.ElementSize;
            if (length > bytes.Length - position)
                throw errors.Damaged($"storage '{PthErrors.Show(key)}' needs {length} bytes from byte {position} but the file ends at byte {bytes.Length}");
            storage.SetBytes(bytes, position);
            position += (int)length;
        }
        foreach (var storage in storages.InOrder)
            if (!seen.Contains(storage.Key))
                throw errors.Damaged($"storage '{PthErrors.Show(storage.Key)}' is used by a tensor but the file does not store it");
        return (root, storages);
    }

    private static object? Next(byte[] bytes, ref int position, PthErrors errors, string what, Func<object?, string, object>? persistentLoad)
    {
        if (position >= bytes.Length)
            throw errors.Damaged($"the file ends at byte {bytes.Length}, before {what}");
        return RestrictedUnpickler.Load(bytes, ref position, bytes.Length, errors, what, persistentLoad);
    }
}
