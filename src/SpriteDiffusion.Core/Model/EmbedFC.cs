using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;

namespace SpriteDiffusion.Model;

/// <summary>[Linear(in, emb), GELU, Linear(emb, emb)] on a (B, in) input: the time and context embeddings.</summary>
public sealed class EmbedFC
{
    private readonly Linear _l1, _l2;
    private readonly Activation _h = new(), _a = new(), _y = new(), _g = new();
    private Tensor? _x;

    public EmbedFC(ParameterStore store, string name, int inFeatures, int embedding)
    {
        Embedding = embedding;
        _l1 = new Linear(store, name + ".model.0", inFeatures, embedding);
        _l2 = new Linear(store, name + ".model.2", embedding, embedding);
    }

    public int Embedding { get; }

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

    public void Backward(Tensor gy, Tensor? gx)
    {
        var ga = _g.Get(gy.Dim(0), Embedding);
        _l2.Backward(_a.Current, gy, ga);
        Activations.GeluBackward(_h.Current, ga, ga);
        _l1.Backward(_x!, ga, gx);
    }
}
