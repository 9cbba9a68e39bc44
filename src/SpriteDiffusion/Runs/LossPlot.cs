using SpriteDiffusion.IO;

namespace SpriteDiffusion.Runs;

/// <summary>Train and validation loss per epoch as a PNG, through ScottPlot.</summary>
public static class LossPlot
{
    /// <summary>Writes the train and validation losses (and the weight average's, when every epoch has one) against the epoch as an 800 x 500 PNG, atomically, the legend below the data; <paramref name="subtitle"/> should name the loss.</summary>
    public static void Write(string path, IReadOnlyList<EpochLosses> history, string subtitle)
    {
        var plot = new ScottPlot.Plot();
        double[] epochs = history.Select(h => (double)h.Epoch).ToArray();
        var train = plot.Add.Scatter(epochs, history.Select(h => h.Train).ToArray());
        train.LegendText = "train";
        var validation = plot.Add.Scatter(epochs, history.Select(h => h.Validation).ToArray());
        validation.LegendText = "validation";
        if (history.Count > 0 && history.All(h => h.ValidationEma is not null))
        {
            var average = plot.Add.Scatter(epochs, history.Select(h => h.ValidationEma!.Value).ToArray());
            average.LegendText = "validation (EMA weights)";
        }
        plot.Title($"Loss per epoch ({subtitle})");
        plot.XLabel("epoch");
        plot.YLabel("loss");
        plot.Axes.Title.Label.FontSize = 14;
        // Below the data area, not inside it: there the legend hid the last epochs, where a run is
        // judged; below (not beside) it leaves the data the plot's full width.
        plot.ShowLegend(ScottPlot.Edge.Bottom);
        AtomicFile.WriteAllBytes(path, plot.GetImageBytes(800, 500, ScottPlot.ImageFormat.Png));
    }
}
