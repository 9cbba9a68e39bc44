using SpriteDiffusion.IO;

namespace SpriteDiffusion.Runs;

/// <summary>Train and validation loss per epoch as a PNG, through ScottPlot.</summary>
public static class LossPlot
{
    /// <summary>Writes the train and validation losses (and the weight average's, when every epoch has one) against the epoch as an 800 x 500 PNG, atomically.</summary>
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
        plot.Title($"Noise-prediction MSE ({subtitle})");
        plot.XLabel("epoch");
        plot.YLabel("loss");
        plot.ShowLegend();
        AtomicFile.WriteAllBytes(path, plot.GetImageBytes(800, 500, ScottPlot.ImageFormat.Png));
    }
}
