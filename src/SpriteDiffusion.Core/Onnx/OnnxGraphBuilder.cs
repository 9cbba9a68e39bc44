using System.Buffers.Binary;
using Google.Protobuf;
using SpriteDiffusion.Onnx.Proto;

namespace SpriteDiffusion.Onnx;

/// <summary>
/// Appends nodes and initializers to one ONNX graph in topological order (the order of the calls).
/// Each node's output value takes the node's own name, which keeps a value traceable to the layer
/// of the state dict that made it; names must therefore be unique, and a repeat is a bug.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly HashSet<string> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<float, string> _scalars = [];
    private readonly Dictionary<string, string> _shapes = new(StringComparer.Ordinal);

    public GraphProto Graph { get; } = new();

    /// <summary>Declares a float32 graph input or output; a null dimension is the symbolic batch size "N".</summary>
    public static ValueInfoProto FloatValue(string name, params int?[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (int? d in dims)
            shape.Dim.Add(d is int size ? new TensorShapeProto.Types.Dimension { DimValue = size } : new TensorShapeProto.Types.Dimension { DimParam = "N" });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>Adds a graph input and returns its name.</summary>
    public string Input(ValueInfoProto value)
    {
        Claim(value.Name);
        Graph.Input.Add(value);
        return value.Name;
    }

    /// <summary>Adds a float32 initializer holding <paramref name="values"/> (row-major) and returns its name.</summary>
    public string Initializer(string name, ReadOnlySpan<float> values, params int[] dims)
    {
        long count = 1;
        foreach (int d in dims) count *= d;
        if (count != values.Length) throw new InvalidOperationException($"initializer '{name}': {values.Length} values for shape [{string.Join(", ", dims)}]");
        // raw_data is little-endian by the specification, whatever the host.
        var bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        foreach (int d in dims) tensor.Dims.Add(d);
        AddInitializer(tensor);
        return name;
    }

    /// <summary>A float32 scalar constant, shared by every node that uses the same value.</summary>
    public string Scalar(float value)
    {
        if (_scalars.TryGetValue(value, out var name)) return name;
        name = $"const.f{_scalars.Count}";
        _scalars.Add(value, name);
        return Initializer(name, [value]);
    }

    /// <summary>An int64 vector constant such as Reshape's target shape, shared by equal shapes.</summary>
    public string Shape(params long[] values)
    {
        string key = string.Join(",", values);
        if (_shapes.TryGetValue(key, out var name)) return name;
        name = $"const.shape{_shapes.Count}";
        _shapes.Add(key, name);
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.Add(values);
        AddInitializer(tensor);
        return name;
    }

    /// <summary>Appends a node of the standard domain whose single output is named <paramref name="name"/>.</summary>
    public string Node(string opType, string name, string[] inputs, params AttributeProto[] attributes) =>
        Node(opType, name, name, inputs, attributes);

    /// <summary>Appends a node of the standard domain whose single output is named <paramref name="output"/>.</summary>
    public string Node(string opType, string name, string output, string[] inputs, params AttributeProto[] attributes)
    {
        Claim(output);
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.Add(inputs);
        node.Output.Add(output);
        node.Attribute.Add(attributes);
        Graph.Node.Add(node);
        return output;
    }

    /// <summary>An integer attribute.</summary>
    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A float attribute.</summary>
    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>An attribute holding a list of integers.</summary>
    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.Add(values);
        return a;
    }

    private void AddInitializer(TensorProto tensor)
    {
        Claim(tensor.Name);
        Graph.Initializer.Add(tensor);
    }

    private void Claim(string name)
    {
        if (!_values.Add(name)) throw new InvalidOperationException($"the ONNX graph already has a value named '{name}'");
    }
}
