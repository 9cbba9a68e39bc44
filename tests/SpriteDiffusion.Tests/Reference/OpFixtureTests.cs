using SpriteDiffusion.IO;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;
using SpriteDiffusion.Model;
using SpriteDiffusion.Training;

namespace SpriteDiffusion.Tests.Reference;

/// <summary>Every operation's forward output and all its gradients against PyTorch (float64 reference).</summary>
public class OpFixtureTests
{
    private static Tensor Poisoned(params int[] shape)
    {
        var t = Tensor.Zeros(shape);
        t.Span.Fill(float.NaN);
        return t;
    }

    /// <summary>Loads weight and bias, then checks y, gx, gweight and gbias of a layer with parameters.</summary>
    private static void CheckLayer(SafetensorsFile f, ParameterStore store, StateEntry weight, StateEntry bias,
        Action<Tensor, Tensor> forward, Action<Tensor, Tensor, Tensor> backward)
    {
        store.Allocate(new Rng(1));
        f.CopyInto("weight", weight.Value);
        f.CopyInto("bias", bias.Value);
        var x = f.Tensor("x");
        var y = Poisoned(f["y"].Shape);
        forward(x, y);
        f.AssertClose("y", y);
        var gx = Poisoned(x.Shape);
        backward(x, f.Tensor("gy"), gx);
        f.AssertClose("gx", gx);
        f.AssertClose("gweight", weight.Grad!);
        f.AssertClose("gbias", bias.Grad!);
    }

    [Theory]
    [InlineData("conv3x3")]
    [InlineData("conv3x3_wide")]
    [InlineData("conv1x1")]
    public void Conv2d(string name)
    {
        var f = Fixture.Load("ops/" + name);
        var w = f["weight"];
        var store = new ParameterStore();
        var conv = new Conv2d(store, "conv", w.Shape[1], w.Shape[0], w.Shape[2]);
        CheckLayer(f, store, conv.Weight, conv.Bias, conv.Forward, (x, gy, gx) => conv.Backward(x, gy, gx));
    }

    [Theory]
    [InlineData("convT2")]
    [InlineData("convT4")]
    public void ConvTranspose2d(string name)
    {
        var f = Fixture.Load("ops/" + name);
        var w = f["weight"];
        var store = new ParameterStore();
        var conv = new ConvTranspose2d(store, "up", w.Shape[0], w.Shape[1], w.Shape[2]);
        CheckLayer(f, store, conv.Weight, conv.Bias, conv.Forward, conv.Backward);
    }

    [Theory]
    [InlineData("bn_gelu_train", true)]
    [InlineData("bn_gelu_eval", false)]
    public void BatchNormGeluLayer(string name, bool training)
    {
        var f = Fixture.Load("ops/" + name);
        var x = f.Tensor("x");
        var store = new ParameterStore();
        var bn = new BatchNorm2d(store, "bn", x.Dim(1));
        store.Allocate(new Rng(1));
        f.CopyInto("weight", bn.Weight.Value);
        f.CopyInto("bias", bn.Bias.Value);
        f.CopyInto("running_mean", bn.RunningMean.Value);
        f.CopyInto("running_var", bn.RunningVar.Value);
        var y = Poisoned(x.Shape);
        BatchNormGelu.Forward(bn, x, y, training);
        f.AssertClose("y", y);
        if (training)
        {
            f.AssertClose("running_mean_after", bn.RunningMean.Value);
            f.AssertClose("running_var_after", bn.RunningVar.Value);
            Assert.Equal(1, bn.BatchesTracked.Count);
        }
        var gx = Poisoned(x.Shape);
        BatchNormGelu.Backward(bn, x, f.Tensor("gy"), gx, training);
        f.AssertClose("gx", gx);
        f.AssertClose("gweight", bn.Weight.Grad!);
        f.AssertClose("gbias", bn.Bias.Grad!);
    }

    [Fact]
    public void GroupNorm()
    {
        var f = Fixture.Load("ops/groupnorm");
        var x = f.Tensor("x");
        var store = new ParameterStore();
        var gn = new GroupNorm(store, "gn", int.Parse(f.Metadata["groups"]), x.Dim(1));
        store.Allocate(new Rng(1));
        f.CopyInto("weight", gn.Weight.Value);
        f.CopyInto("bias", gn.Bias.Value);
        var y = Poisoned(x.Shape);
        gn.Forward(x, y);
        f.AssertClose("y", y);
        var gx = Poisoned(x.Shape);
        gn.Backward(x, f.Tensor("gy"), gx);
        f.AssertClose("gx", gx);
        f.AssertClose("gweight", gn.Weight.Grad!);
        f.AssertClose("gbias", gn.Bias.Grad!);
    }

    [Fact]
    public void Linear()
    {
        var f = Fixture.Load("ops/linear");
        var store = new ParameterStore();
        var lin = new Linear(store, "fc", f["x"].Shape[1], f["weight"].Shape[0]);
        CheckLayer(f, store, lin.Weight, lin.Bias, lin.Forward, lin.Backward);
    }

    [Fact]
    public void Gelu()
    {
        var f = Fixture.Load("ops/gelu");
        var x = f.Tensor("x");
        var y = Poisoned(x.Shape);
        Activations.GeluForward(x, y);
        f.AssertClose("y", y);
        var gx = Poisoned(x.Shape);
        Activations.GeluBackward(x, f.Tensor("gy"), gx);
        f.AssertClose("gx", gx);
    }

    [Fact]
    public void Relu()
    {
        var f = Fixture.Load("ops/relu");
        var x = f.Tensor("x");
        var y = Poisoned(x.Shape);
        Activations.ReluForward(x, y);
        f.AssertClose("y", y);
        var gx = Poisoned(x.Shape);
        Activations.ReluBackward(y, f.Tensor("gy"), gx);
        f.AssertClose("gx", gx);
    }

    [Fact]
    public void MaxPool()
    {
        var f = Fixture.Load("ops/maxpool2");
        var x = f.Tensor("x");
        var y = Poisoned(f["y"].Shape);
        Pooling.MaxPool2Forward(x, y);
        f.AssertClose("y", y);
        var gx = Poisoned(x.Shape);
        Pooling.MaxPool2Backward(x, f.Tensor("gy"), gx);
        f.AssertClose("gx", gx);
    }

    [Fact]
    public void AvgPool()
    {
        var f = Fixture.Load("ops/avgpool4");
        var x = f.Tensor("x");
        var y = Poisoned(f["y"].Shape);
        Pooling.AvgPoolForward(x, y, 4);
        f.AssertClose("y", y);
        var gx = Poisoned(x.Shape);
        Pooling.AvgPoolBackward(f.Tensor("gy"), gx, 4);
        f.AssertClose("gx", gx);
    }

    [Fact]
    public void Concat()
    {
        var f = Fixture.Load("ops/cat");
        var a = f.Tensor("x0"); var b = f.Tensor("x1");
        var y = Poisoned(f["y"].Shape);
        TensorOps.ConcatChannels(a, b, y);
        f.AssertClose("y", y);
        var ga = Poisoned(a.Shape); var gb = Poisoned(b.Shape);
        TensorOps.ConcatChannelsBackward(f.Tensor("gy"), ga, gb, false, false);
        f.AssertClose("gx0", ga);
        f.AssertClose("gx1", gb);
    }

    [Fact]
    public void EmbeddingBroadcast()
    {
        var f = Fixture.Load("ops/embed_broadcast");
        var x = f.Tensor("x"); var s = f.Tensor("s"); var b = f.Tensor("b");
        var y = Poisoned(x.Shape);
        TensorOps.ScaleShift(x, s, b, y);
        f.AssertClose("y", y);
        var gx = Poisoned(x.Shape); var gs = Poisoned(s.Shape); var gb = Poisoned(b.Shape);
        TensorOps.ScaleShiftBackward(x, s, f.Tensor("gy"), gx, gs, gb);
        f.AssertClose("gx", gx);
        f.AssertClose("gs", gs);
        f.AssertClose("gb", gb);
    }

    [Fact]
    public void Residual()
    {
        var f = Fixture.Load("ops/residual");
        var a = f.Tensor("a"); var b = f.Tensor("b");
        var y = Poisoned(a.Shape);
        TensorOps.Residual(a, b, y);
        f.AssertClose("y", y);
        var g = f.Tensor("gy");
        TensorOps.ResidualBackward(g);
        f.AssertClose("ga", g);
        f.AssertClose("gb", g);
    }

    [Fact]
    public void MseLoss()
    {
        var f = Fixture.Load("ops/mse");
        var pred = f.Tensor("pred"); var target = f.Tensor("target");
        var grad = Poisoned(pred.Shape);
        double loss = TensorOps.MseLoss(pred.Span, target.Span, grad.Span);
        Fixture.AssertClose(f["loss"].ToFloat32(), new[] { (float)loss }, "loss");
        f.AssertClose("gpred", grad);
    }

    [Fact]
    public void AdamMatchesTorchOptim()
    {
        var f = Fixture.Load("ops/adam");
        var store = new ParameterStore();
        var p = store.AddUniform("p", f["p"].Shape, 1f);
        store.Allocate(new Rng(1));
        f.CopyInto("p", p.Value);
        var start = p.Value.ToArray();
        var adam = new Adam(store);
        f.CopyInto("g1", p.Grad!);
        adam.Update();
        f.AssertClose("p_after1", p.Value);
        // The update itself is ~1e-3 of the parameters: compare it on its own scale too.
        var delta = p.Value.ToArray().Select((v, i) => v - start[i]).ToArray();
        Fixture.AssertClose(f["d_after1"].ToFloat32(), delta, "d_after1", 1e-3);
        f.CopyInto("g2", p.Grad!);
        adam.Update();
        f.CopyInto("g3", p.Grad!);
        adam.Update();
        f.AssertClose("p_after3", p.Value);
        var delta3 = p.Value.ToArray().Select((v, i) => v - start[i]).ToArray();
        Fixture.AssertClose(f["d_after3"].ToFloat32(), delta3, "d_after3", 1e-3);
    }
}
