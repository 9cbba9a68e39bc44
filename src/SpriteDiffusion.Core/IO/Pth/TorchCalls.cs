using System.Numerics;

namespace SpriteDiffusion.IO.Pth;

/// <summary>
/// What REDUCE may call: the few allow-listed torch functions, reimplemented here over pickle
/// values. This is the only meaning a callable from the file can have.
/// </summary>
internal static class TorchCalls
{
    /// <summary>Dimensions of one tensor; the seed's tensors have at most four.</summary>
    public const int MaxDims = 64;

    public static object Call(PickleGlobal function, PickleTuple args, PthErrors errors, string at) => function.Kind switch
    {
        TorchGlobal.OrderedDict => NewOrderedDict(args, errors, at),
        TorchGlobal.RebuildTensorV2 => RebuildTensor(args, errors, at),
        TorchGlobal.RebuildParameter => RebuildParameter(args, errors, at),
        _ => throw errors.Damaged($"{at}: REDUCE calls {function.FullName}, a storage type, which torch never calls in a state dict"),
    };

    /// <summary>OrderedDict's pickle calls it with no arguments and adds the items with SETITEMS.</summary>
    private static PickleDict NewOrderedDict(PickleTuple args, PthErrors errors, string at)
    {
        if (args.Count != 0)
            throw errors.Unsupported($"{at}: collections.OrderedDict is called with {args.Count} arguments where torch.save passes none");
        return new PickleDict(ordered: true);
    }

    /// <summary>
    /// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]):
    /// checked here, when the storage's declared length is known, so that a tensor reaching past its
    /// storage is refused before anything is read.
    /// </summary>
    private static TensorRef RebuildTensor(PickleTuple args, PthErrors errors, string at)
    {
        const string function = "torch._utils._rebuild_tensor_v2";
        if (args.Count is not (6 or 7))
            throw errors.Damaged($"{at}: {function} gets {args.Count} arguments; torch passes 6 (or 7 with metadata)");
        if (args[0] is not StorageRef storage)
            throw errors.Damaged($"{at}: {function}'s storage is {PickleDescribe.TypeOf(args[0])}");
        long offset = NonNegative(args[1], "storage offset", errors, at);
        int[] size = Sizes(args[2], errors, at);
        long[] stride = Strides(args[3], size.Length, errors, at);
        if (args[4] is not bool)
            throw errors.Damaged($"{at}: {function}'s requires_grad is {PickleDescribe.TypeOf(args[4])}, not a bool");
        if (args[5] is not PickleDict)
            throw errors.Damaged($"{at}: {function}'s backward hooks are {PickleDescribe.TypeOf(args[5])}, not a dict");
        if (args.Count == 7 && args[6] is not (null or PickleDict))
            throw errors.Damaged($"{at}: {function}'s metadata is {PickleDescribe.TypeOf(args[6])}, not a dict");

        long count = 1;
        foreach (int d in size)
        {
            count *= d; // each d < 2^31 and count stays below Array.MaxLength, so this cannot overflow
            if (count > Array.MaxLength)
                throw errors.TooLarge($"{at}: a tensor of shape [{string.Join(", ", size)}] has more than {Array.MaxLength} elements");
        }

        if (count > 0)
        {
            // Int128 because a damaged stride times a damaged size can pass 2^63.
            Int128 last = offset;
            for (int i = 0; i < size.Length; i++) last += (Int128)(size[i] - 1) * stride[i];
            if (last >= storage.Length)
                throw errors.Damaged(
                    $"{at}: a tensor of shape [{string.Join(", ", size)}] with strides ({string.Join(", ", stride)}) at offset {offset} " +
                    $"needs {last + 1} elements of its storage '{PthErrors.Show(storage.Root.Key)}', which holds {storage.Length}");
        }
        return new TensorRef(storage, offset, size, stride, count);
    }

    /// <summary>_rebuild_parameter(data, requires_grad, backward_hooks): a parameter is its tensor here.</summary>
    private static TensorRef RebuildParameter(PickleTuple args, PthErrors errors, string at)
    {
        const string function = "torch._utils._rebuild_parameter";
        if (args.Count != 3)
            throw errors.Damaged($"{at}: {function} gets {args.Count} arguments; torch passes 3");
        if (args[0] is not TensorRef tensor)
            throw errors.Damaged($"{at}: {function}'s data is {PickleDescribe.TypeOf(args[0])}, not a tensor");
        if (args[1] is not bool)
            throw errors.Damaged($"{at}: {function}'s requires_grad is {PickleDescribe.TypeOf(args[1])}, not a bool");
        if (args[2] is not PickleDict)
            throw errors.Damaged($"{at}: {function}'s backward hooks are {PickleDescribe.TypeOf(args[2])}, not a dict");
        return tensor;
    }

    private static int[] Sizes(object? value, PthErrors errors, string at)
    {
        if (value is not PickleTuple tuple)
            throw errors.Damaged($"{at}: a tensor's size is {PickleDescribe.TypeOf(value)}, not a tuple");
        if (tuple.Count > MaxDims)
            throw errors.Unsupported($"{at}: a tensor has {tuple.Count} dimensions (at most {MaxDims} are supported)");
        var size = new int[tuple.Count];
        for (int i = 0; i < size.Length; i++)
        {
            long d = NonNegative(tuple[i], "size", errors, at);
            if (d > int.MaxValue)
                throw errors.TooLarge($"{at}: a tensor dimension of {d}");
            size[i] = (int)d;
        }
        return size;
    }

    private static long[] Strides(object? value, int dims, PthErrors errors, string at)
    {
        if (value is not PickleTuple tuple)
            throw errors.Damaged($"{at}: a tensor's stride is {PickleDescribe.TypeOf(value)}, not a tuple");
        if (tuple.Count != dims)
            throw errors.Damaged($"{at}: a tensor has {dims} dimensions but {tuple.Count} strides");
        var stride = new long[dims];
        for (int i = 0; i < dims; i++) stride[i] = NonNegative(tuple[i], "stride", errors, at);
        return stride;
    }

    /// <summary>A non-negative Python int; torch never writes negative sizes, strides or offsets.</summary>
    public static long NonNegative(object? value, string what, PthErrors errors, string at) => value switch
    {
        long v when v >= 0 => v,
        long v => throw errors.Damaged($"{at}: a negative {what} ({v})"),
        BigInteger v => throw errors.Damaged($"{at}: a {what} of {v}, beyond any tensor"),
        _ => throw errors.Damaged($"{at}: a {what} is {PickleDescribe.TypeOf(value)}, not an int"),
    };
}
