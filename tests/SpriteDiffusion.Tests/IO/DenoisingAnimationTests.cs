using SpriteDiffusion.Engine;
using SpriteDiffusion.Imaging;
using SpriteDiffusion.IO;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.IO;

public class DenoisingAnimationTests
{
    [Theory]
    [InlineData(10, 5, new[] { 1, 3, 5, 7, 9 })]
    [InlineData(10, 3, new[] { 3, 6, 9 })]
    [InlineData(7, 1, new[] { 6 })]
    [InlineData(4, 4, new[] { 0, 1, 2, 3 })]
    public void Frames_are_evenly_spaced_and_end_on_the_last_step(int steps, int frames, int[] expected) =>
        Assert.Equal(expected, DenoisingAnimation.FrameSteps(steps, frames));

    [Fact]
    public void Ddpm_gets_every_tenth_step_and_ddim_every_step_by_default()
    {
        var ddpm = new DenoisingAnimation(1000, null, count: 4, size: 16);
        Assert.Equal(100, ddpm.FrameCount);
        Assert.Equal(DenoisingAnimation.MinDelayMs, ddpm.FrameDelayMs);
        Assert.Equal(Enumerable.Range(1, 100).Select(k => 10 * k - 1), DenoisingAnimation.FrameSteps(1000, 100));

        var ddim = new DenoisingAnimation(50, null, count: 4, size: 16);
        Assert.Equal(50, ddim.FrameCount);
        Assert.Equal(80, ddim.FrameDelayMs);
        Assert.Equal(DenoisingAnimation.MaxDelayMs, new DenoisingAnimation(50, 5, count: 4, size: 16).FrameDelayMs);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(11)]
    public void Frame_counts_outside_the_steps_are_user_errors(int frames) =>
        Assert.Equal("frames", Assert.Throws<ArgumentOutOfRangeException>(() => new DenoisingAnimation(10, frames, count: 1, size: 16)).ParamName);

    [Fact]
    public void Frames_are_the_still_grid_of_the_chosen_steps_and_the_last_is_held()
    {
        const int count = 3, size = 16, steps = 6;
        var trajectory = new float[steps][];
        var rng = new Rng(4);
        for (int i = 0; i < steps; i++)
        {
            trajectory[i] = new float[count * 3 * size * size];
            rng.FillGaussian(trajectory[i]);
        }
        var animation = new DenoisingAnimation(steps, 3, count, size, scale: 2);
        for (int i = 0; i < steps; i++) animation.Observe(i, trajectory[i]);
        using var dir = new TempDir();
        animation.Save(dir.File("trajectory.png"));

        var apng = ApngFile.Read(dir.File("trajectory.png"));
        Assert.Equal(3, apng.Frames.Count);
        int[] shown = [1, 3, 5];
        for (int k = 0; k < 3; k++)
            Assert.Equal(SpriteImages.Grid(trajectory[shown[k]], count, size, scale: 2).Pixels, apng.DecodeFrame(k).Pixels);
        Assert.Equal(animation.FrameDelayMs, apng.Frames[0].DelayMs);
        Assert.Equal(DenoisingAnimation.FinalHoldMs, apng.Frames[^1].DelayMs);
        Assert.Equal((animation.Width, animation.Height), (apng.Width, apng.Height));
    }

    [Fact]
    public void With_the_still_grids_finish_an_rgba_trajectory_ends_on_the_still_grid()
    {
        const int count = 2, size = 16, channels = 4;
        var x = new float[count * channels * size * size];
        new Rng(5).FillGaussian(x);
        var animation = new DenoisingAnimation(1, null, count, size, scale: 2, channels: channels) { Finish = SpriteFinish.None };
        animation.Observe(0, x);
        using var dir = new TempDir();
        animation.Save(dir.File("trajectory.png"));

        var frame = ApngFile.Read(dir.File("trajectory.png")).DecodeFrame(0).Pixels;
        Assert.Equal(SpriteImages.Grid(SpriteFinishing.Finish(x, count, channels, size, SpriteFinish.None), scale: 2).Pixels, frame);
        // Unfinished, the soft alpha would show where the still grid cuts it.
        Assert.NotEqual(SpriteImages.Grid(x, count, size, scale: 2, channels: channels).Pixels, frame);
    }

    [Fact]
    public void Saving_before_the_last_frame_is_a_bug()
    {
        var animation = new DenoisingAnimation(4, 2, count: 1, size: 16);
        animation.Observe(0, new float[3 * 16 * 16]);
        animation.Observe(1, new float[3 * 16 * 16]);
        using var dir = new TempDir();
        Assert.Throws<InvalidOperationException>(() => animation.Save(dir.File("early.png")));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
