using Xunit.Abstractions;

namespace SpriteDiffusion.Tests.GradientChecks;

/// <summary>
/// Shared by the gradient-check classes: the seeds each random-shape theory runs under, and a
/// line per case with the worst errors seen (shown with a detailed console logger), so that the
/// margin under each tolerance stays visible.
/// </summary>
public abstract class GradientCheckTests(ITestOutputHelper output)
{
    public static TheoryData<int> Seeds => [1, 2, 3, 4, 5, 6];

    protected void Report(string what, double fdError, params double[] engineErrors) =>
        output.WriteLine($"{what}: finite-difference error {fdError:E2}, engine error {engineErrors.Max():E2}");
}
