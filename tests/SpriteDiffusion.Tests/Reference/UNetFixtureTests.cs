using System.Text.Json;
using SpriteDiffusion.Engine;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using SpriteDiffusion.Training;

namespace SpriteDiffusion.Tests.Reference;

/// <summary>The whole seed U-Net against PyTorch: output, input gradients, every parameter gradient, running statistics, one Adam step.</summary>
public class UNetFixtureTests
{
    [Theory]
    [InlineData("unet16_train")]
    [InlineData("unet16_eval")]
    [InlineData("unet64_train")]
    [InlineData("unet64_eval")]
    [InlineData("unet16_rgba_train")]
    [InlineData("unet16_rgba_eval")]
    [InlineData("unet16_circular_train")]
    [InlineData("unet16_circular_eval")]
    public void MatchesPyTorch(string name)
    {
        var f = Fixture.Load("unet/" + name);
        var meta = f.Metadata;
        bool training = meta["mode"] == "train";
        var model = new UNet(new UNetConfig(int.Parse(meta["in_channels"]), int.Parse(meta["n_feat"]), int.Parse(meta["n_cfeat"]), int.Parse(meta["height"]))
        {
            // padding_mode='circular' in PyTorch: what train --tileable trains.
            Padding = meta.TryGetValue("padding", out var padding) && padding == "circular" ? Layers.PaddingMode.Circular : Layers.PaddingMode.Zeros,
        });
        var store = model.Store;
        Assert.Equal(long.Parse(meta["parameter_count"]), store.ParameterCount);

        // Same names, shapes and order as PyTorch's state_dict.
        var names = JsonSerializer.Deserialize<JsonElement[][]>(meta["names"])!;
        Assert.Equal(names.Length, store.Entries.Count);
        for (int i = 0; i < names.Length; i++)
        {
            Assert.Equal(names[i][0].GetString(), store.Entries[i].Name);
            Assert.Equal(names[i][1].EnumerateArray().Select(e => e.GetInt32()).ToArray(), store.Entries[i].Shape);
        }

        FixtureParameters.Fill(store);
        foreach (var e in store.Entries.Where(e => f.Contains("init." + e.Name)))
        {
            var head = f["init." + e.Name].ToFloat32();
            Assert.Equal(head, e.Value.Span[..head.Length].ToArray());
        }

        var x = f.Tensor("x"); var t = f.Tensor("t"); var c = f.Tensor("c");
        var y = model.Forward(x, t, c, training);
        f.AssertClose("y", y);

        store.ZeroGrads();
        var gx = Tensor.Zeros(x.Shape); var gt = Tensor.Zeros(t.Shape); var gc = Tensor.Zeros(c.Shape);
        model.Backward(f.Tensor("gy"), gx, gt, gc);
        f.AssertClose("grad.x", gx);
        f.AssertClose("grad.t", gt);
        f.AssertClose("grad.c", gc);

        bool subsampled = meta["subsample"] == "1";
        var zeroGrad = meta.TryGetValue("zero_grad_in_train", out var z) && training
            ? JsonSerializer.Deserialize<string[]>(z)!.ToHashSet() : [];
        foreach (var e in store.Entries.Where(e => e.Kind == StateKind.Parameter))
        {
            var ours = Sample(e.Grad!.Span, subsampled);
            if (zeroGrad.Contains(e.Name))
            {
                // A conv bias right before a training-mode BatchNorm has no effect, so its true gradient is 0.
                // Ours is rounding noise: bound it by the tolerance on the scale of the conv's weight gradient.
                float scale = store[e.Name.Replace(".bias", ".weight")].Grad!.ToArray().Max(Math.Abs);
                Assert.True(ours.Max(Math.Abs) <= Fixture.Tolerance * scale, $"grad.{e.Name} should vanish: {ours.Max(Math.Abs)} vs scale {scale}");
                continue;
            }
            Fixture.AssertClose(f["grad." + e.Name].ToFloat32(), ours, "grad." + e.Name);
        }

        if (!training) return;
        foreach (var e in store.Entries.Where(e => e.Kind == StateKind.Buffer))
            Fixture.AssertClose(f["after." + e.Name].ToFloat32(), e.Value.Span, "after." + e.Name);
        Assert.All(store.Entries.Where(e => e.Kind == StateKind.Counter), e => Assert.Equal(1, e.Count));

        var before = store.Values.ToArray();
        new Adam(store).Update();
        // Adam divides by sqrt(v) + 1e-8, so for the vanishing biases float32 rounding noise of
        // 1e-8 moves the parameter by up to lr: those entries are ill-conditioned, not wrong.
        foreach (var e in store.Entries.Where(e => e.Kind == StateKind.Parameter && !zeroGrad.Contains(e.Name)))
        {
            var reference = f["adam." + e.Name].ToFloat32();
            Fixture.AssertClose(reference, Sample(e.Value.Span, subsampled), "adam." + e.Name);
        }
        Assert.NotEqual(before, store.Values.ToArray());
    }

    private static float[] Sample(ReadOnlySpan<float> values, bool subsampled)
    {
        int s = subsampled ? Math.Max(1, values.Length / 1024) : 1;
        var result = new float[(values.Length + s - 1) / s];
        for (int i = 0; i < result.Length; i++) result[i] = values[i * s];
        return result;
    }
}
