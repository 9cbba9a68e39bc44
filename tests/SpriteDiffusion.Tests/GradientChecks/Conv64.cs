namespace SpriteDiffusion.Tests.GradientChecks;

/// <summary>
/// Float64 convolutions and the linear layer written as the textbook sums, one loop per index,
/// so that they can be trusted by reading them. Layouts match PyTorch: NCHW activations, conv
/// weights (out, in, k, k), transposed-conv weights (in, out, k, k), linear weights (out, in).
/// </summary>
internal static class Conv64
{
    /// <summary>Stride 1, zero padding k / 2 (odd k): y[b,o,h,w] = bias[o] + sum x[b,c,h+i-p,w+j-p] w[o,c,i,j].</summary>
    public static double[] Conv2d(double[] x, double[] w, double[] bias, int batch, int cin, int cout, int height, int width, int k)
    {
        int p = k / 2;
        var y = new double[batch * cout * height * width];
        for (int b = 0; b < batch; b++)
        for (int o = 0; o < cout; o++)
        for (int h = 0; h < height; h++)
        for (int ww = 0; ww < width; ww++)
        {
            double s = bias[o];
            for (int c = 0; c < cin; c++)
            for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                int ih = h + i - p, iw = ww + j - p;
                if (ih < 0 || ih >= height || iw < 0 || iw >= width) continue;
                s += x[((b * cin + c) * height + ih) * width + iw] * w[((o * cin + c) * k + i) * k + j];
            }
            y[((b * cout + o) * height + h) * width + ww] = s;
        }
        return y;
    }

    /// <summary>The same sum differentiated term by term: each product sends gy to both of its factors.</summary>
    public static (double[] Gx, double[] Gw, double[] Gb) Conv2dBackward(double[] x, double[] w, double[] gy,
        int batch, int cin, int cout, int height, int width, int k)
    {
        int p = k / 2;
        var gx = new double[x.Length];
        var gw = new double[w.Length];
        var gb = new double[cout];
        for (int b = 0; b < batch; b++)
        for (int o = 0; o < cout; o++)
        for (int h = 0; h < height; h++)
        for (int ww = 0; ww < width; ww++)
        {
            double g = gy[((b * cout + o) * height + h) * width + ww];
            gb[o] += g;
            for (int c = 0; c < cin; c++)
            for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                int ih = h + i - p, iw = ww + j - p;
                if (ih < 0 || ih >= height || iw < 0 || iw >= width) continue;
                int xi = ((b * cin + c) * height + ih) * width + iw, wi = ((o * cin + c) * k + i) * k + j;
                gx[xi] += g * w[wi];
                gw[wi] += g * x[xi];
            }
        }
        return (gx, gw, gb);
    }

    /// <summary>Kernel = stride, no padding: y[b,o,h*k+i,w*k+j] = bias[o] + sum_c x[b,c,h,w] w[c,o,i,j].</summary>
    public static double[] ConvTranspose2d(double[] x, double[] w, double[] bias, int batch, int cin, int cout, int height, int width, int k)
    {
        int oh = height * k, ow = width * k;
        var y = new double[batch * cout * oh * ow];
        for (int b = 0; b < batch; b++)
        for (int o = 0; o < cout; o++)
        for (int h = 0; h < height; h++)
        for (int ww = 0; ww < width; ww++)
        for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
        {
            double s = bias[o];
            for (int c = 0; c < cin; c++)
                s += x[((b * cin + c) * height + h) * width + ww] * w[((c * cout + o) * k + i) * k + j];
            y[((b * cout + o) * oh + h * k + i) * ow + ww * k + j] = s;
        }
        return y;
    }

    public static (double[] Gx, double[] Gw, double[] Gb) ConvTranspose2dBackward(double[] x, double[] w, double[] gy,
        int batch, int cin, int cout, int height, int width, int k)
    {
        int oh = height * k, ow = width * k;
        var gx = new double[x.Length];
        var gw = new double[w.Length];
        var gb = new double[cout];
        for (int b = 0; b < batch; b++)
        for (int o = 0; o < cout; o++)
        for (int h = 0; h < height; h++)
        for (int ww = 0; ww < width; ww++)
        for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
        {
            double g = gy[((b * cout + o) * oh + h * k + i) * ow + ww * k + j];
            gb[o] += g;
            for (int c = 0; c < cin; c++)
            {
                int xi = ((b * cin + c) * height + h) * width + ww, wi = ((c * cout + o) * k + i) * k + j;
                gx[xi] += g * w[wi];
                gw[wi] += g * x[xi];
            }
        }
        return (gx, gw, gb);
    }

    /// <summary>y[b,o] = bias[o] + sum_i x[b,i] w[o,i].</summary>
    public static double[] Linear(double[] x, double[] w, double[] bias, int batch, int fin, int fout)
    {
        var y = new double[batch * fout];
        for (int b = 0; b < batch; b++)
        for (int o = 0; o < fout; o++)
        {
            double s = bias[o];
            for (int i = 0; i < fin; i++) s += x[b * fin + i] * w[o * fin + i];
            y[b * fout + o] = s;
        }
        return y;
    }

    public static (double[] Gx, double[] Gw, double[] Gb) LinearBackward(double[] x, double[] w, double[] gy, int batch, int fin, int fout)
    {
        var gx = new double[x.Length];
        var gw = new double[w.Length];
        var gb = new double[fout];
        for (int b = 0; b < batch; b++)
        for (int o = 0; o < fout; o++)
        {
            double g = gy[b * fout + o];
            gb[o] += g;
            for (int i = 0; i < fin; i++)
            {
                gx[b * fin + i] += g * w[o * fin + i];
                gw[o * fin + i] += g * x[b * fin + i];
            }
        }
        return (gx, gw, gb);
    }
}
