using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;

namespace SpriteDiffusion.Model;

/// <summary>[Linear(in, emb), GELU, Linear(emb, emb)] on a (B, in) input: the time and context embeddings.</summary>
public sealed class EmbedFC
{
    private readonly Linear _l1, _l2;
    private readonly Activation _h = new(), _a = new(), _y = new(), _g = new();
    private Tensor? _x;

    /// <summary>Registers the two linear layers as <c>name.model.0</c> (in to embedding) and <c>name.model.2</c> (embedding to embedding).</summary>
    public EmbedFC(ParameterStore store, string name, int inFeatures, int embedding)
    {
        Embedding = embedding;
        _l1 = new Linear(store, name + ".model.0", inFeatures, embedding);
        _l2 = new Linear(store, name + ".model.2", embedding, embedding);
    }

    /// <summary>The width of the output vector.</summary>
    public int Embedding { get; }

    /// <summary>
    /// The embedding (B x <see cref="Embedding"/>) of x (B x in), in storage this layer owns and reuses
    /// on the next call; x is kept for <see cref="Backward"/> and must not change before it.
    /// </summary>
    public Tensor Forward(Tensor x)
    {
        _x = x;
        int b = x.Dim(0);
        var h = _h.Get(b, Embedding); var a = _a.Get(b, Embedding); var y = _y.Get(b, Embedding);
        _l1.Forward(x, h);
        Activations.GeluForward(h, a);
        _l2.Forward(a, y);
        return y;
    }

    /// <summary>
    /// Adds both linear layers' gradients for gy (B x <see cref="Embedding"/>) and, when
    /// <paramref name="gx"/> is given, overwrites it with the input gradient (B x in). Uses the last forward pass.
    /// </summary>
    public void Backward(Tensor gy, Tensor? gx)
    {
        var ga = _g.Get(gy.Dim(0), Embedding);
        _l2.Backward(_a.Current, gy, ga);
        Activations.GeluBackward(_h.Current, ga, ga);
        _l1.Backward(_x!, ga, gx);
    }
}
