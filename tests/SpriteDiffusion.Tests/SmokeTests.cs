namespace SpriteDiffusion.Tests;

public class SmokeTests
{
    [Fact]
    public void UserErrorKeepsItsMessage()
    {
        var e = new UserError("data/x.npy: truncated");
        Assert.Equal("data/x.npy: truncated", e.Message);
    }
}
