using SpriteDiffusion.Diffusion;

namespace SpriteDiffusion.Tests.Diffusion;

public class TimeInputTests
{
    [Fact]
    public void Normalized_is_t_over_T_and_raw_is_t()
    {
        Assert.Equal(TimeConvention.Normalized, TimeInput.Default);
        Assert.Equal(0.5f, TimeInput.Value(500, 1000, TimeConvention.Normalized));
        Assert.Equal(0.999f, TimeInput.Value(999, 1000, TimeConvention.Normalized));
        Assert.Equal(0f, TimeInput.Value(0, 1000, TimeConvention.Normalized));
        Assert.Equal(737f, TimeInput.Value(737, 1000, TimeConvention.Raw));
    }

    [Fact]
    public void Fill_gives_each_image_its_own_time_input()
    {
        var dest = new float[3];
        TimeInput.Fill([10, 250, 999], 1000, TimeConvention.Normalized, dest);
        Assert.Equal([0.01f, 0.25f, 0.999f], dest);
        TimeInput.Fill(42, 1000, TimeConvention.Raw, dest);
        Assert.Equal([42f, 42f, 42f], dest);
        Assert.Throws<ArgumentException>(() => TimeInput.Fill([1, 2], 1000, TimeConvention.Raw, dest));
    }

    [Theory]
    [InlineData(TimeConvention.Normalized, "t/T")]
    [InlineData(TimeConvention.Raw, "raw")]
    public void Names_round_trip(TimeConvention convention, string name)
    {
        Assert.Equal(name, TimeInput.Name(convention));
        Assert.Equal(convention, TimeInput.Parse(name));
    }

    [Fact]
    public void Unknown_names_are_user_errors_naming_the_file()
    {
        var error = Assert.Throws<InvalidDataException>(() => TimeInput.Parse("seconds", "model.safetensors"));
        Assert.StartsWith("model.safetensors:", error.Message);
        Assert.Contains("'t/T' or 'raw'", error.Message);
    }
}
