using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Generation;
using SpriteDiffusion.Model;

namespace SpriteDiffusion.Tests.Diffusion;

/// <summary>img2img (SDEdit) and inpainting (RePaint) through the sampling loop, with every sampler.</summary>
public class EditSamplingTests
{
    public static TheoryData<string, int?, double> AllSamplers => new()
    {
        { "ddim", 10, 0.0 }, { "ddim", 10, 0.5 }, { "dpm++2m", 8, 0.0 }, { "ddpm", null, 0.0 },
    };

    private static SpriteGenerator Generator(bool conditional = false)
    {
        var model = new UNet(new UNetConfig(NFeat: 8, NCFeat: 4), seed: 31);
        foreach (var e in model.Store.Entries.Where(e => e.Kind == StateKind.Buffer))
            new Rng(32).FillUniform(e.Value.Span, 0.5f, 1.5f);
        return new SpriteGenerator(model, new CheckpointInfo { Model = model.Config, Conditional = conditional, ContextDropout = 0.1 });
    }

    private static float[] Random(int length, ulong seed, float scale = 1)
    {
        var x = new float[length];
        new Rng(seed).FillUniform(x, -scale, scale);
        return x;
    }

    private static float[] Gaussian(int length, ulong seed)
    {
        var x = new float[length];
        new Rng(seed).FillGaussian(x);
        return x;
    }

    [Fact]
    public void TheNoisedStartIsTheForwardProcessAtRoundedStrengthAgainstTheFloat64Fixture()
    {
        var f = DiffusionFixture.Load("img2img");
        var x0 = f.Floats("x0");
        var eps = f.Floats("eps");
        var strengths = f.Doubles("strengths");
        var expectedT = f.Ints("t");
        foreach (var (name, schedule) in new[] { ("linear", NoiseSchedule.Linear()), ("cosine", NoiseSchedule.Cosine()) })
        {
            for (int k = 0; k < strengths.Length; k++)
            {
                Assert.Equal(expectedT[k], SamplingEdit.StartTimestep(strengths[k], schedule.T));
                var sampler = new DdimSampler(schedule, 50);
                var edit = new SamplingEdit(x0, strengths[k]);
                float[]? seen = null;
                int? firstT = null;
                var x = (float[])eps.Clone();
                Sampling.Run(sampler, (xt, t, e) =>
                {
                    if (firstT is null) { firstT = t; seen = xt.ToArray(); }
                    e.Clear();
                }, x, new Rng(0), edit: edit);
                Assert.Equal(expectedT[k], firstT);
                Assert.Equal(f.Ints($"s{k}/timesteps_ddim50"), sampler.Timesteps);
                var reference = f.Doubles($"s{k}/{name}/xt");
                for (int i = 0; i < reference.Length; i++)
                    Assert.True(Math.Abs(seen![i] - reference[i]) <= DiffusionFixture.FloatTolerance * (1 + Math.Abs(reference[i])),
                        $"{name} S={strengths[k]} [{i}]: {seen[i]} vs {reference[i]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllSamplers))]
    public void StrengthOneWithGivenNoiseIsPlainSampling(string method, int? steps, double eta)
    {
        var g = Generator(conditional: true);
        g.Guidance = 2.5;
        int count = 2;
        var noise = Gaussian(count * g.ImageLength, 7);
        var context = g.OneHot([1, 3]);
        var plain = g.Generate(g.CreateSampler(method, steps, eta), count, new Rng(3), noise, context);
        var edit = new SamplingEdit(Random(count * g.ImageLength, 8), strength: 1.0);
        var edited = g.Generate(g.CreateSampler(method, steps, eta), count, new Rng(3), noise, context, edit: edit);
        Assert.Equal(plain, edited);
    }

    [Theory]
    [MemberData(nameof(AllSamplers))]
    public void ASmallStrengthReturnsNearlyTheInputAndALargerOneMovesAway(string method, int? steps, double eta)
    {
        var g = Generator();
        var sprites = Random(3 * g.ImageLength, 9, 0.9f);
        double Distance(double strength)
        {
            var output = g.Generate(g.CreateSampler(method, steps, eta), 3, new Rng(4), edit: new SamplingEdit(sprites, strength));
            return output.Zip(sprites, (a, b) => Math.Abs(a - b)).Average();
        }
        // At t = 1 the noise is sqrt(1 - alpha_bar[1]) = 0.015 of a unit Gaussian, and one step
        // removes it up to the (untrained) model's error at that scale.
        double small = Distance(0.0015);
        Assert.True(small < 0.02, $"S = 0.0015 moved pixels by {small} on average");
        Assert.True(Distance(0.7) > 5 * small);
    }

    [Theory]
    [MemberData(nameof(AllSamplers))]
    public void InpaintingKeepsTheKnownPixelsExactlyAndChangesTheRest(string method, int? steps, double eta)
    {
        var g = Generator(conditional: true);
        g.Guidance = 3;
        const int size = 16, count = 2;
        var sprites = Random(count * g.ImageLength, 10, 0.95f);
        var mask = EditInputs.RectangleMask(3, 5, 7, 4, size);
        foreach (int resample in new[] { 1, 3 })
        {
            var edit = EditInputs.Build([sprites[..g.ImageLength], sprites[g.ImageLength..]], 1, mask, 1.0, resample);
            var output = g.Generate(g.CreateSampler(method, steps, eta), count, new Rng(11), context: g.OneHot([0, 2]), edit: edit);
            int changed = 0, drawn = 0;
            for (int i = 0; i < output.Length; i++)
            {
                if (edit.Mask![i] == 0) Assert.Equal(sprites[i], output[i]);
                else { drawn++; if (Math.Abs(output[i] - sprites[i]) > 0.05) changed++; }
            }
            Assert.True(changed > drawn / 2, $"{method} r={resample}: only {changed} of {drawn} masked values changed");
        }
    }

    [Theory]
    [MemberData(nameof(AllSamplers))]
    public void AnAllKnownMaskReturnsTheInput(string method, int? steps, double eta)
    {
        var g = Generator();
        var sprites = Random(2 * g.ImageLength, 12);
        var edit = new SamplingEdit(sprites, 1.0, new float[sprites.Length], resample: 2);
        Assert.Equal(sprites, g.Generate(g.CreateSampler(method, steps, eta), 2, new Rng(13), edit: edit));
    }

    [Fact]
    public void ResamplingTakesEachStepAgainAndAStrengthStartsTheSamplersPartWay()
    {
        var schedule = NoiseSchedule.Linear();
        var ddpm = Samplers.Create("ddpm", schedule);
        ddpm.StartAt(3);
        Assert.Equal(new[] { 3, 2, 1, 0 }, ddpm.Timesteps);
        var dpm = Samplers.Create("dpm++2m", schedule, 5);
        dpm.StartAt(600);
        Assert.Equal(new[] { 600, 499, 249, 0 }, dpm.Timesteps);
        dpm.StartAt(999);
        Assert.Equal(new[] { 999, 749, 499, 249, 0 }, dpm.Timesteps);

        var calls = new List<int>();
        var sprites = Random(48, 14);
        var mask = new float[48];
        mask.AsSpan(0, 24).Fill(1);
        var ddim = new DdimSampler(schedule, 4);
        Sampling.Run(ddim, (xt, t, e) => { calls.Add(t); e.Clear(); }, Gaussian(48, 15), new Rng(1), edit: new SamplingEdit(sprites, 0.5, mask, resample: 3));
        // t = 500, then 333 and 0 of the 4-step sequence; every step but the last (onto x_0) three times.
        Assert.Equal(new[] { 500, 500, 500, 333, 333, 333, 0 }, calls);
    }

    [Fact]
    public void ARepeatedDpmSolverStepExtrapolatesFromTheSameHistory()
    {
        var schedule = NoiseSchedule.Linear();
        var x = Gaussian(32, 16);
        var eps1 = Gaussian(32, 17);
        var eps2 = Gaussian(32, 18);
        var once = new DpmSolverSampler(schedule, 6);
        var twice = new DpmSolverSampler(schedule, 6);
        var a = (float[])x.Clone();
        var b = (float[])x.Clone();
        once.Step(0, a, eps1, a, new Rng(0));
        twice.Step(0, b, eps1, b, new Rng(0));
        var c = (float[])a.Clone();
        once.Step(1, a, eps2, a, new Rng(0));
        twice.Step(1, b, eps1, b, new Rng(0)); // a different first try ...
        twice.Step(1, c, eps2, c, new Rng(0)); // ... then the same step again from the same x
        Assert.Equal(a, c);
        Assert.Throws<InvalidOperationException>(() => twice.Step(3, c, eps2, c, new Rng(0)));
    }

    [Fact]
    public void BadEditsAreRefusedWithTheirParameter()
    {
        Assert.Equal("Strength", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingEdit(new float[4], 0)).ParamName);
        Assert.Equal("Strength", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingEdit(new float[4], 1.5)).ParamName);
        Assert.Equal("Strength", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingEdit(new float[4], double.NaN)).ParamName);
        Assert.Equal("mask", Assert.Throws<ArgumentException>(() => new SamplingEdit(new float[4], 1, new float[3])).ParamName);
        Assert.Equal("mask", Assert.Throws<ArgumentException>(() => new SamplingEdit(new float[4], 1, [0, 1, 2, 0])).ParamName);
        Assert.Equal("resample", Assert.Throws<ArgumentException>(() => new SamplingEdit(new float[4], 1, null, 2)).ParamName);
        Assert.Equal("resample", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingEdit(new float[4], 1, new float[4], 0)).ParamName);
        Assert.Equal("rectangle", Assert.Throws<ArgumentException>(() => EditInputs.RectangleMask(10, 0, 7, 2, 16)).ParamName);
        Assert.Equal("rectangle", Assert.Throws<ArgumentException>(() => EditInputs.RectangleMask(0, 0, 0, 2, 16)).ParamName);
        var g = Generator();
        Assert.Equal("edit", Assert.Throws<ArgumentException>(() =>
            g.Generate(g.CreateSampler("ddim", 2, 0), 2, new Rng(0), edit: new SamplingEdit(new float[g.ImageLength]))).ParamName);
    }
}
