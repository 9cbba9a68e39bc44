
namespace SpriteDiffusion.Engine;

/// <summary>
/// A stored activation (or gradient) whose storage grows to the largest batch seen and is then
/// reused; the view for a shape is cached, so steady-state steps allocate nothing.
/// </summary>
public sealed class Activation
{
    private Tensor? _storage;
    private Tensor? _view;

    /// <summary>
    /// A batch x channels x height x width view over this activation's storage, which is replaced only
    /// when the shape needs more room than any before. The contents are whatever the last pass left
    /// there, not zeros, so the caller overwrites them.
    /// </summary>
    public Tensor Get(int batch, int channels, int height, int width)
    {
        if (_view is { } v && v.Shape[0] == batch && v.Shape[1] == channels && v.Shape[2] == height && v.Shape[3] == width)
            return v;
        long need = (long)batch * channels * height * width;
        if (_storage is null || _storage.Length < need) _storage = Tensor.Zeros((int)need);
        return _view = _storage.View(0, batch, channels, height, width);
    }

    /// <summary>A batch x features (x 1 x 1) view, for the embedding MLPs' outputs; as the four-dimensional overload.</summary>
    public Tensor Get(int batch, int features) => Get(batch, features, 1, 1);

    /// <summary>The current view (after Get).</summary>
    public Tensor Current => _view ?? throw new InvalidOperationException("activation used before forward");
}
