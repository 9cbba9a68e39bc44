using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

// ONNX Runtime's side of tools/reference/side_by_side.sh: eval-mode forward passes of the seed
// U-Net exported by tools/reference/export_onnx_baseline.py, timed the way `sprites bench
// sample-step` times ours (fixed inputs, forward only) and printed in the same form.
//   dotnet run -c Release --project bench/OrtBench -- --model tools/reference/onnx/seed_unet_nf64.onnx \
//       [--batch 16] [--steps 5] [--threads N] [--warmup 1] [--no-spin] [--check] [--save-optimized FILE.onnx]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

Options options;
try { options = Options.Parse(args); }
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine("usage: OrtBench --model FILE.onnx [--batch 16] [--steps 5] [--threads N] [--warmup 1] [--no-spin] [--check] [--save-optimized FILE.onnx]");
    return 2;
}
if (!File.Exists(options.Model))
{
    Console.Error.WriteLine($"error: {options.Model} not found (tools/reference/export_onnx_baseline.py writes the models).");
    return 2;
}

using var sessionOptions = new SessionOptions
{
    GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    IntraOpNumThreads = options.Threads,
    InterOpNumThreads = 1,
    ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
};
// Spinning is ONNX Runtime's default and is kept unless asked: the baseline is ORT as it comes.
if (!options.Spin) sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
// The graph ORT actually runs after its fusions, for a reader comparing it with ours operator by operator.
if (options.SaveOptimized is not null) sessionOptions.OptimizedModelFilePath = options.SaveOptimized;
using var session = new InferenceSession(options.Model, sessionOptions);
using var runOptions = new RunOptions();

foreach (var name in new[] { "x", "t", "c" })
    if (!session.InputMetadata.ContainsKey(name))
        throw new InvalidDataException($"{options.Model}: no input named '{name}' (inputs: {string.Join(", ", session.InputMetadata.Keys)}).");
if (!session.OutputMetadata.ContainsKey("eps"))
    throw new InvalidDataException($"{options.Model}: no output named 'eps'.");
int[] xDims = session.InputMetadata["x"].Dimensions;
int channels = xDims[1], height = xDims[2], width = xDims[3];
int nCFeat = session.InputMetadata["c"].Dimensions[1];

Console.WriteLine($"onnxruntime {OrtEnv.Instance().GetVersionString()}, model {Path.GetFileName(options.Model)} " +
                  $"(producer {session.ModelMetadata.ProducerName}), intra-op threads {options.Threads}, inter-op 1, sequential, " +
                  $"all graph optimisations, spinning {(options.Spin ? "on" : "off")}");

return options.Check ? Check() : Bench();

int Bench()
{
    int batch = options.Batch, imageFloats = channels * height * width;
    var x = new float[batch * imageFloats];
    var t = new float[batch];
    var c = new float[batch * nCFeat];
    var eps = new float[batch * imageFloats];
    // The same distributions as `sprites bench sample-step`: x ~ U[-1, 1], t/T ~ U[0, 1), null context.
    var random = new Random(2);
    for (int i = 0; i < x.Length; i++) x[i] = 2 * random.NextSingle() - 1;
    for (int i = 0; i < t.Length; i++) t[i] = random.NextSingle();

    long[] imageShape = [batch, channels, height, width];
    // Tensors over our own arrays, bound once: each Run then neither copies nor allocates on the
    // managed side, so the clock sees ONNX Runtime's work only.
    using var xValue = OrtValue.CreateTensorValueFromMemory(x, imageShape);
    using var tValue = OrtValue.CreateTensorValueFromMemory(t, [batch, 1]);
    using var cValue = OrtValue.CreateTensorValueFromMemory(c, [batch, nCFeat]);
    using var epsValue = OrtValue.CreateTensorValueFromMemory(eps, imageShape);
    using var binding = session.CreateIoBinding();
    binding.BindInput("x", xValue);
    binding.BindInput("t", tValue);
    binding.BindInput("c", cValue);
    binding.BindOutput("eps", epsValue);

    Console.WriteLine($"sample-step: n_cfeat {nCFeat}, batch {batch}, {options.Steps} timed forward passes after {options.Warmup} warm-up");
    // Warm-up: the first run sizes ORT's memory arena and picks its kernels.
    for (int i = 0; i < options.Warmup; i++) session.RunWithBinding(runOptions, binding);

    var times = new double[options.Steps];
    long started = Stopwatch.GetTimestamp();
    for (int i = 0; i < times.Length; i++)
    {
        long t0 = Stopwatch.GetTimestamp();
        session.RunWithBinding(runOptions, binding);
        times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }
    double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

    double meanAbs = 0;
    foreach (float v in eps) meanAbs += Math.Abs(v);
    var sorted = (double[])times.Clone();
    Array.Sort(sorted);
    Console.WriteLine("per-step ms: " + string.Join(", ", times.Select(ms => ms.ToString("F1"))));
    Console.WriteLine($"seconds={seconds:F3}");
    Console.WriteLine($"ms_per_step={1000 * seconds / times.Length:F1} (median {sorted[sorted.Length / 2]:F1}, min {sorted[0]:F1}, max {sorted[^1]:F1})");
    Console.WriteLine($"mean_abs_eps={meanAbs / eps.Length:F5}");
    Console.WriteLine($"peak_rss_mb={Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024):F0}");
    Console.WriteLine($"img/s={batch * times.Length / seconds:F2}");
    return 0;
}

// Runs the model on the inputs stored beside it by the exporter and compares with PyTorch's
// float32 output: evidence that the file timed is the network we think it is.
int Check()
{
    string path = Path.ChangeExtension(options.Model, null) + ".check.safetensors";
    var tensors = Safetensors.ReadFloat32(path);
    var (x, xShape) = tensors["x"];
    var (t, tShape) = tensors["t"];
    var (c, cShape) = tensors["c"];
    var (expected, epsShape) = tensors["eps"];
    var eps = new float[expected.Length];
    using var xValue = OrtValue.CreateTensorValueFromMemory(x, xShape);
    using var tValue = OrtValue.CreateTensorValueFromMemory(t, tShape);
    using var cValue = OrtValue.CreateTensorValueFromMemory(c, cShape);
    using var epsValue = OrtValue.CreateTensorValueFromMemory(eps, epsShape);
    session.Run(runOptions, ["x", "t", "c"], [xValue, tValue, cValue], ["eps"], [epsValue]);

    double maxDiff = 0, maxRef = 0;
    for (int i = 0; i < eps.Length; i++)
    {
        maxDiff = Math.Max(maxDiff, Math.Abs(eps[i] - (double)expected[i]));
        maxRef = Math.Max(maxRef, Math.Abs((double)expected[i]));
    }
    double relative = maxDiff / maxRef;
    // The project's float32 tolerance against PyTorch (tools/reference/README.md, Numerics).
    bool ok = relative <= 1e-4;
    Console.WriteLine($"check {Path.GetFileName(path)}: batch {xShape[0]}, max|ort - torch| / max|torch| = {relative:0.00e+00} {(ok ? "ok" : "FAILED (above 1e-4)")}");
    return ok ? 0 : 1;
}

internal sealed record Options(string Model, int Batch, int Steps, int Threads, int Warmup, bool Spin, bool Check, string? SaveOptimized)
{
    public static Options Parse(string[] args)
    {
        string? model = null, saveOptimized = null;
        int batch = 16, steps = 5, threads = Environment.ProcessorCount, warmup = 1;
        bool spin = true, check = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Positive(int least)
            {
                string name = args[i], text = Value();
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < least)
                    throw new ArgumentException($"{name} must be an integer of at least {least} (got '{text}').");
                return n;
            }
            switch (args[i])
            {
                case "--model": model = Value(); break;
                case "--batch": batch = Positive(1); break;
                case "--steps": steps = Positive(1); break;
                case "--threads": threads = Positive(1); break;
                case "--warmup": warmup = Positive(0); break;
                case "--no-spin": spin = false; break;
                case "--check": check = true; break;
                case "--save-optimized": saveOptimized = Value(); break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'.");
            }
        }
        return new Options(model ?? throw new ArgumentException("--model is required."), batch, steps, threads, warmup, spin, check, saveOptimized);
    }
}

/// <summary>
/// Just enough of safetensors for the exporter's check file (F32 tensors), so that this project
/// needs nothing of ours.
/// </summary>
internal static class Safetensors
{
    public static Dictionary<string, (float[] Data, long[] Shape)> ReadFloat32(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        if (headerLength <= 0 || 8 + headerLength > bytes.Length) throw new InvalidDataException($"{path}: bad safetensors header length.");
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength));
        var result = new Dictionary<string, (float[], long[])>();
        int dataStart = 8 + (int)headerLength;
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            if (entry.Value.GetProperty("dtype").GetString() != "F32")
                throw new InvalidDataException($"{path}: {entry.Name} is not F32.");
            long[] shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets");
            int begin = offsets[0].GetInt32(), end = offsets[1].GetInt32();
            var data = new float[(end - begin) / 4];
            for (int i = 0; i < data.Length; i++)
                data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(dataStart + begin + 4 * i));
            result[entry.Name] = (data, shape);
        }
        return result;
    }
}
