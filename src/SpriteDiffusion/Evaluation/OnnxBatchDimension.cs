using System.Buffers;
using System.Text;

namespace SpriteDiffusion.Evaluation;

/// <summary>
/// Makes the first dimension of one graph input and one graph output symbolic, by rewriting the
/// ONNX protobuf on the wire. Models exported with a fixed batch of 1 (the package's ResNet-18
/// and its preprocessing model are) would otherwise refuse batched input, and running images one
/// by one leaves ONNX Runtime's kernels on small matrices. Inferred shapes (value_info) are
/// dropped so that ONNX Runtime infers them again for the new batch dimension.
/// </summary>
internal static class OnnxBatchDimension
{
    private const int WireVarint = 0, WireFixed64 = 1, WireLength = 2, WireFixed32 = 5;
    private const int ModelGraph = 7;
    private const int GraphInput = 11, GraphOutput = 12, GraphValueInfo = 13;
    private const int ValueInfoName = 1, ValueInfoType = 2;
    private const int TypeTensor = 1, TensorShape = 2, ShapeDim = 1, DimParam = 2;

    public const string BatchDimensionName = "batch";

    public static byte[] MakeBatchDynamic(byte[] model, IReadOnlySet<string> inputNames, IReadOnlySet<string> outputNames)
    {
        var writer = new ArrayBufferWriter<byte>(model.Length + 1024);
        foreach (var field in Fields(model))
        {
            if (field.Number == ModelGraph && field.WireType == WireLength)
                WriteLengthDelimited(writer, field.Number, RewriteGraph(field.Payload(model), inputNames, outputNames));
            else
                writer.Write(field.Raw(model));
        }
        return writer.WrittenSpan.ToArray();
    }

    private static byte[] RewriteGraph(ReadOnlySpan<byte> graph, IReadOnlySet<string> inputs, IReadOnlySet<string> outputs)
    {
        var writer = new ArrayBufferWriter<byte>(graph.Length + 256);
        foreach (var field in Fields(graph))
        {
            if (field.Number == GraphValueInfo && field.WireType == WireLength)
                continue;
            bool isEnd = field.WireType == WireLength && (field.Number == GraphInput || field.Number == GraphOutput);
            if (isEnd)
            {
                var valueInfo = field.Payload(graph);
                var names = field.Number == GraphInput ? inputs : outputs;
                string? name = ReadName(valueInfo);
                if (name is not null && names.Contains(name))
                {
                    WriteLengthDelimited(writer, field.Number, RewriteValueInfo(valueInfo));
                    continue;
                }
            }
            writer.Write(field.Raw(graph));
        }
        return writer.WrittenSpan.ToArray();
    }

    private static string? ReadName(ReadOnlySpan<byte> valueInfo)
    {
        foreach (var field in Fields(valueInfo))
            if (field.Number == ValueInfoName && field.WireType == WireLength)
                return Encoding.UTF8.GetString(field.Payload(valueInfo));
        return null;
    }

    private static byte[] RewriteValueInfo(ReadOnlySpan<byte> valueInfo) =>
        RewriteNested(valueInfo, ValueInfoType, type => RewriteNested(type, TypeTensor, tensor => RewriteNested(tensor, TensorShape, RewriteShape)));

    private static byte[] RewriteNested(ReadOnlySpan<byte> message, int fieldNumber, Func<byte[], byte[]> rewrite)
    {
        var writer = new ArrayBufferWriter<byte>(message.Length + 16);
        foreach (var field in Fields(message))
        {
            if (field.Number == fieldNumber && field.WireType == WireLength)
                WriteLengthDelimited(writer, field.Number, rewrite(field.Payload(message).ToArray()));
            else
                writer.Write(field.Raw(message));
        }
        return writer.WrittenSpan.ToArray();
    }

    private static byte[] RewriteShape(byte[] shape)
    {
        var writer = new ArrayBufferWriter<byte>(shape.Length + 16);
        bool first = true;
        foreach (var field in Fields(shape))
        {
            if (first && field.Number == ShapeDim && field.WireType == WireLength)
            {
                first = false;
                var dimension = new ArrayBufferWriter<byte>();
                WriteLengthDelimited(dimension, DimParam, Encoding.UTF8.GetBytes(BatchDimensionName));
                WriteLengthDelimited(writer, ShapeDim, dimension.WrittenSpan);
                continue;
            }
            writer.Write(field.Raw(shape));
        }
        return writer.WrittenSpan.ToArray();
    }

    private static void WriteLengthDelimited(ArrayBufferWriter<byte> writer, int fieldNumber, ReadOnlySpan<byte> payload)
    {
        WriteVarint(writer, ((ulong)fieldNumber << 3) | WireLength);
        WriteVarint(writer, (ulong)payload.Length);
        writer.Write(payload);
    }

    private static void WriteVarint(ArrayBufferWriter<byte> writer, ulong value)
    {
        Span<byte> bytes = stackalloc byte[10];
        int n = 0;
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            bytes[n++] = value != 0 ? (byte)(b | 0x80) : b;
        } while (value != 0);
        writer.Write(bytes[..n]);
    }

    private readonly record struct Field(int Number, int WireType, int Start, int PayloadStart, int End)
    {
        public ReadOnlySpan<byte> Raw(ReadOnlySpan<byte> message) => message[Start..End];
        public ReadOnlySpan<byte> Payload(ReadOnlySpan<byte> message) => message[PayloadStart..End];
    }

    private static List<Field> Fields(ReadOnlySpan<byte> message)
    {
        var fields = new List<Field>();
        int position = 0;
        while (position < message.Length)
        {
            int start = position;
            ulong tag = ReadVarint(message, ref position);
            int wireType = (int)(tag & 7);
            int number = (int)(tag >> 3);
            int payloadStart = position;
            switch (wireType)
            {
                case WireVarint: ReadVarint(message, ref position); break;
                case WireFixed64: position += 8; break;
                case WireFixed32: position += 4; break;
                case WireLength:
                    ulong length = ReadVarint(message, ref position);
                    if (length > (ulong)(message.Length - position)) throw Corrupt();
                    payloadStart = position;
                    position += (int)length;
                    break;
                default: throw Corrupt();
            }
            if (position > message.Length) throw Corrupt();
            fields.Add(new Field(number, wireType, start, payloadStart, position));
        }
        return fields;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> message, ref int position)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (position >= message.Length) throw Corrupt();
            byte b = message[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw Corrupt();
    }

    private static InvalidDataException Corrupt() => new("the ONNX model is not a well-formed protobuf message");
}
